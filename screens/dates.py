"""Dates as people type them in a prompt: "2d", "1w", "tomorrow", "mon", "2026-12-01", "1/12/2026", "1 dec".

Pure functions, no Textual. A date that cannot be read raises ``WhenError`` whose
message is one line, fit to show in the prompt as the reason. ``Typed`` is the
prompt's own line editing.
"""

from __future__ import annotations

import datetime as dt
import re

EXAMPLES = "2d, 1w, tomorrow, mon, 2026-12-01, 1/12/2026 or 1 dec"

WEEKDAYS: dict[str, int] = {}
for _number, _names in enumerate((("mon", "monday"), ("tue", "tues", "tuesday"), ("wed", "weds", "wednesday"),
                                  ("thu", "thur", "thurs", "thursday"), ("fri", "friday"),
                                  ("sat", "saturday"), ("sun", "sunday"))):
    for _name in _names:
        WEEKDAYS[_name] = _number

MONTHS: dict[str, int] = {}
for _number, _name in enumerate(("january", "february", "march", "april", "may", "june", "july", "august",
                                 "september", "october", "november", "december"), start=1):
    MONTHS[_name] = MONTHS[_name[:3]] = _number
MONTHS["sept"] = 9

_MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
                "November", "December")
_DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

_RELATIVE = re.compile(r"\+?(\d{1,4})\s*(d|day|days|w|wk|wks|week|weeks)")
_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_NUMERIC = re.compile(r"(\d{1,2})[/.\-](\d{1,2})(?:[/.\-](\d{2}|\d{4}))?")
_DAY_MONTH = re.compile(r"(\d{1,2})(?:st|nd|rd|th)?\s+([a-z]+)\.?(?:\s+(\d{4}))?")
_MONTH_DAY = re.compile(r"([a-z]+)\.?\s+(\d{1,2})(?:st|nd|rd|th)?(?:,?\s+(\d{4}))?")


class WhenError(ValueError):
    """The text is not a date after today; ``str(error)`` is the reason, in one line."""


def parse_when(text: str, today: dt.date) -> dt.date:
    """The date ``text`` means, which must be after ``today``.

    Accepts a number of days or weeks ahead ("2d", "1w", "3 days"), "tomorrow", a weekday ("mon",
    "monday": the next one, a week on if today is that day), an ISO date ("2026-12-01"), a UK
    day/month date ("1/12/2026", "1/12/26", "1/12": the next 1 December) and a day and month name
    ("1 dec", "1st December 2026", "dec 1").
    """
    words = " ".join(text.strip().lower().split())
    if not words:
        raise WhenError(f"type a date: {EXAMPLES}")
    when = _read(words, today)
    if when is None:
        raise WhenError(f"{text.strip()!r} is not a date I know; try {EXAMPLES}")
    if when == today:
        raise WhenError("that is today; snooze to a later day")
    if when < today:
        raise WhenError(f"{describe(when, today)} is in the past; pick a day after today")
    return when


def describe(day: dt.date, today: dt.date) -> str:
    """"Mon 23 Nov 2026 (in 2d)"."""
    delta = (day - today).days
    ago = f"in {delta}d" if delta > 0 else ("today" if delta == 0 else f"{-delta}d ago")
    return f"{_DAY_NAMES[day.weekday()]} {day.day} {_MONTH_NAMES[day.month - 1][:3]} {day.year} ({ago})"


def _read(words: str, today: dt.date) -> dt.date | None:
    if words in ("tomorrow", "tmrw", "tmw", "tom"):
        return today + dt.timedelta(days=1)
    if words == "today":
        return today
    if words in WEEKDAYS:
        ahead = (WEEKDAYS[words] - today.weekday()) % 7 or 7
        return today + dt.timedelta(days=ahead)
    if m := _RELATIVE.fullmatch(words):
        count, unit = int(m.group(1)), m.group(2)
        days = count * 7 if unit.startswith("w") else count
        return _plus(today, days)
    if m := _ISO.fullmatch(words):
        return _make(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    if m := _NUMERIC.fullmatch(words):
        return _day_month(int(m.group(1)), int(m.group(2)), m.group(3), today)
    if m := _DAY_MONTH.fullmatch(words):
        return _named(m.group(1), m.group(2), m.group(3), today)
    if m := _MONTH_DAY.fullmatch(words):
        return _named(m.group(2), m.group(1), m.group(3), today)
    return None


def _plus(today: dt.date, days: int) -> dt.date:
    try:
        return today + dt.timedelta(days=days)
    except OverflowError:
        raise WhenError("that is too far ahead") from None


def _make(year: int, month: int, day: int) -> dt.date:
    if not 1 <= month <= 12:
        raise WhenError(f"there is no month {month}; UK dates are day/month/year")
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise WhenError(f"there is no {day} {_MONTH_NAMES[month - 1]} {year}") from None


def _day_month(day: int, month: int, year: str | None, today: dt.date) -> dt.date:
    if year is not None:
        return _make(int(year) + (2000 if len(year) == 2 else 0), month, day)
    if (month, day) == (2, 29):
        return _leap_day(today)
    when = _make(today.year, month, day)
    return when if when > today else _make(today.year + 1, month, day)


def _leap_day(today: dt.date) -> dt.date:
    """The next 29 February after today."""
    year = today.year
    while True:
        try:
            when = dt.date(year, 2, 29)
        except ValueError:
            year += 1
            continue
        if when > today:
            return when
        year += 1


def _named(day: str, month_name: str, year: str | None, today: dt.date) -> dt.date | None:
    month = MONTHS.get(month_name)
    if month is None:
        return None
    return _day_month(int(day), month, year, today)


class Typed:
    """The text typed at a one-line date prompt and the cursor in it, edited with the keys a short answer needs.

    The work tray draws its snooze prompt as one line of text rather than in an ``Input``: moving focus to an
    Input and back restyles both widgets and repaints the whole tray, several milliseconds a key, where
    redrawing one line costs almost nothing. Key names are Textual's (``backspace``, ``ctrl+w``…); no
    Textual import is needed here."""

    def __init__(self, text: str = "") -> None:
        self.text = text
        self.cursor = len(text)

    def insert(self, text: str) -> None:
        self.text = self.text[: self.cursor] + text + self.text[self.cursor:]
        self.cursor += len(text)

    def key(self, key: str, character: str | None = None) -> bool:
        """Apply one key press (``character`` is the printable character it types, if any). False if it is
        not an editing key, and nothing changed."""
        before, after = self.text[: self.cursor], self.text[self.cursor:]
        if character:
            self.insert(character)
        elif key == "backspace":
            self.text, self.cursor = before[:-1] + after, max(self.cursor - 1, 0)
        elif key == "delete":
            self.text = before + after[1:]
        elif key == "left":
            self.cursor = max(self.cursor - 1, 0)
        elif key == "right":
            self.cursor = min(self.cursor + 1, len(self.text))
        elif key in ("home", "ctrl+a"):
            self.cursor = 0
        elif key in ("end", "ctrl+e"):
            self.cursor = len(self.text)
        elif key == "ctrl+u":  # as a shell's line editing: everything before the cursor
            self.text, self.cursor = after, 0
        elif key == "ctrl+k":
            self.text = before
        elif key == "ctrl+w":  # the word before the cursor, with any blanks between it and the cursor
            kept = before.rstrip()
            kept = kept[: len(kept) - len(kept.split()[-1])] if kept.split() else ""
            self.text, self.cursor = kept + after, len(kept)
        else:
            return False
        return True
