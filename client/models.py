"""Typed records of the Case API, as the client and screens use them.

Plain frozen dataclasses: no dependency, cheap to import (the store and
``casework --help`` must start fast) and cheap to build on the key-press path.
``from_json`` takes the API's JSON (or the same JSON kept in the store).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, Mapping, TypeVar

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Flag:
    code: str
    label: str
    severity: str  # high | medium | low
    since: str | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Flag:
        return cls(data["code"], data["label"], data["severity"], data.get("since"))


@dataclass(frozen=True, slots=True)
class KeyContact:
    role: str
    name: str
    relationship: str | None
    phone: str | None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> KeyContact:
        return cls(data["role"], data["name"], data.get("relationship"), data.get("phone"))


@dataclass(frozen=True, slots=True)
class Whereabouts:
    placement_type: str | None
    address: str | None
    carer: str | None
    since: str | None
    missing_since: str | None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Whereabouts:
        return cls(data.get("placement_type"), data.get("address"), data.get("carer"), data.get("since"),
                   data.get("missing_since"))


@dataclass(frozen=True, slots=True)
class Person:
    id: int
    la_child_id: str
    given_name: str
    family_name: str
    aliases: tuple[str, ...] = ()
    upn: str | None = None
    nhs_number: str | None = None
    dob: str | None = None
    expected_dob: str | None = None
    gender: str | None = None
    ethnicity: str | None = None
    disability: str | None = None
    first_language: str | None = None
    address: str | None = None
    postcode: str | None = None
    school: str | None = None

    @property
    def name(self) -> str:
        return f"{self.given_name} {self.family_name}"

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Person:
        return cls(
            id=data["id"], la_child_id=data["la_child_id"], given_name=data["given_name"],
            family_name=data["family_name"], aliases=tuple(data.get("aliases") or ()), upn=data.get("upn"),
            nhs_number=data.get("nhs_number"), dob=data.get("dob"), expected_dob=data.get("expected_dob"),
            gender=data.get("gender"), ethnicity=data.get("ethnicity"), disability=data.get("disability"),
            first_language=data.get("first_language"), address=data.get("address"), postcode=data.get("postcode"),
            school=data.get("school"),
        )


@dataclass(frozen=True, slots=True)
class Case:
    """The whole case, as GET /v1/cases/{id} returns it."""

    id: int
    person: Person
    status: str
    category: str
    legal_status: str | None
    allocated_worker: str | None
    allocated_worker_name: str | None
    team: str
    opened_at: str
    closed_at: str | None
    whereabouts: Whereabouts
    flags: tuple[Flag, ...]
    key_contacts: tuple[KeyContact, ...]
    last_visit_at: str | None
    restricted: bool
    version: int
    updated_at: str

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Case:
        return cls(
            id=data["id"], person=Person.from_json(data["person"]), status=data["status"],
            category=data["category"], legal_status=data.get("legal_status"),
            allocated_worker=data.get("allocated_worker"), allocated_worker_name=data.get("allocated_worker_name"),
            team=data["team"], opened_at=data["opened_at"], closed_at=data.get("closed_at"),
            whereabouts=Whereabouts.from_json(data.get("whereabouts") or {}),
            flags=tuple(Flag.from_json(f) for f in data.get("flags") or ()),
            key_contacts=tuple(KeyContact.from_json(c) for c in data.get("key_contacts") or ()),
            last_visit_at=data.get("last_visit_at"), restricted=bool(data.get("restricted")),
            version=data["version"], updated_at=data["updated_at"],
        )


@dataclass(frozen=True, slots=True)
class CaseSummary:
    """A row of a caseload list (GET /v1/cases)."""

    id: int
    person_id: int
    given_name: str
    family_name: str
    dob: str | None
    status: str
    category: str
    allocated_worker: str | None
    team: str
    flags: tuple[Flag, ...]
    placement_type: str | None
    missing_since: str | None
    next_task_due: str | None
    overdue_tasks: int
    last_visit_at: str | None
    restricted: bool
    version: int
    updated_at: str

    @property
    def name(self) -> str:
        return f"{self.given_name} {self.family_name}"

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CaseSummary:
        return cls(
            id=data["id"], person_id=data["person_id"], given_name=data["given_name"],
            family_name=data["family_name"], dob=data.get("dob"), status=data["status"], category=data["category"],
            allocated_worker=data.get("allocated_worker"), team=data["team"],
            flags=tuple(Flag.from_json(f) for f in data.get("flags") or ()),
            placement_type=data.get("placement_type"), missing_since=data.get("missing_since"),
            next_task_due=data.get("next_task_due"), overdue_tasks=int(data.get("overdue_tasks") or 0),
            last_visit_at=data.get("last_visit_at"), restricted=bool(data.get("restricted")),
            version=data["version"], updated_at=data["updated_at"],
        )


@dataclass(frozen=True, slots=True)
class ChronologyEvent:
    id: int
    case_id: int
    occurred_at: str
    kind: str
    summary: str
    source_agency: str | None = None
    detail: str | None = None
    key_event: bool = False
    author: str | None = None
    note_id: int | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ChronologyEvent:
        return cls(data["id"], data["case_id"], data["occurred_at"], data["kind"], data["summary"],
                   data.get("source_agency"), data.get("detail"), bool(data.get("key_event")), data.get("author"),
                   data.get("note_id"))


@dataclass(frozen=True, slots=True)
class Note:
    id: int
    case_id: int
    kind: str
    occurred_at: str
    body: str
    author: str
    created_at: str
    amends: int | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Note:
        return cls(data["id"], data["case_id"], data["kind"], data["occurred_at"], data["body"], data["author"],
                   data["created_at"], data.get("amends"))


@dataclass(frozen=True, slots=True)
class Task:
    id: int
    case_id: int
    title: str
    kind: str
    due_on: str
    assignee: str | None
    status: str  # open | done | snoozed
    priority: str  # high | normal | low
    version: int
    updated_at: str
    snoozed_until: str | None = None
    completed_at: str | None = None

    @property
    def etag(self) -> str:
        return f'"{self.version}"'

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Task:
        return cls(data["id"], data["case_id"], data["title"], data["kind"], data["due_on"], data.get("assignee"),
                   data["status"], data["priority"], data["version"], data["updated_at"], data.get("snoozed_until"),
                   data.get("completed_at"))


@dataclass(frozen=True, slots=True)
class User:
    id: int
    username: str
    display_name: str
    role: str
    team: str
    active: bool = True
    version: int = 1

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> User:
        return cls(data["id"], data["username"], data["display_name"], data["role"], data["team"],
                   bool(data.get("active", True)), int(data.get("version", 1)))


@dataclass(frozen=True, slots=True)
class DirectoryEntry:
    """A slim, searchable person record; a restricted record carries only ``message``."""

    person_id: int | None
    case_id: int | None
    restricted: bool
    given_name: str | None = None
    family_name: str | None = None
    aliases: tuple[str, ...] = ()
    dob: str | None = None
    address: str | None = None
    postcode: str | None = None
    la_child_id: str | None = None
    upn: str | None = None
    nhs_number: str | None = None
    category: str | None = None
    status: str | None = None
    flags: tuple[str, ...] = ()
    allocated_worker: str | None = None
    team: str | None = None
    message: str | None = None
    score: float = 0.0

    @property
    def is_stub(self) -> bool:
        return self.person_id is None

    @property
    def name(self) -> str:
        return f"{self.given_name or ''} {self.family_name or ''}".strip()

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> DirectoryEntry:
        flags = data.get("flags") or ()
        codes = tuple(f["code"] if isinstance(f, Mapping) else f for f in flags)
        return cls(
            person_id=data.get("person_id"), case_id=data.get("case_id"), restricted=bool(data.get("restricted")),
            given_name=data.get("given_name"), family_name=data.get("family_name"),
            aliases=tuple(data.get("aliases") or ()), dob=data.get("dob"), address=data.get("address"),
            postcode=data.get("postcode"), la_child_id=data.get("la_child_id"), upn=data.get("upn"),
            nhs_number=data.get("nhs_number"), category=data.get("category"), status=data.get("status"),
            flags=codes, allocated_worker=data.get("allocated_worker"), team=data.get("team"),
            message=data.get("message"), score=float(data.get("score") or 0.0),
        )


@dataclass(frozen=True, slots=True)
class Change:
    type: str  # case | task | note | user
    id: int
    version: int
    case_id: int | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Change:
        return cls(data["type"], data["id"], data["version"], data.get("case_id"))


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a list endpoint."""

    items: tuple[Any, ...]
    next_cursor: str | None
    etag: str | None = None
    #: the items' JSON as the server sent it, for the store, which keeps JSON (same order as ``items``)
    raw: tuple[Mapping[str, Any], ...] = ()


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """One line of the audit trail (GET /v1/audit)."""

    id: int
    at: str
    username: str
    action: str
    case_id: int | None
    source: str  # server | cache
    detail: str | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AuditEvent:
        return cls(data["id"], data["at"], data["username"], data["action"], data.get("case_id"), data["source"],
                   data.get("detail"))


@dataclass(frozen=True, slots=True)
class Health:
    """GET /v1/health: what the server runs on."""

    status: str
    version: str
    database: str
    schema_revision: str
    time: str

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Health:
        return cls(data["status"], data["version"], data["database"], data.get("schema_revision", ""), data["time"])


@dataclass(frozen=True, slots=True)
class Cached(Generic[T]):
    """A record read from the local store, with when it was fetched from the server (UTC, ISO-8601),
    so a screen can say "as of 09:30" on stale data."""

    value: T
    as_of: str
