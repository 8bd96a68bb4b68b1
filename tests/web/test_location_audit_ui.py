"""Admin UI: the location audit log: search (newest first, filters), every field of a record with its raw line,
and the per-exam export as log, JSON lines and CSV; who reads which records."""

from __future__ import annotations

import csv
import html
import io
import json
import re

import httpx
import pytest

from sebframe.core.accounts.auth import actor_of
from sebframe.core.accounts.roles import Role
from sebframe.core.location.schemas import SuspendInput
from sebframe.core.services import Services
from tests.client_log_helpers import add_exam
from tests.conftest import Factory, sign_in

pytestmark = pytest.mark.anyio
HX = {"HX-Request": "true"}


def _codes(page: str) -> list[str]:
    """The codes of the listed records, in order."""
    return re.findall(r'<tr data-href="/location-audit/\d+" data-id="\d+" data-dialog-url="[^"]+" data-code="(\d+)"',
                      page)


def _record_ids(page: str) -> list[int]:
    return [int(value) for value in re.findall(r'<tr data-href="/location-audit/(\d+)"', page)]


@pytest.fixture
async def scene(services: Services, factory: Factory, client: httpx.AsyncClient) -> dict[str, int]:
    """ETH: exam administrator erika, institutional administrator ia, supporter sam of Physics; UZH: ursula.
    erika creates and edits an IP profile through the UI (codes 1010, 1011) and suspends the restriction of
    Physics (1030, a record of the exam)."""
    eth = await factory.institution("ETH")
    uzh = await factory.institution("UZH")
    erika = actor_of(await factory.user(eth, "erika", Role.EXAM_ADMIN, timezone="Europe/Zurich"))
    await factory.user(eth, "ia", Role.INSTITUTIONAL_ADMIN)
    sam = await factory.user(eth, "sam", Role.EXAM_SUPPORTER)
    await factory.user(uzh, "ursula", Role.EXAM_ADMIN)
    physics = await add_exam(services, eth.id, "Physics", supporter_ids=[sam.id])
    chemistry = await add_exam(services, eth.id, "Chemistry")
    await sign_in(client, "erika")
    form = {"name": "Lab", "location_id": "", "default_room": "HG", "help_text": "", "rules": "ALLOW 10.1.2.0/24"}
    created = await client.post("/location-profiles/new", data=form)
    assert created.status_code == 303
    profile_id = int(created.headers["location"].rsplit("/", 1)[1])
    edited = await client.post(f"/location-profiles/{profile_id}/edit",
                               data={**form, "rules": "ALLOW 10.1.2.0/24\nBLOCK 10.1.2.66|evt_code=38"})
    assert edited.status_code == 422  # a forged field is no address
    edited = await client.post(f"/location-profiles/{profile_id}/edit",
                               data={**form, "rules": "ALLOW 10.1.2.0/24\nBLOCK 10.1.2.66  # teacher|desk"})
    assert edited.status_code == 303
    await services.locations.policies.suspend(erika, physics.id, SuspendInput(reason="network down"))
    return {"physics": physics.id, "chemistry": chemistry.id, "profile": profile_id}


async def test_search_lists_profile_changes_newest_first_with_filters(client: httpx.AsyncClient,
                                                                     scene: dict[str, int]) -> None:
    page = await client.get("/location-audit")
    assert page.status_code == 200
    assert _codes(page.text) == ["1030", "1011", "1010"]
    text = html.unescape(page.text)
    assert "location profile updated" in text and "location profile created" in text
    assert "profile 'Lab' created with 1 rule(s)" in text
    assert "Choose an exam to export" in text and "/location-audit/export" not in text
    assert _codes((await client.get("/location-audit?code=1010")).text) == ["1010"]
    assert _codes((await client.get("/location-audit?sort=time")).text) == ["1010", "1011", "1030"]
    assert _codes((await client.get("/location-audit?outcome=failure")).text) == []
    assert _codes((await client.get(f"/location-audit?exam_id={scene['physics']}")).text) == ["1030"]
    assert _codes((await client.get("/location-audit?from=2099-01-01T00:00")).text) == []
    assert _codes((await client.get("/location-audit?to=2099-01-01")).text) == ["1030", "1011", "1010"]
    second = await client.get("/location-audit?size=1&page=2")
    assert _codes(second.text) == ["1011"] and "page 2 of 3" in second.text
    bad = await client.get("/location-audit?code=abc")
    assert bad.status_code == 422 and "Code: must be a whole number" in bad.text
    bad_time = await client.get("/location-audit?from=yesterday")
    assert bad_time.status_code == 422 and "From:" in bad_time.text
    options = re.findall(r'<option value="(\d+)" >(\d+ [^<]+)</option>', page.text)
    assert ("36", "36 location start blocked") in options and ("1011", "1011 location profile updated") in options


