"""LMS exam lookup: find courses and quizzes on the institution's active LMSs, to import them as exams.

Design (so a slow or failing LMS never holds up the others):

- ``GET /lms-lookup`` answers at once, without asking any LMS: the filter form, one status line per active LMS
  setup ("loading…") and an empty results table.
- Each status line loads itself (``hx-get`` with ``hx-trigger="load"``) from ``/lms-lookup/setups/{id}``, which
  asks that one LMS (``QuizLookupService.lookup_setup``: own deadline, answer cached briefly) and answers with
  the final line: the number of quizzes, or the timeout or failure reason with a retry button. The browser
  sends these requests in parallel; each line fills in when its LMS answers.
- An answered line carries a hidden ``answered`` input with its setup id and its response raises the htmx
  event ``lmsLookupAnswered``. The results table (``/lms-lookup/results``) reloads on that event with the ids
  of the answered setups, so it combines, sorts and pages the quizzes of the LMSs that answered so far, from
  the lookup cache. Sorting and paging only ever ask the answered (fast) LMSs again, never a slow or failed one.
- Without JavaScript, ``?wait=1`` renders everything in one response (all setups asked at once, each with its
  deadline).

The quiz details open in a ``<dialog>`` (double click or the action pane); ``/lms-lookup/details`` is the same
as a page for browsers without JavaScript. "Import as Exam" links to ``/exams/import``.
"""

from __future__ import annotations

import asyncio
import dataclasses
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlencode, urlsplit

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sebframe.core.accounts.actor import Actor, Scope
from sebframe.core.accounts.roles import EntityType, Privilege
from sebframe.core.db.models import LmsSetup
from sebframe.core.errors import NotFound, PermissionDenied, ValidationFailed
from sebframe.core.lms.lookup import FoundQuiz, LookupState, SetupLookup, default_start_from
from sebframe.core.paging import ListParams, Page
from sebframe.types import QuizFilter
from sebframe.web.pages import render, require_actor, services_of
from sebframe.web.templating import user_zone
from sebframe.web.views.common import path_id

BASE = "/lms-lookup"
ANSWERED_EVENT = "lmsLookupAnswered"
SORTS = ("name", "start", "end", "lms")
LOCAL_FORMAT = "%Y-%m-%dT%H:%M"


def require_lookup(actor: Actor) -> None:
    """The lookup exists to import exams: it is for roles that may create exams."""
    if actor.scope(Privilege.WRITE, EntityType.EXAM) == Scope.NONE:
        raise PermissionDenied("The LMS exam lookup is for exam administrators.")



def default_start_local(actor: Actor, now: datetime | None = None) -> datetime:
    """One year ago, at midnight in the user's time zone (a stable value, so repeated lookups hit the cache)."""
    local = default_start_from(now).astimezone(user_zone(actor.timezone))
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


@dataclass
class LookupQuery:
    """The lookup filter of a request: name, LMS setup and start time (entered in the user's time zone)."""

    name: str = ""
    start_local: datetime = field(default_factory=lambda: datetime.now(UTC))
    lms_setup_id: int | None = None
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, request: Request, actor: Actor) -> LookupQuery:
        query = request.query_params
        errors: dict[str, str] = {}
        name = query.get("name", "").strip()[:255]
        start_local = default_start_local(actor)
        raw_start = query.get("start_from", "").strip()
        if raw_start:
            try:
                parsed = datetime.fromisoformat(raw_start)
                start_local = (parsed.replace(tzinfo=user_zone(actor.timezone)) if parsed.tzinfo is None
                               else parsed.astimezone(user_zone(actor.timezone))).replace(second=0, microsecond=0)
            except (ValueError, OverflowError):
                errors["start_from"] = "enter a date and time like 2026-01-31T08:00"
        setup_id = None
        raw_setup = query.get("lms_setup_id", "").strip()
        if raw_setup:
            if raw_setup.isascii() and raw_setup.isdigit() and int(raw_setup) < 2**31:
                setup_id = int(raw_setup)
            else:
                errors["lms_setup_id"] = "choose an LMS setup from the list"
        return cls(name, start_local, setup_id, errors)

    @property
    def start_from(self) -> datetime:
        return self.start_local.astimezone(UTC)

    @property
    def start_text(self) -> str:
        return self.start_local.strftime(LOCAL_FORMAT)

    def quiz_filter(self) -> QuizFilter:
        return QuizFilter(name=self.name or None, start_from=self.start_from)

    def params(self, **extra: Any) -> dict[str, str]:
        params = {"name": self.name, "start_from": self.start_text}
        if self.lms_setup_id is not None:
            params["lms_setup_id"] = str(self.lms_setup_id)
        params.update({key: str(value) for key, value in extra.items() if value not in (None, "")})
        return {key: value for key, value in params.items() if value != ""}

    def url(self, path: str, **extra: Any) -> str:
        return f"{path}?{urlencode(self.params(**extra))}"


