"""My cases: who is overdue, who is missing, who has not been seen; enter opens the case."""

from __future__ import annotations

from collections.abc import Callable

from rich.segment import Segment
from rich.style import Style
from textual.app import ComposeResult
from textual.widgets import Input, Static

from client.models import CaseSummary
from client.store import Store
from screens import format
from screens.kept import KeptScreen
from screens.keys import bind
from screens.drafts import QuietTimer
from screens.messages import CaseAhead, OpenCase
from screens.widgets.line_list import LineList, cells
from screens.widgets.keybar import KeyBar
from screens.widgets.status import StatusLine
from screens.widgets.typing_input import TypingInput

COLUMNS = ("Name", "Age", "Category", "Flags", "Whereabouts", "Next due", "Seen")
# the cursor this long on one row (not passing over it with j held down) reads that case ahead (CaseAhead)
AHEAD_AFTER_S = 0.05


class CaseList(LineList):
    COMPONENT_CLASSES = LineList.COMPONENT_CLASSES | {
        "case-list--flag-high", "case-list--flag", "case-list--overdue", "case-list--missing", "case-list--dim",
    }


def _matches(case: CaseSummary, words: list[str]) -> bool:
    haystack = " ".join((case.name, case.category, format.CATEGORY_LABELS.get(case.category, ""),
                         " ".join(f.code for f in case.flags), case.placement_type or "", str(case.id),
                         case.dob or "")).lower()
    return all(word in haystack for word in words)


class CaseloadScreen(KeptScreen[None]):
    """Built once and kept mounted; ``reload()`` swaps in what the store now holds."""

    CSS_PATH = "caseload.tcss"
    BINDINGS = [
        bind("caseload.filter", "filter", "Filter"),
        # priority: it must work while typing in the filter box, whose Input would take ctrl+x as "cut"
        bind("caseload.clear_filter", "clear_filter", "Clear filter", priority=True),
    ]

    def __init__(self, store: Store, username: str) -> None:
        super().__init__(name="caseload")
        self.store = store
        self.username = username
        self._all: list[CaseSummary] = []
        self._shown: list[CaseSummary] = []
        self._ahead = QuietTimer(self, self._read_ahead, delay=AHEAD_AFTER_S)

    def compose(self) -> ComposeResult:
        yield Static(id="caseload-title")
        yield TypingInput(placeholder="filter: name, flag, category, placement…", id="caseload-filter")
        yield Static(id="caseload-columns")
        yield CaseList(empty_text="No open cases allocated to you in the local store yet.", id="caseload-list")
        yield StatusLine()
        yield KeyBar()

    def on_mount(self) -> None:
        self.reload()
        self.query_one(CaseList).focus()

    # --- data ---------------------------------------------------------------------

    def reload(self) -> None:
        """Re-read the caseload from the store, keeping the cursor on the same case."""
        lines = self.query_one(CaseList)
        current = self._shown[lines.cursor].id if self._shown and lines.cursor < len(self._shown) else None
        self._all = self.store.caseload(self.username)
        self._apply_filter(keep=current)

    def _apply_filter(self, keep: int | None = None) -> None:
        words = self.query_one("#caseload-filter", Input).value.lower().split()
        self._shown = [c for c in self._all if _matches(c, words)] if words else list(self._all)
        cursor = next((n for n, c in enumerate(self._shown) if c.id == keep), None) if keep is not None else None
        self.query_one(CaseList).set_rows(len(self._shown), self._render_row, cursor=cursor)
        overdue = sum(1 for c in self._all if c.overdue_tasks)
        missing = sum(1 for c in self._all if c.missing_since)
        summary = f"My cases · {len(self._all)} open · {overdue} with overdue work"
        if missing:
            summary += f" · {missing} missing"
        if words:
            summary += f" · showing {len(self._shown)}"
        # one line, always (caseload.tcss): new text needs no layout of the screen, which cost each filter key ~3 ms
        self.query_one("#caseload-title", Static).update(summary, layout=False)

    def on_resize(self) -> None:
        self._draw_columns()

    def _widths(self, width: int) -> list[int]:
        if width >= 120:
            return [26, 5, 17, 22, 28, 13, 0]
        return [20, 4, 5, 12, 15, 12, 0]  # "overdue 27d" is 11: one blank before the Seen column

    def _draw_columns(self) -> None:
        width = self.size.width
        widths = self._widths(width)
        # a column's heading keeps a blank before the next one, however narrow the column
        header = "".join(name[: w - 1].ljust(w) if w else name for name, w in zip(COLUMNS, widths, strict=True))
        self.query_one("#caseload-columns", Static).update(header[:width])

    def _render_row(self, index: int, width: int, style: Callable[[str], Style]) -> list[Segment]:
        case = self._shown[index]
        widths = self._widths(width)
        wide = width >= 120
        category = (format.CATEGORY_LABELS if wide else format.CATEGORY_SHORT).get(case.category, case.category)
        flags = " ".join(f.code for f in case.flags)
        flag_style = style("case-list--flag-high") if any(f.severity == "high" for f in case.flags) \
            else style("case-list--flag")
        if case.missing_since:
            where, where_style = f"MISSING since {format.short_datetime(case.missing_since)}", \
                style("case-list--missing")
        else:
            where, where_style = case.placement_type or "", Style()
        due = format.due_label(case.next_task_due)
        due_style = style("case-list--overdue") if case.overdue_tasks else Style()
        return cells([
            (case.name + (" ⚿" if case.restricted else ""), widths[0], Style(bold=True)),
            (format.age(case.dob), widths[1], Style()),
            (category, widths[2], Style()),
            (flags, widths[3], flag_style),
            (where, widths[4], where_style),
            (due, widths[5], due_style),
            (format.days_since(case.last_visit_at), widths[6], style("case-list--dim")),
        ], width)

    # --- keys -------------------------------------------------------------------------

    def action_filter(self) -> None:
        box = self.query_one("#caseload-filter", Input)
        box.add_class("-open")
        box.focus()

    def action_clear_filter(self) -> None:
        box = self.query_one("#caseload-filter", Input)
        box.value = ""
        box.remove_class("-open")
        self._apply_filter()
        self.query_one(CaseList).focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        self._apply_filter()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.query_one(CaseList).focus()

    def on_line_list_selected(self, event: LineList.Selected) -> None:
        self._ahead.cancel()
        case = self._shown[event.index]
        self.post_message(OpenCase(case.id, [c.id for c in self._shown]))

    def on_line_list_highlighted(self, event: LineList.Highlighted) -> None:
        self.read_ahead_soon()

    def read_ahead_soon(self) -> None:
        """Read the case under the cursor ahead if the cursor stays put (``CaseAhead``), as after a move."""
        self._ahead.restart()

    def _read_ahead(self) -> None:
        self._ahead.cancel()
        lines = self.query_one(CaseList)
        if self.on_top and self._shown and lines.cursor < len(self._shown):
            self.post_message(CaseAhead(self._shown[lines.cursor].id, [c.id for c in self._shown]))

