"""``agents list|show`` and ``shutdown``."""

from __future__ import annotations

import sys
from enum import StrEnum
from typing import Annotated, Any

import typer

from loom.errors import InvalidArgument
from loom.shuttle.client import segment
from loom.shuttle.context import name_option, state
from loom.shuttle.output import Output, ago, status_text

agents_app = typer.Typer(help="See the agents of the project.", no_args_is_help=True)


class AgentStatus(StrEnum):
    online = "online"
    busy = "busy"
    offline = "offline"


@agents_app.command("list")
def list_agents(
    ctx: typer.Context,
    capability: Annotated[str | None, typer.Option("--capability", "-c", help="has this capability")] = None,
    boundary: Annotated[str | None, typer.Option("--boundary", "-b", help="works in this boundary")] = None,
    status: Annotated[AgentStatus | None, typer.Option("--status", "-s")] = None,
    agent_type: Annotated[str | None, typer.Option("--type", help="agent type, e.g. claude-code")] = None,
) -> None:
    """List agents with their status, capabilities and load.

    Example: shuttle agents list --capability python --status online
    """
    st = state(ctx)
    with st.client() as api:
        data = api.get(
            "/api/agents",
            capability=name_option(capability, "--capability"),
            boundary=name_option(boundary, "--boundary"),
            status=status.value if status else None,
            agentType=agent_type,
        )
    if st.out.json_mode:
        st.out.json(data)
        return
    rows = [
        (
            agent.get("guid"),
            agent.get("handle"),
            agent.get("agentType"),
            status_text(agent.get("status")),
            agent.get("capabilities"),
            agent.get("boundaries"),
            agent.get("currentTaskCount"),
            ago(agent.get("lastHeartbeat")),
        )
        for agent in data.get("agents", [])
    ]
    columns = ("GUID", "HANDLE", "TYPE", "STATUS", "CAPABILITIES", "BOUNDARIES", "TASKS", "HEARTBEAT")
    st.out.table(columns, rows, empty="No agents.")


@agents_app.command("show")
def show_agent(ctx: typer.Context, guid: Annotated[str, typer.Argument(metavar="GUID")]) -> None:
    """Show one agent.

    Example: shuttle agents show 3b7e0c5a...
    """
    st = state(ctx)
    with st.client() as api:
        agent = api.get(f"/api/agents/{segment(guid)}")
    if st.out.json_mode:
        st.out.json(agent)
        return
    show_agent_fields(st.out, agent)


def show_agent_fields(out: Output, agent: dict[str, Any]) -> None:
    pairs: list[tuple[str, Any]] = [
        ("guid", agent.get("guid")),
        ("handle", agent.get("handle")),
        ("type", agent.get("agentType")),
        ("status", status_text(agent.get("status"))),
        ("capabilities", agent.get("capabilities")),
        ("boundaries", agent.get("boundaries")),
        ("host", agent.get("hostname")),
        ("tasks", agent.get("currentTaskCount")),
        ("heartbeat", ago(agent.get("lastHeartbeat"))),
    ]
    labels = {"target": "launched by", "registeredAt": "registered"}
    pairs += [(label, agent[key]) for key, label in labels.items() if agent.get(key)]
    out.fields(pairs)


def shutdown(
    ctx: typer.Context,
    guid: Annotated[str, typer.Argument(metavar="GUID")],
    force: Annotated[bool, typer.Option("--force", help="stop now, not after the current item")] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="do not ask for confirmation")] = False,
) -> None:
    """Ask an agent to shut down (after its current item, unless --force).

    Example: shuttle shutdown 3b7e0c5a... --yes
    """
    st = state(ctx)
    confirm(st.out, f"Shut down agent {guid}?", yes)
    with st.client() as api:
        answer = api.post(f"/api/agents/{segment(guid)}/shutdown", {"graceful": not force})
    result = {"guid": guid, "graceful": not force, **(answer if isinstance(answer, dict) else {})}
    if st.out.json_mode:
        st.out.json(result)
        return
    how = "now" if force else "after its current work item"
    st.out.success(f"Asked agent {guid} to shut down {how}")


def confirm(out: Output, question: str, yes: bool) -> None:
    """Ask on a terminal; elsewhere (scripts, --json) demand --yes rather than guess."""
    if yes:
        return
    if out.json_mode or not sys.stdin.isatty():
        raise InvalidArgument("this needs confirmation; pass --yes (no terminal to ask)", field="--yes")
    if not typer.confirm(question, default=False):
        out.info("Nothing done.")
        raise typer.Exit(0)


def register(app: typer.Typer) -> None:
    app.add_typer(agents_app, name="agents")
    app.command("shutdown")(shutdown)
