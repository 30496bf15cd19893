"""The work tray: select, complete, snooze, reassign and undo by keyboard, over a store filled directly."""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rich.text import Text
from textual import events
from textual.app import App
from textual.color import Color
from textual.pilot import Pilot
from textual.widgets import Input, Static

from client.models import User
from client.store import Store
from screens.messages import OpenCase, OutboxChanged
from screens.reassign import ReassignScreen, candidates, fuzzy_score, match_users
from screens.tasks import TasksScreen, TaskTray, TrayHeading
from tests.tui.helpers import terminal_output, watch_layouts

TODAY = dt.date.today()
KINDS = ("statutory_visit", "review", "assessment", "core_group", "health_assessment")


def day(offset: int) -> str:
    return (TODAY + dt.timedelta(days=offset)).isoformat()


def task(tid: int, cid: int, *, due: int = 3, assignee: str = "worker", status: str = "open",
         priority: str = "normal", kind: str = "statutory_visit", title: str | None = None) -> dict[str, Any]:
    return {"id": tid, "case_id": cid, "title": title or f"Task {tid}", "kind": kind, "due_on": day(due),
            "assignee": assignee, "status": status, "snoozed_until": None, "priority": priority,
            "completed_at": None, "version": 1, "updated_at": "2026-11-20T08:00:00Z"}


def summary(cid: int, given: str, family: str) -> dict[str, Any]:
    return {"id": cid, "person_id": cid + 1000, "given_name": given, "family_name": family, "dob": "2014-03-12",
            "status": "open", "category": "cin", "allocated_worker": "worker", "team": "North", "flags": [],
            "placement_type": None, "missing_since": None, "next_task_due": None, "overdue_tasks": 0,
            "last_visit_at": None, "restricted": False, "version": 1, "updated_at": "2026-11-20T08:00:00Z"}


def user(uid: int, username: str, display: str, *, role: str = "practitioner", team: str = "North",
         active: bool = True) -> dict[str, Any]:
    return {"id": uid, "username": username, "display_name": display, "role": role, "team": team,
            "active": active, "version": 1}


USERS = [user(1, "worker", "Wendy Worker"), user(2, "amy", "Amy Adeyemi"), user(3, "bob", "Bob Okafor", team="South"),
         user(4, "admin", "Ada Admin", role="admin"), user(5, "gone", "Amy Gone", active=False),
         user(6, "manager", "Mani Ager", role="manager")]
NAMES = [("Amelia", "Hughes"), ("Bilal", "Khan"), ("Chloe", "Davies"), ("Dylan", "Evans"), ("Erin", "Okoro")]


def fill(store: Store, count: int) -> None:
    """``count`` tasks of mine over 5 cases (due from 20 days ago to 39 days ahead), and a few that are not."""
    store.put_case_summaries([summary(c, *NAMES[c - 1]) for c in range(1, 6)])
    store.put_tasks([task(i, 1 + i % 5, due=i % 60 - 20, kind=KINDS[i % len(KINDS)],
                          priority=("high", "normal", "low")[i % 3]) for i in range(1, count + 1)])
    store.put_tasks([task(90_001, 1, assignee="amy", due=-5), task(90_002, 2, status="done", due=-5)])
    store.put_users(USERS)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store.open(tmp_path / "cache" / "localhost_8000" / "worker.db")
    s.set_meta("me", "worker")
    yield s
    s.close()


class _App(App[None]):
    def __init__(self, store: Store) -> None:
        super().__init__()
        self.store = store
        self.outbox_changes = 0
        self.opened: list[OpenCase] = []

    def on_mount(self) -> None:
        self.push_screen(TasksScreen(self.store, "worker"))

    def on_outbox_changed(self, message: OutboxChanged) -> None:
        self.outbox_changes += 1

    def on_open_case(self, message: OpenCase) -> None:
        self.opened.append(message)


async def press(pilot: Pilot[None], *keys: str) -> None:
    """``pilot.press``, then the tray's commit in flight (a complete runs in a thread) landed and handled."""
    await pilot.press(*keys)
    for screen in pilot.app.screen_stack:
        if isinstance(screen, TasksScreen):
            screen.flush()


