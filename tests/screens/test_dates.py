"""screens.dates: every form a snooze date may be typed in, and the one-line reasons for the rest."""

from __future__ import annotations

import datetime as dt

import pytest

from screens.dates import Typed, WhenError, describe, parse_when

TODAY = dt.date(2026, 11, 21)  # a Saturday
D = dt.date


@pytest.mark.parametrize(("text", "expected"), [
    ("2d", D(2026, 11, 23)),
    ("1d", D(2026, 11, 22)),
    ("+3d", D(2026, 11, 24)),
    ("10 days", D(2026, 12, 1)),
    ("1 day", D(2026, 11, 22)),
    ("1w", D(2026, 11, 28)),
    ("2 weeks", D(2026, 12, 5)),
    ("3wk", D(2026, 12, 12)),
    ("tomorrow", D(2026, 11, 22)),
    ("Tomorrow", D(2026, 11, 22)),
    ("tmrw", D(2026, 11, 22)),
    ("mon", D(2026, 11, 23)),
    ("monday", D(2026, 11, 23)),
    ("MON", D(2026, 11, 23)),
    ("tue", D(2026, 11, 24)),
    ("thurs", D(2026, 11, 26)),
    ("fri", D(2026, 11, 27)),
    ("sat", D(2026, 11, 28)),  # today is a Saturday: the next one
    ("saturday", D(2026, 11, 28)),
    ("sun", D(2026, 11, 22)),
    ("2026-12-01", D(2026, 12, 1)),
    ("2027-1-5", D(2027, 1, 5)),
    ("1/12/2026", D(2026, 12, 1)),  # UK: day/month
    ("01/12/2026", D(2026, 12, 1)),
    ("1/12/26", D(2026, 12, 1)),
    ("1.12.2026", D(2026, 12, 1)),
    ("1-12-2026", D(2026, 12, 1)),
    ("1/12", D(2026, 12, 1)),
    ("5/1", D(2027, 1, 5)),  # no year: the next 5 January
    ("21/11", D(2027, 11, 21)),  # ... and today's day and month mean next year
    ("1 dec", D(2026, 12, 1)),
    ("1 Dec", D(2026, 12, 1)),
    ("1st december", D(2026, 12, 1)),
    ("1 dec 2027", D(2027, 12, 1)),
    ("3 jan", D(2027, 1, 3)),
    ("dec 1", D(2026, 12, 1)),
    ("sept 9", D(2027, 9, 9)),
    ("29/2", D(2028, 2, 29)),  # the next leap day
    ("  2d  ", D(2026, 11, 23)),
])
def test_accepted(text: str, expected: dt.date) -> None:
    assert parse_when(text, TODAY) == expected


@pytest.mark.parametrize(("text", "reason"), [
    ("", "type a date: 2d, 1w, tomorrow, mon"),
    ("   ", "type a date"),
    ("soon", "'soon' is not a date I know; try 2d"),
    ("2x", "is not a date I know"),
    ("dec", "is not a date I know"),
    ("1 smarch", "is not a date I know"),
    ("today", "that is today"),
    ("0d", "that is today"),
    ("2026-11-21", "that is today"),
    ("2026-11-20", "Fri 20 Nov 2026 (1d ago) is in the past"),
    ("1/1/2026", "is in the past"),
    ("31/2/2027", "there is no 31 February 2027"),
    ("2027-02-29", "there is no 29 February 2027"),
    ("1/13/2026", "there is no month 13; UK dates are day/month/year"),
    ("12/25/2026", "there is no month 25"),
    ("2026-13-01", "there is no month 13"),
    ("32 dec", "there is no 32 December"),
    ("9999d", None),  # far, but a date
])
def test_refused_with_a_reason(text: str, reason: str | None) -> None:
    if reason is None:
        assert parse_when(text, TODAY) > TODAY
        return
    with pytest.raises(WhenError) as error:
        parse_when(text, TODAY)
    message = str(error.value)
    assert reason in message and "\n" not in message


def test_too_far_ahead_is_a_reason_not_a_traceback() -> None:
    with pytest.raises(WhenError, match="too far ahead"):
        parse_when("9999w", dt.date(9990, 1, 1))


def test_when_error_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        parse_when("nonsense", TODAY)


def test_describe() -> None:
    assert describe(D(2026, 11, 23), TODAY) == "Mon 23 Nov 2026 (in 2d)"
    assert describe(TODAY, TODAY) == "Sat 21 Nov 2026 (today)"


def typed(keys: list[str]) -> tuple[str, int]:
    """What a prompt holds after these keys (a one-character key types itself), and where its cursor is."""
    line = Typed()
    for key in keys:
        line.key(key, key if len(key) == 1 else None)
    return line.text, line.cursor


@pytest.mark.parametrize(("keys", "expected"), [
    (["2", "d"], ("2d", 2)),
    (["2", "d", "backspace", "w"], ("2w", 2)),
    (["1", "w", "left", "left", "2"], ("21w", 1)),
    (["1", "2", "home", "delete"], ("2", 0)),
    (["1", "2", "ctrl+a", "3", "ctrl+e", "4"], ("3124", 4)),
    (["a", "b", "c", "left", "ctrl+u"], ("c", 0)),
    (["a", "b", "c", "left", "left", "ctrl+k"], ("a", 1)),
    (["1", " ", "d", "e", "c", "ctrl+w"], ("1 ", 2)),
    (["1", " ", "d", "e", "c", " ", "ctrl+w"], ("1 ", 2)),
    (["ctrl+w", "backspace", "left", "delete"], ("", 0)),  # nothing to take: nothing happens
    (["x", "right", "right", "end", "home", "left"], ("x", 0)),
])
def test_typing_at_the_prompt(keys: list[str], expected: tuple[str, int]) -> None:
    assert typed(keys) == expected


def test_keys_that_do_not_edit_are_refused() -> None:
    line = Typed("2d")
    assert not line.key("down") and not line.key("f1") and not line.key("ctrl+x")
    assert (line.text, line.cursor) == ("2d", 2)
    assert line.key("backspace") and line.text == "2"
