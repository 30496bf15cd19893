"""screens.seen: what changed on my cases since I last looked, from the store alone (no Textual, no server)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from client.store import Store
from screens.seen import changes_since_seen, last_seen, mark_all_seen, mark_seen
from tests.client.test_store import case, event, summary, task

SEEN = "2026-11-21T09:30:00Z"  # when the user last looked, in these tests
LATER = "2026-11-21T11:00:00Z"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 21, 9, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now


def at(text: str) -> dict[str, str]:
    """Dated ``text``, written by a colleague (the factory's events are the user's own)."""
    return {"occurred_at": text, "author": "duty"}


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(tmp_path: Path, clock: Clock) -> Iterator[Store]:
    s = Store.open(tmp_path / "cache" / "server" / "worker.db", clock=clock)
    s.set_meta("me", "worker")
    s.put_case_summaries([summary(1, given="Amelia", family="Hughes"), summary(2, given="Noah", family="Price"),
                          summary(3, worker="someone_else")])
    s.put_case(case(1, given="Amelia", family="Hughes"), '"3"')
    s.put_case(case(2, given="Noah", family="Price"), '"3"')
    s.put_chronology(1, [event(101, 1, 280, summary_text="Referral from school"),
                         event(102, 1, 290, summary_text="Home visit")], replace=True)
    s.put_chronology(2, [event(201, 2, 285)], replace=True)
    s.put_tasks([task(11, 1, title="Statutory visit"), task(21, 2, title="Review")])
    yield s
    try:
        s.close()
    except sqlite3.ProgrammingError:
        pass


def test_cases_never_looked_at_are_listed_as_such_and_nothing_once_seen(store: Store) -> None:
    found = changes_since_seen(store, "worker")
    assert [(c.case_id, c.never_seen) for c in found] == [(1, True), (2, True)]  # case 3 is not mine
    assert found[0].describe() == "not opened on this device yet"
    mark_all_seen(store, [1, 2], SEEN)
    assert last_seen(store, 1) == SEEN
    assert changes_since_seen(store, "worker") == []


def test_a_new_event_after_looking_is_found_with_its_summary(store: Store, clock: Clock) -> None:
    mark_seen(store, 1, SEEN)
    mark_seen(store, 2, SEEN)
    clock.now += timedelta(hours=2)
    store.put_chronology(1, [{**event(103, 1, 0, "police_notification", summary_text="Police attended the home"),
                              **at("2026-11-21T10:15:00Z")},
                             {**event(104, 1, 0, summary_text="Phone call with the school"),
                              **at("2026-11-21T10:45:00Z")}], replace=False)
    found = changes_since_seen(store, "worker")
    assert [c.case_id for c in found] == [1]
    change = found[0]
    assert change.new_events == 2 and change.earlier_dated == 0
    assert change.newest_summary == "Phone call with the school"
    assert "2 new events (latest: Phone call with the school)" in change.describe()
    # looking again clears it
    mark_seen(store, 1, LATER)
    assert changes_since_seen(store, "worker") == []


def test_an_event_recorded_since_but_dated_earlier_still_counts(store: Store, clock: Clock) -> None:
    mark_all_seen(store, [1, 2], SEEN)
    clock.now += timedelta(hours=2)
    store.put_chronology(2, [{**event(202, 2, 0, "police_notification", summary_text="Police: incident last week"),
                              **at("2026-11-14T22:00:00Z")}], replace=False)
    found = changes_since_seen(store, "worker")
    assert [(c.case_id, c.new_events, c.earlier_dated) for c in found] == [(2, 1, 1)]
    assert found[0].describe() == "1 new event, dated before you looked"


def test_my_own_notes_are_not_news_to_me(store: Store, clock: Clock) -> None:
    clock.now = datetime(2026, 11, 21, 9, 30, tzinfo=timezone.utc)
    mark_all_seen(store, [1, 2], clock.now)
    # written the very second the case was shown, about yesterday
    store.add_note(2, "phone_call", "Called mum yesterday.", occurred_at="2026-11-20T16:00:00Z")
    clock.now += timedelta(hours=1)
    store.add_note(1, "home_visit", "Saw Amelia at home today.")
    assert changes_since_seen(store, "worker") == []
    # and once the server has them, with its own ids, still not
    store.mark_sent(store.unsent()[0].id, {"id": 900, "case_id": 2, "kind": "phone_call",
                                           "occurred_at": "2026-11-20T16:00:00Z", "body": "Called mum yesterday.",
                                           "author": "worker", "created_at": "2026-11-21T09:30:00Z",
                                           "amends": None})
    store.put_chronology(2, [{**event(202, 2, 0, "contact", summary_text="Called mum yesterday.", note_id=900),
                              "occurred_at": "2026-11-20T16:00:00Z"}], replace=False)
    assert changes_since_seen(store, "worker") == []


def test_new_and_changed_open_tasks_and_a_header_change(store: Store) -> None:
    mark_all_seen(store, [1, 2], SEEN)
    store.put_tasks([{**task(12, 1, title="Core group"), "updated_at": "2026-11-21T10:00:00Z"},
                     {**task(11, 1, title="Statutory visit", version=2, due="2026-11-23"),
                      "updated_at": "2026-11-21T10:05:00Z"},
                     {**task(13, 1, title="Done elsewhere", status="done"), "updated_at": "2026-11-21T10:06:00Z"}])
    store.put_case(case(2, given="Noah", family="Price", updated_at="2026-11-21T12:00:00Z"), '"4"')
    found = {c.case_id: c for c in changes_since_seen(store, "worker")}
    assert found[1].new_tasks == ("Core group",)
    assert found[1].changed_tasks == ("Statutory visit",)  # the done task is not an open one
    assert found[1].new_events == 0 and not found[1].header_changed
    assert found[2].header_changed and "case details updated" in found[2].describe()
    # newest change first
    assert [c.case_id for c in changes_since_seen(store, "worker")] == [2, 1]
