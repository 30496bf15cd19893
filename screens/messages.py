"""Messages the screens send up to the App, so screens never reach into it."""

from __future__ import annotations

from collections.abc import Sequence

from textual.message import Message


class OpenCase(Message):
    """Show this case; ``siblings`` is the list it was chosen from, for [ and ]."""

    def __init__(self, case_id: int, siblings: Sequence[int] = ()) -> None:
        super().__init__()
        self.case_id = case_id
        self.siblings = tuple(siblings)


class CaseAhead(Message):
    """A list's cursor has come to rest on this case: the App may read it into the hidden case screen, so that
    enter has nothing left to read. Not a view: nothing is audited and nothing is fetched."""

    def __init__(self, case_id: int, siblings: Sequence[int] = ()) -> None:
        super().__init__()
        self.case_id = case_id
        self.siblings = tuple(siblings)


class CaseWanted(Message):
    """The store lacks (some of) this case: ask the sync engine to fetch it, and its neighbours."""

    def __init__(self, case_id: int, neighbours: Sequence[int] = ()) -> None:
        super().__init__()
        self.case_id = case_id
        self.neighbours = tuple(neighbours)


class CaseViewed(Message):
    """A case was shown from the local store: the App queues it for the audit upload."""

    def __init__(self, case_id: int, what: str = "case") -> None:
        super().__init__()
        self.case_id = case_id
        self.what = what


class OutboxChanged(Message):
    """A write was queued: the sync engine should send it soon."""


class ExportWanted(Message):
    """Export this case's chronology (the App opens the export dialog)."""

    def __init__(self, case_id: int) -> None:
        super().__init__()
        self.case_id = case_id
