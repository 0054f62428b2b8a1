"""Settings: environment variables and an optional TOML file, validated once at the edge.

Lookup order for the file: ``--config`` (passed in), ``LOOM_CONFIG``, ``.loom.toml`` in the
project root, then ``loom/config.toml`` in the user config dir. The file may use the
environment variable names (``NATS_URL``) or their lower-case form (``nats_url``).
The environment wins over the file.
"""

from __future__ import annotations

import math
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from loom.errors import InvalidArgument
from loom.names import PROJECT_PATTERN, PROJECT_RULE, slugify_project

# Setting name -> environment variable. One table, so the file and env can't drift apart.
ENV_KEYS: dict[str, str] = {
    "nats_url": "NATS_URL",
    "nats_user": "NATS_USER",
    "nats_password": "NATS_PASSWORD",
    "nats_token": "NATS_TOKEN",
    "nats_creds": "NATS_CREDS",
    "nats_nkey": "NATS_NKEY",
    "nats_tls_ca": "NATS_TLS_CA",
    "nats_tls_cert": "NATS_TLS_CERT",
    "nats_tls_key": "NATS_TLS_KEY",
    "project_id": "LOOM_PROJECT_ID",
    "agent_id": "LOOM_AGENT_ID",
    "toolsets": "LOOM_TOOLSETS",
    "replicas": "LOOM_REPLICAS",
    "heartbeat_seconds": "LOOM_HEARTBEAT_SECONDS",
    "work_lease": "LOOM_WORK_LEASE",
    "work_max_attempts": "LOOM_WORK_MAX_ATTEMPTS",
    "api_token": "LOOM_API_TOKEN",
    "api_url": "LOOM_API_URL",
    "handle": "LOOM_HANDLE",
    "target": "LOOM_TARGET",
    "launch_work_id": "LOOM_WORK_ID",
    "spin_up_id": "LOOM_SPINUP_ID",
}

DEFAULT_NATS_URL = "nats://127.0.0.1:4222"


class Settings(BaseModel):
    """Everything a Loom process needs to know, resolved and validated."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    nats_url: str = DEFAULT_NATS_URL
    nats_user: str | None = None
    nats_password: SecretStr | None = None
    nats_token: SecretStr | None = None
    nats_creds: Path | None = None
    nats_nkey: Path | None = None
    nats_tls_ca: Path | None = None
    nats_tls_cert: Path | None = None
    nats_tls_key: Path | None = None
    project_id: str = "default"
    agent_id: str | None = Field(default=None, min_length=1, max_length=256)
    toolsets: tuple[str, ...] | None = None
    replicas: int = Field(default=1, ge=1, le=5)
    heartbeat_seconds: float = Field(default=60.0, ge=0.5, le=3600)
    work_lease: float = Field(default=300.0, ge=1, le=86400)
    work_max_attempts: int = Field(default=3, ge=1, le=100)
    api_token: SecretStr | None = None
    api_url: str = "http://127.0.0.1:8765"
    handle: str | None = None
    # Set by Weft when it launches an agent, so the registration can be correlated.
    target: str | None = None
    launch_work_id: str | None = None
    spin_up_id: str | None = None
    cwd: Path = Field(default_factory=Path.cwd)

    @field_validator("project_id")
    @classmethod
    def _project_slug(cls, value: str) -> str:
        if not PROJECT_PATTERN.fullmatch(value):
            raise ValueError(PROJECT_RULE)
        return value

    @field_validator("toolsets", mode="before")
    @classmethod
    def _split_toolsets(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip()) or None
        return value

    @field_validator("nats_url")
    @classmethod
    def _urls(cls, value: str) -> str:
        for url in value.split(","):
            scheme = url.strip().split("://", 1)[0].lower() if "://" in url else "nats"
            if scheme not in {"nats", "tls", "ws", "wss"}:
                raise ValueError(f"scheme {scheme!r} is not one of nats, tls, ws, wss")
        return value

    @property
    def nats_servers(self) -> list[str]:
        return [url.strip() for url in self.nats_url.split(",") if url.strip()]

    @property
    def api_tokens(self) -> frozenset[str]:
        if self.api_token is None:
            return frozenset()
        return frozenset(t.strip() for t in self.api_token.get_secret_value().split(",") if t.strip())

    @property
    def presence_ttl(self) -> float:
        """An agent is offline after three missed heartbeats, in whole seconds: the server
        counts message TTLs in whole seconds, and a shorter one there than here would drop
        presence while the agent still counts as online."""
        return float(math.ceil(self.heartbeat_seconds * 3))


def find_project_root(cwd: Path) -> Path:
    """The git root above ``cwd``, or ``cwd`` itself when it is not in a git work tree."""
    for candidate in (cwd, *cwd.parents):
        if (candidate / ".git").exists():
            return candidate
    return cwd


def default_config_path(cwd: Path, env: Mapping[str, str]) -> Path | None:
    if env.get("LOOM_CONFIG"):
        return Path(env["LOOM_CONFIG"]).expanduser()
    project_file = find_project_root(cwd) / ".loom.toml"
    if project_file.is_file():
        return project_file
    user_file = Path(platformdirs.user_config_dir("loom")) / "config.toml"
    return user_file if user_file.is_file() else None


def read_config_file(path: Path) -> dict[str, Any]:
    """Read a TOML settings file into setting names; unknown keys are an error."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InvalidArgument(f"cannot read {path}: {exc.strerror}", field="config") from exc
    except tomllib.TOMLDecodeError as exc:
        raise InvalidArgument(f"{path} is not valid TOML: {exc}", field="config") from exc
    by_env = {env: name for name, env in ENV_KEYS.items()}
    values: dict[str, Any] = {}
    for key, value in raw.items():
        name = by_env.get(key, key.lower())
        if name not in ENV_KEYS:
            raise InvalidArgument(f"unknown key {key!r} in {path}", field="config")
        values[name] = value
    return values


def load_settings(
    env: Mapping[str, str] | None = None,
    config_path: Path | None = None,
    cwd: Path | None = None,
    **overrides: Any,
) -> Settings:
    """Resolve settings from file, then environment, then explicit overrides."""
    env = os.environ if env is None else env
    cwd = cwd or Path.cwd()
    path = config_path or default_config_path(cwd, env)
    values: dict[str, Any] = read_config_file(path) if path else {}
    for name, var in ENV_KEYS.items():
        if env.get(var):
            values[name] = env[var]
    values.update({k: v for k, v in overrides.items() if v is not None})
    values.setdefault("project_id", slugify_project(find_project_root(cwd).name))
    values["cwd"] = cwd
    try:
        return Settings(**values)
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]) if first["loc"] else "config"
        raise InvalidArgument(first["msg"], field=ENV_KEYS.get(name, name)) from None
