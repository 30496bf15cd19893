"""Where the bearer tokens live between runs: one small JSON file per server and user.

The refresh token is as good as a password for a week, so the file is created
0600 inside a 0700 directory, written atomically (a crash leaves the old file or
the new one, never half of one), and a file whose permissions were loosened by
someone else is not trusted: it is removed and the user signs in again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import stat
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Protocol

log = logging.getLogger("casework.credentials")

APP_NAME = "casework"


@dataclass(frozen=True, slots=True)
class Tokens:
    access_token: str
    refresh_token: str
    #: UTC ISO-8601 when the access token stops working (the server's expires_in, counted from receipt)
    expires_at: str | None = None


class TokenStore(Protocol):
    """Keeps the current token pair; the API client saves every new pair at once (refresh tokens rotate)."""

    def load(self) -> Tokens | None: ...

    def save(self, tokens: Tokens) -> None: ...

    def clear(self) -> None: ...


class MemoryTokenStore:
    """Tokens held only for the life of the process: tests, and `--no-remember` sessions."""

    def __init__(self, tokens: Tokens | None = None) -> None:
        self._tokens = tokens

    def load(self) -> Tokens | None:
        return self._tokens

    def save(self, tokens: Tokens) -> None:
        self._tokens = tokens

    def clear(self) -> None:
        self._tokens = None


def credentials_dir() -> Path:
    import platformdirs  # lazily: only a signed-in run needs it

    return Path(platformdirs.user_state_dir(APP_NAME, appauthor=False)) / "credentials"


def credentials_path(server_url: str, username: str, base_dir: Path | None = None) -> Path:
    """One file per server and user; the hash keeps any URL a safe file name, the username keeps it readable."""
    digest = hashlib.sha256(f"{server_url.rstrip('/')}\n{username}".encode()).hexdigest()[:16]
    safe_user = re.sub(r"[^a-z0-9._-]", "_", username.lower())[:64]
    return (base_dir or credentials_dir()) / f"{safe_user}-{digest}.json"


class FileTokenStore:
    """Tokens in a 0600 JSON file under platformdirs' user state dir."""

    def __init__(self, server_url: str, username: str, base_dir: Path | None = None) -> None:
        self.path = credentials_path(server_url, username, base_dir)

    def _ensure_dir(self) -> None:
        directory = self.path.parent
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        # mkdir's mode is masked by umask and ignored for an existing dir: set it outright
        os.chmod(directory, 0o700)

    def load(self) -> Tokens | None:
        try:
            info = self.path.stat()
        except FileNotFoundError:
            return None
        if os.name == "posix" and stat.S_IMODE(info.st_mode) & 0o077:
            log.warning("%s could be read by other users, so it is not trusted and has been removed; "
                        "sign in again", self.path)
            self.clear()
            return None
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            return Tokens(data["access_token"], data["refresh_token"], data.get("expires_at"))
        except (OSError, ValueError, KeyError, TypeError):
            log.warning("%s could not be read; sign in again", self.path)
            return None

    def save(self, tokens: Tokens) -> None:
        self._ensure_dir()
        fd, temp = tempfile.mkstemp(dir=self.path.parent, prefix=".tokens-", suffix=".tmp")
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(asdict(tokens), handle)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp, self.path)
        except BaseException:
            try:
                os.unlink(temp)
            except FileNotFoundError:
                pass
            raise

    def clear(self) -> None:
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass
