"""The user's keybindings.toml: rebinding works, mistakes are named by line, help and the palette follow the keymap."""

from __future__ import annotations

import tomllib
from pathlib import Path

from textual.command import CommandList, CommandPalette

from screens.case import CaseScreen
from screens.help import HelpScreen
from screens.keys import DEFAULTS_PATH
from tests.tui.helpers import make_app, wait_until
from tui import keymap


def _every_action_id() -> list[str]:
    data = tomllib.loads(DEFAULTS_PATH.read_text(encoding="utf-8"))
    return [f"{section}.{name}" for section, table in data.items() for name in table]


async def _open_first_case(pilot) -> CaseScreen:  # type: ignore[no-untyped-def]
    await pilot.press("enter")
    await pilot.pause()
    assert isinstance(pilot.app.screen, CaseScreen)
    return pilot.app.screen


async def test_a_rebound_key_moves_to_the_next_case(worker_store, offline_api, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    user_file = tmp_path / "keybindings.toml"
    user_file.write_text('[case]\nnext = "l"\n', encoding="utf-8")
    keys = keymap.load(user_file)
    assert keys.problems == []
    assert keys.keys["case.next"] == "l"
    app = make_app(worker_store, offline_api, "worker", keymap=keys)
    async with app.run_test(size=(80, 24)) as pilot:
        ids = [c.id for c in app.screen._shown]
        screen = await _open_first_case(pilot)
        await pilot.press("l")
        assert screen.case_id == ids[1]
        await pilot.press("right_square_bracket")  # the old key no longer does it
        assert screen.case_id == ids[1]
        await pilot.press("left_square_bracket")  # untouched keys keep their defaults
        assert screen.case_id == ids[0]
        assert not app._notifications


async def test_a_bad_file_is_reported_by_line_and_defaults_stay(worker_store, offline_api,  # type: ignore[no-untyped-def]
                                                                tmp_path: Path) -> None:
    user_file = tmp_path / "keybindings.toml"
    user_file.write_text(
        "# my keys\n"                      # 1
        "[case]\n"                         # 2
        'next = "l"\n'                     # 3  fine
        'jump = "z"\n'                     # 4  no such action
        'previous = "ctrl+banana"\n'       # 5  not a key
        "[list]\n"                         # 6
        'down = "k"\n',                    # 7  k is already list.up
        encoding="utf-8")
    keys = keymap.load(user_file)
    by_line = {p.line: p.message for p in keys.problems}
    assert set(by_line) == {4, 5, 7}, keys.problems
    assert "unknown action" in by_line[4] and "case.jump" in by_line[4]
    assert "ctrl+banana" in by_line[5]
    assert "list.up" in by_line[7]
    assert keys.keys["case.next"] == "l"
    assert keys.keys["case.previous"] == "left_square_bracket"
    assert keys.keys["list.down"] == "j,down"

    app = make_app(worker_store, offline_api, "worker", keymap=keys)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        messages = [str(n.message) for n in app._notifications]
        for line in (4, 5, 7):
            assert any(f"{user_file} line {line}:" in m for m in messages), (line, messages)
        assert all(n.title == "keybindings.toml" and n.severity == "warning" for n in app._notifications)
        # the defaults for the bad entries still work, the good entry too
        ids = [c.id for c in app.screen._shown]
        await pilot.press("j")
        screen = await _open_first_case(pilot)
        assert screen.case_id == ids[1]
        await pilot.press("l")
        assert screen.case_id == ids[2]
        await pilot.press("left_square_bracket")
        assert screen.case_id == ids[1]

        # help lists the problems too
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        assert sorted(app.screen.problems) == sorted(str(p) for p in keys.problems)
        # at 80×24 the list is longer than the dialog: the keyboard scrolls it
        scroller = app.screen.query_one("#help")
        assert scroller.max_scroll_y > 0 and scroller.has_focus
        await pilot.press("pagedown")
        await pilot.pause()
        assert scroller.scroll_y > 0


async def test_help_lists_every_action_with_its_key(worker_store, offline_api, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    user_file = tmp_path / "keybindings.toml"
    user_file.write_text('[case]\nnext = "l"\n[list]\ndown = "j,down,ctrl+n"\n', encoding="utf-8")
    app = make_app(worker_store, offline_api, "worker", keymap=keymap.load(user_file))
    async with app.run_test(size=(160, 50)) as pilot:
        await _open_first_case(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        help_screen = app.screen
        assert isinstance(help_screen, HelpScreen)
        shown = {action_id: (keys, description) for action_id, keys, description in help_screen.rows}
        assert sorted(shown) == sorted(_every_action_id())
        assert shown["case.next"][0] == "l"
        assert shown["case.previous"][0] == "["
        assert shown["list.down"][0] == "j, ↓, ^n"
        assert shown["app.help"][0] == "?"
        assert all(description for _keys, description in shown.values()), "every action says what it does"
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, CaseScreen)


async def test_command_palette_runs_an_action(worker_store, offline_api) -> None:  # type: ignore[no-untyped-def]
    app = make_app(worker_store, offline_api, "worker")
    async with app.run_test(size=(120, 40)) as pilot:
        ids = [c.id for c in app.screen._shown]
        screen = await _open_first_case(pilot)
        await pilot.press("ctrl+p")
        await pilot.pause()
        assert isinstance(app.screen, CommandPalette)
        await pilot.press(*"next case")
        await wait_until(pilot, lambda: any(found.option_count for found in app.screen.query(CommandList)),
                         timeout=5, what="palette matches")
        first = app.screen.query_one(CommandList).get_option_at_index(0)
        assert "Next case" in str(first.prompt)
        await pilot.pause(0.2)
        await pilot.press("enter")
        await wait_until(pilot, lambda: screen.case_id == ids[1], timeout=5, what="the next case")
        assert app.screen is screen
