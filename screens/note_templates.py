"""Note kinds and the headings that guide each kind of note. No Textual here.

The kinds are the Case API's ``NoteKind`` (server/vocab.py), copied because the
client never imports the server. The headings prompt for what good recording
holds (was the child seen alone, their views in their own words, what happens
next) without forcing tick-boxes: they are plain lines of text the worker
writes under, reorders or deletes.
"""

from __future__ import annotations

NOTE_KINDS: tuple[str, ...] = (
    "case_note",
    "home_visit",
    "phone_call",
    "office_visit",
    "school_visit",
    "supervision",
    "management_oversight",
    "strategy_discussion",
)

KIND_LABELS: dict[str, str] = {
    "case_note": "Case note",
    "home_visit": "Home visit",
    "phone_call": "Phone call",
    "office_visit": "Office visit",
    "school_visit": "School visit",
    "supervision": "Supervision",
    "management_oversight": "Management oversight",
    "strategy_discussion": "Strategy discussion",
}

HEADINGS: dict[str, tuple[str, ...]] = {
    "case_note": (),
    "home_visit": (
        "Who was seen (was the child seen alone?)",
        "The child's views, in their words",
        "Home conditions",
        "Risks and strengths",
        "What happens next",
    ),
    "phone_call": (
        "Who called whom, and their relationship to the child",
        "Why they called",
        "What was said",
        "Concerns raised",
        "What happens next",
    ),
    "office_visit": (
        "Who came in, and why",
        "The child's views, in their words",
        "What was discussed",
        "What happens next",
    ),
    "school_visit": (
        "Who was seen (was the child seen alone?)",
        "The child's views, in their words",
        "What school says (attendance, learning, wellbeing)",
        "What happens next",
    ),
    "supervision": (
        "Present",
        "The child's progress and daily life",
        "Risks and strengths",
        "Reflection: what we know, what we do not know yet",
        "Decisions and actions (who, by when)",
    ),
    "management_oversight": (
        "Why oversight now",
        "Is the plan working for the child?",
        "Risks and strengths",
        "Decision and reasons",
        "Actions (who, by when)",
    ),
    "strategy_discussion": (
        "Who took part (police, health, education, children's services)",
        "Information shared",
        "Is there reasonable cause to suspect significant harm?",
        "Decision (section 47 enquiry: single or joint; no further action)",
        "Immediate safety plan",
        "Actions (who, by when)",
    ),
}

assert set(HEADINGS) == set(NOTE_KINDS) == set(KIND_LABELS)


def label(kind: str) -> str:
    """"Home visit" for "home_visit"; an unknown kind is shown as written."""
    return KIND_LABELS.get(kind, kind.replace("_", " ").capitalize())


def next_kind(kind: str, step: int = 1) -> str:
    """The kind after ``kind`` in the cycle (or before it, with ``step=-1``)."""
    at = NOTE_KINDS.index(kind) if kind in NOTE_KINDS else 0
    return NOTE_KINDS[(at + step) % len(NOTE_KINDS)]


def template(kind: str) -> str:
    """The note's starting text: each heading followed by blank lines to write in ("" for a case note)."""
    headings = HEADINGS.get(kind, ())
    return "\n\n".join(f"{heading}\n" for heading in headings)


def has_content(body: str, kind: str) -> bool:
    """True if ``body`` holds anything written beyond blank lines and the kind's own headings."""
    headings = set(HEADINGS.get(kind, ()))
    return any(line.strip() and line.strip() not in headings for line in body.splitlines())
