"""The sync screen, driven by Pilot over a store filled directly: the outbox, conflicts, sync counts, what changed."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from textual.app import App
from textual.screen import Screen
from textual.widgets import Static

from client.outbox import BLOCKED, DROPPED, PENDING
from client.store import Store
from client.sync import Changed, Status
from screens.messages import OpenCase, OutboxChanged
from screens.seen import mark_all_seen, seen_key
from screens.sync_screen import ConflictList, ConflictSide, OutboxList, SeenList, SyncScreen
from tests.client.test_store import case, event, summary, task, user
from tests.tui.helpers import rows, text_of

SEEN = "2026-11-21T09:30:00Z"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 21, 9, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now


class _Blank(Screen[None]):
    pass


class SyncApp(App[None]):
    """The least App that shows the screen, and records what the screen asks of the App."""

    def __init__(self, store: Store) -> None:
        super().__init__()
        self.store = store
        self.opened: list[tuple[int, tuple[int, ...]]] = []
        self.outbox_changes = 0
        self.sync_screen = SyncScreen(store, "worker")

    def on_mount(self) -> None:
        self.install_screen(self.sync_screen, "sync")
        self.push_screen("sync")

    def on_open_case(self, message: OpenCase) -> None:
        self.opened.append((message.case_id, message.siblings))

    def on_outbox_changed(self, message: OutboxChanged) -> None:
        self.outbox_changes += 1


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(tmp_path: Path, clock: Clock) -> Iterator[Store]:
    s = Store.open(tmp_path / "cache" / "server" / "worker.db", clock=clock)
    s.set_meta("me", "worker")
    s.put_users([user(1, "worker", "Wendy Worker"), user(2, "sam", "Sam Patel")])
    s.put_case_summaries([summary(1, given="Amelia", family="Hughes"), summary(2, given="Noah", family="Price")])
    s.put_case(case(1, given="Amelia", family="Hughes"), '"3"')
    s.put_case(case(2, given="Noah", family="Price"), '"3"')
    s.put_chronology(1, [event(101, 1, 280, summary_text="Referral")], replace=True)
    s.put_chronology(2, [event(201, 2, 285)], replace=True)
    s.put_tasks([task(11, 1, title="Statutory visit"), task(12, 1, title="Core group"),
                 task(21, 2, title="Review")])
    mark_all_seen(s, [1, 2], SEEN)
    yield s
    try:
        s.close()
    except sqlite3.ProgrammingError:
        pass


def _conflict(store: Store) -> int:
    """I completed a task; meanwhile someone reassigned it to Sam and moved its date: the server says 412."""
    item = store.complete_task(11)
    theirs = {**task(11, 1, title="Statutory visit", assignee="sam", due="2026-11-30", version=2),
              "updated_at": "2026-11-21T08:55:00Z"}
    store.record_conflict(item.id, theirs)
    return item.id


async def test_the_outbox_lists_every_unsent_item_in_words_newest_last(store: Store) -> None:
    store.add_note(2, "home_visit", "Saw Noah at home.")
    store.snooze_task(21, "2026-12-01")
    store.reassign_task(12, "sam")
    failed = store.complete_task(11)
    store.mark_failed(failed.id, "the server did not answer (503)", "2026-11-21T09:05:00Z")
    app = SyncApp(store)
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause()
        screen = app.sync_screen
        shown = rows(screen.query_one(OutboxList))
        assert len(shown) == 4
        assert shown[0].startswith("Home visit note on Noah Price") and "pending" in shown[0]
        assert shown[1].startswith('Snooze "Review" to 1 Dec 2026') and "Noah Price" in shown[1]
        assert shown[2].startswith('Reassign "Core group" to Sam Patel')
        assert shown[3].startswith('Complete task "Statutory visit"') and "Amelia Hughes" in shown[3]
        assert "retrying" in shown[3] and "the server did not answer (503)" in shown[3] and "1 attempt" in shown[3]
        assert "next try" in shown[3]
        assert "4 unsent · 1 retrying" in text_of(screen.query_one("#sync-outbox-title", Static))
        # no conflicts: that part of the screen is hidden, and m, t, g do nothing to the outbox
        assert not screen.query_one(ConflictList).display or screen.query_one("#sync-conflicts-box").has_class("-none")
        await pilot.press("m", "t")
        assert len(store.unsent()) == 4
        # g is "first row" in the outbox, as everywhere else
        outbox = screen.query_one(OutboxList)
        assert outbox.has_focus
        await pilot.press("G")
        assert outbox.cursor == 3
        await pilot.press("g")
        assert outbox.cursor == 0
        # enter on an item opens its case
        await pilot.press("enter")
        await pilot.pause()
        assert app.opened == [(2, (2, 1))]


async def test_blocked_items_say_why(store: Store) -> None:
    store.add_note(2, "phone_call", "Called mum.")
    store.purge_case(2)
    assert store.unsent()[0].state == BLOCKED
    app = SyncApp(store)
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause()
        [row] = rows(app.sync_screen.query_one(OutboxList))
        assert "blocked" in row and "access revoked" in row and "cannot be sent" in row


async def test_a_conflict_shows_both_versions_and_waits_for_a_key(store: Store) -> None:
    item_id = _conflict(store)
    app = SyncApp(store)
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause()
        screen = app.sync_screen
        conflicts = screen.query_one(ConflictList)
        assert conflicts.has_focus and conflicts.count == 1
        [row] = rows(conflicts)
        assert 'Complete task "Statutory visit"' in row and "Amelia Hughes" in row and "mine: done" in row
        mine = text_of(screen.query_one("#sync-mine", ConflictSide))
        theirs = text_of(screen.query_one("#sync-theirs", ConflictSide))
        assert "Mine" in mine and "my change: done" in mine
        assert "Status:" in mine and "done" in mine and "Wendy Worker" in mine
        assert "Theirs" in theirs and "version 2" in theirs and "Sam Patel" in theirs and "30 Nov 2026" in theirs
        assert "◆" in theirs  # the fields that differ are marked
        [outbox_row] = rows(screen.query_one(OutboxList))
        assert "conflict" in outbox_row
        # moving about resolves nothing
        await pilot.press("j", "k", "o", "g", "m", "t", "c")
        assert len(store.conflicts()) == 1
        assert store.outbox_item(item_id).state == "conflict"
        assert app.outbox_changes == 0
        assert "1 conflict" in text_of(screen.query_one("#sync-title", Static))


@pytest.mark.parametrize(("key", "state", "body", "said"), [
    ("m", PENDING, {"assignee": "worker", "status": "done"}, "kept yours"),
    ("t", DROPPED, {"status": "done"}, "took the server's version"),
    ("b", PENDING, {"status": "done"}, "merged"),
])
async def test_each_choice_resolves_the_conflict(store: Store, key: str, state: str, body: dict[str, str],
                                                 said: str) -> None:
    item_id = _conflict(store)
    app = SyncApp(store)
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause()
        await pilot.press(key)
        await pilot.pause()
        assert store.conflicts() == []
        item = store.outbox_item(item_id)
        assert item is not None and item.state == state and dict(item.body) == body
        if state == PENDING:
            assert item.base_version == 2  # sent against the server's version now
        assert app.outbox_changes == 1
        messages = [str(n.message) for n in app._notifications]
        assert any(said in m for m in messages), messages
        screen = app.sync_screen
        assert screen.query_one("#sync-conflicts-box").has_class("-none")
        assert screen.query_one(OutboxList).has_focus
        assert len(rows(screen.query_one(OutboxList))) == (1 if state == PENDING else 0)


async def test_sync_events_update_the_last_sync_and_what_it_brought(store: Store) -> None:
    app = SyncApp(store)
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause()
        screen = app.sync_screen
        base = dict(online=True, pending=0, failed=0, conflicts=0, blocked=0)
        screen.sync_event(Status(**base, last_sync=None, syncing=True))
        screen.sync_event(Changed(cases=frozenset({1}), timelines=frozenset({1}), tasks=frozenset({11, 12})))
        screen.sync_event(Changed(tasks=frozenset({12, 21})))
        screen.sync_event(Status(**base, last_sync="2026-11-21T09:10:00Z", syncing=False))
        screen.sync_event(Status(**base, last_sync="2026-11-21T09:10:00Z", syncing=True))
        screen.sync_event(Status(**{**base, "online": False}, last_sync="2026-11-21T09:10:00Z", syncing=False))
        await pilot.pause()
        assert [r.describe() for r in screen.history] == ["1 case, 3 tasks, 1 timeline"]
        header = text_of(screen.query_one("#sync-title", Static))
        assert "offline" in header and "last sync" in header
        assert "1 case, 3 tasks, 1 timeline" in text_of(screen.query_one("#sync-brought", Static))
        screen.sync_event(Status(**base, last_sync="2026-11-21T09:20:00Z", syncing=False))
        await pilot.pause()
        assert [r.describe() for r in screen.history] == ["nothing new", "1 case, 3 tasks, 1 timeline"]
        # quiet passes do not push the last useful ones out: only the latest is kept
        screen.sync_event(Status(**base, last_sync="2026-11-21T09:30:00Z", syncing=False))
        assert [(r.at, r.describe()) for r in screen.history] == [
            ("2026-11-21T09:30:00Z", "nothing new"), ("2026-11-21T09:10:00Z", "1 case, 3 tasks, 1 timeline")]
        assert "● online" in text_of(screen.query_one("#sync-title", Static))


async def test_what_changed_lists_my_cases_and_enter_opens_one_and_marks_it_seen(store: Store,
                                                                                 clock: Clock) -> None:
    app = SyncApp(store)
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause()
        screen = app.sync_screen
        assert screen.query_one(SeenList).count == 0
        # a colleague records a visit after I last looked; the next sync brings it
        clock.now += timedelta(hours=2)
        store.put_chronology(1, [{**event(102, 1, 0, summary_text="Visit by the duty worker"),
                                  "occurred_at": "2026-11-21T10:30:00Z", "author": "duty"}], replace=False)
        screen.sync_event(Changed(timelines=frozenset({1})))
        await pilot.pause(0.4)  # the re-read is debounced
        seen = screen.query_one(SeenList)
        assert seen.count == 1
        [row] = rows(seen)
        assert row.startswith("Amelia Hughes") and "1 new event (latest: Visit by the duty worker)" in row
        await pilot.press("w")
        assert seen.has_focus
        await pilot.press("enter")
        await pilot.pause()
        assert app.opened == [(1, (1,))]
        assert store.get_meta(seen_key(1)) != SEEN
        # shown again: nothing left to see
        app.push_screen(_Blank())
        await pilot.pause()
        app.pop_screen()
        await pilot.pause()
        assert seen.count == 0


async def test_mark_all_seen(store: Store) -> None:
    store.put_case_summaries([summary(5, given="Ivy", family="Shah")])
    app = SyncApp(store)
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause()
        seen = app.sync_screen.query_one(SeenList)
        assert seen.count == 1 and "not opened on this device yet" in rows(seen)[0]
        await pilot.press("a")
        await pilot.pause()
        assert seen.count == 0 and store.get_meta(seen_key(5)) is not None


async def test_it_fits_a_small_terminal(store: Store) -> None:
    _conflict(store)
    store.add_note(2, "home_visit", "Saw Noah at home.")
    app = SyncApp(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        screen = app.sync_screen
        for widget in (screen.query_one(ConflictList), screen.query_one(OutboxList), screen.query_one(SeenList)):
            assert widget.region.height >= 1, widget
        assert screen.query_one("#sync-theirs", ConflictSide).region.width >= 30


def test_sync_events_before_the_screen_is_first_shown_are_kept(store: Store) -> None:
    screen = SyncScreen(store, "worker")  # installed, not yet mounted: the App forwards events all the same
    base = dict(online=True, pending=1, failed=0, conflicts=0, blocked=0)
    screen.sync_event(Status(**base, last_sync=None, syncing=True))
    screen.sync_event(Changed(tasks=frozenset({11})))
    screen.sync_event(Status(**base, last_sync="2026-11-21T09:10:00Z", syncing=False))
    assert screen.online and screen.last_sync == "2026-11-21T09:10:00Z"
    assert [r.describe() for r in screen.history] == ["1 task"]
