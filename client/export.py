"""Export a case's chronology to Markdown and to a PDF that a family or a court can read.

No Textual here: the case screen's export dialog calls ``export_chronology`` in a
worker thread, and so could a command-line tool. Everything comes from the local
store, so an export works offline and never waits for the network.

The files hold child protection records, so they go to a folder only the user
can open (``0700``), each file is ``0600`` from the moment it exists, and each is
written to a temporary name and renamed, so a half-written export never appears.

The PDF's font: fpdf2's built-in fonts cover Latin-1 only, so the PDF embeds (a
subset of) a Unicode TrueType font when the machine has one of the usual ones
(DejaVu Sans, Liberation Sans, Noto Sans, Arial), which keeps names such as
"Wiśniewski" exactly as written. Where none is found it falls back to Helvetica
and transliterates what Latin-1 lacks: typographic punctuation to its plain
form ("’" → "'", "–" → "-", "…" → "..."), letters to their unaccented form
("ś" → "s", "ł" → "l"), anything else to "?"; the PDF then says so under its
header, and the Markdown file always keeps the exact text.
"""

from __future__ import annotations

import datetime as dt
import gc
import json
import os
import tempfile
import threading
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from client.models import Case, ChronologyEvent

if TYPE_CHECKING:
    from client.store import Store

__all__ = [
    "DEFAULT_FONTS", "EXPORT_FOLDER_NAME", "ExportCancelled", "ExportError", "ExportResult", "default_folder",
    "export_chronology", "latin1_safe",
]

EXPORT_FOLDER_NAME = "casework exports"
DIR_MODE = 0o700
FILE_MODE = 0o600
WINDOW = 500  # chronology rows read from the store at a time

#: Unicode fonts looked for, as (regular, bold) pairs; the first pair whose files both exist is embedded
DEFAULT_FONTS: tuple[tuple[Path, Path], ...] = tuple(
    (Path(regular), Path(bold)) for regular, bold in (
        ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"),
        ("/usr/share/fonts/TTF/DejaVuSans.ttf", "/usr/share/fonts/TTF/DejaVuSans-Bold.ttf"),
        ("/usr/share/fonts/dejavu/DejaVuSans.ttf", "/usr/share/fonts/dejavu/DejaVuSans-Bold.ttf"),
        ("/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
         "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf"),
        ("/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf", "/usr/share/fonts/truetype/noto/NotoSans-Bold.ttf"),
        ("/System/Library/Fonts/Supplemental/Arial.ttf", "/System/Library/Fonts/Supplemental/Arial Bold.ttf"),
        ("/Library/Fonts/Arial.ttf", "/Library/Fonts/Arial Bold.ttf"),
        ("C:/Windows/Fonts/arial.ttf", "C:/Windows/Fonts/arialbd.ttf"),
    )
)

CATEGORY_LABELS = {
    "early_help": "Early help",
    "cin": "Child in need",
    "cp": "Child protection",
    "cla": "Looked after child",
    "care_leaver": "Care leaver",
}
KIND_LABELS = {
    "ae_attendance": "A&E attendance",
    "s47": "Section 47 enquiry",
    "cp_plan": "Child protection plan",
    "core_group": "Core group",
    "strategy_discussion": "Strategy discussion",
    "police_notification": "Police notification",
    "missing_episode": "Missing episode",
    "return_interview": "Return interview",
    "placement_move": "Placement move",
    "management_oversight": "Management oversight",
}
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


class ExportError(Exception):
    """The export could not be made; the message says why, in words for the user."""


class ExportCancelled(ExportError):
    """The user cancelled; nothing was written."""


@dataclass(frozen=True, slots=True)
class ExportResult:
    markdown: Path
    pdf: Path
    events: int
    pages: int = 0


# --- small formatters (client/ must not import screens) -------------------------------------------------------


def _parse_moment(text: str | None) -> dt.datetime | dt.date | None:
    """A UTC timestamp as local time, or a bare date; None when it is not a date at all."""
    if not text:
        return None
    try:
        if len(text) <= 10:
            return dt.date.fromisoformat(text)
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            return dt.date.fromisoformat(text[:10])
        except ValueError:
            return None
    return moment.astimezone() if moment.tzinfo else moment