def tray(app: App[None]) -> tuple[TasksScreen, TaskTray]:
    screen = app.screen
    assert isinstance(screen, TasksScreen)
    return screen, screen.query_one(TaskTray)


def row(lines: TaskTray, index: int, width: int = 160) -> str:
    assert lines._renderer is not None
    return "".join(s.text for s in lines._renderer(index, width, lines.style_for)).rstrip()


def title(screen: TasksScreen) -> str:
    """The title's line (the snooze prompt while that is open), without the blanks around it."""
    content = screen.query_one("#tasks-title", Static).content
    return (content.plain if isinstance(content, Text) else str(content)).strip()


def heading_style(screen: TasksScreen, text: str) -> object:
    """The style the title line draws ``text`` in (the span that holds it)."""
    content = screen.query_one("#tasks-title", Static).content
    assert isinstance(content, Text)
    at = content.plain.index(text)
    return next(span.style for span in content.spans if span.start <= at < span.end)


def shown_ids(screen: TasksScreen) -> list[int]:
    return [t.id for t in screen._shown]


def notes(app: App[None]) -> list[str]:
    """What the tray said on its own line, and any notifications."""
    said = [str(app.screen.query_one("#tasks-said", Static).render())] if app.screen.query("#tasks-said") else []
    return said + [n.message for n in app._notifications]


# --- the tray ---------------------------------------------------------------------------------------------------


async def test_the_tray_lists_my_tasks_across_cases_with_counts(store: Store) -> None:
    fill(store, 5000)
    app = _App(store)
    async with app.run_test(size=(160, 50)):
        screen, lines = tray(app)
        assert lines.count == 5000 and lines.has_focus
        mine = store.tasks(assignee="worker", status=("open", "snoozed"))
        assert shown_ids(screen) == [t.id for t in mine]  # due date first: the store's order
        assert 90_001 not in shown_ids(screen) and 90_002 not in shown_ids(screen)
        overdue = sum(1 for t in mine if t.due_on < TODAY.isoformat())
        due_today = sum(1 for t in mine if t.due_on == TODAY.isoformat())
        assert screen.counts == (5000, overdue, due_today)
        assert f"5000 open · {overdue} overdue · {due_today} due today" in title(screen)
        first = screen._shown[0]
        text = row(lines, 0)
        assert "overdue 20d" in text and first.title in text and f"#{first.case_id}" in text
        assert " ".join(NAMES[first.case_id - 1]) in text
        today_row = next(n for n, t in enumerate(screen._shown) if t.due_on == TODAY.isoformat())
        assert "today" in row(lines, today_row)
        later = next(n for n, t in enumerate(screen._shown) if t.due_on == day(5))
        assert "in 5d" in row(lines, later)
        # overdue is drawn in the theme's error colour, through a component class
        segments = lines._renderer(0, 160, lines.style_for)
        due_segment = next(s for s in segments if "overdue" in s.text)
        assert due_segment.style is not None and due_segment.style.color is not None
        assert due_segment.style.color.triplet is not None
        error = Color.parse(str(app.current_theme.error)).rgb
        assert all(abs(a - b) <= 2 for a, b in zip(due_segment.style.color.triplet, error))  # within rounding


async def test_space_selects_and_moves_down_and_x_completes_the_selection(store: Store) -> None:
    fill(store, 40)
    app = _App(store)
    async with app.run_test(size=(120, 30)) as pilot:
        screen, lines = tray(app)
        picked = shown_ids(screen)[:3]
        await press(pilot, "space", "space", "space")
        assert lines.cursor == 3 and screen._selected == set(picked)
        assert row(lines, 0).startswith("●") and not row(lines, 3).startswith("●")
        assert "3 selected" in title(screen)
        await press(pilot, "k", "space")  # unselect the third again
        assert screen._selected == set(picked[:2]) and lines.cursor == 3
        assert "2 selected" in title(screen)
        await press(pilot, "k", "space")
        assert screen._selected == set(picked)
        lines.move_to(10)
        under_cursor = shown_ids(screen)[10]
        await press(pilot, "x")
        items = store.pending()
        assert sorted(i.task_id for i in items) == sorted(picked)
        assert {i.op for i in items} == {"complete"}
        assert not set(picked) & set(shown_ids(screen)) and lines.count == 37
        assert shown_ids(screen)[lines.cursor] == under_cursor  # the cursor stays on its task
        assert not screen._selected and app.outbox_changes == 1
        assert "Done: 3 tasks. u undoes." in notes(app)


