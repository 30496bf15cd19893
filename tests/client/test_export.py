"""Exporting a chronology to Markdown and PDF (client.export), from a store filled in the API's JSON shapes."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import stat
import subprocess
import threading
import zlib
from pathlib import Path
from typing import Any

import pytest

from client.export import ExportCancelled, ExportError, export_chronology, latin1_safe, md_cell
from client.store import Store

NOW = dt.datetime(2026, 11, 21, 9, 30, tzinfo=dt.timezone.utc)
KINDS = ("visit", "police_notification", "strategy_discussion", "s47", "school", "ae_attendance", "note")


def case_json(cid: int = 7, *, restricted: bool = False) -> dict[str, Any]:
    return {
        "id": cid, "status": "open", "category": "cp", "legal_status": "Interim care order (s38)",
        "allocated_worker": "pat", "allocated_worker_name": "Pat Ólafsdóttir", "team": "North Assessment",
        "opened_at": "2024-02-01T09:00:00Z", "closed_at": None,
        "whereabouts": {"placement_type": "Foster care", "address": "12 Mill Lane, Leeds LS1 4AB",
                        "carer": "Mr and Mrs Nowak", "since": "2025-06-01T12:00:00Z", "missing_since": None},
        "flags": [{"code": "cpp", "label": "Child protection plan", "severity": "high", "since": "2025-03-01"},
                  {"code": "risk", "label": "Risk to staff – dog", "severity": "medium", "since": None}],
        "key_contacts": [], "last_visit_at": "2026-11-10T10:00:00Z", "restricted": restricted, "version": 3,
        "updated_at": "2026-11-20T10:00:00Z",
        "person": {"id": 70 + cid, "la_child_id": "LA0000070", "upn": "A123456789012", "nhs_number": "4857773456",
                   "given_name": "Zofia", "family_name": "Wiśniewska", "aliases": ["Zosia"], "dob": "2014-03-12",
                   "expected_dob": None, "gender": "female", "ethnicity": None, "disability": None,
                   "first_language": "Polish", "address": "3 Ash Road", "postcode": "LS2 1AA", "school": None},
    }


def event(eid: int, when: str, *, cid: int = 7, kind: str = "visit", summary: str = "Home visit", key: bool = False,
          detail: str | None = None, agency: str | None = "Children's services") -> dict[str, Any]:
    return {"id": eid, "case_id": cid, "occurred_at": when, "kind": kind, "source_agency": agency,
            "summary": summary, "detail": detail, "key_event": key, "author": "pat", "note_id": None}


def many(n: int, cid: int = 7) -> list[dict[str, Any]]:
    start = dt.datetime(2012, 1, 1, 12, 0, tzinfo=dt.timezone.utc)
    return [event(i + 1, (start + dt.timedelta(hours=25 * i)).strftime("%Y-%m-%dT%H:%M:%SZ"), cid=cid,
                  kind=KINDS[i % len(KINDS)], key=i % 5 == 0,
                  summary=f"Event {i + 1}: Zofia Wiśniewska seen alone – “all fine”… Łukasz present",
                  detail=("Spoke with Mrs Łukasiewicz about school.\nShe said Zofia was unwell. " * (i % 3)) or None)
            for i in range(n)]


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store.open(tmp_path / "cache" / "worker.db")
    s.put_case(case_json(), '"3"')
    s.set_meta("me", '{"id": 1, "username": "pat", "display_name": "Pat Ólafsdóttir", "role": "practitioner"}')
    return s


@pytest.fixture
def out(tmp_path: Path) -> Path:
    return tmp_path / "exports"


def small_chronology(store: Store) -> None:
    store.put_chronology(7, [
        event(1, "2025-01-10T12:00:00Z", kind="referral", key=True, summary="Referral from school | DSL",
              agency="Ash Primary"),
        event(2, "2025-02-01T12:00:00Z", summary="Seen at home", detail="Line one\nLine two"),
        event(3, "2025-03-05T12:00:00Z", kind="strategy_discussion", key=True, summary="Strategy: S47 agreed",
              agency="Police"),
        event(4, "2025-04-20T12:00:00Z", summary="Visit – all well"),
    ], replace=True)


def pdf_pages(data: bytes) -> int:
    counts = [int(n) for n in re.findall(rb"/Type\s*/Pages\b[^>]*?/Count\s+(\d+)", data)] or \
        [int(n) for n in re.findall(rb"/Count\s+(\d+)", data)]
    return max(counts)


def pdf_streams_text(data: bytes) -> str:
    """The page content streams, inflated: with the built-in fonts, their text is readable Latin-1."""
    text = []
    for raw in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", data, re.S):
        try:
            text.append(zlib.decompress(raw).decode("latin-1"))
        except zlib.error:
            text.append(raw.decode("latin-1"))
    # fpdf2 writes the total page count ({nb}) as a string of its own: join adjacent strings of a line
    return re.sub(r"\)\s*Tj\s*\(", "", "\n".join(text))


# --- Markdown ------------------------------------------------------------------------------------------------------


def test_markdown_has_the_header_and_the_events_oldest_first(store: Store, out: Path) -> None:
    small_chronology(store)
    result = export_chronology(store, 7, key_only=False, start=None, end=None, folder=out, now=NOW)
    text = result.markdown.read_text(encoding="utf-8")

    assert result.events == 4
    assert text.startswith("# Chronology: Zofia Wiśniewska\n")
    for expected in ("Zofia Wiśniewska", "12 Mar 2014 (age 12 years)", "case 7", "LA child ID LA0000070",
                     "NHS number 485 777 3456", "UPN A123456789012", "Child protection", "Interim care order (s38)",
                     "Pat Ólafsdóttir (pat), North Assessment", "Child protection plan (since 1 Mar 2025)",
                     "Risk to staff – dog", "Foster care, Mr and Mrs Nowak, 12 Mill Lane, Leeds LS1 4AB",
                     "All events, whole chronology; 4 events, oldest first", "by Pat Ólafsdóttir (pat)"):
        assert expected in text, expected
    assert "| Date | Event | Source | Summary |" in text
    rows = [line for line in text.splitlines() if line.startswith("| ") and "---" not in line][1:]
    assert len(rows) == 4
    dates = ["10 Jan 2025", "1 Feb 2025", "5 Mar 2025", "20 Apr 2025"]
    assert [r.split(" | ")[0].removeprefix("| ").split()[:3] for r in rows] == [d.split() for d in dates]
    # | and newlines never break the table; key events are marked; detail follows the summary
    assert "Referral from school \\| DSL" in rows[0]
    assert "**Referral** (key event)" in rows[0]
    assert "Seen at home<br><br>Line one<br>Line two" in rows[1]
    assert all(row.count(" | ") == 3 for row in rows)
    assert "Strategy discussion" in rows[2] and "Police" in rows[2]


def test_key_events_only_and_an_inclusive_date_range(store: Store, out: Path) -> None:
    small_chronology(store)
    keys = export_chronology(store, 7, key_only=True, start=None, end=None, folder=out, now=NOW)
    text = keys.markdown.read_text(encoding="utf-8")
    assert keys.events == 2
    assert "Referral from school" in text and "Strategy: S47 agreed" in text
    assert "Seen at home" not in text and "Key events only" in text

    ranged = export_chronology(store, 7, key_only=False, start=dt.date(2025, 2, 1), end=dt.date(2025, 3, 5),
                               folder=out, now=NOW)
    text = ranged.markdown.read_text(encoding="utf-8")
    assert ranged.events == 2
    assert "Seen at home" in text and "Strategy: S47 agreed" in text
    assert "Referral from school" not in text and "Visit – all well" not in text
    assert "from 1 Feb 2025 to 5 Mar 2025" in text

    none = export_chronology(store, 7, key_only=True, start=dt.date(2026, 1, 1), end=None, folder=out, now=NOW)
    assert none.events == 0
    assert "No chronology events match this filter." in none.markdown.read_text(encoding="utf-8")
    assert none.pdf.read_bytes().startswith(b"%PDF")


def test_start_after_end_is_refused(store: Store, out: Path) -> None:
    with pytest.raises(ExportError, match="after the end date"):
        export_chronology(store, 7, key_only=False, start=dt.date(2026, 2, 1), end=dt.date(2026, 1, 1), folder=out)


# --- PDF, files, permissions --------------------------------------------------------------------------------------


def test_5000_events_with_non_latin1_names(store: Store, out: Path) -> None:
    store.put_chronology(7, many(5000), replace=True)
    result = export_chronology(store, 7, key_only=False, start=None, end=None, folder=out, now=NOW)

    assert result.events == 5000
    stamp = NOW.astimezone().strftime("%Y%m%d-%H%M")
    assert result.markdown == out / f"chronology-7-{stamp}.md"
    assert result.pdf == out / f"chronology-7-{stamp}.pdf"
    data = result.pdf.read_bytes()
    assert data.startswith(b"%PDF-")
    assert data.rstrip().endswith(b"%%EOF")
    assert result.pages > 100 and pdf_pages(data) == result.pages
    lines = result.markdown.read_text(encoding="utf-8").splitlines()
    first = next(i for i, line in enumerate(lines) if "Event 1:" in line)
    assert "Event 5000:" in lines[-3] and first < len(lines) - 3  # oldest first, every one of them
    for path in (result.markdown, result.pdf):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(out.stat().st_mode) == 0o700
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temporary files left
    if shutil.which("pdftotext"):
        page_one = subprocess.run(["pdftotext", "-f", "1", "-l", "1", str(result.pdf), "-"], capture_output=True,
                                  text=True, check=True).stdout
        assert f"page 1 of {result.pages}" in page_one
        assert "Chronology: Zofia" in page_one


def test_without_a_unicode_font_the_pdf_transliterates(store: Store, out: Path) -> None:
    store.put_chronology(7, many(60), replace=True)
    result = export_chronology(store, 7, key_only=False, start=None, end=None, folder=out, now=NOW, fonts=())
    data = result.pdf.read_bytes()
    assert data.startswith(b"%PDF-")
    text = pdf_streams_text(data)
    assert f"page 1 of {result.pages}" in text and f"page {result.pages} of {result.pages}" in text
    assert "Zofia Wisniewska" in text and "Lukasiewicz" in text
    assert "without accents" in text  # the PDF says it simplified some characters
    # the Markdown keeps the exact text
    assert "Wiśniewska" in result.markdown.read_text(encoding="utf-8")


def test_a_row_longer_than_a_page_is_split_across_pages(store: Store, out: Path) -> None:
    long = "\n".join(f"Paragraph {n} of the strategy discussion minutes." for n in range(1, 201))
    store.put_chronology(7, [event(1, "2025-01-10T12:00:00Z", kind="strategy_discussion", key=True,
                                   summary="Minutes", detail=long + " " + "x" * 300)], replace=True)
    result = export_chronology(store, 7, key_only=False, start=None, end=None, folder=out, now=NOW, fonts=())
    assert result.pages >= 3
    text = pdf_streams_text(result.pdf.read_bytes())
    assert "Paragraph 1 of" in text and "Paragraph 200 of" in text


def test_two_exports_in_one_minute_keep_both(store: Store, out: Path) -> None:
    small_chronology(store)
    first = export_chronology(store, 7, key_only=False, start=None, end=None, folder=out, now=NOW)
    second = export_chronology(store, 7, key_only=True, start=None, end=None, folder=out, now=NOW)
    assert first.markdown != second.markdown and first.pdf != second.pdf
    assert second.markdown.name.endswith("-2.md")
    assert first.markdown.exists() and second.markdown.exists()


def test_the_default_folder_is_private(store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import platformdirs

    monkeypatch.setattr(platformdirs, "user_documents_path", lambda: tmp_path / "Documents")
    small_chronology(store)
    result = export_chronology(store, 7, key_only=False, start=None, end=None, now=NOW)
    folder = tmp_path / "Documents" / "casework exports"
    assert result.markdown.parent == folder
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700


def test_a_missing_or_restricted_case_is_refused(store: Store, out: Path) -> None:
    with pytest.raises(ExportError, match="case 99 is not on this device"):
        export_chronology(store, 99, key_only=False, start=None, end=None, folder=out)
    store.put_case(case_json(8), None)
    store.put_case(case_json(8, restricted=True), None)  # sealed since: the store drops it
    with pytest.raises(ExportError, match="case 8 is not on this device"):
        export_chronology(store, 8, key_only=False, start=None, end=None, folder=out)
    assert not out.exists()


def test_a_cancelled_export_writes_nothing(store: Store, out: Path) -> None:
    store.put_chronology(7, many(50), replace=True)
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(ExportCancelled):
        export_chronology(store, 7, key_only=False, start=None, end=None, folder=out, cancel=cancel)
    assert not out.exists() or not list(out.iterdir())


# --- the small helpers ------------------------------------------------------------------------------------------


def test_latin1_safe() -> None:
    assert latin1_safe("It’s 5–6 “so”…") == "It's 5-6 \"so\"..."
    assert latin1_safe("Wiśniewski, Łukasz, Dvořák, Şahin") == "Wisniewski, Lukasz, Dvorák, Sahin"
    assert latin1_safe("Zoë Müller, José") == "Zoë Müller, José"  # Latin-1 already
    assert latin1_safe("李 🙂") == "? ?"
    assert latin1_safe("line\nbreak") == "line\nbreak"


def test_md_cell_escapes() -> None:
    assert md_cell("a | b\nc\r\nd") == "a \\| b<br>c<br>d"
    assert md_cell("<script>") == "&lt;script&gt;"
    assert md_cell(None) == ""
