"""Default keys, from keybindings.toml at the top of the project.

Every action has a namespaced id ("case.next"). Screens declare their bindings
with ``bind(id, action, description)``, which takes the default key from that
file, so it is the one place keys are written. tui.keymap applies a user's
own file over these.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from textual.binding import Binding
from textual.keys import Keys, _character_to_key

DEFAULTS_PATH = Path(__file__).resolve().parents[1] / "keybindings.toml"

# namespaces whose keys are live together with each screen's own
GLOBAL_NAMESPACES = ("app", "list")

_NAMED_KEYS = {k.value for k in Keys} | {
    "space", "enter", "tab", "backspace", "escape", "up", "down", "left", "right", "home", "end",
    "pageup", "pagedown", "insert", "delete", *(f"f{n}" for n in range(1, 25)),
}
_MODIFIERS = ("ctrl", "alt", "shift", "meta", "super")


@dataclass(frozen=True)
class KeymapProblem:
    file: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file} line {self.line}" if self.line else self.file
        return f"{where}: {self.message}"


def normalise_key(key: str) -> str | None:
    """A Textual key name for what a person wrote ("]" → "right_square_bracket"), or None if unknown."""
    key = key.strip()
    if not key:
        return None
    if len(key) == 1:
        return _character_to_key(key) if key.isprintable() else None
    parts = key.split("+")
    *modifiers, base = parts
    if any(m.lower() not in _MODIFIERS for m in modifiers) or not base:
        return None
    prefix = "".join(m.lower() + "+" for m in modifiers)
    if len(base) == 1:
        base = base.lower() if modifiers else base
        return prefix + (_character_to_key(base) if not base.isalnum() else base)
    base = base.lower()
    if base in _NAMED_KEYS or re.fullmatch(r"[a-z_]+", base) and _is_character_name(base):
        return prefix + base
    return None


@cache
def _character_names() -> frozenset[str]:
    return frozenset(_character_to_key(chr(c)) for c in range(33, 127))


def _is_character_name(name: str) -> bool:
    return name in _character_names()


def _line_numbers(text: str) -> dict[str, int]:
    """Where each "section.name" is written, for messages that name the line."""
    lines: dict[str, int] = {}
    section = ""
    for number, line in enumerate(text.splitlines(), start=1):
        header = re.match(r"\s*\[\s*([^\]\s]+)\s*\]", line)
        if header:
            section = header.group(1).strip('"')
            continue
        entry = re.match(r"\s*\"?([^\"=\s]+)\"?\s*=", line)
        if entry:
            name = entry.group(1)
            lines.setdefault(name if "." in name and not section else f"{section}.{name}", number)
    return lines


def parse(text: str, file: str) -> tuple[dict[str, tuple[str, int | None]], list[KeymapProblem]]:
    """id → (keys as written, line), or the file's syntax error."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        match = re.search(r"line (\d+)", str(error))
        return {}, [KeymapProblem(file, int(match.group(1)) if match else None, f"not valid TOML: {error}")]
    lines = _line_numbers(text)
    entries: dict[str, tuple[str, int | None]] = {}
    problems: list[KeymapProblem] = []
    for section, table in data.items():
        if not isinstance(table, dict):
            problems.append(KeymapProblem(file, lines.get(f".{section}") or lines.get(section),
                                          f"{section!r} should be a [section] of actions"))
            continue
        for name, keys in table.items():
            action = f"{section}.{name}"
            if not isinstance(keys, str):
                problems.append(KeymapProblem(file, lines.get(action), f"{action}: keys must be a string, "
                                                                       'like "j,down"'))
                continue
            entries[action] = (keys, lines.get(action))
    return entries, problems


@cache
def default_keys() -> dict[str, str]:
    entries, problems = parse(DEFAULTS_PATH.read_text(encoding="utf-8"), str(DEFAULTS_PATH))
    if problems:
        raise RuntimeError("; ".join(map(str, problems)))
    keys = {}
    for action, (written, _line) in entries.items():
        normalised = [normalise_key(k) for k in written.split(",")]
        if None in normalised:
            raise RuntimeError(f"{DEFAULTS_PATH}: bad default key for {action}: {written!r}")
        keys[action] = ",".join(k for k in normalised if k)
    return keys


def bind(action_id: str, action: str, description: str, *, show: bool = True, priority: bool = False) -> Binding:
    """A Binding whose default key comes from keybindings.toml."""
    return Binding(default_keys()[action_id], action, description, show=show, priority=priority, id=action_id)
