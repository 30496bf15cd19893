"""config.toml in the user config dir: which server, and who signs in.

    server_url = "https://casework.example.gov.uk"
    username = "jo.bloggs"
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass
from pathlib import Path


class ConfigError(Exception):
    """The config file cannot be used; the message names the file and what is wrong."""


@dataclass(frozen=True)
class Config:
    server_url: str | None = None
    username: str | None = None


def config_dir() -> Path:
    from platformdirs import user_config_path

    return user_config_path("casework", appauthor=False)


def config_path() -> Path:
    return config_dir() / "config.toml"


def keybindings_path() -> Path:
    return config_dir() / "keybindings.toml"


def load(path: Path | None = None) -> Config:
    path = path or config_path()
    if not path.is_file():
        return Config()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"cannot read {path}: {error}") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path} is not valid TOML: {error}") from None
    unknown = sorted(set(data) - {"server_url", "username"})
    if unknown:
        raise ConfigError(f"{path}: unknown setting {', '.join(unknown)} (known: server_url, username)")
    for name in ("server_url", "username"):
        if name in data and not isinstance(data[name], str):
            raise ConfigError(f"{path}: {name} must be a string in quotes")
    return Config(server_url=data.get("server_url"), username=data.get("username"))


def save(config: Config, path: Path | None = None) -> Path:
    path = path or config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [f"{name} = {json.dumps(value)}" for name, value in (("server_url", config.server_url),
                                                       ("username", config.username)) if value]
    temporary = path.with_suffix(".tmp")
    temporary.write_text("\n".join(lines) + "\n", encoding="utf-8")
    temporary.replace(path)
    return path