async def test_x_with_nothing_selected_completes_the_task_under_the_cursor(store: Store) -> None:
    fill(store, 20)
    app = _App(store)
    async with app.run_test(size=(120, 30)) as pilot:
        screen, lines = tray(app)
        await press(pilot, "j", "j")
        ids = shown_ids(screen)
        await press(pilot, "x")
        [item] = store.pending()
        assert item.task_id == ids[2] and item.body == {"status": "done"}
        assert ids[2] not in shown_ids(screen)
        assert lines.cursor == 2 and shown_ids(screen)[2] == ids[3]  # the next task takes its place
        await press(pilot, "G", "x")
        assert shown_ids(screen)[lines.cursor] == ids[-2]  # the last one went: the one before it


async def test_scroll_is_kept_when_rows_leave(store: Store) -> None:
    fill(store, 300)
    app = _App(store)
    async with app.run_test(size=(120, 30)) as pilot:
        screen, lines = tray(app)
        lines.move_to(150)
        await pilot.pause()
        top = lines.scroll_offset.y
        assert top > 100
        ids = shown_ids(screen)
        screen._selected = set(ids[:5])  # all above the view
        await press(pilot, "x")
        await pilot.pause()
        assert lines.scroll_offset.y == top
        assert shown_ids(screen)[lines.cursor] == ids[150]


async def test_snooze_to_a_typed_date(store: Store) -> None:
    fill(store, 20)
    app = _App(store)
    async with app.run_test(size=(120, 30)) as pilot:
        screen, lines = tray(app)
        ids = shown_ids(screen)
        await press(pilot, "space", "space", "s")
        assert screen._prompt_open and lines.has_focus  # the tray keeps the focus: the prompt is its title line
        assert title(screen).startswith("Snooze 2 tasks until")
        await press(pilot, "2", "d")
        assert "(in 2d)" in title(screen)
        await press(pilot, "enter")
        until = day(2)
        items = store.pending()
        assert [(i.task_id, i.body) for i in items] == [
            (ids[0], {"status": "snoozed", "snoozed_until": until}),
            (ids[1], {"status": "snoozed", "snoozed_until": until})]
        assert not screen._prompt_open and lines.has_focus
        snoozed = [n for n, t in enumerate(screen._shown) if t.status == "snoozed"]
        assert len(snoozed) == 2 and all("snoozed" in row(lines, n) for n in snoozed)
        assert screen.counts[0] == 18 and "2 snoozed" in title(screen)
        assert app.outbox_changes == 1
        assert any(n.startswith("Snoozed 2 tasks to ") for n in notes(app))


@pytest.mark.parametrize(("typed", "reason"), [
    ("soon", "not a date I know"),
    ("31/2/2030", "there is no 31 February 2030"),
    ("0d", "that is today"),
    ("", "type a date"),
])
async def test_a_bad_snooze_date_shows_the_reason_and_changes_nothing(store: Store, typed: str,
                                                                      reason: str) -> None:
    fill(store, 10)
    app = _App(store)
    async with app.run_test(size=(120, 30)) as pilot:
        screen, lines = tray(app)
        before = shown_ids(screen)
        await press(pilot, "s", *typed, "enter")
        assert reason in title(screen) and screen._prompt_open
        heading = screen.query_one(TrayHeading)
        assert heading_style(screen, reason) == heading.style_for("tray-heading--error")
        assert store.pending() == [] and shown_ids(screen) == before and app.outbox_changes == 0
        await press(pilot, "escape")  # closes the prompt, and does not leave the screen
        assert app.screen is screen and not screen._prompt_open
        assert lines.has_focus and store.pending() == []
        assert title(screen).startswith("My tasks · 10 open")