def _day(text: str | None) -> dt.date | None:
    moment = _parse_moment(text)
    if isinstance(moment, dt.datetime):
        return moment.date()
    return moment


def format_date(day: dt.date | None) -> str:
    """"12 Mar 2014": the day first, the month in words, so nobody reads 03/12 as December."""
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}" if day else ""


def format_moment(text: str | None) -> str:
    """"20 Nov 2025 22:00" in local time; the date alone for a date."""
    moment = _parse_moment(text)
    if isinstance(moment, dt.datetime):
        return f"{format_date(moment.date())} {moment:%H:%M}"
    return format_date(moment) if moment else (text or "")


def age_text(dob: str | None, on: dt.date) -> str:
    """"12 years", "18 months"; "" when unknown."""
    born = _day(dob)
    if born is None:
        return ""
    months = (on.year - born.year) * 12 + on.month - born.month - (1 if on.day < born.day else 0)
    if months < 0:
        return "not yet born"
    if months >= 24:
        years = months // 12
        return f"{years} years"
    return f"{months} month{'s' if months != 1 else ''}"


def kind_label(kind: str) -> str:
    return KIND_LABELS.get(kind) or kind.replace("_", " ").strip().capitalize() or "Event"


def _exporter(store: Store) -> str:
    """Who is exporting: the signed-in user the store remembers ("Pat Jones (pat)")."""
    raw = store.get_meta("me")
    if not raw:
        return ""
    if raw.startswith("{"):
        try:
            me = json.loads(raw)
        except ValueError:
            return ""
        name, username = str(me.get("display_name") or ""), str(me.get("username") or "")
        if name and username and name != username:
            return f"{name} ({username})"
        return name or username
    return raw


# --- what goes in: the header and the events ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Document:
    title: str
    header: tuple[tuple[str, str], ...]  # (label, value) lines of the case header
    events: tuple[ChronologyEvent, ...]
    name: str
    case_id: int
    exported: str


def _header(case: Case, on: dt.date) -> list[tuple[str, str]]:
    person = case.person
    lines: list[tuple[str, str]] = [("Name", person.name)]
    if person.aliases:
        lines.append(("Also known as", ", ".join(person.aliases)))
    if person.dob:
        age = age_text(person.dob, on)
        lines.append(("Date of birth", f"{format_date(_day(person.dob))}" + (f" (age {age})" if age else "")))
    elif person.expected_dob:
        lines.append(("Expected date of birth", format_date(_day(person.expected_dob))))
    ids = [f"case {case.id}", f"LA child ID {person.la_child_id}"]
    if person.nhs_number:
        nhs = person.nhs_number
        ids.append(f"NHS number {nhs[:3]} {nhs[3:6]} {nhs[6:]}" if len(nhs) == 10 else f"NHS number {nhs}")
    if person.upn:
        ids.append(f"UPN {person.upn}")
    lines.append(("Identifiers", " · ".join(ids)))
    status = CATEGORY_LABELS.get(case.category, case.category)
    if case.status == "closed":
        status += f" (closed {format_date(_day(case.closed_at))})".replace(" )", ")")
    lines.append(("Category", status))
    lines.append(("Legal status", case.legal_status or "none recorded"))
    worker = case.allocated_worker_name or case.allocated_worker
    if worker and case.allocated_worker and case.allocated_worker_name and \
            case.allocated_worker != case.allocated_worker_name:
        worker = f"{case.allocated_worker_name} ({case.allocated_worker})"
    lines.append(("Allocated worker", f"{worker or 'unallocated'}, {case.team}"))
    if case.flags:
        flags = "; ".join(f.label + (f" (since {format_date(_day(f.since))})" if f.since else "")
                          for f in case.flags)
    else:
        flags = "none"
    lines.append(("Flags", flags))
    where = case.whereabouts
    place = ", ".join(x for x in (where.placement_type, where.carer, where.address or person.address) if x)
    if where.missing_since:
        now = f"MISSING since {format_moment(where.missing_since)}" + (f"; last placement: {place}" if place else "")
    else:
        now = place or "not recorded"
        if where.since and place:
            now += f" (since {format_date(_day(where.since))})"
    lines.append(("Current whereabouts", now))
    return lines


