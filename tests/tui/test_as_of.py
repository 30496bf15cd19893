"""The case header's "as of": when the server says the copy held is current, the header on screen says so."""

from __future__ import annotations

import datetime as dt
import sqlite3

from client.sync import SyncEngine
from screens import format
from screens.case import CaseScreen
from screens.messages import OpenCase
from screens.widgets.text_lines import TextLines
from tests.tui.helpers import fast_settings, make_app, text_of, wait_until


async def test_a_case_confirmed_current_shows_its_new_as_of(worker_store, live_api, engines) -> None:  # type: ignore[no-untyped-def]
    case_id = worker_store.caseload("worker")[0].id
    hours_ago = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
    with sqlite3.connect(worker_store.path) as conn:  # fetched three hours ago: stale, and a different "as of"
        conn.execute("UPDATE fetched SET as_of = ? WHERE id = ?", (hours_ago, case_id))
    conn.close()
    api = await live_api("worker")
    # not the App's own engine: nothing is fetched until this test asks, so the old "as of" is seen first
    engine = SyncEngine(api, worker_store, username="worker", settings=fast_settings())
    engines.append(engine)
    app = make_app(worker_store, api, "worker")
    async with app.run_test(size=(160, 50)) as pilot:
        engine.subscribe(app.handle_sync_event)
        app.post_message(OpenCase(case_id, [case_id]))
        await wait_until(pilot, lambda: isinstance(app.screen, CaseScreen) and app.screen.case_id == case_id,
                         what="the case screen")
        header = app.screen.query_one("#case-header", TextLines)
        assert format.as_of(hours_ago) in text_of(header)

        changed = await engine.prefetch_neighbours([case_id])
        assert changed.confirmed == {case_id} and not changed.cases  # the server's 304: nothing new
        now = format.as_of(worker_store.case(case_id).as_of)
        assert now != format.as_of(hours_ago)
        await wait_until(pilot, lambda: now in text_of(header), what='the header\'s new "as of"')
        assert format.as_of(hours_ago) not in text_of(header)
