"""Duty search (server.search) on SQLite and PostgreSQL, against a small handcrafted set of people."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, delete, select, update

from server import db, search
from server.auth import Principal
from server.tables import case_access, case_flags, cases, people, person_search, users
from tests import pg

DUTY = Principal(1, "dot", "Dot Duty", "duty", "Duty")
MEMBER = Principal(2, "pat", "Pat Worker", "practitioner", "North")  # on the sealed case's access list

SEALED_CASE = 130


def _person(pid: int, given: str, family: str, dob: str | None, address: str, postcode: str, *,
            aliases: tuple[str, ...] = (), la: str | None = None, upn: str | None = None,
            nhs: str | None = None) -> dict[str, object]:
    return dict(id=pid, la_child_id=la or f"LA{9000000 + pid}", upn=upn, nhs_number=nhs, given_name=given,
                family_name=family, aliases=json.dumps(list(aliases)), dob=dob, expected_dob=None, gender="unknown",
                ethnicity=None, disability=None, first_language=None, address=address, postcode=postcode,
                school=None, family_id=None)


PEOPLE = [
    _person(1, "Mohammed", "Smith", "2014-03-12", "14 Mill Lane, Brackley", "NN13 6AB", aliases=("Mo Smith",),
            la="LA0001234", upn="A123456789012", nhs="9991234567"),
    _person(2, "Muhammad", "Smyth", "2014-05-01", "2 High Street, Towcester", "NN12 7AA"),
    _person(3, "Mohammad", "Smithson", "2015-07-07", "5 Park Road, Brackley", "NN13 7BD"),
    _person(4, "Jon", "Taylor", "2010-01-01", "9 Church Close, Daventry", "NN11 4AB"),
    _person(5, "John", "Taylor", "2011-02-02", "9 Church Close, Daventry", "NN11 4AB"),
    _person(6, "Katherine", "Jones", "2016-06-16", "3 Station Road, Corby", "NN17 1AA"),
    _person(7, "Catherine", "Jones", "2017-07-17", "4 Station Road, Corby", "NN17 1AA"),
    _person(8, "Secret", "Sealed", "2012-01-01", "1 Hidden Row, Oundle", "PE8 4ZZ"),
    _person(9, "Amira", "Okafor", "2018-07-30", "3 Brook Way, Rushden", "NN10 9XY"),
    _person(10, "Amira", "Okafor", "2018-07-30", "3 Brook Way, Rushden", "NN10 9XY"),
    _person(11, "Amira", "Okafor", "2018-07-30", "3 Brook Way, Rushden", "NN10 9XY"),
    _person(12, "Zoë", "O'Brien", "2019-09-09", "7 Meadow Avenue, Kettering", "NN15 6QQ"),
]


def _case(cid: int, pid: int, status: str = "open", opened: str = "2024-01-10T09:00:00Z", *,
          restricted: bool = False, contact: str | None = None) -> dict[str, object]:
    return dict(id=cid, person_id=pid, status=status, category="cin", legal_status=None, allocated_worker="pat",
                team="North", opened_at=opened, closed_at=None if status == "open" else "2024-06-01T00:00:00Z",
                placement_type=None, whereabouts_address=None, carer=None, whereabouts_since=None,
                missing_since=None, restricted=restricted, restricted_contact=contact, last_visit_at=None,
                version=1, updated_at="2024-01-10T09:00:00Z")


CASES = [
    _case(122, 1, "closed", "2019-01-01T00:00:00Z"),
    _case(123, 1, "open", "2023-01-01T00:00:00Z"),  # the most relevant of person 1's
    _case(124, 2),
    _case(125, 3, "closed"),
    _case(126, 4),
    _case(127, 5, "closed"),
    _case(128, 6),
    _case(129, 7),
    _case(SEALED_CASE, 8, restricted=True, contact="the Adoption Team"),
    _case(131, 9, "closed"),
    _case(132, 10),
    _case(133, 11),
    _case(134, 12),
]


def _load(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(users.insert(), [
            dict(id=p.id, username=p.username, display_name=p.display_name, role=p.role, team=p.team, active=True,
                 password_hash="x", version=1, created_at="2024-01-01T00:00:00Z") for p in (DUTY, MEMBER)
        ])
        conn.execute(people.insert(), PEOPLE)
        conn.execute(person_search.insert(), [search.index_row(p) for p in PEOPLE])
        search.rebuild(conn)
        conn.execute(cases.insert(), CASES)
        conn.execute(case_access.insert(), [dict(case_id=SEALED_CASE, user_id=MEMBER.id)])
        conn.execute(case_flags.insert(), [
            dict(case_id=123, code="cp_plan", label="Child protection plan", severity="high", since="2023-02-01"),
            dict(case_id=SEALED_CASE, code="risk_staff", label="Risk to staff", severity="high", since=None),
        ])


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    if request.param == "sqlite":
        path: Path = tmp_path_factory.mktemp("search") / "search.db"
        eng = db.make_engine(f"sqlite:///{path}")
        db.migrate(eng)
        _load(eng)
        yield eng
        eng.dispose()
        return
    name = pg.unique_name("cw_search")
    pg.create_database(name)  # fails, never skips, when PostgreSQL is not there
    try:
        eng = db.make_engine(pg.sqlalchemy_url(name))
        db.migrate(eng)
        _load(eng)
        yield eng
        eng.dispose()
    finally:
        pg.drop_database(name)


def run(engine: Engine, q: str, user: Principal = DUTY, limit: int = 20) -> list[dict[str, object]]:
    with engine.connect() as conn:
        return search.search(conn, user, q, limit)


def ids(engine: Engine, q: str, user: Principal = DUTY) -> list[object]:
    return [hit["person_id"] if hit["person_id"] is not None else f"stub:{hit['case_id']}"
            for hit in run(engine, q, user)]


# --- indexing ---------------------------------------------------------------------------------------------------


def test_index_row_is_normalised_text() -> None:
    row = search.index_row(PEOPLE[0])
    assert set(row) == {"person_id", "names", "phonetic", "address", "ids", "dob"}
    assert row["person_id"] == 1 and row["dob"] == "2014-03-12"
    assert row["names"] == " mohammed smith | mo smith "
    assert " mhmt " in row["phonetic"] and " sm0 " in row["phonetic"] and " gmohammed " in row["phonetic"]
    assert " mill lane " in row["address"] and " nn13 6ab " in row["address"]
    assert row["ids"] == " la0001234 a123456789012 9991234567 "
    folded = search.index_row(PEOPLE[11])
    assert folded["names"].startswith(" zoe obrien |")


def test_index_row_takes_aliases_as_a_list_and_copes_with_blanks() -> None:
    row = search.index_row(dict(PEOPLE[1], aliases=["Mo"], upn=None, nhs_number=None, address=None, postcode=None))
    assert row["names"] == " muhammad smyth | mo "
    assert row["address"] == " " and row["ids"] == " la9000002 "


# --- the forms a caller gives -----------------------------------------------------------------------------------

FORMS = [
    # misspelt names
    ("Mohammed", 1), ("Muhammad", 2), ("Mohammad", 3), ("mohamed", 1),
    ("Smyth", 2), ("smith", 1), ("Jon", 4), ("John", 5), ("Katherine", 6), ("Catherine", 7),
    ("zoe", 12), ("Zoë O'Brien", 12), ("obrien", 12),
    # alias and partial names
    ("mo smith", 1), ("moh sm", 1), ("kath", 6),
    # dates of birth, whole and partial
    ("12/03/2014", 1), ("12.3.14", 1), ("2014-03-12", 1), ("12 March 2014", 1), ("12th mar 2014", 1),
    ("03/2014", 1), ("March 2014", 1), ("2014", 1),
    # postcodes and addresses
    ("NN13 6AB", 1), ("nn136ab", 1), ("NN13", 1), ("mill lane", 1), ("Mill La", 1), ("station road", 6),
    # IDs
    ("LA0001234", 1), ("la0001234", 1), ("A123456789012", 1), ("9991234567", 1), ("999 123 4567", 1),
    ("123", 1), ("C123", 1), ("c124", 2), ("122", 1),
]


@pytest.mark.parametrize(("query", "first"), FORMS, ids=[q for q, _ in FORMS])
def test_finds_the_child_from_what_the_caller_says(engine: Engine, query: str, first: int) -> None:
    assert ids(engine, query)[0] == first


def test_misspellings_find_every_spelling(engine: Engine) -> None:
    assert set(ids(engine, "mohammed")) >= {1, 2, 3}
    assert set(ids(engine, "smith")) >= {1, 2, 3}
    assert set(ids(engine, "jon")) >= {4, 5}
    assert set(ids(engine, "catherine")) >= {6, 7}


def test_exact_before_misspelt_before_prefix(engine: Engine) -> None:
    assert ids(engine, "smith")[:3] == [1, 2, 3]        # exact, then Smyth (phonetic), then Smithson (prefix)
    assert ids(engine, "smyth")[:2] == [2, 1]
    assert ids(engine, "jon taylor")[:2] == [4, 5]
    assert ids(engine, "john taylor")[:2] == [5, 4]
    hits = run(engine, "smith")
    assert hits[0]["score"] > hits[1]["score"] > hits[2]["score"]


def test_an_exact_id_comes_first(engine: Engine) -> None:
    assert ids(engine, "124")[0] == 2   # case 124 before anyone who merely lives at a number 124 or so
    hits = run(engine, "LA0001234")
    assert [h["person_id"] for h in hits] == [1]


def test_among_equals_open_before_closed_then_person_id(engine: Engine) -> None:
    assert ids(engine, "amira okafor") == [10, 11, 9]   # 9's only case is closed
    assert ids(engine, "okafor") == [10, 11, 9]


def test_tokens_narrow_the_results(engine: Engine) -> None:
    assert ids(engine, "smyth 2014") == [2, 1]            # Smithson was born in 2015
    assert sorted(ids(engine, "mohammed NN13")) == [1, 3]  # Muhammad Smyth lives in NN12
    assert ids(engine, "smith 12/03/2014") == [1]
    assert ids(engine, "taylor 2011") == [5]
    assert ids(engine, "mohammed zzzz") == []


def test_a_hit_carries_the_duty_facts(engine: Engine) -> None:
    hit = run(engine, "LA0001234")[0]
    assert hit["case_id"] == 123                   # open before closed
    assert hit["restricted"] is False and hit["message"] is None
    assert hit["given_name"] == "Mohammed" and hit["family_name"] == "Smith" and hit["aliases"] == ["Mo Smith"]
    assert hit["dob"] == "2014-03-12" and hit["postcode"] == "NN13 6AB" and hit["address"].startswith("14 Mill")
    assert hit["la_child_id"] == "LA0001234" and hit["category"] == "cin" and hit["status"] == "open"
    assert hit["allocated_worker"] == "pat" and hit["team"] == "North"
    assert [f["code"] for f in hit["flags"]] == ["cp_plan"]
    assert isinstance(hit["score"], float)
    from server.schemas import SearchHit

    SearchHit.model_validate(hit)


# --- restricted records -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("query", ["secret sealed", "sealed", "01/01/2012", "hidden row", "PE8 4ZZ", "130",
                                   "LA9000008"])
def test_a_sealed_record_is_only_a_stub(engine: Engine, query: str) -> None:
    hits = run(engine, query)
    assert len(hits) == 1
    stub = hits[0]
    assert set(stub) == {"person_id", "case_id", "restricted", "message", "score"}
    assert stub["person_id"] is None and stub["case_id"] == SEALED_CASE and stub["restricted"] is True
    assert stub["message"] == "This record is restricted. Contact the Adoption Team if you need access."
    text = repr(hits).lower()
    for secret in ("secret", "sealed", "2012", "hidden", "pe8", "risk", "la9000008"):
        assert secret not in text
    from server.schemas import SearchHit

    SearchHit.model_validate(stub)


def test_a_member_of_the_access_list_sees_the_record(engine: Engine) -> None:
    hit = run(engine, "secret sealed", MEMBER)[0]
    assert hit["person_id"] == 8 and hit["restricted"] is True and hit["given_name"] == "Secret"
    assert [f["code"] for f in hit["flags"]] == ["risk_staff"]


# --- odd queries ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("query", ["", "   ", "\t\n", "!!!", "-- ;'\"", "%", "_", "*", "()", "NEAR", "AND OR NOT"])
def test_empty_or_punctuation_finds_nothing(engine: Engine, query: str) -> None:
    assert run(engine, query) == []


def test_long_and_hostile_queries_are_fine(engine: Engine) -> None:
    assert run(engine, "x" * 200) == []
    assert run(engine, ("mohammed smith " * 20)[:200])[0]["person_id"] == 1
    assert run(engine, 'smith" OR "a') is not None
    assert run(engine, "smith*")[0]["person_id"] == 1
    assert len(run(engine, "a", limit=2)) == 2


def test_the_limit_is_kept(engine: Engine) -> None:
    assert len(run(engine, "a", limit=3)) == 3
    assert len(run(engine, "n", limit=1000)) <= search.MAX_LIMIT


def test_many_candidates_rank_as_few(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    # force the tier-by-tier reading that a large database uses, and compare
    queries = ["smith", "mohammed", "a", "n", "2014", "nn13", "amira okafor", "mo sm", "124", "station road"]
    expected = {q: [(h["person_id"], h["case_id"], h["score"]) for h in run(engine, q)] for q in queries}
    monkeypatch.setattr(search, "SMALL", {"sqlite": 0, "postgresql": 0})
    monkeypatch.setattr(search, "SMALL_MULTI", {"sqlite": 0, "postgresql": 0})
    for q in queries:
        assert [(h["person_id"], h["case_id"], h["score"]) for h in run(engine, q)] == expected[q], q


# --- keeping the index in step ----------------------------------------------------------------------------------


def test_a_person_added_after_the_bulk_load_is_found_and_updates_follow(engine: Engine) -> None:
    new = _person(50, "Xanthe", "Quillfeather", "2020-02-20", "8 Orchard Grove, Oundle", "PE8 5QQ")
    with engine.connect() as conn:
        outer = conn.begin()
        try:
            conn.execute(people.insert(), new)
            conn.execute(person_search.insert(), search.index_row(new))
            conn.execute(cases.insert(), _case(150, 50))
            assert [h["person_id"] for h in search.search(conn, DUTY, "quilfeather")] == [50]  # phonetic
            assert [h["person_id"] for h in search.search(conn, DUTY, "orchard grove")] == [50]

            renamed = dict(new, family_name="Brightwater")
            conn.execute(update(person_search).where(person_search.c.person_id == 50)
                         .values(search.index_row(renamed)))
            assert search.search(conn, DUTY, "quillfeather") == []
            assert [h["person_id"] for h in search.search(conn, DUTY, "brightwater")] == [50]

            conn.execute(delete(person_search).where(person_search.c.person_id == 50))
            assert search.search(conn, DUTY, "brightwater") == []
        finally:
            outer.rollback()


def test_bulk_load_indexes_and_keeps_the_trigger(tmp_path: Path) -> None:
    eng = db.make_engine(f"sqlite:///{tmp_path / 'bulk.db'}")
    db.migrate(eng)
    with eng.begin() as conn:
        conn.execute(people.insert(), PEOPLE)
        assert search.bulk_load(conn, PEOPLE, batch=5) == len(PEOPLE)
        conn.execute(cases.insert(), CASES)
    with eng.begin() as conn:
        assert [h["person_id"] for h in search.search(conn, DUTY, "smyth")][:1] == [2]
        extra = _person(60, "Ottoline", "Vexworth", None, "1 Lane", "NN1 1AA")
        conn.execute(people.insert(), extra)
        conn.execute(person_search.insert(), search.index_row(extra))
        assert [h["person_id"] for h in search.search(conn, DUTY, "vexworth")] == [60]
        triggers = conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'trigger'").scalars().all()
        assert {"person_search_ai", "person_search_ad", "person_search_au"} <= set(triggers)
    eng.dispose()


def test_search_uses_the_index(engine: Engine) -> None:
    with engine.connect() as conn:
        query = search._Query(conn, search.parse("smith"))
        if conn.dialect.name == "sqlite":
            plan = " ".join(str(r) for r in conn.exec_driver_sql(
                f"EXPLAIN QUERY PLAN SELECT rowid FROM {search.FTS_TABLE} WHERE {search.FTS_TABLE} MATCH ?",
                (query._any_fts(),)))
            assert "VIRTUAL TABLE" in plan
            assert conn.execute(select(person_search.c.person_id)).first() is not None
        else:
            indexes = conn.exec_driver_sql(
                "SELECT indexname FROM pg_indexes WHERE tablename = 'person_search'").scalars().all()
            assert {"ix_person_search_names_trgm", "ix_person_search_address_trgm", "ix_person_search_ids_trgm",
                    "ix_person_search_phonetic_trgm", "ix_person_search_dob"} <= set(indexes)


def test_migration_0002_goes_down_and_up_again(tmp_path: Path) -> None:
    from alembic import command
    from alembic.config import Config

    eng = db.make_engine(f"sqlite:///{tmp_path / 'down.db'}")
    db.migrate(eng)
    config = Config()
    config.set_main_option("script_location", str(db.MIGRATIONS_DIR))
    with eng.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0001")
        assert conn.exec_driver_sql(
            "SELECT count(*) FROM sqlite_master WHERE name LIKE 'person_search_%'").scalar() == 0
        command.upgrade(config, "0002")
    eng.dispose()


def test_parse_reads_dates_postcodes_and_ids() -> None:
    def read(q: str) -> list[tuple[str, str | None, str]]:
        return [(t.text, t.dob, t.dob_kind) for t in search.parse(q)]

    assert read("12 March 2014") == [("", "2014-03-12", "full")]
    assert read("march 2014") == [("", "2014-03", "month")]
    assert read("3/2014") == [("", "2014-03", "month")]
    assert read("25/12/2013") == [("", "2013-12-25", "full")]
    assert read("12/25/2013") == [("", "2013-12-25", "full")]  # only month/day makes sense
    assert read("NN13 6AB") == [("nn13 6ab", None, "postcode")]
    assert read("999 123 4567") == [("9991234567", None, "")]
    assert read("smith-jones") == [("smith", None, ""), ("jones", None, "")]
    assert read("31/02/2014") == [("31", None, ""), ("02", None, ""), ("2014", "2014", "year")]