async def test_details_show_every_field_and_the_raw_line(client: httpx.AsyncClient, scene: dict[str, int]) -> None:
    updated = _record_ids((await client.get("/location-audit?code=1011")).text)[0]
    page = await client.get(f"/location-audit/{updated}")
    assert page.status_code == 200 and "<html" in page.text
    fields = dict(re.findall(r"<dt>([a-z_]+)</dt><dd>(.*?)</dd>", page.text, re.S))
    assert list(fields)[:5] == ["timestamp", "app_vend", "app_name", "app_ver", "evt_code"]
    assert fields["evt_code"] == "1011" and fields["proctor_id"] == "erika" and fields["profile_ver"] == "2"
    assert "+BLOCK 10.1.2.66  # teacher|desk" in html.unescape(fields["msg"])
    raw = html.unescape(page.text.split('<pre class="audit-line">', 1)[1].split("</pre>", 1)[0])
    assert raw.startswith("timestamp=") and "|evt_code=1011|" in raw
    assert "\\n+BLOCK 10.1.2.66  # teacher\\|desk" in raw and "\n" not in raw  # escaped: one line, no forged field
    dialog = await client.get(f"/location-audit/{updated}", headers=HX)
    assert "<dialog" in dialog.text and "<html" not in dialog.text and "|evt_code=1011|" in dialog.text
    assert (await client.get("/location-audit/999999")).status_code == 404


async def test_export_per_exam_streams_log_jsonl_and_csv(client: httpx.AsyncClient, scene: dict[str, int]) -> None:
    physics = scene["physics"]
    page = await client.get(f"/location-audit?exam_id={physics}")
    for fmt in ("log", "jsonl", "csv"):
        assert f'href="/location-audit/export?exam_id={physics}&amp;format={fmt}"' in page.text
    log = await client.get(f"/location-audit/export?exam_id={physics}&format=log")
    assert log.status_code == 200 and log.headers["content-type"].startswith("text/plain")
    assert log.headers["content-disposition"] == f'attachment; filename="location-audit-exam-{physics}.log"'
    lines = log.text.splitlines()
    assert len(lines) == 1 and "|evt_code=1030|" in lines[0] and f"|exam_id={physics}|" in lines[0]
    assert "location restriction suspended: network down" in lines[0]
    jsonl = await client.get(f"/location-audit/export?exam_id={physics}&format=jsonl")
    record = json.loads(jsonl.text.splitlines()[0])
    assert record["evt_code"] == "1030" and record["act"] == "suspended" and record["proctor_id"] == "erika"
    exported = await client.get(f"/location-audit/export?exam_id={physics}&format=csv")
    assert exported.headers["content-disposition"].endswith('.csv"')
    rows = list(csv.reader(io.StringIO(exported.text.lstrip("\ufeff"))))
    assert rows[0][:3] == ["timestamp", "evt_code", "evt_name"] and rows[1][1] == "1030"
    empty = await client.get(f"/location-audit/export?exam_id={scene['chemistry']}&format=log")
    assert empty.status_code == 200 and empty.text == ""
    wrong = await client.get(f"/location-audit/export?exam_id={physics}&format=xml")
    assert wrong.status_code == 303
    assert "Not exported" in (await client.get(wrong.headers["location"])).text
    assert (await client.get("/location-audit/export?format=log")).status_code == 303


async def test_who_reads_which_records(client: httpx.AsyncClient, scene: dict[str, int]) -> None:
    physics, chemistry = scene["physics"], scene["chemistry"]
    await sign_in(client, "sam")  # supporter of Physics: its records, not the profile changes
    page = await client.get("/location-audit")
    assert _codes(page.text) == ["1030"]
    assert f'<option value="{physics}"' in page.text and f'<option value="{chemistry}"' not in page.text
    assert (await client.get(f"/location-audit/export?exam_id={physics}&format=log")).status_code == 200
    assert (await client.get(f"/location-audit/export?exam_id={chemistry}&format=log")).status_code == 404
    await sign_in(client, "ia")  # writes locations: the profile changes, not the exams' records
    page = await client.get("/location-audit")
    assert _codes(page.text) == ["1011", "1010"]
    assert (await client.get(f"/location-audit/export?exam_id={physics}&format=log")).status_code == 403
    await sign_in(client, "ursula")  # another institution
    assert _codes((await client.get("/location-audit")).text) == []
    updated = scene["profile"]
    assert (await client.get(f"/location-profiles/{updated}")).status_code == 404
    assert (await client.get(f"/location-audit/export?exam_id={physics}&format=log")).status_code == 404