def _read_events(store: Store, case_id: int, key_only: bool, start: dt.date | None, end: dt.date | None,
                 cancel: threading.Event | None) -> list[ChronologyEvent]:
    """The chronology in windows (the store gives it newest first), filtered, oldest first."""
    total = store.chronology_count(case_id, key_only=key_only)
    found: list[ChronologyEvent] = []
    seen: set[int] = set()
    offset = 0
    while offset < total:
        if cancel is not None and cancel.is_set():
            raise ExportCancelled("export cancelled")
        window = store.chronology_window(case_id, offset, WINDOW, key_only=key_only)
        if not window:
            break
        offset += len(window)
        for event in window:
            if event.id in seen:
                continue  # the sync engine wrote between two windows
            seen.add(event.id)
            if start is not None or end is not None:
                day = _day(event.occurred_at)
                if day is None or (end is not None and day > end):
                    continue
                if start is not None and day < start:
                    # newest first: everything from here on is older still
                    found.reverse()
                    return found
            found.append(event)
    found.reverse()
    return found


def _range_text(key_only: bool, start: dt.date | None, end: dt.date | None, count: int) -> str:
    which = "Key events only" if key_only else "All events"
    if start and end:
        span = f"from {format_date(start)} to {format_date(end)}"
    elif start:
        span = f"from {format_date(start)} onwards"
    elif end:
        span = f"up to {format_date(end)}"
    else:
        span = "whole chronology"
    return f"{which}, {span}; {count:,} event{'s' if count != 1 else ''}, oldest first"


# --- Markdown ----------------------------------------------------------------------------------------------------


