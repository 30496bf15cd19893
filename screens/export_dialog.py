"""The export dialog: a case's chronology to Markdown and PDF, all events or key events, in a date range.

Opened from the case screen. The export itself (client.export) runs in a worker
thread, so a 5,000-event PDF never freezes the screen; escape cancels it, and a
cancelled export writes nothing. When it is done the dialog shows where both
files are; enter (or escape) then closes it, with the ExportResult (or None).
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from pathlib import Path

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, RadioButton, RadioSet, Static
from textual.worker import Worker, WorkerState

from client.export import ExportCancelled, ExportError, ExportResult, export_chronology
from client.store import Store
from screens.keys import bind
from screens.messages import CaseViewed

_UK_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")


def parse_day(text: str, label: str) -> dt.date | None:
    """"2025-01-01" (or "1/1/2025", day first) → a date; "" → None; anything else → ValueError, one line."""
    text = text.strip()
    if not text:
        return None
    try:
        if (m := _UK_DATE.fullmatch(text)) is not None:
            return dt.date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return dt.date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{label}: {text} is not a real date") from None
    raise ValueError(f"{label}: write the date as YYYY-MM-DD, like 2025-01-01")


class EventChoice(RadioSet, inherit_bindings=False):
    """All events or key events only. The arrows choose at once (as radio buttons do elsewhere), and enter is
    left to the dialog, so that enter always exports."""

    BINDINGS = [
        Binding("down,right", "next_button", "Next option", show=False),
        Binding("up,left", "previous_button", "Previous option", show=False),
        Binding("space", "toggle_button", "Choose", show=False),
    ]

    def action_next_button(self) -> None:
        super().action_next_button()
        self.action_toggle_button()

    def action_previous_button(self) -> None:
        super().action_previous_button()
        self.action_toggle_button()


class ExportDialog(ModalScreen[ExportResult | None]):
    """Export a case's chronology. Dismissed with the ExportResult, or None when cancelled."""

    CSS_PATH = "export_dialog.tcss"
    BINDINGS = [
        bind("export.run", "export", "Export"),
        bind("export.cancel", "cancel", "Cancel"),
    ]

    def __init__(self, store: Store, case_id: int, *, folder: Path | None = None) -> None:
        super().__init__(name="export")
        self.store = store
        self.case_id = case_id
        self.folder = folder  # None: the user's Documents / "casework exports"
        self.result: ExportResult | None = None
        self._cancel = threading.Event()
        self._worker: Worker[ExportResult] | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="export-box"):
            yield Static(id="export-title")
            yield Label("Events", classes="export-label")
            with EventChoice(id="export-events"):
                yield RadioButton("All events", value=True, id="export-all")
                yield RadioButton("Key events only", id="export-key")
            yield Label("Dates (optional, inclusive)", classes="export-label")
            with Horizontal(id="export-dates"):
                yield Label("From", classes="export-date-label")
                yield Input(placeholder="YYYY-MM-DD", id="export-start", restrict=r"[0-9/-]*", max_length=10)
                yield Label("to", classes="export-date-label")
                yield Input(placeholder="YYYY-MM-DD", id="export-end", restrict=r"[0-9/-]*", max_length=10)
            yield Static(id="export-error")
            yield Static(id="export-status")
            with Horizontal(id="export-buttons"):
                yield Button("Export", variant="primary", id="export-run")
                yield Button("Cancel", id="export-cancel")
            yield Static(id="export-keys")

    def on_mount(self) -> None:
        cached = self.store.case(self.case_id)
        title = self.query_one("#export-title", Static)
        if cached is None:
            title.update(Text(f"Export chronology: case {self.case_id}"))
            self._error(f"case {self.case_id} is not on this device, so it cannot be exported")
        else:
            person = cached.value.person
            total = self.store.chronology_count(self.case_id)
            key = self.store.chronology_count(self.case_id, key_only=True)
            title.update(Text(f"Export chronology: {person.name} (case {self.case_id})\n"
                              f"{total:,} event{'s' if total != 1 else ''}, {key:,} key · to Markdown and PDF"))
        self._show_keys()

    def _show_keys(self) -> None:
        run, cancel = (self.app.get_key_display(b) for b in self.BINDINGS if isinstance(b, Binding))
        hint = f"{run} close" if self.result is not None else f"{run} export · tab next field · {cancel} cancel"
        self.query_one("#export-keys", Static).update(Text(hint))

    # --- reading the form ----------------------------------------------------------------------------------

    def _form(self) -> tuple[bool, dt.date | None, dt.date | None]:
        key_only = self.query_one("#export-key", RadioButton).value
        start = parse_day(self.query_one("#export-start", Input).value, "From")
        end = parse_day(self.query_one("#export-end", Input).value, "To")
        if start and end and start > end:
            raise ValueError(f"From ({start.isoformat()}) is after To ({end.isoformat()})")
        return key_only, start, end

    def _error(self, text: str) -> None:
        self.query_one("#export-error", Static).update(Text(text))  # Text: a path or name is never markup

    def _status(self, text: str) -> None:
        self.query_one("#export-status", Static).update(Text(text))

    @property
    def running(self) -> bool:
        return self._worker is not None and self._worker.state in (WorkerState.PENDING, WorkerState.RUNNING)

    # --- actions -------------------------------------------------------------------------------------------

    def action_export(self) -> None:
        if self.running:
            return
        if self.result is not None:
            self.dismiss(self.result)  # done: a second enter closes the dialog
            return
        try:
            key_only, start, end = self._form()
        except ValueError as error:
            self._error(str(error))
            return
        self._error("")
        count = self.store.chronology_count(self.case_id, key_only=key_only)
        self._status(f"Exporting{' up to' if start or end else ''} {count:,} event{'s' if count != 1 else ''}…")
        self._set_busy(True)
        self._cancel = threading.Event()
        cancel, folder = self._cancel, self.folder

        def work() -> ExportResult:
            return export_chronology(self.store, self.case_id, key_only=key_only, start=start, end=end,
                                     folder=folder, cancel=cancel)

        self._worker = self.run_worker(work, name="export", group="export", thread=True, exclusive=True,
                                       exit_on_error=False)

    def action_cancel(self) -> None:
        if self.running:
            self._cancel.set()  # the export stops at its next check and writes nothing
            assert self._worker is not None
            self._worker.cancel()
        self.dismiss(self.result)

    def _set_busy(self, busy: bool) -> None:
        for widget in self.query("#export-events, #export-start, #export-end, #export-run"):
            widget.disabled = busy

    # --- events --------------------------------------------------------------------------------------------

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_export()

    @on(Button.Pressed, "#export-run")
    def _run_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_export()

    @on(Button.Pressed, "#export-cancel")
    def _cancel_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_cancel()

    @on(Input.Changed)
    @on(RadioSet.Changed)
    def _form_changed(self) -> None:
        """A changed form is a new export: forget the last one and clear its messages."""
        if self.result is not None and not self.running:
            self.result = None
            self.query_one("#export-run", Button).label = "Export"
            self.query_one("#export-cancel", Button).display = True
            self._status("")
            self._show_keys()
        self._error("")

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker is not self._worker:
            return
        if event.state == WorkerState.SUCCESS:
            result = event.worker.result
            assert result is not None
            self.result = result
            self._set_busy(False)
            pages = f", {result.pages:,} page{'s' if result.pages != 1 else ''}" if result.pages else ""
            self._status(f"Exported {result.events:,} event{'s' if result.events != 1 else ''}{pages}:\n"
                         f"  Markdown  {result.markdown}\n  PDF       {result.pdf}")
            self.query_one("#export-run", Button).label = "Close"
            self.query_one("#export-run", Button).focus()
            self.query_one("#export-cancel", Button).display = False
            self._show_keys()
            self.post_message(CaseViewed(self.case_id, "chronology"))  # an export is a read: it is audited
        elif event.state == WorkerState.ERROR:
            self._set_busy(False)
            error = event.worker.error
            self._status("")
            if isinstance(error, ExportCancelled):
                return
            if isinstance(error, ExportError):
                self._error(str(error))
            else:
                self._error(f"the export failed: {error}")
        elif event.state == WorkerState.CANCELLED:
            self._set_busy(False)
