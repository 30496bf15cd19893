"""The directory's search index has prefix indexes (schema v5), and a v4 store is rebuilt with them."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from client.local_search import FTS_TABLE, SEARCH_COLUMNS
from client.store import Store
from client.store_schema import LATEST
from tests.client.test_store import NOW, entry


def _fts_sql(path: Path) -> str:
    conn = sqlite3.connect(path)
    try:
        return str(conn.execute("SELECT sql FROM sqlite_master WHERE name = ?", (FTS_TABLE,)).fetchone()[0])
    finally:
        conn.close()


def _as_version_4(path: Path) -> None:
    """Put the index back as schema v4 had it: no prefix indexes."""
    cols = ", ".join(SEARCH_COLUMNS)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute(f"DROP TABLE {FTS_TABLE}")
    conn.execute(f"CREATE VIRTUAL TABLE {FTS_TABLE} USING fts5({cols}, content='directory', content_rowid='id', "
                 "tokenize='unicode61 remove_diacritics 2', columnsize=0)")
    conn.execute(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')")
    conn.execute("PRAGMA user_version = 4")
    conn.close()


def test_a_version_4_store_gets_prefix_indexes_and_still_finds_everyone(tmp_path: Path) -> None:
    path = tmp_path / "cache" / "localhost_8000" / "worker.db"
    path.parent.mkdir(parents=True, mode=0o700)
    with Store.open(path, clock=lambda: NOW) as store:
        store.put_directory([entry(1, 11, "Amelia", "Hughes"), entry(2, 12, "Kieran", "Okafor"),
                             entry(3, 13, "Leah", "Nowak")])
    _as_version_4(path)
    os.chmod(path, 0o600)
    assert "prefix" not in _fts_sql(path)

    with Store.open(path, clock=lambda: NOW) as store:
        assert store._one("PRAGMA user_version")[0] == LATEST  # noqa: SLF001
        assert "prefix='1 2 3'" in _fts_sql(path)
        # one, two and three letters typed: what the prefix indexes answer
        for typed, family in (("o", "Okafor"), ("no", "Nowak"), ("hug", "Hughes")):
            assert [e.family_name for e in store.search(typed, limit=10)][:1] == [family], typed
        # a person written after the migration is indexed by the v3 triggers, which now feed the new table
        store.put_directory([entry(4, 14, "Zara", "Quinn")])
        assert [e.family_name for e in store.search("qu", limit=10)] == ["Quinn"]
