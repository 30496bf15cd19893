"""The demo seeder: deterministic, realistic in shape, and honest about what it refuses."""

from __future__ import annotations

import datetime
import json
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, insert, select

from server import db
from server.auth import verify_password
from server.seed import SeedError, SeedReport, nhs_number_valid, seed
from server.tables import (
    audit_events, case_access, case_flags, cases, changes, chronology, idempotency_keys, key_contacts, notes, people,
    person_search, tasks, tokens, users,
)
from server.vocab import CATEGORIES, EVENT_KINDS, NOTE_KINDS, TASK_KINDS
from tests import pg

# one worker runs the whole module, so each backend is seeded once (make test uses --dist loadgroup)
pytestmark = pytest.mark.xdist_group("seed")

TODAY = datetime.date(2026, 11, 21)
CASES = 300
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
USERNAME = re.compile(r"^[a-z][a-z0-9._-]{1,63}$")
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def _sqlite_engine(path: Path) -> Engine:
    engine = db.make_engine(f"sqlite:///{path}")
    db.migrate(engine)
    return engine


def _seed(engine: Engine, cases_: int = CASES) -> SeedReport:
    return seed(engine, cases_, 7, today=TODAY, big_chronologies=1)


@pytest.fixture(scope="module")
def pg_seeded() -> Iterator[tuple[Engine, SeedReport]]:
    name = pg.unique_name("cw_seed")
    pg.create_database(name)  # fails (never skips) when PostgreSQL is unreachable
    try:
        engine = db.make_engine(pg.sqlalchemy_url(name))
        db.migrate(engine)
        yield engine, _seed(engine)
        engine.dispose()
    finally:
        pg.drop_database(name)


@pytest.fixture(scope="module", params=BACKENDS)
def seeded(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Engine, SeedReport]]:
    if request.param == "postgresql":
        yield request.getfixturevalue("pg_seeded")
        return
    engine = _sqlite_engine(tmp_path_factory.mktemp("seed") / "seed.db")
    yield engine, _seed(engine)
    engine.dispose()


def _rows(engine: Engine, table, *, skip: tuple[str, ...] = (), limit: int | None = None) -> list[tuple]:  # type: ignore[no-untyped-def]
    columns = [c for c in table.columns if c.name not in skip]
    query = select(*columns).order_by(*table.primary_key.columns)
    if limit:
        query = query.limit(limit)
    with engine.connect() as conn:
        return [tuple(row) for row in conn.execute(query)]


# --- arguments and refusals -------------------------------------------------------------------------------------

@pytest.mark.parametrize("bad", [0, -1, 200_001, "10", 2.5, True, None])
def test_bad_case_counts_are_refused(tmp_path: Path, bad: object) -> None:
    engine = _sqlite_engine(tmp_path / "bad.db")
    with pytest.raises(SeedError, match="number of cases"):
        seed(engine, bad)  # type: ignore[arg-type]
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(people)).scalar() == 0
        assert conn.execute(select(func.count()).select_from(users)).scalar() == 0


def test_negative_big_chronologies_are_refused(tmp_path: Path) -> None:
    engine = _sqlite_engine(tmp_path / "bad.db")
    with pytest.raises(SeedError):
        seed(engine, 10, big_chronologies=-1)


def test_unmigrated_database_is_refused(tmp_path: Path) -> None:
    engine = db.make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    with pytest.raises(SeedError, match="migrate"):
        seed(engine, 10)


def test_refuses_to_seed_twice(seeded: tuple[Engine, SeedReport]) -> None:
    engine, _ = seeded
    with pytest.raises(SeedError, match="already holds data.*--fresh"):
        seed(engine, 10)


# --- determinism ------------------------------------------------------------------------------------------------

DETERMINISM_TABLES = (people, cases, case_flags, key_contacts, case_access, notes, chronology, tasks, person_search)


def test_same_arguments_give_identical_rows(tmp_path: Path) -> None:
    first, second = _sqlite_engine(tmp_path / "one.db"), _sqlite_engine(tmp_path / "two.db")
    a, b = _seed(first, 120), _seed(second, 120)
    assert (a.cases, a.people, a.users, a.events, a.tasks) == (b.cases, b.people, b.users, b.events, b.tasks)
    # Argon2 salts every hash afresh, so the hash is the one column allowed to differ
    assert _rows(first, users, skip=("password_hash",)) == _rows(second, users, skip=("password_hash",))
    for table in DETERMINISM_TABLES:
        assert _rows(first, table) == _rows(second, table), table.name


def test_a_different_seed_gives_different_people(tmp_path: Path) -> None:
    first, second = _sqlite_engine(tmp_path / "one.db"), _sqlite_engine(tmp_path / "two.db")
    seed(first, 50, 1, today=TODAY, big_chronologies=0)
    seed(second, 50, 2, today=TODAY, big_chronologies=0)
    assert _rows(first, people) != _rows(second, people)


