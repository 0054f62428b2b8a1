"""Where shuttle finds Weft: the API URL, the token and the project, and where each came from.

Precedence, highest first: command-line flag, environment (``LOOM_API_URL``,
``LOOM_API_TOKEN``, ``LOOM_PROJECT_ID``), the shuttle config file, then the default.
The file is TOML in the user config dir (``shuttle.toml`` next to Loom's own ``config.toml``,
kept separate because its keys are shuttle's: ``api-url``, ``token``, ``project``).
The source of each value is kept so errors can say "the token from LOOM_API_TOKEN was
refused" without ever showing the token.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

import platformdirs

from loom.config import Settings
from loom.errors import InvalidArgument
from loom.names import validate_project

DEFAULT_API_URL: str = Settings.model_fields["api_url"].default
KEYS: dict[str, str] = {"api-url": "LOOM_API_URL", "token": "LOOM_API_TOKEN", "project": "LOOM_PROJECT_ID"}
SECRET_KEYS = frozenset({"token"})

Source = Literal["flag", "env", "file", "default"]


def config_path(env: Mapping[str, str] | None = None) -> Path:
    """The shuttle config file (it need not exist)."""
    env = os.environ if env is None else env
    if env.get("SHUTTLE_CONFIG"):
        return Path(env["SHUTTLE_CONFIG"]).expanduser()
    return Path(platformdirs.user_config_dir("loom")) / "shuttle.toml"


def validate_value(key: str, value: str) -> str:
    """Check one config value; raises ``InvalidArgument`` naming the key."""
    if key not in KEYS:
        raise InvalidArgument(f"unknown key {key!r}; keys are {', '.join(KEYS)}", field="key")
    value = value.strip()
    if key == "api-url":
        parts = urlsplit(value)
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            raise InvalidArgument(f"{value!r} must be an http:// or https:// URL", field="api-url")
        return value.rstrip("/")
    if key == "project":
        return validate_project(value, field="project")
    if not value or any(ch.isspace() for ch in value):
        raise InvalidArgument("must be a non-empty string without spaces", field="token")
    return value


def read_file(path: Path) -> dict[str, str]:
    """The file's values; a missing file is empty, a broken one is an error naming the file."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise InvalidArgument(f"cannot read {path}: {exc.strerror}", field="config") from exc
    except tomllib.TOMLDecodeError as exc:
        raise InvalidArgument(f"{path} is not valid TOML: {exc}", field="config") from exc
    values: dict[str, str] = {}
    for key, value in raw.items():
        if key not in KEYS or not isinstance(value, str):
            raise InvalidArgument(f"unexpected entry {key!r} in {path}", field="config")
        values[key] = value
    return values


def write_file(path: Path, values: Mapping[str, str]) -> None:
    """Write the file with owner-only permissions (it may hold a token)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    body = "".join(f"{key} = {_toml_string(values[key])}\n" for key in KEYS if key in values)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(body)
    tmp.replace(path)


def _toml_string(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


@dataclass(frozen=True)
class Setting:
    value: str | None
    source: Source

    @property
    def where(self) -> str:
        """Human wording of the source, e.g. for a refused token."""
        return {"flag": "the command-line flag", "env": "the environment", "file": "the config file"}.get(
            self.source, "the default"
        )


@dataclass(frozen=True)
class Profile:
    """The resolved connection settings of one shuttle run."""

    api_url: Setting
    token: Setting
    project: Setting
    path: Path

    def get(self, key: str) -> Setting:
        return {"api-url": self.api_url, "token": self.token, "project": self.project}[key]


def resolve(
    flags: Mapping[str, str | None],
    env: Mapping[str, str] | None = None,
    path: Path | None = None,
) -> Profile:
    """Resolve each key from flag, env, file, default; every value is validated."""
    env = os.environ if env is None else env
    path = path or config_path(env)
    file_values = read_file(path)
    resolved: dict[str, Setting] = {}
    for key, var in KEYS.items():
        if flags.get(key):
            setting = Setting(flags[key], "flag")
        elif env.get(var):
            setting = Setting(env[var], "env")
        elif file_values.get(key):
            setting = Setting(file_values[key], "file")
        else:
            setting = Setting(DEFAULT_API_URL if key == "api-url" else None, "default")
        if setting.value is not None:
            field = f"--{key}" if setting.source == "flag" else var if setting.source == "env" else key
            try:
                setting = Setting(validate_value(key, setting.value), setting.source)
            except InvalidArgument as exc:
                rule = exc.message.split(": ", 1)[-1]
                raise InvalidArgument(rule, field=field) from None
        resolved[key] = setting
    return Profile(resolved["api-url"], resolved["token"], resolved["project"], path)


def mask(value: str | None) -> str | None:
    """What a secret looks like on screen: never the value, only that it is set."""
    return None if value is None else "********"
