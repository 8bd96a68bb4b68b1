"""SEB restriction through the SEB Server Moodle plugin (``MOODLE_PLUGIN`` only).

- get: ``quizaccess_sebserver_get_restriction`` with ``quizid`` (query string, as SEB Server sends it).
- apply: ``quizaccess_sebserver_set_restriction`` with ``quizid`` and ``configkeys[]``/``browserkeys[]`` in the
  body; the exam's alternative Browser Exam Key (property ``ALTERNATIVE_SEB_BEK``) is added to the Browser Exam
  Keys. Plugin V1 (no ``quizaccess_sebserver_connection`` function) also takes ``quitlink``/``quitsecret``
  (properties of the same names); V2 refuses them.
- release: the same function with empty lists (``configkeys[0]=&browserkeys[0]=``); Moodle confirms with the
  warning "You have deleted restriction for quiz: N".

What Moodle enforces: the plugin stores only Browser Exam Keys (into core ``quizaccess_seb``, "use SEB client
configuration") and always answers ``configkeys: []``; Config Keys are sent but not kept. It refuses Config Keys
without a Browser Exam Key, any change once the quiz has attempts, and (V2) quizzes for which SEB Server is not
enabled. Refusals come back as warnings; they raise :class:`MoodleRestrictionRefused` with Moodle's text and a
hint. The quiz id is the first slot of the internal quiz id (``101:1:c1:i1`` -> ``101``).
"""

from __future__ import annotations

from typing import Any

from sebframe.types import ConnectionTestResult, IntegrationContext, QuizData, SebRestriction
from sebframe_lms_moodle.client import SEB_SERVER_SERVICE, MoodleClient, MoodleError, MoodleNotFound, parse
from sebframe_lms_moodle.quiz_ids import parse_internal_quiz_id
from sebframe_lms_moodle.responses import MoodleWarning, RestrictionAnswer

GET_RESTRICTION = "quizaccess_sebserver_get_restriction"
SET_RESTRICTION = "quizaccess_sebserver_set_restriction"
CONNECTION = "quizaccess_sebserver_connection"  # only in plugin V2
ALTERNATIVE_SEB_BEK = "ALTERNATIVE_SEB_BEK"
QUIT_LINK = "quitlink"
QUIT_SECRET = "quitsecret"

_DELETED = "you have deleted restriction"
# Warnings of get_restriction meaning "this quiz is not restricted by SEB Server" rather than an error.
_NOT_RESTRICTED = ("seb server is not enabled for quiz", "seb server is disabled for quiz",
                   "seb server available but not enabled", "seb client is not enabled for quiz")
_HINTS = (
    ("attemptexist", "the quiz already has attempts, and Moodle does not let the SEB restriction change then"),
    ("browserkeysempty", "Moodle enforces Browser Exam Keys only: a restriction needs at least one Browser Exam Key"),
    ("no sebserver info", "enable SEB Server for this quiz in Moodle first (quiz settings > SEB Server)"),
    ("sebserver disabled", "enable SEB Server for this quiz in Moodle first (quiz settings > SEB Server)"),
    ("nopermission", "give the web-service user mod/quiz:manage on the quiz"),
    ("not allowed to", "give the web-service user mod/quiz:manage on the quiz"),
)


class MoodleRestrictionRefused(MoodleError):
    """Moodle answered the restriction call with warnings instead of applying it."""


