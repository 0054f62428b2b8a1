"""Build a target's mechanism config from ``targets add``/``update`` flags, and check it.

Each mechanism has its own flags; a flag that does not belong to the chosen mechanism is a
usage error rather than silently dropped (the reference sent flat configs its coordinator
could not use). Errors name the flag. ``--config JSON`` sets any key of the config as the
API spells it (the flags cover the common ones); a key set both ways is an error.
"""

from __future__ import annotations

import importlib
import json
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any
from urllib.parse import urlsplit

from loom.errors import InvalidArgument

MECHANISMS = ("local", "ssh", "webhook", "kubernetes", "github-actions")


@dataclass(frozen=True)
class MechanismFlags:
    """Every mechanism flag as typed on the command line (``None``/empty = not given)."""

    command: str | None = None
    cwd: str | None = None
    env: tuple[str, ...] = ()
    host: str | None = None
    port: int | None = None
    user: str | None = None
    identity_file: str | None = None
    known_hosts: str | None = None
    accept_new_host_keys: bool | None = None
    url: str | None = None
    method: str | None = None
    header: tuple[str, ...] = ()
    secret: str | None = None
    namespace: str | None = None
    image: str | None = None
    k8s_api_server: str | None = None
    kubeconfig: str | None = None
    service_account: str | None = None
    resources: str | None = None
    repo: str | None = None
    workflow: str | None = None
    ref: str | None = None
    token_env: str | None = None
    github_api_url: str | None = None
    input: tuple[str, ...] = field(default=())
    config: str | None = None  # JSON object: any config key, as the API names it

    def given(self) -> dict[str, Any]:
        """The mechanism flags that were given (``--config`` is not one of them)."""
        return {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if f.name != "config" and getattr(self, f.name) not in (None, ())
        }

    def any_given(self) -> bool:
        return bool(self.given()) or self.config is not None


# flag -> (mechanism, config key); `command` and `env` are shared, so they map per mechanism.
APPLIES: dict[str, dict[str, str]] = {
    "command": {"local": "command", "ssh": "command"},
    "cwd": {"local": "cwd"},
    "env": {"local": "env", "kubernetes": "env"},
    "host": {"ssh": "host"},
    "port": {"ssh": "port"},
    "user": {"ssh": "user"},
    "identity_file": {"ssh": "identityFile"},
    "known_hosts": {"ssh": "knownHosts"},
    "accept_new_host_keys": {"ssh": "acceptNewHostKeys"},
    "url": {"webhook": "url"},
    "method": {"webhook": "method"},
    "header": {"webhook": "headers"},
    "secret": {"webhook": "secret"},
    "namespace": {"kubernetes": "namespace"},
    "image": {"kubernetes": "image"},
    "k8s_api_server": {"kubernetes": "apiServer"},
    "kubeconfig": {"kubernetes": "kubeconfig"},
    "service_account": {"kubernetes": "serviceAccount"},
    "resources": {"kubernetes": "resources"},
    "repo": {"github-actions": "repo"},
    "workflow": {"github-actions": "workflow"},
    "ref": {"github-actions": "ref"},
    "token_env": {"kubernetes": "tokenEnv", "github-actions": "tokenEnv"},
    "github_api_url": {"github-actions": "apiUrl"},
    "input": {"github-actions": "inputs"},
}
REQUIRED: dict[str, tuple[str, ...]] = {
    "local": ("command",),
    "ssh": ("host", "user", "command"),
    "webhook": ("url",),
    "kubernetes": ("namespace", "image"),
    "github-actions": ("repo", "workflow"),
}


def flag_name(attr: str) -> str:
    return "--" + attr.replace("_", "-")