@pytest.mark.postgres
def test_postgresql_holds_the_same_rows_as_sqlite(pg_seeded: tuple[Engine, SeedReport], tmp_path: Path) -> None:
    engine, _ = pg_seeded
    other = _sqlite_engine(tmp_path / "same.db")
    _seed(other)
    for table in (people, cases, case_access, tasks):
        assert _rows(engine, table) == _rows(other, table), table.name
    assert _rows(engine, chronology, limit=3000) == _rows(other, chronology, limit=3000)


# --- what is in it ----------------------------------------------------------------------------------------------

def test_report_matches_the_tables(seeded: tuple[Engine, SeedReport]) -> None:
    engine, report = seeded
    with engine.connect() as conn:
        count = lambda t: conn.execute(select(func.count()).select_from(t)).scalar()  # noqa: E731
        assert report.cases == count(cases) == CASES
        assert report.people == count(people) == count(person_search) == CASES
        assert report.users == count(users)
        assert report.events == count(chronology)
        assert report.tasks == count(tasks)
        # the seeder writes no history, sessions or replay keys
        for table in (changes, audit_events, tokens, idempotency_keys):
            assert count(table) == 0, table.name
    assert report.seconds >= 0
    assert ("worker", "demo", "practitioner") in report.demo_logins


def test_demo_users_sign_in_with_demo(seeded: tuple[Engine, SeedReport]) -> None:
    engine, _ = seeded
    with engine.connect() as conn:
        rows = {r.username: r for r in conn.execute(select(users))}
    for username, role in (("duty", "duty"), ("worker", "practitioner"), ("manager", "manager"), ("admin", "admin")):
        assert rows[username].role == role
        assert rows[username].active
        assert verify_password(rows[username].password_hash, "demo")
        assert not verify_password(rows[username].password_hash, "Demo")
    staff = [r for name, r in rows.items() if name not in ("duty", "worker", "manager", "admin")]
    assert staff and verify_password(staff[0].password_hash, "demo")
    assert all(USERNAME.match(name) for name in rows)
    assert {r.role for r in rows.values()} == {"practitioner", "duty", "manager", "admin"}
    assert all(r.version == 1 and ISO.match(r.created_at) for r in rows.values())


def test_worker_has_a_realistic_caseload(seeded: tuple[Engine, SeedReport]) -> None:
    engine, _ = seeded
    with engine.connect() as conn:
        worker = conn.execute(select(users).where(users.c.username == "worker")).one()
        mine = conn.execute(
            select(cases).where(cases.c.allocated_worker == "worker", cases.c.status == "open")
        ).all()
        assert 15 <= len(mine) <= 25
        assert all(c.team == worker.team for c in mine)
        colleagues = conn.execute(
            select(users.c.username).where(users.c.team == worker.team, users.c.role == "practitioner")
        ).scalars().all()
        assert len(colleagues) >= 2
        manager = conn.execute(select(users).where(users.c.username == "manager")).one()
        assert manager.team == worker.team
        open_tasks = conn.execute(
            select(tasks).where(tasks.c.assignee == "worker", tasks.c.status == "open")
        ).all()
        due = [t.due_on for t in open_tasks]
        assert any(d < TODAY.isoformat() for d in due), "worker has overdue tasks"
        assert any(d == TODAY.isoformat() for d in due), "worker has a task due today"
        week = (TODAY + datetime.timedelta(days=7)).isoformat()
        assert any(TODAY.isoformat() < d <= week for d in due), "worker has tasks due this week"


def test_practitioners_carry_similar_loads(seeded: tuple[Engine, SeedReport]) -> None:
    engine, _ = seeded
    with engine.connect() as conn:
        loads = conn.execute(
            select(cases.c.allocated_worker, func.count()).where(cases.c.status == "open")
            .group_by(cases.c.allocated_worker)
        ).all()
        roles = dict(conn.execute(select(users.c.username, users.c.role)).all())
    assert all(roles[name] == "practitioner" for name, _ in loads)
    # a pool too small to split evenly (a few care leavers in a 300-case demo) may fall short of 15
    assert sum(1 for _, n in loads if 15 <= n <= 25) >= len(loads) - 2
    assert all(n <= 25 for _, n in loads)