async def test_the_snooze_prompt_has_the_keys_while_it_is_open(store: Store) -> None:
    fill(store, 20)
    app = _App(store)
    async with app.run_test(size=(120, 30)) as pilot:
        screen, lines = tray(app)
        ids = shown_ids(screen)
        await press(pilot, "j", "s")
        # the tray's and the screen's keys are typed, not acted on
        await press(pilot, "x", "u", "j", "space", "down", "ctrl+x")
        assert screen._when is not None and screen._when.text == "xuj "
        assert lines.cursor == 1 and not screen._selected and store.pending() == []
        assert "Snooze this task until  xuj " in title(screen)
        for _ in range(4):
            await press(pilot, "backspace")
        app.post_message(events.Paste("1w\nand more"))  # the first line of a paste
        await pilot.pause()
        assert screen._when.text == "1w" and "(in 7d)" in title(screen)
        await press(pilot, "enter")
        [item] = store.pending()
        assert item.task_id == ids[1] and item.body == {"status": "snoozed", "snoozed_until": day(7)}
        assert title(screen).startswith("My tasks · 19 open") and lines.has_focus


async def test_the_snooze_prompt_and_the_tray_keys_lay_out_nothing(store: Store) -> None:
    """The prompt is the title's line and feedback has a line of its own: after a key, only changed lines are
    repainted; a layout would repaint every widget on the screen."""
    fill(store, 300)
    app = _App(store)
    async with app.run_test(size=(120, 30)) as pilot:
        screen, lines = tray(app)
        await pilot.pause()
        layouts = watch_layouts(screen)
        for keys in (["s"], ["2", "d"], ["enter"], ["u"], ["s", "escape"], ["x"], ["u"], ["space", "space", "x"],
                     ["u"]):
            await press(pilot, *keys)
            await pilot.pause()
        assert store.pending() == [] and not screen._prompt_open
        assert True not in layouts


@pytest.mark.parametrize("keys", [
    ["x"], ["u"], ["j", "x"], ["space", "space", "space", "x"], ["s", "2", "d", "enter"], ["G", "x"],
])
async def test_after_a_change_the_screen_shows_what_a_full_redraw_would(store: Store, keys: list[str]) -> None:
    """Only the rows from the first one a change touched are redrawn, and the scrollbar only where its
    thumb moved: what is on the screen must be what redrawing everything gives."""
    fill(store, 300)
    app = _App(store)
    async with app.run_test(size=(120, 30)) as pilot:
        screen, lines = tray(app)
        lines.move_to(120)
        await pilot.pause()
        for key in keys:
            await press(pilot, key)
            await pilot.pause()
            shown = terminal_output(app)
            lines.refresh()
            lines.vertical_scrollbar.refresh()
            await pilot.pause()
            assert terminal_output(app) == shown, key
        assert lines.vertical_scrollbar.window_virtual_size == lines.count


async def test_the_scrollbar_goes_and_comes_back_with_the_rows(store: Store) -> None:
    fill(store, 30)
    app = _App(store)
    async with app.run_test(size=(120, 30)) as pilot:
        screen, lines = tray(app)
        await pilot.pause()
        assert lines.show_vertical_scrollbar
        for keys, shown in ((["space"] * 10 + ["x"], False), (["u"], True)):
            await press(pilot, *keys)
            await pilot.pause()
            assert lines.show_vertical_scrollbar is shown
            frame = terminal_output(app)
            lines.refresh()
            lines.vertical_scrollbar.refresh()
            await pilot.pause()
            assert terminal_output(app) == frame
        assert lines.vertical_scrollbar.window_virtual_size == lines.count == 30


