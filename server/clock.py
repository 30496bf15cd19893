"""Time as the Case API writes it: ISO-8601 UTC text to the second."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def now_iso() -> str:
    return iso(now())


def today() -> date:
    return now().date()


def in_seconds(seconds: int) -> str:
    return iso(now() + timedelta(seconds=seconds))