def md_cell(text: str | None) -> str:
    """Text safe inside a Markdown table cell: | escaped, line breaks as <br>, no stray HTML."""
    if not text:
        return ""
    text = text.replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")
    lines = [line.strip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    return "<br>".join(lines)


def _md_text(text: str) -> str:
    """Text for a Markdown line outside a table: nothing in it may start a heading, list or emphasis."""
    for char in ("\\", "*", "_", "`", "[", "]", "<", ">", "#"):
        text = text.replace(char, "\\" + char)
    return " ".join(text.split())


def _source(event: ChronologyEvent) -> str:
    parts = [event.source_agency or ""]
    if event.author:
        parts.append(f"recorded by {event.author}")
    if event.id < 0:
        parts.append("not yet sent to the server")
    return "\n".join(p for p in parts if p)


def render_markdown(doc: _Document, range_text: str) -> str:
    out = [f"# {_md_text(doc.title)}", ""]
    for label, value in doc.header:
        out.append(f"- **{label}:** {_md_text(value)}")
    out.append(f"- **Events:** {_md_text(range_text)}")
    out.append(f"- **Exported:** {_md_text(doc.exported)}")
    out += ["", "## Chronology", ""]
    if not doc.events:
        out.append("No chronology events match this filter.")
    else:
        out.append("Key events are marked **(key event)**.")
        out.append("")
        out.append("| Date | Event | Source | Summary |")
        out.append("| --- | --- | --- | --- |")
        for event in doc.events:
            what = md_cell(kind_label(event.kind))
            if event.key_event:
                what = f"**{what}** (key event)"
            summary = md_cell(event.summary)
            if event.detail and event.detail.strip():
                summary = f"{summary}<br><br>{md_cell(event.detail)}" if summary else md_cell(event.detail)
            out.append(f"| {md_cell(format_moment(event.occurred_at))} | {what} | {md_cell(_source(event))} "
                       f"| {summary} |")
    out += ["", f"End of chronology: {len(doc.events):,} event{'s' if len(doc.events) != 1 else ''}.", ""]
    return "\n".join(out)


# --- PDF ---------------------------------------------------------------------------------------------------------

_PLAIN = {
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"',
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2015": "-", "\u2212": "-",
    "\u2026": "...", "\u2022": "-", "\u00b7": "\u00b7", "\u2192": "->", "\u2190": "<-", "\u2122": "TM",
    "\u20ac": "EUR", "\u2009": " ", "\u200a": " ", "\u202f": " ", "\u2007": " ", "\u2002": " ", "\u2003": " ",
    "\u200b": "", "\u200c": "", "\u200d": "", "\ufeff": "", "\u2028": "\n", "\u2029": "\n",
    # letters that have no decomposition to a base letter
    "\u0141": "L", "\u0142": "l", "\u0110": "D", "\u0111": "d", "\u0126": "H", "\u0127": "h", "\u0131": "i",
    "\u0152": "OE", "\u0153": "oe", "\u0166": "T", "\u0167": "t", "\u014a": "N", "\u014b": "n",
    "\u0138": "k", "\u0218": "S", "\u0219": "s", "\u021a": "T", "\u021b": "t", "\u1e9e": "SS",
}


def latin1_safe(text: str, supported: Callable[[str], bool] | None = None) -> str:
    """``text`` with every character outside Latin-1 (or that ``supported`` rejects) replaced by its plain
    form: typographic punctuation by ASCII, an accented letter by its base letter, anything else by "?"."""
    ok = supported or (lambda ch: ord(ch) < 256)
    if all(ok(ch) or ch == "\n" for ch in text):
        return text
    out = []
    for ch in text:
        if ch == "\n" or ok(ch):
            out.append(ch)
            continue
        plain = _PLAIN.get(ch)
        if plain is None:
            base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
            plain = base if base and all(ok(c) for c in base) else "?"
        out.append(plain if all(ok(c) or c == "\n" for c in plain) else "?")
    return "".join(out)


def _choose_font(fonts: Iterable[tuple[Path, Path]]) -> tuple[Path, Path] | None:
    for regular, bold in fonts:
        if regular.is_file() and bold.is_file():
            return regular, bold
    return None


class _Table:
    """The chronology table, laid out by hand.

    fpdf2's table API measures text again for every character it adds to a line, which takes
    about 30 s for 5,000 events; here each glyph's width is measured once, lines are wrapped by
    words, and each is drawn with ``text()``: about 20 times faster. The heading row repeats on
    every page, and a row taller than what is left of a page goes to the next one (one taller than
    a whole page is split across pages)."""

    COLUMNS = (("Date", 27.0), ("Event", 33.0), ("Source", 32.0), ("Summary", 88.0))
    SIZE = 8.5  # points
    LINE = 4.0  # mm between baselines
    PAD_X, PAD_Y = 1.5, 1.3

    def __init__(self, pdf: Any, family: str, clean: Callable[[str], str]) -> None:
        self.pdf, self.family, self.clean = pdf, family, clean
        self._widths: dict[tuple[str, str], float] = {}
        self.y = pdf.get_y()
        self.baseline = self.PAD_Y + (self.LINE + self.SIZE * 0.3528 * 0.7) / 2

    def _char(self, ch: str, style: str) -> float:
        width = self._widths.get((style, ch))
        if width is None:
            self.pdf.set_font(self.family, style, self.SIZE)
            width = self._widths[(style, ch)] = self.pdf.get_string_width(ch)
        return width

    def _width(self, text: str, style: str) -> float:
        return sum(self._char(ch, style) for ch in text)

    def wrap(self, text: str, width: float, style: str) -> list[str]:
        lines: list[str] = []
        space = self._char(" ", style)
        for paragraph in self.clean(text).split("\n"):
            line, used = "", 0.0
            for word in paragraph.split():
                w = self._width(word, style)
                while w > width:  # a word longer than the column: break it where it overflows
                    if line:
                        lines.append(line)
                        line, used = "", 0.0
                    cut, part = 0, 0.0
                    while cut < len(word) and part + self._char(word[cut], style) <= width:
                        part += self._char(word[cut], style)
                        cut += 1
                    cut = max(cut, 1)
                    lines.append(word[:cut])
                    word = word[cut:]
                    w = self._width(word, style)
                if not word:
                    continue
                if line and used + space + w <= width:
                    line, used = f"{line} {word}", used + space + w
                elif line:
                    lines.append(line)
                    line, used = word, w
                else:
                    line, used = word, w
            lines.append(line)
        while len(lines) > 1 and not lines[-1]:
            lines.pop()
        return lines

    def heading(self) -> None:
        pdf = self.pdf
        height = self.LINE + 2 * self.PAD_Y
        pdf.set_fill_color(225)
        pdf.rect(pdf.l_margin, self.y, pdf.epw, height, style="F")
        pdf.set_font(self.family, "B", self.SIZE)
        x = pdf.l_margin
        for title, width in self.COLUMNS:
            pdf.text(x + self.PAD_X, self.y + self.baseline, title)
            x += width
        self.y += height
        self._rule(dark=True)

    def _rule(self, dark: bool = False) -> None:
        pdf = self.pdf
        pdf.set_draw_color(110 if dark else 190)
        pdf.set_line_width(0.3 if dark else 0.2)
        pdf.line(pdf.l_margin, self.y, pdf.l_margin + pdf.epw, self.y)

    def _new_page(self) -> None:
        self.pdf.add_page()
        self.y = self.pdf.get_y()
        self.heading()

    def row(self, cells: Sequence[tuple[str, str]]) -> None:
        pdf = self.pdf
        columns = [self.wrap(text, width - 2 * self.PAD_X, style)
                   for (text, style), (_title, width) in zip(cells, self.COLUMNS)]
        styles = [style for _text, style in cells]
        total = max(len(lines) for lines in columns)
        bottom = pdf.page_break_trigger
        full_page = int((bottom - pdf.t_margin - 12 - 2 * self.PAD_Y) // self.LINE)  # lines on a fresh page
        done = 0
        while done < total:
            fit = int((bottom - self.y - 2 * self.PAD_Y) // self.LINE)
            left = total - done
            if fit < left and (left <= full_page or fit < 3):
                self._new_page()  # keep a row whole when it can be; else split it, but not for a line or two
                continue
            take = min(fit, left)
            x = pdf.l_margin
            for lines, style, (_title, width) in zip(columns, styles, self.COLUMNS):
                chunk = lines[done:done + take]
                if chunk:
                    pdf.set_font(self.family, style, self.SIZE)
                    for k, line in enumerate(chunk):
                        if line:
                            pdf.text(x + self.PAD_X, self.y + self.baseline + k * self.LINE, line)
                x += width
            self.y += take * self.LINE + 2 * self.PAD_Y
            self._rule()
            done += take


def render_pdf(doc: _Document, range_text: str, fonts: Iterable[tuple[Path, Path]],
               cancel: threading.Event | None) -> tuple[bytes, int]:
    """The PDF's bytes and its page count."""
    # imported here: fpdf2 brings Pillow and fontTools, which nothing else on the key-press path needs
    from fpdf import FPDF
    from fpdf.enums import Align, XPos, YPos

    chosen = _choose_font(fonts)
    changed = False

    class ChronologyPDF(FPDF):
        def header(self) -> None:
            self.set_font(family, "", 8)
            self.set_text_color(90)
            self.cell(0, 5, clean(f"Chronology: {doc.name} (case {doc.case_id})"), new_x=XPos.LMARGIN,
                      new_y=YPos.TOP)
            self.cell(0, 5, "OFFICIAL-SENSITIVE", align=Align.R, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            self.set_draw_color(160)
            self.line(self.l_margin, self.get_y() + 1, self.w - self.r_margin, self.get_y() + 1)
            self.ln(5)
            self.set_text_color(0)

        def footer(self) -> None:
            self.set_y(-13)
            self.set_font(family, "", 8)
            self.set_text_color(90)
            self.cell(0, 5, clean(f"Exported {doc.exported}"), new_x=XPos.LMARGIN, new_y=YPos.TOP)
            self.cell(0, 5, f"page {self.page_no()} of {{nb}}", align=Align.R)
            self.set_text_color(0)

    pdf = ChronologyPDF(orientation="portrait", unit="mm", format="A4")
    pdf.set_title(latin1_safe(doc.title) if chosen is None else doc.title)
    pdf.set_author(latin1_safe(doc.exported) if chosen is None else doc.exported)
    pdf.set_creator("casework")
    pdf.set_margins(15, 14, 15)
    pdf.set_auto_page_break(True, margin=18)
    if chosen is not None:
        family = "body"
        pdf.add_font(family, "", str(chosen[0]))
        pdf.add_font(family, "B", str(chosen[1]))
        pdf.set_font(family, "", 10)
        cmap = set(pdf.current_font.cmap)  # code points the font has glyphs for

        def supported(ch: str) -> bool:
            return ord(ch) in cmap or ch in " \t"
    else:
        family = "helvetica"

        def supported(ch: str) -> bool:
            return ord(ch) < 256

    def clean(text: str) -> str:
        nonlocal changed
        safe = latin1_safe(text, supported)
        changed = changed or safe != text
        return safe

    pdf.add_page()
    pdf.set_font(family, "B", 18)
    pdf.multi_cell(0, 9, clean(doc.title), align=Align.L, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(2)

    # the case header: labels in bold, the values beside them
    label_w, line_h = 44, 5.2
    for label, value in [*doc.header, ("Events", range_text), ("Exported", doc.exported)]:
        pdf.set_font(family, "B", 9.5)
        label_lines = pdf.multi_cell(label_w, line_h, clean(label), dry_run=True, output="LINES")
        pdf.set_font(family, "", 9.5)
        value_lines = pdf.multi_cell(pdf.epw - label_w, line_h, clean(value), dry_run=True, output="LINES")
        height = line_h * max(len(label_lines), len(value_lines), 1)
        if pdf.will_page_break(height):
            pdf.add_page()
        y = pdf.get_y()
        pdf.set_font(family, "B", 9.5)
        pdf.multi_cell(label_w, line_h, clean(label), align=Align.L, new_x=XPos.RIGHT, new_y=YPos.TOP)
        pdf.set_font(family, "", 9.5)
        pdf.multi_cell(0, line_h, clean(value), align=Align.L, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_y(y + height + 0.8)

    pdf.ln(3)
    pdf.set_font(family, "B", 13)
    pdf.cell(0, 7, "Chronology", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(family, "", 8.5)
    pdf.set_text_color(70)
    pdf.multi_cell(0, 4.5, "Oldest first. Key events are in bold. Times are local.", align=Align.L, new_x=XPos.LMARGIN,
                   new_y=YPos.NEXT)
    pdf.set_text_color(0)
    notice_at = (pdf.page_no(), pdf.get_y())
    pdf.ln(6)  # room for the transliteration notice, written once we know whether it is needed

    if not doc.events:
        pdf.set_font(family, "", 10)
        pdf.cell(0, 8, "No chronology events match this filter.", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    else:
        table = _Table(pdf, family, clean)
        table.heading()
        for n, event in enumerate(doc.events):
            if cancel is not None and n % 200 == 0 and cancel.is_set():
                raise ExportCancelled("export cancelled")
            summary = (event.summary or "").strip()
            if event.detail and event.detail.strip():
                summary = f"{summary}\n{event.detail.strip()}" if summary else event.detail.strip()
            strong = "B" if event.key_event else ""
            table.row(((format_moment(event.occurred_at), strong),
                       (kind_label(event.kind) + ("\n(key event)" if event.key_event else ""), strong),
                       (_source(event), ""), (summary, "")))
        pdf.set_y(table.y)

    pdf.set_font(family, "", 8.5)
    pdf.ln(3)
    pdf.cell(0, 5, f"End of chronology: {len(doc.events):,} event{'s' if len(doc.events) != 1 else ''}.",
             new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    if changed:
        # back to the first page: say that some characters were simplified
        last_page, last_y = pdf.page_no(), pdf.get_y()
        pdf.page = notice_at[0]
        pdf.set_xy(pdf.l_margin, notice_at[1])
        pdf.set_font(family, "", 7.5)
        pdf.set_text_color(70)
        pdf.cell(0, 4.5, "Some characters that this PDF's font cannot show are written without accents or as "
                         "\"?\"; the Markdown export has the exact text.")
        pdf.set_text_color(0)
        pdf.page = last_page
        pdf.set_y(last_y)

    pages = pdf.pages_count
    return bytes(pdf.output()), pages


_gc_lock = threading.Lock()
_gc_holders = 0
_gc_was_enabled = True


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Hold off Python's cyclic garbage collector while the export builds its objects.

    A full collection over the tens of thousands of objects a 5,000-event PDF makes holds the
    interpreter lock for up to half a second, which froze the UI thread's event loop while the
    export ran in its worker thread. Reference counting still frees nearly everything; the
    collector is switched back on (if it was on) as soon as the last export in flight ends."""
    global _gc_holders, _gc_was_enabled
    with _gc_lock:
        if _gc_holders == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_holders += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_holders -= 1
            if _gc_holders == 0 and _gc_was_enabled:
                gc.enable()


# --- files -------------------------------------------------------------------------------------------------------


def default_folder() -> Path:
    # imported here: platformdirs is light, but the store and --help should not pay for it
    from platformdirs import user_documents_path

    return user_documents_path() / EXPORT_FOLDER_NAME


def _private_folder(folder: Path, *, ours: bool) -> None:
    if not folder.exists():
        folder.mkdir(parents=True, mode=DIR_MODE, exist_ok=True)
        os.chmod(folder, DIR_MODE)  # whatever the umask
    elif not folder.is_dir():
        raise ExportError(f"cannot export to {folder}: it is not a folder")
    elif ours:
        os.chmod(folder, DIR_MODE)


def _free_stem(folder: Path, stem: str) -> str:
    """``stem``, or ``stem-2``… if an export of the same minute is already there."""
    candidate, n = stem, 1
    while (folder / f"{candidate}.md").exists() or (folder / f"{candidate}.pdf").exists():
        n += 1
        candidate = f"{stem}-{n}"
    return candidate


def _write_atomic(path: Path, data: bytes) -> None:
    """Write to a private temporary file beside ``path``, flush it to disk, then rename it into place."""
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        if hasattr(os, "fchmod"):
            os.fchmod(fd, FILE_MODE)  # mkstemp makes it 0600 already; say so whatever the platform
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        try:
            os.unlink(temp)
        except OSError:
            pass
        raise


def export_chronology(store: Store, case_id: int, *, key_only: bool = False, start: dt.date | None = None,
                      end: dt.date | None = None, folder: Path | None = None, now: dt.datetime | None = None,
                      fonts: Sequence[tuple[Path, Path]] | None = None,
                      cancel: threading.Event | None = None) -> ExportResult:
    """Write the case's chronology as ``chronology-<case>-<YYYYMMDD-HHMM>.md`` and ``.pdf`` in ``folder``.

    ``key_only``, ``start`` and ``end`` (inclusive, local dates) filter the events; ``now`` is the export time
    (for tests); ``fonts`` overrides the Unicode fonts looked for (``()`` forces the Latin-1 fallback);
    setting ``cancel`` stops the export before anything is written. Raises ExportError."""
    if start is not None and end is not None and start > end:
        raise ExportError(f"the start date {start.isoformat()} is after the end date {end.isoformat()}")
    with _gc_paused():
        return _export(store, case_id, key_only=key_only, start=start, end=end, folder=folder, now=now,
                       fonts=fonts, cancel=cancel)


def _export(store: Store, case_id: int, *, key_only: bool, start: dt.date | None, end: dt.date | None,
            folder: Path | None, now: dt.datetime | None, fonts: Sequence[tuple[Path, Path]] | None,
            cancel: threading.Event | None) -> ExportResult:
    cached = store.case(case_id)
    if cached is None:
        raise ExportError(f"case {case_id} is not on this device (it may be restricted, or not synced yet), "
                          "so it cannot be exported")
    case = cached.value
    moment = (now or dt.datetime.now()).astimezone()
    events = _read_events(store, case_id, key_only, start, end, cancel)
    who = _exporter(store)
    exported = f"{format_date(moment.date())} {moment:%H:%M}" + (f" by {who}" if who else "")
    name = case.person.name
    doc = _Document(title=f"Chronology: {name}", header=tuple(_header(case, moment.date())), events=tuple(events),
                    name=name, case_id=case_id, exported=exported)
    range_text = _range_text(key_only, start, end, len(events))

    markdown = render_markdown(doc, range_text).encode("utf-8")
    pdf_bytes, pages = render_pdf(doc, range_text, DEFAULT_FONTS if fonts is None else fonts, cancel)
    if cancel is not None and cancel.is_set():
        raise ExportCancelled("export cancelled")

    ours = folder is None
    target = default_folder() if folder is None else Path(folder).expanduser()
    try:
        _private_folder(target, ours=ours)
        stem = _free_stem(target, f"chronology-{case_id}-{moment:%Y%m%d-%H%M}")
        md_path, pdf_path = target / f"{stem}.md", target / f"{stem}.pdf"
        _write_atomic(md_path, markdown)
        try:
            _write_atomic(pdf_path, pdf_bytes)
        except BaseException:
            md_path.unlink(missing_ok=True)  # both files or neither
            raise
    except OSError as error:
        raise ExportError(f"cannot write the export to {target}: {error.strerror or error}") from error
    return ExportResult(markdown=md_path, pdf=pdf_path, events=len(events), pages=pages)