async def test_reassign_to_a_colleague_chosen_by_fuzzy_name(store: Store) -> None:
    fill(store, 20)
    app = _App(store)
    async with app.run_test(size=(120, 30)) as pilot:
        screen, lines = tray(app)
        ids = shown_ids(screen)
        await press(pilot, "space", "space", "a")
        modal = app.screen
        assert isinstance(modal, ReassignScreen)
        offered = {u.username for u in modal._shown}
        assert offered == {"amy", "bob", "manager"}  # not me, not an admin, not an inactive account
        await press(pilot, "a", "d", "y")  # "Amy ADeYemi"
        assert [u.username for u in modal._shown] == ["amy"]
        await press(pilot, "enter")
        assert app.screen is screen
        items = store.pending()
        assert [(i.op, i.task_id, dict(i.body)) for i in items] == [
            ("reassign", ids[0], {"assignee": "amy"}), ("reassign", ids[1], {"assignee": "amy"})]
        assert ids[0] not in shown_ids(screen) and ids[1] not in shown_ids(screen)
        assert "Reassigned 2 tasks to Amy Adeyemi. u undoes." in notes(app)
        # escape cancels and changes nothing
        await press(pilot, "a", "b", "escape")
        assert app.screen is screen and len(store.pending()) == 2


async def test_undo_takes_back_a_bulk_of_20_as_a_whole(store: Store) -> None:
    fill(store, 60)
    app = _App(store)
    async with app.run_test(size=(120, 30)) as pilot:
        screen, lines = tray(app)
        everything = shown_ids(screen)
        await press(pilot, "x")  # one task on its own first
        await press(pilot, *["space"] * 20)
        twenty = set(shown_ids(screen)[:20])
        await press(pilot, "x")
        assert lines.count == 39 and len(store.pending()) == 21
        await press(pilot, "u")
        assert lines.count == 59 and len(store.pending()) == 1
        assert set(shown_ids(screen)) == set(everything) - {everything[0]}
        assert shown_ids(screen)[lines.cursor] in twenty  # the cursor is on what came back
        assert "Undone: 20 tasks back as they were." in notes(app)
        await press(pilot, "u")
        assert shown_ids(screen) == everything and store.pending() == []
        await press(pilot, "u")
        assert "Nothing to undo." in notes(app)
        assert app.outbox_changes == 4


async def test_undo_brings_back_snoozed_and_reassigned_tasks(store: Store) -> None:
    fill(store, 10)
    app = _App(store)
    async with app.run_test(size=(120, 30)) as pilot:
        screen, lines = tray(app)
        everything = shown_ids(screen)
        await press(pilot, "space", "space", "a", "b", "o", "b", "enter")
        assert lines.count == 8
        await press(pilot, "s", "1", "w", "enter")
        assert screen._shown[lines.cursor].status == "snoozed"
        await press(pilot, "u")
        assert all(t.status == "open" for t in screen._shown)
        await press(pilot, "u")
        assert shown_ids(screen) == everything and store.pending() == []


async def test_select_all_shown_and_back(store: Store) -> None:
    fill(store, 50)
    app = _App(store)
    async with app.run_test(size=(120, 30)) as pilot:
        screen, lines = tray(app)
        await press(pilot, "slash", *"chloe", "enter", "A")
        assert screen._selected == {t.id for t in screen._shown} and len(screen._selected) == 10
        await press(pilot, "ctrl+x")
        assert "10 selected" in title(screen) and lines.count == 50
        await press(pilot, "slash", *"dylan", "enter")
        assert "10 selected (10 not shown)" in title(screen)  # what a bulk action will touch is always said
        await press(pilot, "ctrl+x", "A")
        assert len(screen._selected) == 50
        await press(pilot, "A")
        assert screen._selected == set()


async def test_a_snoozed_task_says_until_when(store: Store) -> None:
    fill(store, 5)
    app = _App(store)
    async with app.run_test(size=(120, 30)) as pilot:
        screen, lines = tray(app)
        first = shown_ids(screen)[0]
        await press(pilot, "s", *"2030-01-02", "enter")
        at = shown_ids(screen).index(first)
        assert "snoozed 2 Jan 2030" in row(lines, at)
        assert screen.counts[0] == 4  # a snoozed task is not open work today


# --- sorting and filtering ---------------------------------------------------------------------------------------


