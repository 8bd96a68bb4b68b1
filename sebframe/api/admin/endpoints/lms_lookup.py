"""The LMS exam lookup: courses and quizzes on the active LMS setups of your institution, to import as exams.

Every active setup is asked at once, each with its own deadline; the answer lists each setup's status (``OK``,
``FAILED`` or ``TIMEOUT`` with the reason) next to the quizzes of those that answered, so one slow or broken
LMS never hides the others. Quizzes already imported as exams are left out. Answers are cached briefly.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from starlette.requests import Request

from sebframe.api.admin.endpoints._common import Filter, check_query, out, services_of
from sebframe.api.admin.routing import ApiRouter, QueryParam
from sebframe.core.accounts.actor import Actor, Scope
from sebframe.core.accounts.roles import EntityType, Privilege
from sebframe.core.errors import PermissionDenied
from sebframe.core.lms.lookup import FoundQuiz, LookupState, SetupLookup, default_start_from
from sebframe.types import QuizFilter

router = ApiRouter()

TAG = "lms-lookup"

_NAME = Filter("name", description="part of the course or quiz name, case-insensitive")
_START = Filter("start_from", "datetime",
                description="courses starting after this time, or still running then (default: one year ago)")
_SETUP = Filter("lms_setup_id", "integer", description="ask only this LMS setup")
LOOKUP_PARAMS = (
    QueryParam(_NAME.name, _NAME.schema(), _NAME.description),
    QueryParam(_START.name, _START.schema(), _START.description),
    QueryParam(_SETUP.name, _SETUP.schema(), _SETUP.description),
)


class SetupLookupOut(BaseModel):
    lms_setup_id: int
    lms_setup_name: str
    state: LookupState
    message: str = Field(description="the number of quizzes, or why the LMS did not answer")
    quiz_count: int

    @classmethod
    def of(cls, answer: SetupLookup) -> SetupLookupOut:
        return cls(lms_setup_id=answer.setup_id, lms_setup_name=answer.setup_name, state=answer.state,
                   message=answer.message, quiz_count=len(answer.quizzes))


class QuizOut(BaseModel):
    quiz_id: str = Field(description="the LMS's id of the course or quiz (import it with this and lms_setup_id)")
    lms_setup_id: int
    lms_setup_name: str
    lms_type: str
    name: str
    description: str = Field(description="as the LMS has it (may hold HTML)")
    start_time: datetime | None
    end_time: datetime | None
    start_url: str
    course_id: str | None
    additional: dict[str, str]

    @classmethod
    def of(cls, found: FoundQuiz) -> QuizOut:
        quiz = found.quiz
        return cls(quiz_id=quiz.id, lms_setup_id=found.setup_id, lms_setup_name=found.setup_name,
                   lms_type=found.lms_type, name=quiz.name, description=quiz.description, start_time=quiz.start_time,
                   end_time=quiz.end_time, start_url=quiz.start_url, course_id=quiz.course_id,
                   additional=dict(quiz.additional))


class LookupOut(BaseModel):
    complete: bool = Field(description="true when every asked LMS setup answered")
    start_from: datetime
    setups: list[SetupLookupOut]
    quizzes: list[QuizOut] = Field(description="sorted by name, then LMS setup")


@router.get("/lms-lookup", summary="Find courses and quizzes on the active LMS setups of your institution",
            tag=TAG, response_model=LookupOut, query=LOOKUP_PARAMS)
async def lms_lookup(request: Request, actor: Actor) -> dict[str, Any]:
    # Like the web page: the lookup is for importing exams, so for roles that may create exams.
    if actor.scope(Privilege.WRITE, EntityType.EXAM) == Scope.NONE:
        raise PermissionDenied("the LMS exam lookup is for exam administrators")
    query = request.query_params
    check_query(query, {"name", "start_from", "lms_setup_id"})
    name = _NAME.parse(query["name"]).strip() if query.get("name") else ""
    start_from = datetime.fromisoformat(_START.parse(query["start_from"])) if query.get("start_from") \
        else default_start_from()
    quiz_filter = QuizFilter(name=name or None, start_from=start_from)
    service = services_of(request).quiz_lookup
    if query.get("lms_setup_id"):
        answers = [await service.lookup_setup(actor, int(_SETUP.parse(query["lms_setup_id"])), quiz_filter)]
    else:
        answers = await service.lookup(actor, quiz_filter)
    quizzes = sorted((found for answer in answers for found in answer.quizzes),
                     key=lambda found: (found.quiz.name.lower(), found.setup_name.lower(), found.quiz.id))
    return out(LookupOut(
        complete=all(answer.state == LookupState.OK for answer in answers), start_from=start_from,
        setups=[SetupLookupOut.of(answer) for answer in answers], quizzes=[QuizOut.of(found) for found in quizzes],
    ))
