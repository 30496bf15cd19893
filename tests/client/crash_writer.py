"""Writes drafts and outbox items in a loop until it is killed; run by test_crash.py.

Each line it prints names something the store said was saved, printed only after
the call returned (so after the commit), and flushed at once:
``draft <id> <seq>`` (the draft now holds "body <seq>"), ``item <id>`` (a task change),
``noted <draft id> <item id>`` (a note written from the draft, which is gone with it) and
``discarding <draft id>`` (printed before) and ``discarded <draft id>``.
"""

from __future__ import annotations

import sys
from pathlib import Path


def main(path: str) -> None:
    from client.store import Store

    store = Store.open(Path(path))
    if store.task(1) is None:
        store.put_tasks([{"id": 1, "case_id": 1, "title": "Statutory visit", "kind": "statutory_visit",
                          "due_on": "2026-11-25", "assignee": "worker", "status": "open", "snoozed_until": None,
                          "priority": "normal", "completed_at": None, "version": 1,
                          "updated_at": "2026-11-20T08:00:00Z"}])
    out = sys.stdout
    out.write("ready\n")
    out.flush()
    seq = 0
    while True:
        seq += 1
        draft = store.save_draft(1, "case_note", f"body {seq}")
        out.write(f"draft {draft} {seq}\n")
        out.flush()
        seq += 1
        store.save_draft(1, "case_note", f"body {seq}", draft_id=draft)
        out.write(f"draft {draft} {seq}\n")
        out.flush()
        if seq % 4 == 0:
            item = store.add_note(1, "case_note", f"note from draft {draft}", draft_id=draft)
            out.write(f"noted {draft} {item.id}\n")
            out.flush()
        else:
            task = store.task(1)
            item = store.complete_task(1) if task is not None and task.status == "open" else store.reopen_task(1)
            out.write(f"item {item.id}\n")
            out.flush()
            # said before it happens: a kill between the two would otherwise look like a lost draft
            out.write(f"discarding {draft}\n")
            out.flush()
            store.discard_draft(draft)
            out.write(f"discarded {draft}\n")
            out.flush()


if __name__ == "__main__":
    main(sys.argv[1])