async def test_filter_as_you_type_over_title_kind_and_child(store: Store) -> None:
    fill(store, 50)
    app = _App(store)
    async with app.run_test(size=(120, 30)) as pilot:
        screen, lines = tray(app)
        await press(pilot, "slash")
        box = screen.query_one("#tasks-filter", Input)
        assert box.has_focus and box.display
        await press(pilot, *"khan")  # a child's name; the letters are not taken as commands
        assert lines.count == 10 and all(t.case_id == 2 for t in screen._shown)
        assert store.pending() == [] and "showing 10" in title(screen)
        await press(pilot, "space", *"review")  # and a kind, with a space in it
        assert lines.count == 10 and all(t.kind == "review" for t in screen._shown)  # Khan's tasks are all reviews
        await press(pilot, *["backspace"] * 11, *"Task 7")
        assert {t.id for t in screen._shown} == {7, 17, 27, 37, 47}
        await press(pilot, "enter")
        assert lines.has_focus and box.display
        await press(pilot, "ctrl+x")
        assert lines.count == 50 and not box.display and box.value == ""


async def test_escape_leaves_the_filter_box_and_keeps_the_filter(store: Store) -> None:
    fill(store, 50)
    app = _App(store)
    async with app.run_test(size=(120, 30)) as pilot:
        screen, lines = tray(app)
        await press(pilot, "slash", *"erin", "escape")
        assert lines.has_focus and lines.count == 10 and app.screen is screen
        await press(pilot, "x")  # keys work on the list again
        assert len(store.pending()) == 1 and lines.count == 9


async def test_sort_key_cycles_due_priority_case(store: Store) -> None:
    fill(store, 60)
    app = _App(store)
    async with app.run_test(size=(120, 30)) as pilot:
        screen, lines = tray(app)
        assert "by due date" in title(screen)
        lines.move_to(17)
        keep = shown_ids(screen)[17]
        await press(pilot, "o")
        assert shown_ids(screen) == [t.id for t in store.tasks(assignee="worker", sort="priority")]
        assert "by priority" in title(screen) and shown_ids(screen)[lines.cursor] == keep
        await press(pilot, "o")
        assert shown_ids(screen) == [t.id for t in store.tasks(assignee="worker", sort="case")]
        assert "by case" in title(screen)
        await press(pilot, "o")
        assert "by due date" in title(screen)


async def test_a_changed_task_goes_back_where_the_sort_puts_it(store: Store) -> None:
    fill(store, 60)
    app = _App(store)
    async with app.run_test(size=(120, 30)) as pilot:
        screen, lines = tray(app)
        for sort in ("priority", "case", "due"):
            await press(pilot, "o")
            assert screen._sort == sort
            await press(pilot, *["space"] * 7, "j", "j", "space", "s", "3", "d", "enter", "u", "x", "u")
            assert shown_ids(screen) == [t.id for t in store.tasks(assignee="worker", status=("open", "snoozed"),
                                                                   sort=sort)]


def _as_reread(screen: TasksScreen) -> tuple[object, ...]:
    """The tray's rows, index, shown rows and counts; compared with what ``reload`` (a full re-read) makes."""
    return ([t.id for t in screen._all], {i: t.id for i, t in screen._by_id.items()}, shown_ids(screen),
            screen.counts)


@pytest.mark.parametrize("size", [400, 60])  # 4 of 400 are each searched for; 4 of 60, a pass over the rows
@pytest.mark.parametrize("filtered", [False, True])
async def test_a_bulk_change_spliced_in_is_what_a_full_reread_shows(store: Store, size: int,
                                                                     filtered: bool) -> None:
    fill(store, size)
    app = _App(store)
    async with app.run_test(size=(120, 30)) as pilot:
        screen, lines = tray(app)
        if filtered:
            await press(pilot, "slash", *"chloe", "enter")
        lines.move_to(5)
        for keys in (["space"] * 4 + ["x"], ["u"], ["space"] * 4 + ["s", "3", "d", "enter"], ["k", "x"], ["u"],
                     ["u"], ["A", "x"], ["u"]):
            before, held = _as_reread(screen), dict(screen._by_id)
            await press(pilot, *keys)
            spliced = _as_reread(screen)
            if keys == ["u"]:  # the cursor goes to the first row of what came back
                back = [n for n, t in enumerate(screen._shown) if held.get(t.id) != t]
                assert back and lines.cursor == back[0], keys
            screen.reload()
            assert spliced == _as_reread(screen), keys
            assert spliced != before, keys  # each step changed something
        assert shown_ids(screen) == [t.id for t in store.tasks(assignee="worker", status=("open", "snoozed"))
                                     if not filtered or t.case_id == 3]