def test_cases_cover_every_category_and_status(seeded: tuple[Engine, SeedReport]) -> None:
    engine, _ = seeded
    with engine.connect() as conn:
        rows = [r._mapping for r in conn.execute(select(cases))]
    assert {r["category"] for r in rows} == set(CATEGORIES)
    statuses = Counter(r["status"] for r in rows)
    assert statuses["open"] > statuses["closed"] > 0
    for r in rows:
        assert (r["closed_at"] is None) == (r["status"] == "open")
        assert r["closed_at"] is None or r["closed_at"] > r["opened_at"]
        assert r["version"] == 1 and ISO.match(r["updated_at"]) and ISO.match(r["opened_at"])
        assert r["team"]
        if r["status"] == "open":
            assert r["allocated_worker"]
    cla = [r for r in rows if r["category"] == "cla"]
    assert all(r["placement_type"] and r["carer"] and r["whereabouts_address"] for r in cla)
    assert any(r["legal_status"] == "Child protection plan" for r in rows if r["category"] == "cp")


def test_flags_contacts_and_whereabouts(seeded: tuple[Engine, SeedReport]) -> None:
    engine, _ = seeded
    with engine.connect() as conn:
        flags = conn.execute(select(case_flags)).all()
        cp_cases = set(conn.execute(select(cases.c.id).where(cases.c.category == "cp")).scalars())
        missing = conn.execute(select(cases.c.id).where(cases.c.missing_since.is_not(None))).scalars().all()
        contacts = conn.execute(select(key_contacts)).all()
    by_code: dict[str, set[int]] = {}
    for f in flags:
        by_code.setdefault(f.code, set()).add(f.case_id)
        assert f.severity in ("high", "medium", "low")
    assert cp_cases <= by_code["CPP"]
    assert set(missing) == by_code.get("MISSING", set())
    per_case = Counter(c.case_id for c in contacts)
    assert all(2 <= n <= 5 for n in per_case.values()) and len(per_case) == CASES
    fictional = re.compile(r"^(07700 900\d{3}|01632 960\d{3})$")
    assert all(c.phone is None or fictional.match(c.phone) for c in contacts)


def test_restricted_cases_have_access_lists(seeded: tuple[Engine, SeedReport]) -> None:
    engine, _ = seeded
    with engine.connect() as conn:
        ids = dict(conn.execute(select(users.c.username, users.c.id)).all())
        managers = dict(conn.execute(select(users.c.team, users.c.username).where(users.c.role == "manager")).all())
        sealed = conn.execute(select(cases).where(cases.c.restricted.is_(True))).all()
        access: dict[int, set[int]] = {}
        for case_id, user_id in conn.execute(select(case_access.c.case_id, case_access.c.user_id)):
            access.setdefault(case_id, set()).add(user_id)
    assert len(sealed) >= 2
    assert set(access) == {c.id for c in sealed}
    for c in sealed:
        expected = {ids[managers[c.team]]} | ({ids[c.allocated_worker]} if c.allocated_worker else set())
        assert access[c.id] == expected
        assert c.restricted_contact and "manager" in c.restricted_contact
    assert any(c.allocated_worker == "worker" and ids["worker"] in access[c.id] for c in sealed)
    assert any(ids["duty"] not in access[c.id] for c in sealed)
    assert any(ids["worker"] not in access[c.id] for c in sealed)


