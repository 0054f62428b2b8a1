"""Spin-up targets and spin-up operation records.

Secrets (a webhook's ``secret``, header values, env values that look like credentials) are
stored so Weft can use them, and never returned: ``public()`` replaces them with ``***``.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic.alias_generators import to_camel

from loom.errors import InvalidArgument
from loom.models.base import Record, utcnow

Mechanism = Literal["local", "ssh", "webhook", "kubernetes", "github-actions"]
HealthStatus = Literal["unknown", "healthy", "unhealthy"]
SpinUpState = Literal["requested", "launched", "registered", "failed", "timed-out"]
SECRET_NAME = re.compile(r"secret|token|pass|key|auth|credential", re.I)
REDACTED = "***"


class _Config(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


def _http(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("must be an http(s) URL")
    return url


class LocalConfig(_Config):
    command: list[str] = Field(min_length=1)
    cwd: str | None = None
    env: dict[str, str] = Field(default_factory=dict)


class SshConfig(_Config):
    host: str = Field(min_length=1)
    port: int = Field(default=22, ge=1, le=65535)
    user: str = Field(min_length=1)
    identity_file: str | None = None
    known_hosts: str | None = None
    accept_new_host_keys: bool = False
    command: str = Field(min_length=1)


class WebhookConfig(_Config):
    url: str
    method: Literal["POST", "PUT"] = "POST"
    headers: dict[str, str] = Field(default_factory=dict)
    secret: str | None = None

    _url = field_validator("url")(lambda cls, v: _http(v))


# A Kubernetes object name (DNS-1123 subdomain).
SecretName = Annotated[str, Field(pattern=r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")]


class KubernetesConfig(_Config):
    namespace: str = Field(min_length=1, max_length=63)
    image: str = Field(min_length=1)
    api_server: str | None = None
    kubeconfig: str | None = None
    service_account: str | None = None
    token_env: str = "KUBERNETES_TOKEN"
    ca_file: str | None = None
    env: dict[str, str] = Field(default_factory=dict)
    # Kubernetes Secrets whose keys become env vars (API keys, NATS credentials): the values
    # stay in the cluster and never pass through Weft or NATS.
    env_from_secrets: list[SecretName] = Field(default_factory=list, max_length=16)
    resources: dict[str, Any] | None = None
    backoff_limit: int = Field(default=0, ge=0, le=10)
    ttl_seconds_after_finished: int = Field(default=3600, ge=0)


class GithubConfig(_Config):
    repo: str = Field(pattern=r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
    workflow: str = Field(min_length=1)
    ref: str = "main"
    token_env: str = "GITHUB_TOKEN"
    api_url: str = "https://api.github.com"
    inputs: dict[str, str] = Field(default_factory=dict)


CONFIGS: dict[str, type[_Config]] = {
    "local": LocalConfig,
    "ssh": SshConfig,
    "webhook": WebhookConfig,
    "kubernetes": KubernetesConfig,
    "github-actions": GithubConfig,
}


def parse_config(mechanism: str, config: dict[str, Any]) -> _Config:
    """Validate a mechanism config; errors name the field as ``config.<key>``."""
    model = CONFIGS.get(mechanism)
    if model is None:
        raise InvalidArgument(f"must be one of {', '.join(CONFIGS)}", field="mechanism")
    try:
        return model.model_validate(config)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(p) for p in error["loc"])
        message = "is required" if error["type"] == "missing" else error["msg"].removeprefix("Value error, ")
        raise InvalidArgument(message, field=f"config.{where}") from None


class Health(Record):
    status: HealthStatus = "unknown"
    checked_at: datetime | None = None
    latency_ms: float | None = None
    error: str | None = None


class Target(Record):
    id: str
    name: str
    description: str = ""
    agent_type: str
    capabilities: list[str] = Field(default_factory=list)
    boundaries: list[str] = Field(default_factory=list)
    mechanism: Mechanism
    config: dict[str, Any]
    enabled: bool = True
    max_concurrent: int = Field(default=1, ge=1, le=100)
    cooldown_seconds: float = Field(default=30, ge=0, le=86400)
    idle_timeout_seconds: float = Field(default=300, ge=1, le=7 * 86400)
    health: Health = Field(default_factory=Health)
    use_count: int = 0
    last_used_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)

    def public(self) -> dict[str, Any]:
        """The target as the API shows it: no secret ever leaves Weft."""
        wire = self.to_wire()
        wire["config"] = redact(self.config)
        return wire


def redact(config: dict[str, Any]) -> dict[str, Any]:
    shown: dict[str, Any] = {}
    for key, value in config.items():
        if key == "secret" and value:
            shown[key] = REDACTED
            shown["hasSecret"] = True
        elif key == "headers" and isinstance(value, dict):
            shown[key] = dict.fromkeys(value, REDACTED)
        elif key == "env" and isinstance(value, dict):
            shown[key] = {k: (REDACTED if SECRET_NAME.search(k) else v) for k, v in value.items()}
        else:
            shown[key] = value
    return shown


class SpinUp(Record):
    id: str
    target: str
    target_id: str
    work_id: str | None = None
    capability: str | None = None
    boundary: str | None = None
    state: SpinUpState = "requested"
    detail: str | None = None
    agent_guid: str | None = None
    requested_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    log_path: str | None = None
