"""Instructions from the monitoring screens: quit (selected or all), lock screen with a message, mark as
canceled, confirm a notification. POST forms (the cross-origin check guards them); the rules and the
privilege check (the exam's connections visible and MODIFY on the exam: assigned supporters, exam administrators)
are in ``SupervisorActions``."""

from __future__ import annotations

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sebframe.core.accounts.actor import Actor
from sebframe.core.errors import PermissionDenied, ValidationFailed
from sebframe.core.session.actions import InstructionResult
from sebframe.core.session.instructions import InstructionType
from sebframe.web.pages import flash, redirect, require_actor, services_of
from sebframe.web.views.common import path_id, safe_next

MAX_SELECTED = 10_000
NOTHING_SELECTED = "Select at least one SEB connection first."


async def _supervised(request: Request) -> tuple[Actor, int, FormData]:
    """The actor, the exam and the form, after checking that the actor may supervise the exam (read-only
    users get a clear refusal even with nothing selected)."""
    actor = await require_actor(request)
    access = await services_of(request).monitoring.access(actor, path_id(request))
    if not access.may_supervise:
        raise PermissionDenied(f"you may watch exam {access.exam.name!r} but not supervise it: only its "
                               "supporters and exam administrators send instructions")
    return actor, access.exam.id, await request.form()


def _back(form: FormData, exam_id: int) -> Response:
    return redirect(safe_next(form.get("next"), f"/monitoring/{exam_id}"))


async def _selected_tokens(request: Request, actor: Actor, exam_id: int, form: FormData) -> tuple[list[str], int]:
    """The connection tokens of the ticked connections of this exam, and how many ticked ids are not the exam's.
    The page posts connection ids: tokens are credentials and never sent to the browser."""
    ids = {int(value) for value in form.getlist("connection")[:MAX_SELECTED]
           if isinstance(value, str) and value.isdigit() and len(value) <= 10}
    if not ids:
        return [], 0
    snapshot = await services_of(request).monitoring.snapshot(actor, exam_id)
    tokens = [state.token for state in snapshot.connections if state.id in ids]
    return tokens, len(ids) - len(tokens)


def _report(request: Request, what: str, result: InstructionResult, extra_skipped: int, why: str) -> None:
    skipped = result.skipped + extra_skipped
    text = f"{what} {result.sent} SEB connection{'' if result.sent == 1 else 's'}"
    if skipped:
        text += f", {skipped} skipped ({why})"
    flash(request, text + ".", "success" if result.sent else "warning")


async def _instruct(request: Request, instruction: InstructionType, *, everyone: bool = False) -> Response:
    actor, exam_id, form = await _supervised(request)
    actions = services_of(request).sessions.actions
    message = form.get("message")
    attributes = {"message": message.strip()} \
        if instruction is InstructionType.SEB_FORCE_LOCK_SCREEN and isinstance(message, str) and message.strip() \
        else {}
    tokens: list[str] | None = None
    foreign = 0
    if not everyone:
        tokens, foreign = await _selected_tokens(request, actor, exam_id, form)
        if not tokens:
            flash(request, NOTHING_SELECTED, "warning")
            return _back(form, exam_id)
    try:
        result = await actions.send_instruction(actor, exam_id, tokens, instruction.value, attributes)
    except ValidationFailed as exc:
        flash(request, exc.message, "error")
        return _back(form, exam_id)
    what = "Quit sent to" if instruction is InstructionType.SEB_QUIT else "Lock screen sent to"
    _report(request, what, result, foreign, "not connected: closed or canceled")
    return _back(form, exam_id)


async def quit_selected(request: Request) -> Response:
    return await _instruct(request, InstructionType.SEB_QUIT)


async def quit_all(request: Request) -> Response:
    return await _instruct(request, InstructionType.SEB_QUIT, everyone=True)


async def lock_screen(request: Request) -> Response:
    return await _instruct(request, InstructionType.SEB_FORCE_LOCK_SCREEN)


async def mark_canceled(request: Request) -> Response:
    actor, exam_id, form = await _supervised(request)
    tokens, foreign = await _selected_tokens(request, actor, exam_id, form)
    if not tokens:
        flash(request, NOTHING_SELECTED, "warning")
        return _back(form, exam_id)
    result = await services_of(request).sessions.actions.disable(actor, exam_id, tokens)
    skipped = result.skipped + foreign
    text = f"{result.sent} canceled, {skipped} skipped"
    if skipped:
        text += " (only closed connections and connections with a missing ping are canceled)"
    flash(request, text + ".", "success" if result.sent else "warning")
    return _back(form, exam_id)


async def confirm_notification(request: Request) -> Response:
    actor, exam_id, form = await _supervised(request)
    notification_id = path_id(request, "notification_id")
    newly = await services_of(request).sessions.actions.confirm_notification(actor, exam_id, notification_id)
    flash(request, "Notification confirmed; the SEB client is told on its next ping." if newly
          else "The notification was confirmed already.", "success" if newly else "info")
    return _back(form, exam_id)


routes = [
    Route("/monitoring/{id:int}/quit", quit_selected, methods=["POST"]),
    Route("/monitoring/{id:int}/quit-all", quit_all, methods=["POST"]),
    Route("/monitoring/{id:int}/lock", lock_screen, methods=["POST"]),
    Route("/monitoring/{id:int}/cancel", mark_canceled, methods=["POST"]),
    Route("/monitoring/{id:int}/notifications/{notification_id:int}/confirm", confirm_notification, methods=["POST"]),
]