def test_chronologies(seeded: tuple[Engine, SeedReport]) -> None:
    engine, _ = seeded
    with engine.connect() as conn:
        sizes = dict(conn.execute(select(chronology.c.case_id, func.count()).group_by(chronology.c.case_id)).all())
        big = [case_id for case_id, n in sizes.items() if n >= 5000]
        assert big
        workers = conn.execute(select(cases.c.allocated_worker).where(cases.c.id.in_(big))).scalars().all()
        assert "worker" in workers
        typical = sorted(n for case_id, n in sizes.items() if case_id not in big)
        assert len(sizes) == CASES and typical[len(typical) // 2] >= 10 and typical[-1] <= 60
        sample = conn.execute(select(chronology).where(chronology.c.case_id.not_in(big))).all()
        kinds = Counter(e.kind for e in sample)
        assert set(kinds) <= set(EVENT_KINDS)
        for kind in ("referral", "assessment", "strategy_discussion", "s47", "conference", "visit",
                     "placement_move", "missing_episode", "return_interview", "police_notification",
                     "ae_attendance", "school"):
            assert kinds[kind] > 0, kind
        key_share = sum(e.key_event for e in sample) / len(sample)
        assert 0.08 < key_share < 0.3
        assert all(ISO.match(e.occurred_at) and e.occurred_at < TODAY.isoformat() for e in sample)
        assert all(e.summary and "lorem" not in e.summary.lower() and "{" not in e.summary for e in sample)
        assert all(e.author for e in sample)
        opened = dict(conn.execute(select(cases.c.id, cases.c.opened_at)).all())
        assert all(e.occurred_at >= opened[e.case_id] for e in sample)
        # notes hang off some events, with the note kind that shows as that event's kind
        note_rows = {n.id: n for n in conn.execute(select(notes))}
        linked = [e for e in sample if e.note_id is not None]
        assert linked and note_rows
        assert all(note_rows[e.note_id].case_id == e.case_id for e in linked)
        assert {n.kind for n in note_rows.values()} <= set(NOTE_KINDS)
        # last_visit_at is the latest visit
        last = dict(conn.execute(
            select(chronology.c.case_id, func.max(chronology.c.occurred_at))
            .where(chronology.c.kind == "visit").group_by(chronology.c.case_id)
        ).all())
        for case_id, last_visit in conn.execute(select(cases.c.id, cases.c.last_visit_at)):
            assert last_visit == last.get(case_id)


def test_tasks(seeded: tuple[Engine, SeedReport]) -> None:
    engine, _ = seeded
    with engine.connect() as conn:
        rows = conn.execute(select(tasks, cases.c.status.label("case_status"))
                            .join(cases, cases.c.id == tasks.c.case_id)).all()
    assert {t.kind for t in rows} <= set(TASK_KINDS)
    assert {t.status for t in rows} == {"open", "done", "snoozed"}
    assert {t.priority for t in rows} == {"high", "normal", "low"}
    live = [t for t in rows if t.status == "open"]
    overdue = sum(t.due_on < TODAY.isoformat() for t in live) / len(live)
    assert 0.1 < overdue < 0.35
    for t in rows:
        assert t.version == 1 and ISO.match(t.updated_at)
        assert (t.status == "done") == (t.completed_at is not None)
        assert (t.status == "snoozed") == (t.snoozed_until is not None)
        if t.status == "snoozed":
            assert t.snoozed_until > TODAY.isoformat()
        if t.case_status == "closed":
            assert t.status == "done"
        if t.status != "done":
            lo, hi = TODAY - datetime.timedelta(days=30), TODAY + datetime.timedelta(days=45)
            assert lo.isoformat() <= t.due_on <= hi.isoformat()


def test_people_look_real_and_synthetic(seeded: tuple[Engine, SeedReport]) -> None:
    engine, _ = seeded
    with engine.connect() as conn:
        rows = conn.execute(select(people)).all()
    nhs = [p.nhs_number for p in rows if p.nhs_number]
    assert len(nhs) > CASES * 0.9 and len(set(nhs)) == len(nhs)
    assert all(n.startswith("999") and nhs_number_valid(n) for n in nhs)
    assert not nhs_number_valid(nhs[0][:9] + str((int(nhs[0][9]) + 1) % 10))
    assert len({p.la_child_id for p in rows}) == CASES
    assert all(re.match(r"^LA\d{7}$", p.la_child_id) for p in rows)
    assert all(re.match(r"^[A-Z]\d{12}$", p.upn) for p in rows if p.upn)
    assert all(re.match(r"^[A-Z]{1,2}\d[A-Z\d]? \d[A-Z]{2}$", p.postcode) for p in rows)
    assert all(re.match(r"^(Flat \d+, [A-Za-z ]+, )?\d*\s?[A-Za-z' ]+, [A-Za-z ]+$", p.address) for p in rows)
    unborn = [p for p in rows if p.dob is None]
    assert all(p.expected_dob and p.expected_dob > TODAY.isoformat() for p in unborn)
    born = [p for p in rows if p.dob]
    assert all(p.dob < TODAY.isoformat() for p in born)
    ages = [(TODAY - datetime.date.fromisoformat(p.dob)).days // 365 for p in born]
    assert min(ages) == 0 and max(ages) >= 15
    assert len({p.family_name for p in rows}) > 40
    assert len({p.ethnicity for p in rows}) >= 6
    assert {p.gender for p in rows} >= {"male", "female"}
    families = Counter(p.family_id for p in rows)
    assert max(families.values()) <= 4 and any(n > 1 for n in families.values())
    for p in rows:
        aliases = json.loads(p.aliases)
        assert isinstance(aliases, list) and all(isinstance(a, str) for a in aliases)


def test_foreign_keys_hold_and_ids_continue(seeded: tuple[Engine, SeedReport]) -> None:
    engine, _ = seeded
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            assert conn.exec_driver_sql("PRAGMA foreign_key_check").all() == []
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        # a row written after the seed gets a fresh id (PostgreSQL's sequences were moved past the seed)
        new_id = conn.execute(
            insert(notes).values(case_id=1, kind="case_note", occurred_at="2026-11-21T10:00:00Z", body="after seed",
                                 author="worker", created_at="2026-11-21T10:00:00Z").returning(notes.c.id)
        ).scalar()
        assert new_id == conn.execute(select(func.max(notes.c.id))).scalar()
        conn.rollback()
