"""Pieces the exam and exam template screens share: the indicator editor, the supporter picker, LMS text,
the SEB client check fields."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from sebframe.core.db.models import Exam, UserAccount
from sebframe.core.exams.client_checks import signature_key_grants
from sebframe.core.exams.indicators import IndicatorSpec, format_value
from sebframe.core.exams.types import EXAM_TYPE_LABELS
from sebframe.types import IndicatorType
from sebframe.web.pages import form_fields, render, require_actor, services_of

EXAM_TYPE_OPTIONS = [(exam_type.value, label) for exam_type, label in EXAM_TYPE_LABELS.items()]
_TAG = re.compile(r"<[^>]*>")


def plain_text(markup: str) -> str:
    """LMS descriptions may hold HTML: shown as text, never as markup."""
    return " ".join(html.unescape(_TAG.sub(" ", markup or "")).split())


def safe_link(url: str) -> str | None:
    return url if urlsplit(url or "").scheme in ("http", "https") else None


# -- the SEB client checks ----------------------------------------------------------------------------

CLIENT_CHECK_TEXT_FIELDS = ("signature_key_trust_threshold", "signature_key_grants", "allowed_seb_versions",
                            "alternative_bek")


def client_check_values(exam: Exam) -> dict[str, Any]:
    """The exam's SEB client checks as the edit form shows them."""
    return {"signature_key_check_enabled": exam.signature_key_check_enabled,
            "signature_key_trust_threshold": str(exam.signature_key_trust_threshold),
            "signature_key_grants": "\n".join(signature_key_grants(exam)),
            "allowed_seb_versions": exam.allowed_seb_versions.replace(",", ", "),
            "alternative_bek": exam.alternative_bek or ""}


# -- the supporter picker ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Person:
    id: int
    label: str


def person(user: UserAccount) -> Person:
    return Person(user.id, f"{user.name} {user.surname} ({user.username})")


def posted_ids(form: FormData, name: str = "supporter_ids[]") -> list[int]:
    ids = []
    for value in form.getlist(name):
        if isinstance(value, str) and value.isdigit() and len(value) < 11:
            ids.append(int(value))
    return list(dict.fromkeys(ids))


async def people(request: Request, ids: Sequence[int]) -> list[Person]:
    """The accounts for ids the form holds that the user may see (others left out; the service reports them)."""
    actor = await require_actor(request)
    return [person(user) for user in await services_of(request).users.supporters_by_id(actor, ids)]


async def supporter_search(request: Request) -> Response:
    """Type-ahead of the supporter picker (htmx): active users of the institution, without those chosen."""
    actor = await require_actor(request)
    text = request.query_params.get("supporter_q", "").strip()[:100]
    chosen = {int(v) for v in request.query_params.getlist("supporter_ids[]") if v.isdigit() and len(v) < 11}
    users = await services_of(request).users.search_supporters(actor, text, limit=15)
    found = [person(user) for user in users if user.id not in chosen]
    templates = request.app.state.templates
    response: Response = templates.TemplateResponse(request, "exams/_supporter_results.html",
                                                    {"found": found, "text": text})
    return response


# -- the indicator editor ------------------------------------------------------------------------------


def indicator_values(spec: IndicatorSpec | None) -> dict[str, Any]:
    if spec is None:
        return {"name": "", "indicator_type": "", "color": "ffffff", "tags": "", "thresholds": []}
    return {"name": spec.name, "indicator_type": spec.indicator_type, "color": spec.color,
            "tags": ", ".join(spec.tags),
            "thresholds": [{"value": format_value(value), "color": color} for value, color in spec.thresholds]}


def read_indicator(form: FormData) -> dict[str, Any]:
    """The indicator form as the input model's data: empty threshold rows are dropped."""
    values = form_fields(form, "name", "indicator_type", "color", "tags")
    values["color"] = values.get("color", "").lstrip("#") or "ffffff"
    rows = zip(form.getlist("threshold_value[]"), form.getlist("threshold_color[]"), strict=False)
    values["thresholds"] = [{"value": value.strip(), "color": str(color).lstrip("#")}
                            for value, color in rows if isinstance(value, str) and value.strip()]
    return values


def type_options(types: Mapping[str, IndicatorType]) -> list[dict[str, Any]]:
    return [{"name": t.name, "label": t.display_name, "uses_tags": t.uses_tags, "fixed_tags": ", ".join(t.fixed_tags),
             "inverse": t.inverse} for t in types.values()]


def threshold_errors(errors: Mapping[str, str]) -> list[str]:
    """Messages about single threshold rows (``thresholds.1.value``) in words."""
    texts = []
    for key, message in errors.items():
        parts = key.split(".")
        if parts[0] == "thresholds" and len(parts) >= 3 and parts[1].isdigit():
            texts.append(f"threshold {int(parts[1]) + 1}, {parts[2]}: {message}")
    return texts


async def indicator_page(request: Request, *, title: str, action_url: str, cancel_url: str, values: dict[str, Any],
                         errors: dict[str, str], types: Mapping[str, IndicatorType], owner_label: str,
                         status_code: int = 200) -> Response:
    top = {key.split(".")[0]: message for key, message in errors.items()}
    return await render(request, "exams/indicator_form.html", {
        "title": title, "action_url": action_url, "cancel_url": cancel_url, "values": values, "errors": top,
        "row_errors": threshold_errors(errors), "types": type_options(types), "owner_label": owner_label,
        "no_types": not types,
    }, status_code=status_code)
