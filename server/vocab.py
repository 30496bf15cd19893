"""The Case API's controlled vocabularies: one place, used by the schemas and the seeder."""

from __future__ import annotations

from typing import Literal

Role = Literal["practitioner", "duty", "manager", "admin"]
ROLES: tuple[str, ...] = ("practitioner", "duty", "manager", "admin")

Category = Literal["early_help", "cin", "cp", "cla", "care_leaver"]
CATEGORIES: tuple[str, ...] = ("early_help", "cin", "cp", "cla", "care_leaver")

CaseStatus = Literal["open", "closed"]
TaskStatus = Literal["open", "done", "snoozed"]
Priority = Literal["high", "normal", "low"]
Severity = Literal["high", "medium", "low"]

NoteKind = Literal[
    "case_note",
    "home_visit",
    "phone_call",
    "office_visit",
    "school_visit",
    "supervision",
    "management_oversight",
    "strategy_discussion",
]
NOTE_KINDS: tuple[str, ...] = NoteKind.__args__  # type: ignore[attr-defined]

# the chronology kind a note appears as
NOTE_EVENT_KIND: dict[str, str] = {
    "case_note": "note",
    "home_visit": "visit",
    "phone_call": "contact",
    "office_visit": "visit",
    "school_visit": "school",
    "supervision": "supervision",
    "management_oversight": "management_oversight",
    "strategy_discussion": "strategy_discussion",
}

EVENT_KINDS: tuple[str, ...] = (
    "contact",
    "referral",
    "assessment",
    "strategy_discussion",
    "s47",
    "conference",
    "core_group",
    "visit",
    "review",
    "placement_move",
    "missing_episode",
    "return_interview",
    "police_notification",
    "ae_attendance",
    "school",
    "health",
    "court",
    "supervision",
    "management_oversight",
    "note",
    "closure",
)

TASK_KINDS: tuple[str, ...] = (
    "statutory_visit",
    "review",
    "assessment",
    "core_group",
    "conference",
    "pathway_plan",
    "health_assessment",
    "supervision",
    "return_interview",
    "case_note",
)
