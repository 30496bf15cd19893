"""16 and 256 colours, as TERM=xterm-16color / xterm-256color terminals (and tmux, and SSH) give them."""

from __future__ import annotations

import re

import pytest
from screens.case import CaseScreen
from screens.caseload import CaseList
from screens.search import ResultList
from tests.tui.helpers import make_app, terminal_output, wait_until

SGR = re.compile(r"\x1b\[([0-9;]*)m")


def _colours(ansi: str) -> tuple[set[str], set[str]]:
    """The colours used (as their codes: "31", "38;5;167", …, the terminal's default left out), and which
    kinds of code carried them: "16" (30–37, 90–97 and their backgrounds), "256" (38;5;n) or "truecolor"
    (38;2;r;g;b)."""
    colours: set[str] = set()
    kinds: set[str] = set()
    for params in SGR.findall(ansi):
        parts = params.split(";")
        n = 0
        while n < len(parts):
            if parts[n] in ("38", "48"):
                eight_bit = n + 1 < len(parts) and parts[n + 1] == "5"
                width = 3 if eight_bit else 5
                kinds.add("256" if eight_bit else "truecolor")
                colours.add(";".join(parts[n: n + width]))
                n += width
                continue
            if parts[n] and int(parts[n]) % 10 <= 7 and int(parts[n]) // 10 in (3, 4, 9, 10):
                kinds.add("16")
                colours.add(parts[n])
            n += 1
    return colours, kinds


@pytest.mark.parametrize(("term", "system", "allowed"), [("xterm-16color", "standard", {"16"}),
                                                         ("xterm-256color", "256", {"16", "256"})])
async def test_flow_in_a_limited_terminal(worker_store, offline_api, monkeypatch, term, system, allowed) -> None:  # type: ignore[no-untyped-def]
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
        colours, kinds = _colours(out)
        assert kinds <= allowed, f"{kinds - allowed} colour codes reach a {term} terminal"
        assert len(colours) >= 3, f"still in colour, not monochrome: {colours}"

        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, CaseScreen), what="the case screen")
        await pilot.press("asterisk", "f", "pagedown", "n", *"ok", "escape")  # escape in the note box: back
        await wait_until(pilot, lambda: app.screen is caseload, what="back on the caseload")
        await pilot.press("2", *"smith")
        await wait_until(pilot, lambda: bool(app.screen.query(ResultList))
                         and app.screen.query_one(ResultList).count > 0, what="search results")
        out = terminal_output(app)
        colours, kinds = _colours(out)
        assert kinds <= allowed, f"{kinds - allowed} colour codes reach a {term} terminal"
        assert "smith" in out.lower()
        await pilot.press("question_mark")
        await pilot.pause()
        terminal_output(app)
        await pilot.press("escape", "escape")
        await wait_until(pilot, lambda: app.screen is caseload, what="back on the caseload")