def _list_params(request: Request) -> ListParams:
    query = {key: request.query_params[key] for key in ("page", "size", "sort") if key in request.query_params}
    try:
        params = ListParams.from_query(query, ())
    except ValidationFailed:
        params = ListParams()
    if params.sort not in SORTS:
        params = ListParams(page=params.page, size=params.size, sort="name")
    return params


def _sorted(quizzes: list[FoundQuiz], params: ListParams) -> list[FoundQuiz]:
    """Sorted by the chosen column (name by default); quizzes without a start or end time come last."""
    def column(found: FoundQuiz) -> Any:
        if params.sort == "start":
            return found.quiz.start_time
        if params.sort == "end":
            return found.quiz.end_time
        if params.sort == "lms":
            return found.setup_name.lower()
        return found.quiz.name.lower()

    def tiebreak(found: FoundQuiz) -> tuple[str, str, str]:
        return found.quiz.name.lower(), found.setup_name.lower(), found.quiz.id

    ordered = sorted(quizzes, key=tiebreak)
    present = [found for found in ordered if column(found) is not None]
    missing = [found for found in ordered if column(found) is None]
    present.sort(key=column, reverse=params.descending)
    return present + missing


def _paged(quizzes: list[FoundQuiz], params: ListParams) -> Page[FoundQuiz]:
    pages = max(1, -(-len(quizzes) // params.size))
    number = min(params.page, pages)
    start = (number - 1) * params.size
    return Page(items=quizzes[start:start + params.size], total=len(quizzes), page=number, size=params.size)


class _TextOnly(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def plain_text(html: str) -> str:
    """An LMS description (HTML allowed there) as plain text: never rendered as markup here."""
    parser = _TextOnly()
    parser.feed(html or "")
    parser.close()
    return " ".join(" ".join(parser.parts).split())


def _safe_link(url: str) -> str | None:
    return url if urlsplit(url).scheme in ("http", "https") else None


def import_query(found: FoundQuiz) -> str:
    return urlencode({"lms_setup_id": found.setup_id, "quiz_id": found.quiz.id})


@dataclass(frozen=True)
class QuizRow:
    found: FoundQuiz
    description: str
    start_link: str | None
    importable: bool
    import_params: str
    details_url: str

    @property
    def import_url(self) -> str:
        return f"/exams/import?{self.import_params}"


def _rows(quizzes: list[FoundQuiz], lookup: LookupQuery) -> list[QuizRow]:
    now = datetime.now(UTC)
    rows = []
    for found in quizzes:
        quiz = found.quiz
        rows.append(QuizRow(
            found=found, description=plain_text(quiz.description), start_link=_safe_link(quiz.start_url),
            importable=quiz.end_time is None or quiz.end_time > now,
            import_params=import_query(found),
            details_url=lookup.url(f"{BASE}/details", lms_setup_id=found.setup_id, quiz_id=quiz.id),
        ))
    return rows


async def _active_setups(request: Request, actor: Actor, lookup: LookupQuery) -> list[LmsSetup]:
    setups = await services_of(request).lms_setups.active_setups(actor)
    if lookup.lms_setup_id is not None:
        setups = [setup for setup in setups if setup.id == lookup.lms_setup_id]
    return setups


def _results_context(request: Request, lookup: LookupQuery, answers: list[SetupLookup],
                     expected: int) -> dict[str, Any]:
    params = _list_params(request)
    quizzes = [found for answer in answers if answer.state == LookupState.OK for found in answer.quizzes]
    page = _paged(_sorted(quizzes, params), params)
    answered = sum(1 for answer in answers if answer.state == LookupState.OK)
    return {
        "lookup": lookup,
        "params": params,
        "page": page,
        "rows": _rows(page.items, lookup),
        "answered": answered,
        "expected": expected,
    }


# -- handlers --------------------------------------------------------------------------------------


async def lookup_page(request: Request) -> Response:
    actor = await require_actor(request)
    require_lookup(actor)
    lookup = LookupQuery.of(request, actor)
    services = services_of(request)
    all_active = await services.lms_setups.active_setups(actor)
    setups = [setup for setup in all_active if lookup.lms_setup_id in (None, setup.id)]
    if lookup.lms_setup_id is not None and not setups:
        lookup.errors.setdefault("lms_setup_id", "this LMS setup is not active (or does not exist)")
    wait = request.query_params.get("wait") == "1"
    answers: dict[int, SetupLookup] = {}
    if wait and not lookup.errors:
        results = await asyncio.gather(*(services.quiz_lookup.lookup_setup(actor, setup.id, lookup.quiz_filter())
                                         for setup in setups))
        answers = {answer.setup_id: answer for answer in results}
    context = {
        "title": "LMS Exam Lookup",
        "lookup": lookup,
        "errors": lookup.errors,
        "setups": setups if not lookup.errors else [],
        "setup_options": [(str(setup.id), setup.name) for setup in all_active],
        "answers": answers,
        "wait": wait,
        "answered_event": ANSWERED_EVENT,
        **_results_context(request, lookup, list(answers.values()), len(setups)),
    }
    return await render(request, "lms_lookup/page.html", context, status_code=422 if lookup.errors else 200)


async def setup_status(request: Request) -> Response:
    """One LMS setup's answer, as its status line (the page loads one per setup, in parallel)."""
    actor = await require_actor(request)
    require_lookup(actor)
    lookup = LookupQuery.of(request, actor)
    answer = await services_of(request).quiz_lookup.lookup_setup(actor, path_id(request), lookup.quiz_filter())
    response = await render(request, "lms_lookup/_status.html", {"answer": answer, "lookup": lookup})
    if answer.state == LookupState.OK:
        response.headers["HX-Trigger"] = ANSWERED_EVENT
    return response


async def results(request: Request) -> Response:
    """The results table over the setups that answered so far (``answered`` ids), sorted and paged."""
    actor = await require_actor(request)
    require_lookup(actor)
    lookup = LookupQuery.of(request, actor)
    setups = await _active_setups(request, actor, lookup)
    wanted = {int(value) for value in request.query_params.getlist("answered")
              if value.isascii() and value.isdigit() and len(value) < 10}
    service = services_of(request).quiz_lookup
    answers = list(await asyncio.gather(*(service.lookup_setup(actor, setup.id, lookup.quiz_filter())
                                          for setup in setups if setup.id in wanted)))
    return await render(request, "lms_lookup/_results.html",
                        _results_context(request, lookup, answers, len(setups)))


async def details(request: Request) -> Response:
    """One quiz's details as a page (the dialog's content, for browsers without JavaScript)."""
    actor = await require_actor(request)
    require_lookup(actor)
    lookup = LookupQuery.of(request, actor)
    quiz_id = request.query_params.get("quiz_id", "")
    if lookup.lms_setup_id is None or not quiz_id:
        raise NotFound("choose a quiz from the LMS exam lookup")
    answer = await services_of(request).quiz_lookup.lookup_setup(actor, lookup.lms_setup_id, lookup.quiz_filter())
    found = next((found for found in answer.quizzes if found.quiz.id == quiz_id), None)
    if found is None:
        raise NotFound(f"quiz {quiz_id!r} was not found on {answer.setup_name} ({answer.message})")
    back = dataclasses.replace(lookup, lms_setup_id=None).url(BASE, wait=1)
    return await render(request, "lms_lookup/details.html", {
        "title": f"LMS Exam {found.quiz.name}",
        "row": _rows([found], lookup)[0],
        "back": back,
    })


routes = [
    Route(BASE, lookup_page),
    Route(f"{BASE}/results", results),
    Route(f"{BASE}/details", details),
    Route(BASE + "/setups/{id:int}", setup_status),
]
