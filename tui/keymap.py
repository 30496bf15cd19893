"""The keymap in force: the defaults (screens.keys) with the user's keybindings.toml over them.

A user's file is checked entry by entry: a bad entry (unknown action, a key
casework does not know, a key another action already has) is reported with
its file and line, and the default stays in force for it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from screens.keys import GLOBAL_NAMESPACES, KeymapProblem, default_keys, normalise_key, parse


@dataclass
class Keymap:
    """The keys in force: id → comma-separated keys."""

    keys: dict[str, str]
    problems: list[KeymapProblem] = field(default_factory=list)

    def overrides(self) -> dict[str, str]:
        defaults = default_keys()
        return {action: keys for action, keys in self.keys.items() if defaults.get(action) != keys}


def load(user_file: Path | None) -> Keymap:
    """The defaults with the user's file applied; problems name file and line."""
    keys = dict(default_keys())
    if user_file is None or not user_file.is_file():
        return Keymap(keys)
    try:
        text = user_file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        return Keymap(keys, [KeymapProblem(str(user_file), None, f"cannot read it: {error}")])
    entries, problems = parse(text, str(user_file))
    accepted: dict[str, tuple[str, int | None]] = {}
    for action, (written, line) in entries.items():
        if action not in keys:
            problems.append(KeymapProblem(str(user_file), line, f"unknown action {action!r}; "
                                                                "`?` in casework lists them all"))
            continue
        normalised = [normalise_key(k) for k in written.split(",")]
        bad = [k for k, n in zip(written.split(","), normalised) if n is None]
        if bad or not written.strip():
            problems.append(KeymapProblem(str(user_file), line, f"{action}: {', '.join(map(repr, bad)) or 'nothing'}"
                                                                " is not a key casework knows"))
            continue
        accepted[action] = (",".join(normalised), line)  # type: ignore[arg-type]
    proposed = {**keys, **{action: value for action, (value, _line) in accepted.items()}}
    for action, (value, line) in accepted.items():
        clash = _clash(action, value, proposed)
        if clash:
            problems.append(KeymapProblem(str(user_file), line, f"{action}: {clash[1]!r} is already used by "
                                                                f"{clash[0]}; keeping the default"))
            continue
        keys[action] = value
    return Keymap(keys, problems)


def _live_together(a: str, b: str) -> bool:
    space_a, space_b = a.split(".")[0], b.split(".")[0]
    return space_a == space_b or space_a in GLOBAL_NAMESPACES or space_b in GLOBAL_NAMESPACES


def _clash(action: str, value: str, keys: dict[str, str]) -> tuple[str, str] | None:
    # only the keys the user adds can clash: defaults may share keys on purpose (a dialog's j and a list's j)
    mine = set(value.split(",")) - set(default_keys().get(action, "").split(","))
    for other, other_value in keys.items():
        if other != action and _live_together(action, other):
            shared = mine & set(other_value.split(","))
            if shared:
                return other, sorted(shared)[0]
    return None
