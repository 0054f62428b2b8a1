"""``targets add|list|show|update|remove|test|enable|disable``: commands over ``/api/targets``."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from loom.errors import InvalidArgument
from loom.names import validate_name
from loom.shuttle import target_options as opt
from loom.shuttle.agents import confirm
from loom.shuttle.client import WeftClient, segment
from loom.shuttle.context import agent_type_option, name_option, state
from loom.shuttle.target_flags import MECHANISMS, build_config, check_with_model
from loom.shuttle.target_options import common_fields, mechanism_flags
from loom.shuttle.target_view import health_of, show_health, show_list, show_target

targets_app = typer.Typer(help="Targets: where Weft launches agents.", no_args_is_help=True)


@targets_app.command("add")
def add_target(
    ctx: typer.Context,
    name: Annotated[str, typer.Option(help="unique target name")],
    agent_type: Annotated[str, typer.Option("--type", help="agent type it launches, e.g. claude-code")],
    mechanism: Annotated[str, typer.Option(help=f"one of {', '.join(MECHANISMS)}")],
    capabilities: opt.Capabilities = None,
    boundaries: opt.Boundaries = None,
    max_concurrent: opt.MaxConcurrent = None,
    cooldown: opt.Cooldown = None,
    idle_timeout: opt.IdleTimeout = None,
    description: opt.Description = None,
    disabled: Annotated[bool, typer.Option("--disabled", help="register it disabled")] = False,
    command: opt.Command = None, cwd: opt.Cwd = None, env: opt.Env = None,
    host: opt.Host = None, port: opt.Port = None, user: opt.User = None,
    identity_file: opt.IdentityFile = None, known_hosts: opt.KnownHosts = None,
    accept_new_host_keys: opt.AcceptNewHostKeys = None,
    url: opt.Url = None, method: opt.Method = None, header: opt.Header = None, secret: opt.Secret = None,
    namespace: opt.Namespace = None, image: opt.Image = None, k8s_api_server: opt.K8sApi = None,
    kubeconfig: opt.Kubeconfig = None, service_account: opt.ServiceAccount = None,
    resources: opt.Resources = None, token_env: opt.TokenEnv = None,
    repo: opt.Repo = None, workflow: opt.Workflow = None, ref: opt.Ref = None,
    github_api_url: opt.GithubApi = None, input: opt.Input = None,
    config: opt.ConfigJson = None,
) -> None:  # fmt: skip
    """Register a target; its mechanism config is built from the flags and checked first.

    Example: shuttle targets add --name laptop --type claude-code --mechanism local \\
      --command "loom agent run --capability python" --capabilities python
    """
    st = state(ctx)
    flags = mechanism_flags(locals())
    body: dict[str, Any] = {
        "name": validate_name(name, "--name"),
        "agentType": agent_type_option(agent_type, "--type"),
        "mechanism": mechanism,
        "config": build_config(mechanism, flags),
        **common_fields(description, capabilities, boundaries, max_concurrent, cooldown, idle_timeout),
        "enabled": not disabled,
    }
    if not body.get("capabilities"):
        raise InvalidArgument(
            "give at least one capability, e.g. --capabilities python", field="--capabilities"
        )
    check_with_model(mechanism, body["config"], flags)
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
    target: opt.TargetArg,
    capabilities: opt.Capabilities = None,
    boundaries: opt.Boundaries = None,
    max_concurrent: opt.MaxConcurrent = None,
    cooldown: opt.Cooldown = None,
    idle_timeout: opt.IdleTimeout = None,
    description: opt.Description = None,
    agent_type: Annotated[str | None, typer.Option("--type", help="agent type")] = None,
    command: opt.Command = None, cwd: opt.Cwd = None, env: opt.Env = None,
    host: opt.Host = None, port: opt.Port = None, user: opt.User = None,
    identity_file: opt.IdentityFile = None, known_hosts: opt.KnownHosts = None,
    accept_new_host_keys: opt.AcceptNewHostKeys = None,
    url: opt.Url = None, method: opt.Method = None, header: opt.Header = None, secret: opt.Secret = None,
    namespace: opt.Namespace = None, image: opt.Image = None, k8s_api_server: opt.K8sApi = None,
    kubeconfig: opt.Kubeconfig = None, service_account: opt.ServiceAccount = None,
    resources: opt.Resources = None, token_env: opt.TokenEnv = None,
    repo: opt.Repo = None, workflow: opt.Workflow = None, ref: opt.Ref = None,
    github_api_url: opt.GithubApi = None, input: opt.Input = None,
    config: opt.ConfigJson = None,
) -> None:  # fmt: skip
    """Change some of a target's settings; mechanism flags change only those config keys.

    Example: shuttle targets update laptop --capabilities python,review --max-concurrent 2
    """
    st = state(ctx)
    flags = mechanism_flags(locals())
    changes = common_fields(description, capabilities, boundaries, max_concurrent, cooldown, idle_timeout)
    if agent_type is not None:
        changes["agentType"] = agent_type_option(agent_type, "--type")
    with st.client() as api:
        path = f"/api/targets/{segment(target)}"
        if flags.any_given():
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
    else:
        show_list(st.out, data.get("targets", []))


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
def show_target_cmd(ctx: typer.Context, target: opt.TargetArg) -> None:
    """Show a target with its config (secrets are never shown).

    Example: shuttle targets show laptop
    """
    st = state(ctx)
    with st.client() as api:
        data = api.get(f"/api/targets/{segment(target)}")
    if st.out.json_mode:
        st.out.json(data)
    else:
        show_target(st.out, data)


@targets_app.command("remove")
def remove_target(
    ctx: typer.Context,
    target: opt.TargetArg,
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
def test_target(ctx: typer.Context, target: opt.TargetArg) -> None:
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
        show_health(st.out, target, health)
    raise typer.Exit(0 if health.get("status") == "healthy" else 1)


def _toggle(ctx: typer.Context, target: str, action: str) -> None:
    st = state(ctx)
    with st.client() as api:
        data = api.post(f"/api/targets/{segment(target)}/{action}")
    if st.out.json_mode:
        st.out.json(data)
    else:
        st.out.success(f"Target {target} {action}d")


@targets_app.command("enable")
def enable_target(ctx: typer.Context, target: opt.TargetArg) -> None:
    """Let Weft launch agents on this target again.

    Example: shuttle targets enable laptop
    """
    _toggle(ctx, target, "enable")


@targets_app.command("disable")
def disable_target(ctx: typer.Context, target: opt.TargetArg) -> None:
    """Stop Weft from launching agents on this target.

    Example: shuttle targets disable laptop
    """
    _toggle(ctx, target, "disable")


def register(app: typer.Typer) -> None:
    app.add_typer(targets_app, name="targets")
