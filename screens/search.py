"""Duty search: as you type, over the directory on this device, so it works offline at 2 a.m."""

from __future__ import annotations

from collections.abc import Callable

from rich.segment import Segment
from rich.style import Style
from textual.app import ComposeResult
from textual.widgets import Input, Static

from client.models import DirectoryEntry
from client.store import Store
from screens import format
from screens.kept import KeptScreen
from screens.keys import bind
from screens.messages import OpenCase
from screens.widgets.line_list import LineList, cells
from screens.widgets.keybar import KeyBar
from screens.widgets.status import StatusLine
from screens.widgets.typing_input import TypingInput

LIMIT = 100
HINT = ("Type a name (misspellings and aliases too), a date of birth or part of one, "
        "an address or postcode, or any ID. Enter opens the case.")


class ResultList(LineList):
    COMPONENT_CLASSES = LineList.COMPONENT_CLASSES | {"results--restricted", "results--flag", "results--dim"}


class SearchScreen(KeptScreen[None]):
    CSS_PATH = "search.tcss"
    BINDINGS = [bind("search.focus_query", "focus_query", "Search")]

    def __init__(self, store: Store) -> None:
        super().__init__(name="search")
        self.store = store
        self._results: list[DirectoryEntry] = []

    def compose(self) -> ComposeResult:
        yield TypingInput(placeholder="Who is the child? name, DOB, address, postcode or ID", id="search-query")
        yield Static(HINT, id="search-info")
        yield ResultList(empty_text="No matches in the directory on this device.", id="search-results")
        yield StatusLine()
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#search-query", Input).focus()

    def on_screen_resume(self) -> None:
        self.query_one("#search-query", Input).focus()

    def action_focus_query(self) -> None:
        self.query_one("#search-query", Input).focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        self.run_query(event.value)

    def run_query(self, query: str) -> None:
        query = query.strip()
        self._results = self.store.search(query, limit=LIMIT) if query else []
        info = self.query_one("#search-info", Static)
        # one line, always (search.tcss): new text needs no relayout, which would cost a keystroke ~2 ms
        if not query:
            info.update(HINT, layout=False)
        else:
            more = "+" if len(self._results) == LIMIT else ""
            info.update(f"{len(self._results)}{more} match{'es' if len(self._results) != 1 else ''} for “{query}”",
                        layout=False)
        self.query_one(ResultList).set_rows(len(self._results), self._render_row, cursor=0)

    def records_changed(self) -> None:
        """The directory was refreshed: run the same query again, keeping the cursor."""
        query = self.query_one("#search-query", Input).value.strip()
        if query:
            cursor = self.query_one(ResultList).cursor
            self._results = self.store.search(query, limit=LIMIT)
            self.query_one(ResultList).set_rows(len(self._results), self._render_row, cursor=cursor)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if self._results:
            results = self.query_one(ResultList)
            results.focus()
            results.action_select()

    def _render_row(self, index: int, width: int, style: Callable[[str], Style]) -> list[Segment]:
        entry = self._results[index]
        if entry.is_stub:
            return cells([("Restricted record", 26, style("results--restricted")),
                          (entry.message or "contact the allocated team", 0, style("results--dim"))], width)
        born = f"{format.short_date(entry.dob)} ({format.age(entry.dob)})" if entry.dob else "DOB unknown"
        wide = width >= 120
        category = (format.CATEGORY_LABELS if wide else format.CATEGORY_SHORT).get(entry.category or "", "")
        parts: list[tuple[str, int, Style]] = [
            (entry.name, 24 if wide else 20, Style(bold=True)),
            (born, 19 if wide else 18, Style()),
        ]
        if wide:
            parts.append((", ".join(x for x in (entry.address, entry.postcode) if x), 42, Style()))
        else:
            parts.append((entry.postcode or "", 9, Style()))
        parts.append((category + ("" if entry.status in (None, "open") else " (closed)"), 20 if wide else 9,
                      Style()))
        parts.append((" ".join(entry.flags), 18 if wide else 10, style("results--flag")))
        parts.append((entry.allocated_worker or "unallocated", 0, style("results--dim")))
        return cells(parts, width)

    def on_line_list_selected(self, event: LineList.Selected) -> None:
        entry = self._results[event.index]
        if entry.is_stub or entry.case_id is None:
            self.notify(entry.message or "This record is restricted.", title="Restricted record", timeout=8)
            return
        self.post_message(OpenCase(entry.case_id, [e.case_id for e in self._results
                                                   if e.case_id is not None and not e.is_stub]))
