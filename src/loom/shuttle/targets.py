"""``targets add|list|show|update|remove|test|enable|disable`` and ``spin-up``."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from loom.errors import InvalidArgument, NotFound
from loom.names import validate_name
from loom.shuttle.agents import confirm
from loom.shuttle.client import WeftClient, segment
from loom.shuttle.context import csv_names, name_option, state
from loom.shuttle.output import Output, ago, seconds, status_text
from loom.shuttle.target_flags import MECHANISMS, MechanismFlags, build_config, check_with_model

targets_app = typer.Typer(help="Targets: where Weft launches agents.", no_args_is_help=True)

TargetArg = Annotated[str, typer.Argument(metavar="TARGET", help="target name or id")]
Mech = "mechanism flags"
Command = Annotated[str | None, typer.Option(help="local/ssh: the agent command", rich_help_panel=Mech)]
Cwd = Annotated[str | None, typer.Option(help="local: working directory", rich_help_panel=Mech)]
Env = Annotated[list[str] | None, typer.Option("--env", help="local/kubernetes: K=V", rich_help_panel=Mech)]
Host = Annotated[str | None, typer.Option(help="ssh: host", rich_help_panel=Mech)]
Port = Annotated[int | None, typer.Option(help="ssh: port (22)", rich_help_panel=Mech)]
User = Annotated[str | None, typer.Option(help="ssh: user", rich_help_panel=Mech)]
IdentityFile = Annotated[str | None, typer.Option(help="ssh: private key file", rich_help_panel=Mech)]
KnownHosts = Annotated[str | None, typer.Option(help="ssh: known_hosts file", rich_help_panel=Mech)]
Url = Annotated[str | None, typer.Option(help="webhook: URL", rich_help_panel=Mech)]
Method = Annotated[str | None, typer.Option(help="webhook: HTTP method (POST)", rich_help_panel=Mech)]
Header = Annotated[
    list[str] | None, typer.Option("--header", help="webhook: 'Name: value'", rich_help_panel=Mech)
]
Secret = Annotated[str | None, typer.Option(help="webhook: HMAC secret (never shown)", rich_help_panel=Mech)]
Namespace = Annotated[str | None, typer.Option(help="kubernetes: namespace", rich_help_panel=Mech)]
Image = Annotated[str | None, typer.Option(help="kubernetes: container image", rich_help_panel=Mech)]
K8sApi = Annotated[str | None, typer.Option(help="kubernetes: API server URL", rich_help_panel=Mech)]
Kubeconfig = Annotated[str | None, typer.Option(help="kubernetes: kubeconfig file", rich_help_panel=Mech)]
ServiceAccount = Annotated[str | None, typer.Option(help="kubernetes: service account", rich_help_panel=Mech)]
Repo = Annotated[str | None, typer.Option(help="github-actions: owner/name", rich_help_panel=Mech)]
Workflow = Annotated[
    str | None, typer.Option(help="github-actions: workflow file or id", rich_help_panel=Mech)
]
Ref = Annotated[str | None, typer.Option(help="github-actions: git ref (main)", rich_help_panel=Mech)]
TokenEnv = Annotated[
    str | None,
    typer.Option(help="github-actions: env var with the token (GITHUB_TOKEN)", rich_help_panel=Mech),
]
GithubApi = Annotated[str | None, typer.Option(help="github-actions: API URL", rich_help_panel=Mech)]
Input = Annotated[
    list[str] | None, typer.Option("--input", help="github-actions: workflow input K=V", rich_help_panel=Mech)
]
Capabilities = Annotated[str | None, typer.Option(help="comma list, e.g. python,review")]
Boundaries = Annotated[str | None, typer.Option(help="comma list; none = unbounded work only")]
MaxConcurrent = Annotated[int | None, typer.Option(min=1, max=1000, help="agents at once (1)")]
Cooldown = Annotated[int | None, typer.Option("--cooldown", min=0, help="seconds between launches (30)")]
IdleTimeout = Annotated[int | None, typer.Option(min=1, help="retire idle agents after S seconds (300)")]
Description = Annotated[str | None, typer.Option(help="what this target is")]


def mechanism_flags(**values: Any) -> MechanismFlags:
    for key in ("env", "header", "input"):
        values[key] = tuple(values[key] or ())
    return MechanismFlags(**values)


def common_fields(
    description: str | None,
    capabilities: str | None,
    boundaries: str | None,
    max_concurrent: int | None,
    cooldown: int | None,
    idle_timeout: int | None,
) -> dict[str, Any]:
    values = {
        "description": description,
        "capabilities": csv_names(capabilities, "--capabilities"),
        "boundaries": csv_names(boundaries, "--boundaries"),
        "maxConcurrent": max_concurrent,
        "cooldownSeconds": cooldown,
        "idleTimeoutSeconds": idle_timeout,
    }
    return {key: value for key, value in values.items() if value is not None}


@targets_app.command("add")
def add_target(
    ctx: typer.Context,
    name: Annotated[str, typer.Option(help="unique target name")],
    agent_type: Annotated[str, typer.Option("--type", help="agent type it launches, e.g. claude-code")],
    mechanism: Annotated[str, typer.Option(help=f"one of {', '.join(MECHANISMS)}")],
    capabilities: Capabilities = None,
    boundaries: Boundaries = None,
    max_concurrent: MaxConcurrent = None,
    cooldown: Cooldown = None,
    idle_timeout: IdleTimeout = None,
    description: Description = None,
    disabled: Annotated[bool, typer.Option("--disabled", help="register it disabled")] = False,
    command: Command = None, cwd: Cwd = None, env: Env = None,
    host: Host = None, port: Port = None, user: User = None,
    identity_file: IdentityFile = None, known_hosts: KnownHosts = None,
    url: Url = None, method: Method = None, header: Header = None, secret: Secret = None,
    namespace: Namespace = None, image: Image = None, k8s_api_server: K8sApi = None,
    kubeconfig: Kubeconfig = None, service_account: ServiceAccount = None,
    repo: Repo = None, workflow: Workflow = None, ref: Ref = None, token_env: TokenEnv = None,
    github_api_url: GithubApi = None, input: Input = None,
) -> None:  # fmt: skip
    """Register a target; its mechanism config is built from the flags and checked first.

    Example: shuttle targets add --name laptop --type claude-code --mechanism local \\
      --command "loom agent run --capability python" --capabilities python
    """
    st = state(ctx)
    flags = mechanism_flags(
        command=command, cwd=cwd, env=env, host=host, port=port, user=user,
        identity_file=identity_file, known_hosts=known_hosts, url=url, method=method,
        header=header, secret=secret, namespace=namespace, image=image,
        k8s_api_server=k8s_api_server, kubeconfig=kubeconfig, service_account=service_account,
        repo=repo, workflow=workflow, ref=ref, token_env=token_env,
        github_api_url=github_api_url, input=input,
    )  # fmt: skip
    body: dict[str, Any] = {
        "name": validate_name(name, "--name"),
        "agentType": agent_type,
        "mechanism": mechanism,
        "config": build_config(mechanism, flags),
        **common_fields(description, capabilities, boundaries, max_concurrent, cooldown, idle_timeout),
        "enabled": not disabled,
    }
    if not body.get("capabilities"):
        raise InvalidArgument(
            "give at least one capability, e.g. --capabilities python", field="--capabilities"
        )
    check_with_model(mechanism, body["config"])
    with st.client() as api:
        target = api.post("/api/targets", body)
    if st.out.json_mode:
        st.out.json(target)
    else:
        st.out.success(
            f"Target {target.get('name')} added ({target.get('mechanism')}, id {target.get('id')})"
        )


@targets_app.command("update")
def update_target(
    ctx: typer.Context,
    target: TargetArg,
    capabilities: Capabilities = None,
    boundaries: Boundaries = None,
    max_concurrent: MaxConcurrent = None,
    cooldown: Cooldown = None,
    idle_timeout: IdleTimeout = None,
    description: Description = None,
    agent_type: Annotated[str | None, typer.Option("--type", help="agent type")] = None,
    command: Command = None, cwd: Cwd = None, env: Env = None,
    host: Host = None, port: Port = None, user: User = None,
    identity_file: IdentityFile = None, known_hosts: KnownHosts = None,
    url: Url = None, method: Method = None, header: Header = None, secret: Secret = None,
    namespace: Namespace = None, image: Image = None, k8s_api_server: K8sApi = None,
    kubeconfig: Kubeconfig = None, service_account: ServiceAccount = None,
    repo: Repo = None, workflow: Workflow = None, ref: Ref = None, token_env: TokenEnv = None,
    github_api_url: GithubApi = None, input: Input = None,
) -> None:  # fmt: skip
    """Change some of a target's settings; mechanism flags change only those config keys.

    Example: shuttle targets update laptop --capabilities python,review --max-concurrent 2
    """
    st = state(ctx)
    flags = mechanism_flags(
        command=command, cwd=cwd, env=env, host=host, port=port, user=user,
        identity_file=identity_file, known_hosts=known_hosts, url=url, method=method,
        header=header, secret=secret, namespace=namespace, image=image,
        k8s_api_server=k8s_api_server, kubeconfig=kubeconfig, service_account=service_account,
        repo=repo, workflow=workflow, ref=ref, token_env=token_env,
        github_api_url=github_api_url, input=input,
    )  # fmt: skip
    changes = common_fields(description, capabilities, boundaries, max_concurrent, cooldown, idle_timeout)
    if agent_type is not None:
        changes["agentType"] = agent_type
    with st.client() as api:
        path = f"/api/targets/{segment(target)}"
        if flags.given():
            current = api.get(path)
            changes["config"] = build_config(str(current.get("mechanism")), flags, partial=True)
        if not changes:
            raise InvalidArgument("nothing to change; give at least one flag", field="flags")
        updated = api.request("PUT", path, json=changes)
    if st.out.json_mode:
        st.out.json(updated)
    else:
        st.out.success(f"Target {updated.get('name')} updated")


@targets_app.command("list")
def list_targets(
    ctx: typer.Context,
    capability: Annotated[str | None, typer.Option("--capability", "-c")] = None,
    boundary: Annotated[str | None, typer.Option("--boundary", "-b")] = None,
    mechanism: Annotated[str | None, typer.Option("--mechanism", "-m")] = None,
    enabled: Annotated[
        bool | None, typer.Option("--enabled/--disabled", help="only enabled / disabled")
    ] = None,
) -> None:
    """List targets with their health and use.

    Example: shuttle targets list --capability python --enabled
    """
    st = state(ctx)
    if mechanism is not None and mechanism not in MECHANISMS:
        raise InvalidArgument(f"must be one of {', '.join(MECHANISMS)}", field="--mechanism")
    with st.client() as api:
        data = fetch_targets(api, capability, boundary, mechanism, enabled)
    if st.out.json_mode:
        st.out.json(data)
        return
    rows = [
        (
            t.get("name"),
            t.get("mechanism"),
            t.get("agentType"),
            status_text("enabled" if t.get("enabled") else "disabled"),
            status_text((t.get("health") or {}).get("status")),
            t.get("capabilities"),
            t.get("boundaries"),
            t.get("useCount"),
            ago(t.get("lastUsedAt")),
        )
        for t in data.get("targets", [])
    ]
    columns = (
        "NAME",
        "MECHANISM",
        "TYPE",
        "STATE",
        "HEALTH",
        "CAPABILITIES",
        "BOUNDARIES",
        "USES",
        "LAST USED",
    )
    st.out.table(columns, rows, empty="No targets.")


def fetch_targets(
    api: WeftClient, capability: str | None, boundary: str | None, mechanism: str | None, enabled: bool | None
) -> Any:
    return api.get(
        "/api/targets",
        capability=name_option(capability, "--capability"),
        boundary=name_option(boundary, "--boundary"),
        mechanism=mechanism,
        enabled=None if enabled is None else str(enabled).lower(),
    )


@targets_app.command("show")
def show_target(ctx: typer.Context, target: TargetArg) -> None:
    """Show a target with its config (secrets are never shown).

    Example: shuttle targets show laptop
    """
    st = state(ctx)
    with st.client() as api:
        data = api.get(f"/api/targets/{segment(target)}")
    if st.out.json_mode:
        st.out.json(data)
    else:
        show_target_fields(st.out, data)


def show_target_fields(out: Output, t: dict[str, Any]) -> None:
    health = t.get("health") or {}
    out.fields(
        [
            ("name", t.get("name")),
            ("id", t.get("id")),
            ("description", t.get("description")),
            ("type", t.get("agentType")),
            ("mechanism", t.get("mechanism")),
            ("state", status_text("enabled" if t.get("enabled") else "disabled")),
            ("capabilities", t.get("capabilities")),
            ("boundaries", t.get("boundaries")),
            ("max concurrent", t.get("maxConcurrent")),
            ("cooldown", seconds(t.get("cooldownSeconds"))),
            ("idle timeout", seconds(t.get("idleTimeoutSeconds"))),
            ("health", status_text(health.get("status"))),
            ("checked", ago(health.get("checkedAt"))),
            ("health error", health.get("error")),
            ("uses", t.get("useCount")),
            ("last used", ago(t.get("lastUsedAt"))),
        ]
    )
    config = t.get("config") or {}
    out.fields(sorted(config.items()), title="config")


@targets_app.command("remove")
def remove_target(
    ctx: typer.Context,
    target: TargetArg,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="do not ask for confirmation")] = False,
) -> None:
    """Remove a target.

    Example: shuttle targets remove laptop --yes
    """
    st = state(ctx)
    confirm(st.out, f"Remove target {target}?", yes)
    with st.client() as api:
        answer = api.request("DELETE", f"/api/targets/{segment(target)}")
    if st.out.json_mode:
        st.out.json(answer or {"target": target, "removed": True})
    else:
        st.out.success(f"Target {target} removed")


@targets_app.command("test")
def test_target(ctx: typer.Context, target: TargetArg) -> None:
    """Run the target's real health check now (exit 1 when it is unhealthy).

    Example: shuttle targets test laptop
    """
    st = state(ctx)
    with st.client() as api:
        result = api.post(f"/api/targets/{segment(target)}/test")
    health = health_of(result)
    if st.out.json_mode:
        st.out.json(result)
    else:
        latency = health.get("latencyMs")
        st.out.fields(
            [
                ("target", target),
                ("health", status_text(health.get("status"))),
                ("latency", None if latency is None else f"{latency:.0f} ms"),
                ("error", health.get("error")),
            ]
        )
    raise typer.Exit(0 if health.get("status") == "healthy" else 1)


def health_of(result: Any) -> dict[str, Any]:
    """The health object from a test answer: the target with ``health``, or health itself."""
    if not isinstance(result, dict):
        return {}
    health = result.get("health", result)
    if not isinstance(health, dict):
        return {}
    if "status" not in health and "healthy" in health:
        health = {**health, "status": "healthy" if health["healthy"] else "unhealthy"}
    return health


def _toggle(ctx: typer.Context, target: str, action: str) -> None:
    st = state(ctx)
    with st.client() as api:
        data = api.post(f"/api/targets/{segment(target)}/{action}")
    if st.out.json_mode:
        st.out.json(data)
    else:
        st.out.success(f"Target {target} {action}d")


@targets_app.command("enable")
def enable_target(ctx: typer.Context, target: TargetArg) -> None:
    """Let Weft launch agents on this target again.

    Example: shuttle targets enable laptop
    """
    _toggle(ctx, target, "enable")


@targets_app.command("disable")
def disable_target(ctx: typer.Context, target: TargetArg) -> None:
    """Stop Weft from launching agents on this target.

    Example: shuttle targets disable laptop
    """
    _toggle(ctx, target, "disable")


def spin_up(
    ctx: typer.Context,
    target: Annotated[str | None, typer.Option("--target", "-t", help="target name or id")] = None,
    capability: Annotated[
        str | None, typer.Option("--capability", "-c", help="pick a target by capability")
    ] = None,
    boundary: Annotated[str | None, typer.Option("--boundary", "-b", help="with --capability")] = None,
) -> None:
    """Launch an agent now, on a named target or on the first enabled, healthy, eligible one.

    Example: shuttle spin-up --capability python --boundary personal
    """
    st = state(ctx)
    if (target is None) == (capability is None):
        raise InvalidArgument("give exactly one of --target or --capability", field="--target")
    if boundary is not None and capability is None:
        raise InvalidArgument("needs --capability", field="--boundary")
    with st.client() as api:
        chosen = target or pick_target(api, capability, boundary)
        record = api.post(f"/api/targets/{segment(chosen)}/spin-up")
    if st.out.json_mode:
        st.out.json(record)
        return
    st.out.success(f"Spin-up on {chosen}: {record.get('status')}")
    st.out.fields([(key, record.get(key)) for key in ("id", "target", "status", "error") if record.get(key)])


def pick_target(api: WeftClient, capability: str | None, boundary: str | None) -> str:
    """Enabled targets that fit; healthy ones first, unhealthy ones never."""
    targets = fetch_targets(api, capability, boundary, None, True).get("targets", [])
    usable = [t for t in targets if t.get("enabled") and (t.get("health") or {}).get("status") != "unhealthy"]
    usable.sort(key=lambda t: (t.get("health") or {}).get("status") != "healthy")
    if not usable:
        where = f" in boundary {boundary}" if boundary else ""
        raise NotFound(f"no enabled, healthy target offers {capability}{where}")
    return str(usable[0]["name"])


def register(app: typer.Typer) -> None:
    app.add_typer(targets_app, name="targets")
    app.command("spin-up")(spin_up)
