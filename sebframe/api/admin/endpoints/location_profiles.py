"""IP profiles: named ``ALLOW|BLOCK <address>`` rules with help text for blocked students; list, create, change
(each change of the rules or help text is a new immutable version), versions, hide and unhide (never delete),
check rules without saving, and preview who would be blocked.

Rules with errors are never saved: the answer is 422 with the usual error body plus ``issues``, every
line-numbered error and warning (also for the preview). Rules come back parsed: canonical address spec, the
number of addresses it covers, room, seat and label.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field, StringConstraints
from starlette.requests import Request

from sebframe.api.admin.endpoints._common import Filter, ListQuery, out, parse_body, services_of
from sebframe.api.admin.endpoints.locations import HIDDEN_FILTER
from sebframe.api.admin.routing import ApiRouter
from sebframe.core.accounts.actor import Actor
from sebframe.core.db.models import LocationProfile, LocationProfileVersion
from sebframe.core.location.decide import Decision
from sebframe.core.location.preview import Preview, PreviewRow
from sebframe.core.location.profiles import RulesRejected
from sebframe.core.location.rules import Issue, ParsedProfile, Rule
from sebframe.core.location.schemas import ProfileInput
from sebframe.core.validation import InputModel

TAG = "locations"

PROFILE_QUERY = ListQuery(
    filters=(
        Filter("name", description="part of the name, case-insensitive"),
        Filter("location", "integer", description="only profiles of this location (its id)"),
        HIDDEN_FILTER,
    ),
    sortable=("name", "updated"),
    default_sort="name",
)

RulesText = Annotated[str, StringConstraints(strip_whitespace=False)]  # line numbers count every line


class IssueOut(BaseModel):
    line: int = Field(description="the line of the rules text; 0: the whole profile")
    code: str = Field(description="E001-E017 (errors), W101-W111 (warnings), I110 (information)")
    severity: str = Field(description="error, warning or info")
    message: str

    @classmethod
    def of(cls, issue: Issue) -> IssueOut:
        return cls(line=issue.line, code=issue.code, severity=issue.severity, message=issue.message)


def _issues(exc: RulesRejected) -> dict[str, Any]:
    return {"issues": [out(IssueOut.of(issue)) for issue in exc.parsed.issues]}


router = ApiRouter(error_details={RulesRejected: _issues})  # a 422 for rejected rules lists every issue


class RuleOut(BaseModel):
    line: int
    action: str = Field(description="ALLOW or BLOCK")
    spec: str = Field(description="the address spec in canonical form, e.g. 10.1.2.0/24, 192.168.*.10, 2001:db8::/32")
    size: int = Field(description="how many addresses the rule covers (the most specific matching rule decides)")
    room: str | None
    seat: str | None
    label: str | None
    comment: str | None
    text: str = Field(description="the whole rule in canonical form")

    @classmethod
    def of(cls, rule: Rule) -> RuleOut:
        return cls(line=rule.line, action=rule.action.value, spec=rule.spec, size=rule.size, room=rule.room,
                   seat=rule.seat, label=rule.label, comment=rule.comment, text=rule.text())


class ProfileOut(BaseModel):
    id: int
    institution_id: int
    name: str
    location_id: int | None
    location: str = Field(description="the location's name; empty when none")
    help_text: str = Field(description="shown to a student whose SEB is refused")
    default_room: str = Field(description="the room label of rules without room=")
    hidden: bool = Field(description="hidden profiles cannot be attached to more exams; exams that have one keep it")
    version: int = Field(description="the current version (every change of rules or help text adds one)")
    rules: str = Field(description="the current rules, as written")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, profile: LocationProfile, location: str) -> ProfileOut:
        return cls(id=profile.id, institution_id=profile.institution_id, name=profile.name,
                   location_id=profile.location_id, location=location, help_text=profile.help_text,
                   default_room=profile.default_room, hidden=profile.hidden, version=profile.version,
                   rules=profile.rules_text, created_at=profile.created_at, updated_at=profile.updated_at)


class ProfileDetailsOut(ProfileOut):
    parsed_rules: list[RuleOut] = Field(description="the current rules, parsed and canonical")
    issues: list[IssueOut] = Field(description="warnings about the current rules")
    exam_ids: list[int] = Field(description="the exams the profile is attached to")


class VersionOut(BaseModel):
    version: int
    rules: str
    help_text: str
    created_by: str
    created_at: datetime

    @classmethod
    def of(cls, row: LocationProfileVersion) -> VersionOut:
        return cls(version=row.version, rules=row.rules_text, help_text=row.help_text, created_by=row.created_by,
                   created_at=row.created_at)


class VersionListOut(BaseModel):
    items: list[VersionOut] = Field(description="newest first")


class VersionDetailsOut(VersionOut):
    parsed_rules: list[RuleOut]


class CheckIn(InputModel):
    rules: RulesText = Field(description="one rule per line: ALLOW|BLOCK <address spec> [room=.. seat=..]")


class CheckOut(BaseModel):
    ok: bool = Field(description="no errors: the rules can be saved")
    issues: list[IssueOut] = Field(description="every error and warning, by line")
    rules: list[RuleOut] = Field(description="the rules that parsed, canonical")
    canonical: str = Field(description="the rules that parsed, one canonical line each")


class PreviewIn(InputModel):
    rules: RulesText | None = Field(default=None, description="draft rules; null: the saved ones")
    exam_id: int | None = Field(default=None, description="preview against this exam's current connections; "
                                                          "null: the running exams that use the profile")


class DecisionOut(BaseModel):
    allowed: bool
    reason: str = Field(description="ALLOW_RULE, BLOCK_RULE, NO_MATCH, UNRESOLVABLE, EXCEPTION, OVERRIDE or "
                                    "UNRESTRICTED")
    profile_id: int | None
    profile: str
    profile_version: int | None
    rule: str = Field(description="line:canonical rule that decided")
    room: str
    seat: str

    @classmethod
    def of(cls, decision: Decision) -> DecisionOut:
        profile = decision.profile
        return cls(allowed=decision.allowed, reason=decision.reason.value,
                   profile_id=profile.profile_id if profile else None, profile=profile.name if profile else "",
                   profile_version=profile.version if profile else None, rule=decision.rule_text,
                   room=decision.room, seat=decision.seat)


class PreviewRowOut(BaseModel):
    connection_id: int
    exam_id: int
    exam_name: str
    user: str | None
    address: str | None
    before: DecisionOut = Field(description="the decision with the exam's profiles as they are")
    after: DecisionOut = Field(description="the decision with the draft")
    changed: bool = Field(description="allowed before and not after, or the other way round")

    @classmethod
    def of(cls, row: PreviewRow) -> PreviewRowOut:
        return cls(connection_id=row.connection_id, exam_id=row.exam_id, exam_name=row.exam_name, user=row.user,
                   address=row.address, before=DecisionOut.of(row.before), after=DecisionOut.of(row.after),
                   changed=row.changed)


class PreviewSummaryOut(BaseModel):
    connections: int = Field(description="connections previewed")
    blocked: int = Field(description="blocked with the draft")
    newly_blocked: int = Field(description="allowed now, blocked with the draft")
    newly_allowed: int = Field(description="blocked now, allowed with the draft")


class PreviewOut(BaseModel):
    profile_id: int
    summary: PreviewSummaryOut
    rows: list[PreviewRowOut]

    @classmethod
    def of(cls, profile_id: int, preview: Preview) -> PreviewOut:
        summary = PreviewSummaryOut(connections=len(preview.rows), blocked=preview.blocked,
                                    newly_blocked=preview.newly_blocked, newly_allowed=preview.newly_allowed)
        return cls(profile_id=profile_id, summary=summary, rows=[PreviewRowOut.of(row) for row in preview.rows])


def _id(request: Request) -> int:
    profile_id: int = request.path_params["id"]
    return profile_id


def _rules(parsed: ParsedProfile) -> list[RuleOut]:
    return [RuleOut.of(rule) for rule in parsed.rules]


async def _location_name(request: Request, actor: Actor, profile: LocationProfile) -> str:
    if profile.location_id is None:
        return ""
    return (await services_of(request).locations.profiles.get_location(actor, profile.location_id)).name


async def _details(request: Request, actor: Actor, profile: LocationProfile) -> dict[str, Any]:
    service = services_of(request).locations.profiles
    parsed = service.check_rules(profile.rules_text)
    base = ProfileOut.of(profile, await _location_name(request, actor, profile))
    return out(ProfileDetailsOut(**base.model_dump(), parsed_rules=_rules(parsed),
                                 issues=[IssueOut.of(issue) for issue in parsed.issues],
                                 exam_ids=await service.exams_using(actor, profile.id)))


@router.get("/location-profiles", summary="List the IP profiles you may see", tag=TAG, response_model=ProfileOut,
            response_is_page=True, query=PROFILE_QUERY.query_params())
async def list_location_profiles(request: Request, actor: Actor) -> dict[str, Any]:
    page = await services_of(request).locations.profiles.list_profiles(actor, PROFILE_QUERY.parse(request))
    return page.to_json([out(ProfileOut.of(profile, location)) for profile, location in page.items])


@router.post("/location-profiles", summary="Create an IP profile (version 1); rules with errors: 422 with every "
             "line-numbered issue, nothing saved", tag=TAG, request_model=ProfileInput,
             response_model=ProfileDetailsOut, status_code=201)
async def create_location_profile(request: Request, actor: Actor) -> dict[str, Any]:
    data = await parse_body(request, ProfileInput)
    return await _details(request, actor, await services_of(request).locations.profiles.create_profile(actor, data))


@router.post("/location-profiles/check", summary="Check rules without saving: every line-numbered error and "
             "warning, and the rules in canonical form", tag=TAG, request_model=CheckIn, response_model=CheckOut)
async def check_location_rules(request: Request, actor: Actor) -> dict[str, Any]:
    data = await parse_body(request, CheckIn)
    parsed = services_of(request).locations.profiles.check_rules(data.rules)
    return out(CheckOut(ok=parsed.ok, issues=[IssueOut.of(issue) for issue in parsed.issues], rules=_rules(parsed),
                        canonical=parsed.canonical_text()))


@router.get("/location-profiles/{id:int}", summary="One IP profile with its rules parsed, warnings and exams",
            tag=TAG, response_model=ProfileDetailsOut)
async def get_location_profile(request: Request, actor: Actor) -> dict[str, Any]:
    return await _details(request, actor, await services_of(request).locations.profiles.get_profile(actor,
                                                                                                   _id(request)))


@router.put("/location-profiles/{id:int}", summary="Replace the profile's fields; a change of rules or help text is "
            "a new version (rules with errors: 422 with every issue, nothing saved)", tag=TAG,
            request_model=ProfileInput, response_model=ProfileDetailsOut)
async def replace_location_profile(request: Request, actor: Actor) -> dict[str, Any]:
    data = await parse_body(request, ProfileInput)
    profile = await services_of(request).locations.profiles.update_profile(actor, _id(request), data)
    return await _details(request, actor, profile)


@router.get("/location-profiles/{id:int}/versions", summary="The profile's versions, newest first", tag=TAG,
            response_model=VersionListOut)
async def list_location_profile_versions(request: Request, actor: Actor) -> dict[str, Any]:
    rows = await services_of(request).locations.profiles.versions(actor, _id(request))
    return out(VersionListOut(items=[VersionOut.of(row) for row in rows]))


@router.get("/location-profiles/{id:int}/versions/{version:int}", summary="One version of the profile, rules "
            "parsed (versions never change)", tag=TAG, response_model=VersionDetailsOut)
async def get_location_profile_version(request: Request, actor: Actor) -> dict[str, Any]:
    service = services_of(request).locations.profiles
    row = await service.version(actor, _id(request), request.path_params["version"])
    return out(VersionDetailsOut(**VersionOut.of(row).model_dump(),
                                 parsed_rules=_rules(service.check_rules(row.rules_text))))


@router.post("/location-profiles/{id:int}/hide", summary="Hide the profile: no longer offered for exams; exams "
             "that have it are still checked with it", tag=TAG, response_model=ProfileDetailsOut)
async def hide_location_profile(request: Request, actor: Actor) -> dict[str, Any]:
    profile = await services_of(request).locations.profiles.set_profile_hidden(actor, _id(request), True)
    return await _details(request, actor, profile)


@router.post("/location-profiles/{id:int}/unhide", summary="Make a hidden profile available again", tag=TAG,
             response_model=ProfileDetailsOut)
async def unhide_location_profile(request: Request, actor: Actor) -> dict[str, Any]:
    profile = await services_of(request).locations.profiles.set_profile_hidden(actor, _id(request), False)
    return await _details(request, actor, profile)


@router.post("/location-profiles/{id:int}/preview", summary="Who would be blocked: the current connections of the "
             "running exams using the profile (or of one exam), decided now and with draft rules", tag=TAG,
             request_model=PreviewIn, response_model=PreviewOut)
async def preview_location_profile(request: Request, actor: Actor) -> dict[str, Any]:
    data = await parse_body(request, PreviewIn)
    preview = await services_of(request).locations.preview.who_would_be_blocked(actor, _id(request), data.rules,
                                                                                 data.exam_id)
    return out(PreviewOut.of(_id(request), preview))
