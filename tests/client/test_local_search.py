"""Offline duty search: every way a caller may describe a child, over the store's directory."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from client.local_search import parse
from client.store import Store
from tests.client.test_store import NOW, entry, stub


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store.open(tmp_path / "cache" / "srv_443" / "duty.db", clock=lambda: NOW)
    s.put_directory([
        entry(1, 101, "John", "Smith", dob="2014-03-12", address="12 High Street, Northam", postcode="NX4 7QP",
              la_child_id="LA000001", upn="A123456789012", nhs_number="999 123 4567"),
        entry(2, 102, "Jon", "Smyth", dob="2014-03-30", address="3 Church Road, Southby", postcode="SB2 1AA",
              aliases=["Jonny Baker"]),
        entry(3, 103, "Aisha", "Khan", dob="2016-07-01", address="8 Mill Lane, Northam", postcode="NX1 2AB"),
        entry(4, 104, "Zoë", "O'Brien", dob="2012-12-03", address="1 Park Avenue, Eastwick", postcode="EW3 9ZZ"),
        entry(5, 105, "John", "Smith", dob="2009-01-01", status="closed", address="7 Queens Road, Westford",
              postcode="WF1 1AA"),
        entry(6, 106, "Mohammed", "Ali", dob="2015-05-05", address="2 Kings Road, Northam", postcode="NX2 3CD"),
        stub(107, team="Fostering South"),
    ])
    yield s
    s.close()


def ids(store: Store, q: str) -> list[int | None]:
    return [e.person_id for e in store.search(q)]


def test_exact_name_first_then_phonetic_misspellings(store: Store) -> None:
    assert ids(store, "john smith")[:2] == [1, 5]  # the open case first
    assert ids(store, "smyth")[0] == 2 and set(ids(store, "smyth")) >= {1, 2, 5}
    assert set(ids(store, "smithe")) >= {1, 2, 5}
    assert ids(store, "aysha khan") == [3]
    assert ids(store, "ayesha khann") == [3]


def test_name_variants_and_aliases(store: Store) -> None:
    assert set(ids(store, "jonathan smith")) >= {1, 5}
    assert ids(store, "mo ali") == [6]
    assert ids(store, "muhammad") == [6]
    assert ids(store, "jonny baker") == [2]
    assert ids(store, "baker")[0] == 2


def test_accents_and_apostrophes_fold(store: Store) -> None:
    assert ids(store, "zoe obrien") == [4]
    assert ids(store, "ZOË O'BRIEN") == [4]


@pytest.mark.parametrize("q, expected", [
    ("2014", [1, 2]),
    ("03/2014", [1, 2]),
    ("2014-03", [1, 2]),
    ("march 2014", [1, 2]),
    ("12/03/2014", [1]),
    ("12/3/14", [1]),
    ("2014-03-12", [1]),
    ("12 march 2014", [1]),
    ("3/12/2012", [4]),
])
def test_partial_dates_of_birth(store: Store, q: str, expected: list[int]) -> None:
    assert sorted(p for p in ids(store, q) if p is not None) == expected
    assert [t.dob for t in parse(q) if t.dob_kind != "year"] or q == "2014"


def test_date_of_birth_narrows_a_name(store: Store) -> None:
    assert ids(store, "smith 2009") == [5]
    assert ids(store, "smith 12/03/2014") == [1]


def test_address_and_postcode(store: Store) -> None:
    assert ids(store, "high street") == [1]
    assert ids(store, "nx4 7qp") == [1]
    assert ids(store, "NX47QP") == [1]
    assert set(ids(store, "northam")) == {1, 3, 6}
    assert ids(store, "mill lane northam") == [3]


def test_identifiers(store: Store) -> None:
    assert ids(store, "LA000001") == [1]
    assert ids(store, "la000001") == [1]
    assert ids(store, "A123456789012") == [1]
    assert ids(store, "999 123 4567") == [1]
    assert ids(store, "9991234567") == [1]
    assert ids(store, "103")[0] == 3      # a case id
    assert ids(store, "c103") == [3]


def test_prefixes_while_typing(store: Store) -> None:
    assert ids(store, "ais") == [3]
    assert 6 in ids(store, "moh")
    assert set(ids(store, "smi")) >= {1, 5}


def test_a_restricted_stub_is_found_only_by_case_id_or_team(store: Store) -> None:
    [hit] = store.search("c107")
    assert hit.is_stub and hit.restricted and hit.case_id == 107
    assert hit.name == "" and hit.dob is None and hit.address is None
    assert hit.message and "Fostering South" in hit.message
    assert [e.case_id for e in store.search("fostering south")] == [107]
    assert 107 not in [e.case_id for e in store.search("smith")]


def test_nothing_found_and_empty_queries(store: Store) -> None:
    assert store.search("") == []
    assert store.search("   ") == []
    assert store.search("qqqqzzzz") == []
    store.search('"*) OR names : "x')  # FTS syntax in a query is never an error
    assert len(store.search("northam", limit=2)) == 2


def test_scores_come_back_best_first(store: Store) -> None:
    hits = store.search("smyth")
    assert hits[0].score >= hits[-1].score and hits[0].score > 1000


def test_directory_updates_and_pruning(store: Store) -> None:
    # a person whose case becomes restricted turns into a stub, with no second row left behind
    store.put_directory([{**entry(3, 103, "Aisha", "Khan"), "restricted": True}], generation=2)
    assert ids(store, "aisha khan") == []
    [hit] = store.search("c103")
    assert hit.is_stub
    store.put_directory([entry(1, 101, "John", "Smith")], generation=2)
    removed = store.prune_directory(2)
    assert removed == 5
    assert ids(store, "smith") == [1]
