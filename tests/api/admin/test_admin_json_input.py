"""The admin API's strict JSON input (``api/admin/routing.parse_json``): JSON types only, date-times as ISO 8601."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import field_validator

from sebframe.api.admin.routing import parse_json
from sebframe.core.errors import ValidationFailed
from sebframe.core.validation import InputModel, empty_to_none


class Window(InputModel):
    starts: datetime
    minutes: int
    ends: datetime | None = None

    _blank = field_validator("ends", mode="before")(empty_to_none)


def errors_of(data: object) -> dict[str, str]:
    with pytest.raises(ValidationFailed) as failed:
        parse_json(Window, data)
    return failed.value.field_errors


def test_date_times_are_read_as_iso_8601_with_their_time_zone() -> None:
    window = parse_json(Window, {"starts": "2026-11-22T09:00:00+01:00", "minutes": 90, "ends": None})
    assert (window.starts, window.minutes, window.ends) == (datetime(2026, 11, 22, 8, tzinfo=UTC), 90, None)
    assert parse_json(Window, {"starts": "2026-11-22T09:00:00Z", "minutes": 1,
                               "ends": "2026-11-22T10:00:00Z"}).ends == datetime(2026, 11, 22, 10, tzinfo=UTC)


@pytest.mark.parametrize("starts", ["2026-11-22T09:00:00", "22.11.2026 09:00", "tomorrow", 1763798400, True,
                                    ["2026-11-22T09:00:00Z"]])
def test_a_time_without_its_zone_or_anything_else_is_refused_with_how_to_write_it(starts: object) -> None:
    assert errors_of({"starts": starts, "minutes": 90}) == {
        "starts": "give an ISO 8601 date and time with its time zone, e.g. 2026-11-22T09:00:00Z"}


def test_the_other_fields_stay_strict_and_every_error_is_reported_at_once() -> None:
    assert errors_of({"starts": "soon", "minutes": "90", "ends": "later"}) == {
        "starts": "give an ISO 8601 date and time with its time zone, e.g. 2026-11-22T09:00:00Z",
        "ends": "give an ISO 8601 date and time with its time zone, e.g. 2026-11-22T09:00:00Z",
        "minutes": "Input should be a valid integer"}
    assert errors_of({"minutes": 90}) == {"starts": "Field required"}
    assert errors_of({"starts": "2026-11-22T09:00:00Z", "minutes": 90, "extra": 1}) == {"extra": "unknown field"}