async def test_kind_and_overdue_keys(store: Store) -> None:
    fill(store, 60)
    app = _App(store)
    async with app.run_test(size=(120, 30)) as pilot:
        screen, lines = tray(app)
        kinds = sorted(KINDS)
        await press(pilot, "f")
        assert {t.kind for t in screen._shown} == {kinds[0]} and f"kind: {kinds[0].replace('_', ' ')}" in title(screen)
        await press(pilot, "f")
        assert {t.kind for t in screen._shown} == {kinds[1]}
        await press(pilot, *["f"] * (len(kinds) - 1))
        assert lines.count == 60 and "kind:" not in title(screen)
        await press(pilot, "d")
        assert lines.count == screen.counts[1] == 20
        assert all(t.due_on < TODAY.isoformat() for t in screen._shown) and "overdue only" in title(screen)
        await press(pilot, "f")
        assert all(t.kind == kinds[0] and t.due_on < TODAY.isoformat() for t in screen._shown)
        await press(pilot, "ctrl+x")
        assert lines.count == 60


# --- the App's hooks -----------------------------------------------------------------------------------------------


async def test_records_changed_keeps_the_cursor_on_the_same_task(store: Store) -> None:
    fill(store, 30)
    app = _App(store)
    async with app.run_test(size=(120, 30)) as pilot:
        screen, lines = tray(app)
        lines.move_to(12)
        keep = shown_ids(screen)[12]
        # a sync brings two earlier tasks, and a name for a case we did not know
        store.put_tasks([task(500, 9, due=-30), task(501, 9, due=-29)])
        store.put_case_summaries([summary(9, "Zara", "Quinn")])
        screen.records_changed()
        await pilot.pause()
        assert shown_ids(screen)[:2] == [500, 501]
        assert shown_ids(screen)[lines.cursor] == keep and lines.cursor == 14
        assert "Zara Quinn" in row(lines, 0)


async def test_enter_opens_the_case(store: Store) -> None:
    fill(store, 10)
    app = _App(store)
    async with app.run_test(size=(120, 30)) as pilot:
        screen, lines = tray(app)
        await press(pilot, "j", "enter")
        [message] = app.opened
        assert message.case_id == screen._shown[1].case_id
        assert set(message.siblings) == {1, 2, 3, 4, 5}


async def test_a_task_gone_from_the_store_is_said_in_a_line(store: Store) -> None:
    fill(store, 10)
    app = _App(store)
    async with app.run_test(size=(120, 30)) as pilot:
        screen, lines = tray(app)
        gone = shown_ids(screen)[0]
        store._conn.execute("DELETE FROM tasks WHERE id = ?", (gone,))
        await press(pilot, "x")
        assert any("not in the local store" in n for n in notes(app))
        assert gone not in shown_ids(screen) and store.pending() == []


class HeldCommits:
    """``store.complete_tasks`` held in its thread until ``release``: what the screen does meanwhile."""

    def __init__(self, store: Store, monkeypatch: pytest.MonkeyPatch, *, fail: Exception | None = None) -> None:
        self.gate = threading.Event()
        self.fail = fail
        original = store.complete_tasks

        def held(task_ids: Any) -> Any:
            if not self.gate.wait(10):
                raise AssertionError("the test never released the commit")
            if self.fail is not None:
                raise self.fail
            return original(task_ids)

        monkeypatch.setattr(store, "complete_tasks", held)

    def release(self) -> None:
        self.gate.set()


async def test_completed_tasks_leave_the_screen_before_their_commit_lands(
        store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    fill(store, 20)
    held = HeldCommits(store, monkeypatch)
    app = _App(store)
    async with app.run_test(size=(120, 30)) as pilot:
        screen, lines = tray(app)
        picked = shown_ids(screen)[:3]
        await pilot.press("space", "space", "space", "x")
        await pilot.pause()
        # drawn gone at once; not yet said done, the sync engine not yet woken, nothing in the outbox yet
        assert not set(picked) & set(shown_ids(screen)) and lines.count == 17
        assert store.pending() == [] and app.outbox_changes == 0
        assert not any("Done" in n for n in notes(app))
        held.release()
        for _ in range(50):  # the commit's own callback, not flush, says it landed
            await pilot.pause(0.02)
            if app.outbox_changes:
                break
        assert sorted(i.task_id for i in store.pending()) == sorted(picked)
        assert app.outbox_changes == 1 and "Done: 3 tasks. u undoes." in notes(app)
        await press(pilot, "u")  # undo takes back what landed
        assert store.pending() == [] and set(picked) <= set(shown_ids(screen))


async def test_a_key_pressed_while_a_commit_is_in_flight_waits_for_it(
        store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    fill(store, 20)
    held = HeldCommits(store, monkeypatch)
    app = _App(store)
    async with app.run_test(size=(120, 30)) as pilot:
        screen, _lines = tray(app)
        first = shown_ids(screen)[0]
        await pilot.press("x")
        threading.Timer(0.2, held.release).start()
        await pilot.press("u")  # undo must find the complete in the store, not race ahead of it
        assert store.pending() == [] and first in shown_ids(screen)
        assert any("Undone: 1 task" in n for n in notes(app))


async def test_a_commit_that_fails_puts_the_tasks_back_and_says_why(
        store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    fill(store, 20)
    held = HeldCommits(store, monkeypatch, fail=sqlite3.OperationalError("disk I/O error"))
    app = _App(store)
    async with app.run_test(size=(120, 30)) as pilot:
        screen, lines = tray(app)
        before = shown_ids(screen)
        await pilot.press("space", "space", "x")
        await pilot.pause()
        assert lines.count == 18
        held.release()
        screen.flush()
        await pilot.pause()
        assert shown_ids(screen) == before and store.pending() == [] and app.outbox_changes == 0
        assert any("Could not complete 2 tasks: disk I/O error" in n for n in notes(app))
        assert not any("Done" in n for n in notes(app))


async def test_closing_the_app_waits_for_a_commit_in_flight(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    fill(store, 20)
    held = HeldCommits(store, monkeypatch)
    app = _App(store)
    async with app.run_test(size=(120, 30)) as pilot:
        screen, _lines = tray(app)
        picked = shown_ids(screen)[:2]
        await pilot.press("space", "space", "x")
        threading.Timer(0.3, held.release).start()
    # the screen's unmount waited for the commit: it is in the store the caller is about to close
    assert sorted(i.task_id for i in store.pending()) == sorted(picked)


# --- choosing a colleague ------------------------------------------------------------------------------------------


def test_fuzzy_matching_of_people() -> None:
    people = [User.from_json(u) for u in USERS]
    offered = candidates(people, exclude="worker")
    assert [u.username for u in offered] == ["amy", "bob", "manager"]
    assert [u.username for u in match_users(offered, "")] == ["amy", "bob", "manager"]
    assert [u.username for u in match_users(offered, "okf")] == ["bob"]  # Okafor, letters in order
    assert [u.username for u in match_users(offered, "south")] == ["bob"]  # by team
    assert [u.username for u in match_users(offered, "north a")][0] == "amy"
    assert match_users(offered, "zzz") == []
    assert fuzzy_score("amy", "Amy Adeyemi") > fuzzy_score("amy", "Sam Yates")  # type: ignore[operator]
    assert fuzzy_score("ma", "Mani Ager") > fuzzy_score("ma", "Amy Adeyemi")  # type: ignore[operator]
    assert fuzzy_score("xq", "Amy") is None
