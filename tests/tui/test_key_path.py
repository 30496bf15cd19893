"""Nothing a key press does waits for the store's writer: the sync engine may be holding it for a big page."""

from __future__ import annotations

import threading
import time

from screens.case import CaseScreen
from screens.caseload import CaseList
from tests.tui.helpers import make_app, wait_until


async def test_a_case_opens_while_a_sync_write_holds_the_store(worker_store, offline_api) -> None:  # type: ignore[no-untyped-def]
    app = make_app(worker_store, offline_api, "worker")
    held, release = threading.Event(), threading.Event()

    def long_write() -> None:
        # what SyncEngine._put does with a 5,000-event chronology: a write in a thread, holding the store's lock
        with worker_store._write(False):  # noqa: SLF001
            held.set()
            release.wait(10)

    async with app.run_test(size=(120, 40)) as pilot:
        case_id = worker_store.caseload("worker")[app.screen.query_one(CaseList).cursor].id
        writer = threading.Thread(target=long_write)
        writer.start()
        assert held.wait(5)
        try:
            started = time.monotonic()
            await pilot.press("enter")
            await wait_until(pilot, lambda: isinstance(app.screen, CaseScreen) and app.screen.case_id == case_id,
                             timeout=5, what="the case screen")
            assert time.monotonic() - started < 2, "opening the case waited for the store's writer"
            assert not [v for v in worker_store.pending_views() if v.case_id == case_id]  # not yet: it waits
        finally:
            release.set()
            writer.join()
        # the view is recorded (for the server's audit trail) once the writer is free
        await wait_until(pilot, lambda: [v for v in worker_store.pending_views() if v.case_id == case_id],
                         what="the view to be recorded")
