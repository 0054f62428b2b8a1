"""The options ``targets add`` and ``targets update`` share, and turning them into a request.

Mechanism flags are grouped under their own help panel; which flag belongs to which
mechanism, and what config key it sets, is ``target_flags.APPLIES``.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import fields
from typing import Annotated, Any

import typer

from loom.errors import InvalidArgument
from loom.shuttle.context import csv_names
from loom.shuttle.target_flags import MechanismFlags

MECH = "mechanism flags"


def _opt(help_text: str, *names: str) -> Any:
    return typer.Option(*names, help=help_text, rich_help_panel=MECH)


TargetArg = Annotated[str, typer.Argument(metavar="TARGET", help="target name or id")]
Command = Annotated[str | None, _opt("local/ssh: the agent command")]
Cwd = Annotated[str | None, _opt("local: working directory")]
Env = Annotated[list[str] | None, _opt("local/kubernetes: K=V (repeat)", "--env")]
Host = Annotated[str | None, _opt("ssh: host")]
Port = Annotated[int | None, _opt("ssh: port (22)")]
User = Annotated[str | None, _opt("ssh: user")]
IdentityFile = Annotated[str | None, _opt("ssh: private key file")]
KnownHosts = Annotated[str | None, _opt("ssh: known_hosts file")]
AcceptNewHostKeys = Annotated[
    bool | None,
    _opt(
        "ssh: trust a host key seen for the first time (a changed key is always refused)",
        "--accept-new-host-keys/--no-accept-new-host-keys",
    ),
]
Url = Annotated[str | None, _opt("webhook: URL")]
Method = Annotated[str | None, _opt("webhook: HTTP method (POST or PUT)")]
Header = Annotated[list[str] | None, _opt("webhook: 'Name: value' (repeat; values never shown)", "--header")]
Secret = Annotated[str | None, _opt("webhook: HMAC secret, '-' reads it from stdin (never shown)")]
Namespace = Annotated[str | None, _opt("kubernetes: namespace")]
Image = Annotated[str | None, _opt("kubernetes: container image")]
K8sApi = Annotated[str | None, _opt("kubernetes: API server URL")]
Kubeconfig = Annotated[str | None, _opt("kubernetes: kubeconfig file")]
ServiceAccount = Annotated[str | None, _opt("kubernetes: service account")]
Resources = Annotated[str | None, _opt('kubernetes: JSON, e.g. \'{"limits": {"cpu": "2"}}\'')]
Repo = Annotated[str | None, _opt("github-actions: owner/name")]
Workflow = Annotated[str | None, _opt("github-actions: workflow file or id")]
Ref = Annotated[str | None, _opt("github-actions: git ref (main)")]
TokenEnv = Annotated[str | None, _opt("kubernetes/github-actions: env var of Weft holding the API token")]
GithubApi = Annotated[str | None, _opt("github-actions: API URL (https://api.github.com)")]
Input = Annotated[list[str] | None, _opt("github-actions: workflow input K=V (repeat)", "--input")]
ConfigJson = Annotated[
    str | None, _opt("any config keys as a JSON object, as the API names them; null removes one")
]
Capabilities = Annotated[str | None, typer.Option(help="comma list, e.g. python,review")]
Boundaries = Annotated[str | None, typer.Option(help="comma list; none = unbounded work only")]
MaxConcurrent = Annotated[int | None, typer.Option(min=1, max=100, help="agents at once (1)")]
Cooldown = Annotated[int | None, typer.Option("--cooldown", min=0, help="seconds between launches (30)")]
IdleTimeout = Annotated[int | None, typer.Option(min=1, help="retire idle agents after S seconds (300)")]
Description = Annotated[str | None, typer.Option(help="what this target is")]


def mechanism_flags(params: Mapping[str, Any]) -> MechanismFlags:
    """The mechanism flags among a command's parameters; ``--secret -`` is read from stdin here."""
    values = {f.name: params[f.name] for f in fields(MechanismFlags)}
    for key in ("env", "header", "input"):
        values[key] = tuple(values[key] or ())
    if values.get("secret") == "-":
        values["secret"] = read_secret()
    return MechanismFlags(**values)


def read_secret() -> str:
    """One line from stdin, so the secret stays out of shell history and the process list."""
    secret = sys.stdin.readline().rstrip("\r\n")
    if not secret:
        raise InvalidArgument("'-' reads the secret from stdin, and stdin gave none", field="--secret")
    return secret


def common_fields(
    description: str | None,
    capabilities: str | None,
    boundaries: str | None,
    max_concurrent: int | None,
    cooldown: int | None,
    idle_timeout: int | None,
) -> dict[str, Any]:
    """The non-mechanism settings that were given, with the API's key names."""
    values = {
        "description": description,
        "capabilities": csv_names(capabilities, "--capabilities"),
        "boundaries": csv_names(boundaries, "--boundaries"),
        "maxConcurrent": max_concurrent,
        "cooldownSeconds": cooldown,
        "idleTimeoutSeconds": idle_timeout,
    }
    return {key: value for key, value in values.items() if value is not None}