class MoodleRestrictionApi:
    """``RestrictionApi`` for ``MOODLE_PLUGIN`` setups."""

    required_functions = (GET_RESTRICTION, SET_RESTRICTION)

    def __init__(self, context: IntegrationContext) -> None:
        self.context = context
        self.client = MoodleClient(context, default_services=(SEB_SERVER_SERVICE,))

    async def test(self) -> ConnectionTestResult:
        if not self.context.url.strip():
            return ConnectionTestResult.failure("config", "the Moodle URL is missing")
        try:
            info = await self.client.require_functions(self.required_functions)
        except MoodleError as exc:
            return ConnectionTestResult.failure(exc.kind, exc.message)
        version = "V2" if CONNECTION in info.function_names else "V1"
        return ConnectionTestResult.success(f"the SEB Server Moodle plugin ({version}) accepts SEB restrictions")

    async def get(self, quiz: QuizData) -> SebRestriction | None:
        """What Moodle enforces for the quiz; ``None`` when SEB Server or the SEB client check is off for it."""
        quiz_id = _quiz_id(quiz)
        answer = parse(RestrictionAnswer, await self.client.call(GET_RESTRICTION, query={"quizid": quiz_id}),
                       GET_RESTRICTION)
        if answer.data:
            return _restriction(answer, {})
        text = _warnings_text(answer.warnings)
        if any(marker in text.lower() for marker in _NOT_RESTRICTED):
            return None
        raise _refusal(f"Moodle did not return the SEB restriction of quiz {quiz_id}", answer.warnings, quiz_id)

    async def apply(self, quiz: QuizData, restriction: SebRestriction) -> SebRestriction:
        """Set the keys; returns what Moodle now holds (Browser Exam Keys, never Config Keys)."""
        quiz_id = _quiz_id(quiz)
        browser_keys = [key for key in restriction.browser_exam_keys if key.strip()]
        alternative = str(restriction.properties.get(ALTERNATIVE_SEB_BEK) or "").strip()
        if alternative and alternative.lower() not in {key.lower() for key in browser_keys}:
            browser_keys.append(alternative)
        if not browser_keys and not any(key.strip() for key in restriction.config_keys):
            await self.release(quiz)  # Moodle treats empty lists as "delete the restriction"
            return SebRestriction()
        args: dict[str, Any] = {"configkeys": [key for key in restriction.config_keys if key.strip()],
                                "browserkeys": browser_keys}
        quit_props = {name: restriction.properties.get(name) for name in (QUIT_LINK, QUIT_SECRET)
                      if restriction.properties.get(name) is not None}
        if quit_props and not await self._is_v2():
            args.update({name: str(value) for name, value in quit_props.items()})
        answer = parse(RestrictionAnswer, await self.client.call(SET_RESTRICTION, args, query={"quizid": quiz_id}),
                       SET_RESTRICTION)
        if answer.warnings or not answer.data:
            raise _refusal(f"Moodle refused the SEB restriction of quiz {quiz_id}", answer.warnings, quiz_id)
        return _restriction(answer, {ALTERNATIVE_SEB_BEK: alternative} if alternative else {})

    async def release(self, quiz: QuizData) -> None:
        quiz_id = _quiz_id(quiz)
        answer = parse(RestrictionAnswer, await self.client.call(
            SET_RESTRICTION, {"configkeys": [""], "browserkeys": [""]}, query={"quizid": quiz_id}), SET_RESTRICTION)
        text = _warnings_text(answer.warnings)
        if answer.warnings and _DELETED not in text.lower():
            raise _refusal(f"Moodle did not release the SEB restriction of quiz {quiz_id}", answer.warnings, quiz_id)

    async def _is_v2(self) -> bool:
        return CONNECTION in (await self.client.site_info()).function_names


def _quiz_id(quiz: QuizData) -> int:
    parsed = parse_internal_quiz_id(quiz.id)
    if parsed is None:
        raise MoodleNotFound(f"{quiz.id!r} is not a Moodle quiz id (expected quizId:courseId:shortname:idnumber)")
    return parsed.quiz_id


def _restriction(answer: RestrictionAnswer, properties: dict[str, Any]) -> SebRestriction:
    record = answer.data[0]
    extra = {name: value for name, value in ((QUIT_LINK, record.quitlink), (QUIT_SECRET, record.quitsecret))
             if value}
    return SebRestriction(config_keys=tuple(key for key in record.configkeys if key),
                          browser_exam_keys=tuple(key for key in record.browserkeys if key),
                          properties={**extra, **properties})


def _warnings_text(warnings: list[MoodleWarning]) -> str:
    return "; ".join(_strip_module(warning.message or warning.warningcode or "") for warning in warnings)


def _strip_module(message: str) -> str:
    for prefix in ("error/", "sebserver/", "webservice/"):
        if message.startswith(prefix):
            return message[len(prefix):]
    return message


def _refusal(what: str, warnings: list[MoodleWarning], quiz_id: int) -> MoodleError:
    text = _warnings_text(warnings) or "no data and no warning"
    codes = " ".join(f"{warning.warningcode or ''} {warning.message}" for warning in warnings).lower()
    if any(warning.warningcode in ("quiznotfound", "getrestirctionquiznotfound") for warning in warnings):
        return MoodleNotFound(f"{what}: Moodle has no quiz {quiz_id}")
    hints = list(dict.fromkeys(hint for marker, hint in _HINTS if marker in codes))
    kind = "unauthorized" if "nopermission" in codes else "api"
    return MoodleRestrictionRefused(f"{what}: {text}" + (f" ({'; '.join(hints)})" if hints else ""), kind=kind)
