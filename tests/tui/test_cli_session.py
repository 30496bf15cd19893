"""`casework login`, `purge` and `logout` as a person runs them, against a real server over loopback."""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from client.store import Store, store_path
from server.app import create_app
from server.tables import tokens, users
from tests.live import serve
from tests.server.dataset import PASSWORD
from tui import config as config_file
from tui import launch
from tui.cli import CommandError


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME"):
        monkeypatch.setenv(name, str(tmp_path / name.lower()))
    return tmp_path


@pytest.fixture
def server(sqlite_template: Path, tmp_path: Path):  # type: ignore[no-untyped-def]
    db = tmp_path / "server.db"
    shutil.copyfile(sqlite_template, db)
    app = create_app(f"sqlite:///{db}")
    with serve(app) as base:
        yield base, app
    app.state.engine.dispose()


def _args(**values: object) -> argparse.Namespace:
    return argparse.Namespace(**values)


def _sign_in(monkeypatch: pytest.MonkeyPatch, base: str, password: str = PASSWORD) -> int:
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("getpass.getpass", lambda prompt="": password)
    return launch.login(_args(server=base, user="pat"))


def test_login_remembers_the_server_and_a_wrong_password_is_one_line(home, server, monkeypatch, capsys):  # type: ignore[no-untyped-def]
    base, _app = server
    with pytest.raises(CommandError) as refused:
        _sign_in(monkeypatch, base, password="wrong")
    assert "password" in str(refused.value).lower()
    assert _sign_in(monkeypatch, base) == 0
    saved = config_file.load()
    assert (saved.server_url, saved.username) == (base, "pat")
    assert "signed in as pat" in capsys.readouterr().out


def test_login_without_a_terminal_says_so(home, server, monkeypatch):  # type: ignore[no-untyped-def]
    base, _app = server
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    with pytest.raises(CommandError, match="terminal"):
        launch.login(_args(server=base, user="pat"))


def test_logout_warns_about_unsent_work_then_ends_the_sessions_on_the_server(home, server, monkeypatch, capsys):  # type: ignore[no-untyped-def]
    base, app = server
    _sign_in(monkeypatch, base)
    store = Store.open(store_path(base, "pat"))
    store.save_draft(1, "case_note", "Seen at school; upset about contact.")
    store.close()
    with pytest.raises(CommandError, match="--yes"):
        launch.logout(_args(yes=False))
    assert "1 unsaved draft" in capsys.readouterr().err
    assert store_path(base, "pat").exists(), "nothing is removed when the user is warned"

    assert launch.logout(_args(yes=True)) == 0
    assert not store_path(base, "pat").exists()
    with app.state.engine.connect() as conn:
        pat = conn.execute(select(users.c.id).where(users.c.username == "pat")).scalar_one()
        live = conn.execute(select(tokens.c.token_hash).where(tokens.c.user_id == pat,
                                                             tokens.c.revoked.is_(False))).all()
    assert live == [], "the server ended pat's sessions"


def test_purge_with_nothing_configured_is_harmless(home, capsys):  # type: ignore[no-untyped-def]
    assert launch.purge(_args(yes=False)) == 0
    assert "nothing to remove" in capsys.readouterr().out
