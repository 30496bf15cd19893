"""``casework server ...`` as an admin types it: clear one-line errors, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def casework(*args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "tui.cli", *args], capture_output=True, text=True, env=env,
                          input=input, timeout=120, cwd=ROOT)


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'cli.db'}"


def assert_one_line_error(result: subprocess.CompletedProcess[str], code: int, contains: str) -> None:
    assert result.returncode == code, result
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert contains in result.stderr


def test_migrate_then_manage_users(url: str):
    migrated = casework("server", "migrate", "--database-url", url)
    assert migrated.returncode == 0 and "revision" in migrated.stdout
    added = casework("server", "users", "add", "alice", "--display-name", "Alice Example", "--role", "admin",
                     "--team", "Systems", "--password", "long enough", "--database-url", url)
    assert added.returncode == 0, added.stderr
    casework("server", "users", "add", "bob", "--display-name", "Bob Example", "--role", "practitioner",
             "--team", "North", "--password", "long enough", "--database-url", url)
    listed = casework("server", "users", "list", "--database-url", url)
    assert "alice" in listed.stdout and "bob" in listed.stdout and "practitioner" in listed.stdout
    assert casework("server", "users", "set-role", "bob", "manager", "--team", "South",
                    "--database-url", url).returncode == 0
    assert casework("server", "users", "disable", "bob", "--database-url", url).returncode == 0
    listed = casework("server", "users", "list", "--database-url", url).stdout
    bob = next(line for line in listed.splitlines() if line.startswith("bob"))
    assert "manager" in bob and "South" in bob and " no " in bob


def test_the_last_admin_stays(url: str):
    casework("server", "users", "add", "alice", "--display-name", "A", "--role", "admin", "--team", "S",
             "--password", "long enough", "--database-url", url)
    assert_one_line_error(casework("server", "users", "disable", "alice", "--database-url", url), 1,
                          "last active administrator")


def test_user_errors_are_one_line(url: str):
    assert_one_line_error(casework("server", "users", "disable", "nobody", "--database-url", url), 1, "no user nobody")
    assert_one_line_error(casework("server", "users", "add", "Bad Name", "--display-name", "x", "--role", "duty",
                                   "--team", "t", "--password", "long enough", "--database-url", url), 1, "username")
    assert_one_line_error(casework("server", "users", "add", "carol", "--display-name", "x", "--role", "duty",
                                   "--team", "t", "--password", "short", "--database-url", url), 1, "password")
    no_tty = casework("server", "users", "add", "dave", "--display-name", "x", "--role", "duty", "--team", "t",
                      "--database-url", url, input="")
    assert_one_line_error(no_tty, 1, "--password")


@pytest.mark.parametrize("args,contains", [
    (["server", "users", "set-role", "bob", "wizard"], "invalid choice"),
    (["server", "seed", "--cases", "-3"], "at least 1"),
    (["server", "seed", "--cases", "many"], "not a whole number"),
    (["server", "serve", "--port", "70000"], "not a port number"),
    (["server", "frobnicate"], "invalid choice"),
    (["server"], "required"),
])
def test_bad_arguments_get_one_line_and_exit_2(args: list[str], contains: str):
    assert_one_line_error(casework(*args), 2, contains)


@pytest.mark.parametrize("bad_url,contains", [
    ("nonsense", "not a database URL"),
    ("mysql://localhost/x", "unsupported database"),
    ("sqlite:////no/such/folder/x.db", "does not exist"),
    ("postgresql+psycopg://postgres@127.0.0.1:1/none", "cannot open the database"),
])
def test_bad_database_urls_get_one_line(bad_url: str, contains: str):
    assert_one_line_error(casework("server", "migrate", "--database-url", bad_url), 1, contains)


def test_help_does_not_import_textual_or_the_server():
    code = ("import sys; from tui.cli import build_parser; build_parser().format_help(); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'server', 'fastapi', 'sqlalchemy')))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.stdout.strip() == "[]"


def test_seed_prints_demo_sign_ins_and_refuses_to_seed_twice(url: str):
    first = casework("server", "seed", "--cases", "40", "--database-url", url)
    assert first.returncode == 0, first.stderr
    assert "worker" in first.stdout and "demo" in first.stdout
    assert_one_line_error(casework("server", "seed", "--cases", "40", "--database-url", url), 1, "--fresh")
    again = casework("server", "seed", "--cases", "40", "--fresh", "--seed", "2", "--database-url", url)
    assert again.returncode == 0, again.stderr
