"""Where a store lives, and making sure nobody else can read it.

The store holds children's case records, so its folder is ``0700`` and its files
``0600`` whatever the umask is, and a store whose permissions have been loosened
(a backup restored with ``cp -r``, a shared home directory) is refused rather
than silently used.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path
from urllib.parse import urlsplit

DIR_MODE = 0o700
FILE_MODE = 0o600
# the files SQLite keeps next to the database in WAL mode (and -journal, should it ever fall back)
SIDE_SUFFIXES: tuple[str, ...] = ("-wal", "-shm", "-journal")

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class StoreError(Exception):
    """Something is wrong with the local store; the message says what to do about it."""


class StorePermissionError(StoreError):
    """The store's folder or a file in it can be read by other users."""


def _safe(part: str) -> str:
    # "." and ".." must never become path components
    cleaned = _UNSAFE.sub("_", part).strip("._") or "_"
    return cleaned[:100]


def cache_root() -> Path:
    # imported here: platformdirs is light, but the CLI's --help should not pay even for that
    from platformdirs import user_cache_path

    return user_cache_path("casework", appauthor=False)


def store_path(server_url: str, username: str) -> Path:
    """One file per server and user: ``<cache>/casework/<host>_<port>[_<path>]/<username>.db``."""
    parts = urlsplit(server_url if "//" in server_url else "//" + server_url)
    host = (parts.hostname or "localhost").lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    if port is None:
        port = 443 if parts.scheme == "https" else 80
    folder = f"{host}_{port}"
    prefix = parts.path.strip("/")
    if prefix:
        # two APIs on one host under different prefixes are two servers
        folder += "_" + prefix
    return cache_root() / _safe(folder) / f"{_safe(username.lower())}.db"


def _describe(mode: int) -> str:
    return f"mode {stat.S_IMODE(mode):04o}"


def check_private(path: Path, *, is_dir: bool) -> None:
    """Refuse a folder or file that another user could read or that someone else owns."""
    info = path.stat()
    kind = "folder" if is_dir else "file"
    if hasattr(os, "getuid") and info.st_uid != os.getuid():
        raise StorePermissionError(
            f"refusing to open the local store: the {kind} {path} belongs to another user (uid {info.st_uid}); "
            f"run `casework purge` or remove it, then sign in again"
        )
    if stat.S_IMODE(info.st_mode) & 0o077:
        wanted = DIR_MODE if is_dir else FILE_MODE
        readable = "readable by other users" if is_dir else "readable or writable by other users"
        raise StorePermissionError(
            f"refusing to open {path}: the {kind} is {readable} ({_describe(info.st_mode)}); "
            f"run chmod {wanted:o} {path}"
        )


def ensure_private_dir(folder: Path) -> None:
    """Create the folder (and missing parents) as 0700; refuse an existing folder that is looser."""
    if folder.exists():
        check_private(folder, is_dir=True)
        return
    missing: list[Path] = []
    probe = folder
    while not probe.exists():
        missing.append(probe)
        probe = probe.parent
    for part in reversed(missing):
        try:
            os.mkdir(part, DIR_MODE)
        except FileExistsError:
            pass
        # mkdir's mode is filtered by the umask; chmod is not
        os.chmod(part, DIR_MODE)


def ensure_private_file(path: Path) -> None:
    """Create the file as 0600 if missing (umask-proof); refuse an existing one that is looser."""
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, FILE_MODE)
    except FileExistsError:
        check_private(path, is_dir=False)
        return
    try:
        os.fchmod(fd, FILE_MODE)
    finally:
        os.close(fd)


def side_files(path: Path) -> list[Path]:
    return [path.with_name(path.name + suffix) for suffix in SIDE_SUFFIXES]


def check_side_files(path: Path) -> None:
    for side in side_files(path):
        if side.exists():
            check_private(side, is_dir=False)


def tighten_side_files(path: Path) -> None:
    """SQLite gives -wal and -shm the database's mode; chmod anyway, in case it ever does not."""
    for side in side_files(path):
        try:
            os.chmod(side, FILE_MODE)
        except FileNotFoundError:
            pass
