"""In a real browser: the SEB client logs list opens an event's details as a dialog (double click, or select and
"Show Details"), downloads the CSV and deletes the filtered events after confirming."""

from __future__ import annotations

from pathlib import Path

import pytest

from sebframe.core.db import Database
from sebframe.core.db.models import ClientConnection, ClientEvent, Exam
from tests.client_log_helpers import minute
from tests.e2e.conftest import LiveServer, add_exam_admin, seed, sign_in_page

pytestmark = pytest.mark.browser


async def _seed(database_url: str) -> None:
    db = Database(database_url)
    try:
        async with db.transaction() as session:
            institution = await add_exam_admin(session)
            exam = Exam(institution_id=institution.id, external_id="quiz-1", name="Physics", status="RUNNING")
            session.add(exam)
            await session.flush()
            # Closed: the running server's supervision would add "Missing Client Ping" events to an active one.
            connection = ClientConnection(connection_token="browser-token", institution_id=institution.id,
                                          exam_id=exam.id, status="CLOSED", client_address="10.1.2.3",
                                          user_session_id="alice", created_ms=minute(0), changed_ms=minute(0))
            session.add(connection)
            await session.flush()
            for index, (event_type, text) in enumerate([("INFO_LOG", "<battery> High at 87%"),
                                                        ("ERROR_LOG", "Browser crashed"),
                                                        ("WARN_LOG", "IP address changed")]):
                session.add(ClientEvent(connection_id=connection.id, exam_id=exam.id, event_type=event_type,
                                        client_time_ms=minute(index), server_time_ms=minute(index), text=text,
                                        numeric_value=87 if index == 0 else None))
    finally:
        await db.dispose()


def test_details_dialog_export_and_delete(  # type: ignore[no-untyped-def]
    live_server: LiveServer, browser_page, tmp_path: Path
) -> None:
    seed(_seed(live_server.settings.resolved_database_url))
    page = browser_page
    sign_in_page(page, live_server.url, "erika")
    page.locator("nav.menu").get_by_text("SEB Client Logs").click()
    page.wait_for_url("**/client-logs")
    page.fill("input[name=from]", "")
    page.click("form#list-filter button[type=submit]")
    page.wait_for_selector("td:has-text('Browser crashed')")

    page.locator("tr", has_text="Browser crashed").dblclick()
    dialog = page.locator("dialog#client-log-dialog")
    dialog.wait_for(state="visible")
    assert "10.1.2.3" in dialog.inner_text() and "Error Log" in dialog.inner_text()
    dialog.get_by_role("button", name="Close").click()
    dialog.wait_for(state="detached")

    page.locator("tr", has_text="High at 87%").click()
    page.get_by_role("link", name="Show Details").click()
    page.locator("dialog#client-log-dialog").wait_for(state="visible")
    assert "&lt;" not in page.locator("dialog#client-log-dialog").inner_text()
    assert "<battery> High at 87%" in page.locator("dialog#client-log-dialog").inner_text()
    page.keyboard.press("Escape")
    page.locator("dialog#client-log-dialog").wait_for(state="detached")

    with page.expect_download() as download:
        page.get_by_role("link", name="Export CSV").click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert saved.name.startswith("seb-client-logs-") and "Browser crashed" in saved.read_text("utf-8-sig")

    page.select_option("select[name=event_type]", "ERROR_LOG")
    page.wait_for_url("**event_type=ERROR_LOG**")
    page.get_by_role("link", name="Delete Logs").click()
    page.wait_for_url("**/client-logs/delete?**")
    assert "Delete 1 SEB client log event?" in page.locator("p.delete-count").inner_text()
    page.get_by_role("button", name="Delete 1 Log Event").click()
    page.wait_for_selector("text=Deleted 1 SEB client log event.")
    page.goto(live_server.url + "/client-logs?from=")
    assert page.locator("td:has-text('Browser crashed')").count() == 0
    assert page.locator("td:has-text('IP address changed')").count() == 1