def build_config(mechanism: str, flags: MechanismFlags, *, partial: bool = False) -> dict[str, Any]:
    """The nested config for ``mechanism``; with ``partial`` only the given keys (for updates)."""
    if mechanism not in MECHANISMS:
        raise InvalidArgument(f"must be one of {', '.join(MECHANISMS)}", field="--mechanism")
    given = flags.given()
    for attr in given:
        if mechanism not in APPLIES[attr]:
            users = ", ".join(APPLIES[attr])
            raise InvalidArgument(
                f"does not apply to mechanism {mechanism} (only {users})", field=flag_name(attr)
            )
    from_flags = {APPLIES[attr][mechanism]: _convert(attr, value, mechanism) for attr, value in given.items()}
    from_json = config_json(flags.config)
    both = sorted(set(from_flags) & set(from_json))
    if both:
        raise InvalidArgument(f"sets {both[0]!r}, which a flag sets too; give it once", field="--config")
    config = {**from_json, **from_flags}
    if not partial:
        missing = [flag_name(a) for a in REQUIRED[mechanism] if APPLIES[a][mechanism] not in config]
        if missing:
            raise InvalidArgument(f"mechanism {mechanism} needs {', '.join(missing)}", field=missing[0])
    return config


def config_json(value: str | None) -> dict[str, Any]:
    """``--config``: a JSON object of config keys (``null`` removes a key on update)."""
    if value is None:
        return {}
    data = json_value(value, "--config")
    if not isinstance(data, dict):
        raise InvalidArgument("must be a JSON object of config keys", field="--config")
    return data


def json_value(value: str, flag: str) -> Any:
    try:
        return json.loads(value)
    except json.JSONDecodeError as exc:
        raise InvalidArgument(f"is not valid JSON ({exc.msg})", field=flag) from None


def _convert(attr: str, value: Any, mechanism: str) -> Any:
    flag = flag_name(attr)
    if attr == "command":
        try:
            argv = shlex.split(value)
        except ValueError as exc:
            raise InvalidArgument(f"cannot be split into arguments ({exc})", field=flag) from None
        if not argv:
            raise InvalidArgument("must not be empty", field=flag)
        # local runs an argv list (no shell); ssh sends one remote command line.
        return argv if mechanism == "local" else shlex.join(argv)
    if attr in {"env", "input"}:
        return pairs(value, "=", flag)
    if attr == "header":
        return pairs(value, ":", flag)
    if attr == "resources":
        resources = json_value(value, flag)
        if not isinstance(resources, dict):
            raise InvalidArgument('must be a JSON object, e.g. {"limits": {"cpu": "2"}}', field=flag)
        return resources
    if attr in {"url", "k8s_api_server", "github_api_url"}:
        return http_url(value, flag)
    if attr == "repo" and (value.count("/") != 1 or not all(value.split("/"))):
        raise InvalidArgument(f"{value!r} must look like owner/name", field=flag)
    if attr == "port" and not 1 <= value <= 65535:
        raise InvalidArgument("must be between 1 and 65535", field=flag)
    if attr == "method":
        return value.upper()
    return value


def pairs(items: tuple[str, ...], sep: str, flag: str) -> dict[str, str]:
    """``K=V`` (or ``Name: value``) items into a dict; keys must be non-empty."""
    result: dict[str, str] = {}
    for item in items:
        key, found, value = item.partition(sep)
        if not found or not key.strip():
            raise InvalidArgument(f"{item!r} must look like KEY{sep}VALUE", field=flag)
        result[key.strip()] = value.strip() if sep == ":" else value
    return result


def http_url(value: str, flag: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        # The URL itself is not repeated: webhook URLs often carry a token.
        raise InvalidArgument("must be an http:// or https:// URL", field=flag)
    return value


def check_with_model(mechanism: str, config: Mapping[str, Any], given: MechanismFlags) -> None:
    """Validate the config with the model Weft itself uses; errors name the flag that set the key.

    The model is looked up at run time so shuttle keeps working (with the checks above) even
    against a Loom build whose target model moved.
    """
    try:
        parse = importlib.import_module("loom.models.target").parse_config
    except (ImportError, AttributeError):  # pragma: no cover - the model ships with shuttle
        return
    try:
        parse(mechanism, dict(config))
    except InvalidArgument as exc:
        path = (exc.field or "").removeprefix("config.")
        flags = {APPLIES[attr][mechanism]: flag_name(attr) for attr in given.given()}
        rule = exc.message.split(": ", 1)[-1]
        raise InvalidArgument(rule, field=flags.get(path.split(".", 1)[0], f"--config.{path}")) from None
