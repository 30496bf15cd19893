"""16 and 256 colours, as TERM=xterm-16color / xterm-256color terminals (and tmux, and SSH) give them."""

from __future__ import annotations

import re

import pytest
from screens.case import CaseScreen
from screens.caseload import CaseList
from screens.search import ResultList
from tests.tui.helpers import make_app, terminal_output, wait_until

SGR = re.compile(r"\x1b\[([0-9;]*)m")


def _colour_codes(ansi: str) -> tuple[set[str], bool]:
    """The simple colour codes used, and whether any 256-colour or truecolor code (38;5 / 38;2 …) was."""
    simple: set[str] = set()
    extended = False
    for params in SGR.findall(ansi):
        parts = params.split(";")
        n = 0
        while n < len(parts):
            if parts[n] in ("38", "48"):
                extended = True
                n += 3 if n + 1 < len(parts) and parts[n + 1] == "5" else 5
                continue
            if parts[n] and (30 <= int(parts[n]) <= 49 or 90 <= int(parts[n]) <= 107):
                simple.add(parts[n])
            n += 1
    return simple, extended


@pytest.mark.parametrize(("term", "system"), [("xterm-16color", "standard"), ("xterm-256color", "256")])
async def test_flow_in_a_limited_terminal(worker_store, offline_api, monkeypatch, term, system) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("TERM", term)
    monkeypatch.delenv("COLORTERM", raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)
    app = make_app(worker_store, offline_api, "worker")
    assert app.console.color_system == system
    async with app.run_test(size=(80, 24)) as pilot:
        caseload = app.screen
        # a case with a high-severity flag, drawn in the theme's error colour
        index = next(n for n, c in enumerate(caseload._shown) if any(f.severity == "high" for f in c.flags))
        await pilot.press("slash", "ctrl+x")
        caseload.query_one(CaseList).move_to(index)
        await pilot.pause()
        out = terminal_output(app)
        simple, extended = _colour_codes(out)
        if system == "standard":
            assert not extended
        assert len(simple) >= 3, "still in colour, not monochrome"

        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, CaseScreen), what="the case screen")
        await pilot.press("asterisk", "f", "pagedown", "n", *"ok", "escape")  # escape in the note box: back
        await wait_until(pilot, lambda: app.screen is caseload, what="back on the caseload")
        await pilot.press("2", *"smith")
        await wait_until(pilot, lambda: bool(app.screen.query(ResultList)) and app.screen.query_one(ResultList).count > 0,
                         what="search results")
        out = terminal_output(app)
        simple, extended = _colour_codes(out)
        if system == "standard":
            assert not extended, "only the 16 ANSI colours reach a 16-colour terminal"
        assert "smith" in out.lower()
        await pilot.press("question_mark")
        await pilot.pause()
        terminal_output(app)
        await pilot.press("escape", "escape")
        await wait_until(pilot, lambda: app.screen is caseload, what="back on the caseload")
