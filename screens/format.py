"""Plain-text formatting shared by the screens: ages, dates, labels. No Textual here."""

from __future__ import annotations

import datetime as dt

CATEGORY_LABELS = {
    "early_help": "Early help",
    "cin": "Child in need",
    "cp": "Child protection",
    "cla": "Looked after",
    "care_leaver": "Care leaver",
}
CATEGORY_SHORT = {"early_help": "EH", "cin": "CIN", "cp": "CP", "cla": "CLA", "care_leaver": "CL"}

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def today() -> dt.date:
    return dt.date.today()


def parse_date(text: str | None) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        return None


def age(dob: str | None, on: dt.date | None = None) -> str:
    """"12y", "7m" for a baby, "" when unknown."""
    born = parse_date(dob)
    if born is None:
        return ""
    on = on or today()
    months = (on.year - born.year) * 12 + on.month - born.month - (1 if on.day < born.day else 0)
    if months < 0:
        return "unborn"
    return f"{months // 12}y" if months >= 24 else f"{months}m"


def short_date(text: str | None) -> str:
    """"12 Mar 2014"."""
    day = parse_date(text)
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}" if day else ""


def short_datetime(text: str | None) -> str:
    """"20 Nov 22:00" for the current year, else "20 Nov 2025 22:00"."""
    day = parse_date(text)
    if day is None or text is None:
        return ""
    clock = text[11:16] if len(text) >= 16 else ""
    year = "" if day.year == today().year else f" {day.year}"
    return f"{day.day} {MONTHS[day.month - 1]}{year} {clock}".strip()


def days_since(text: str | None, on: dt.date | None = None) -> str:
    day = parse_date(text)
    if day is None:
        return "never"
    return f"{((on or today()) - day).days}d"


def due_label(text: str | None, on: dt.date | None = None) -> str:
    """"overdue 3d", "today", "in 5d"."""
    day = parse_date(text)
    if day is None:
        return ""
    delta = (day - (on or today())).days
    if delta < 0:
        return f"overdue {-delta}d"
    if delta == 0:
        return "today"
    return f"in {delta}d"


def is_overdue(text: str | None, on: dt.date | None = None) -> bool:
    day = parse_date(text)
    return day is not None and day < (on or today())


def as_of(text: str | None) -> str:
    """"as of 14:02" (local time) for a UTC timestamp."""
    if not text:
        return ""
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return ""
    local = moment.astimezone()
    if local.date() == dt.date.today():
        return f"as of {local:%H:%M}"
    return f"as of {local.day} {MONTHS[local.month - 1]} {local:%H:%M}"
