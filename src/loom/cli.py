"""``loom``: up, demo, mcp, agent run, mcp-config, doctor."""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from loom import __version__
from loom.config import Settings, load_settings
from loom.errors import LoomError

app = typer.Typer(
    name="loom",
    help="Loom: a team fabric for AI coding agents on NATS JetStream.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
)
agent_app = typer.Typer(help="Run agents.", no_args_is_help=True)
app.add_typer(agent_app, name="agent")

console = Console(stderr=False)
err = Console(stderr=True)

ConfigOption = Annotated[Path | None, typer.Option("--config", help="TOML settings file", dir_okay=False)]


def print_error(exc: LoomError) -> None:
    """One line; the message is escaped, since rules like ``[a-z0-9]`` would read as markup."""
    err.print(f"[red]Error \\[{exc.code}][/red]: {escape(exc.message)}", soft_wrap=True)


def settings_or_exit(config: Path | None = None, **overrides: Any) -> Settings:
    try:
        return load_settings(config_path=config, **overrides)
    except LoomError as exc:
        print_error(exc)
        raise typer.Exit(2) from None


def run_async(coro: object) -> None:
    """Run a coroutine; LoomErrors become a one-line message and exit code 1."""
    try:
        asyncio.run(coro)  # type: ignore[arg-type]
    except LoomError as exc:
        print_error(exc)
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        raise typer.Exit(130) from None


@app.command()
def version() -> None:
    """Print Loom's version."""
    console.print(__version__)


@app.command()
def up(
    data_dir: Annotated[Path | None, typer.Option(help="where the embedded NATS keeps its data")] = None,
    nats_port: Annotated[int | None, typer.Option(help="port for the embedded NATS (default 4222)")] = None,
    api_port: Annotated[int, typer.Option(help="port for Weft's REST API")] = 8765,
    api_host: Annotated[str, typer.Option(help="address for Weft's REST API")] = "127.0.0.1",
    no_weft: Annotated[bool, typer.Option("--no-weft", help="run NATS only")] = False,
    config: ConfigOption = None,
) -> None:
    """Start the stack on this machine: embedded NATS (JetStream) and Weft. Ctrl-C stops it.

    Example: loom up --api-port 8765
    """
    from loom.mcp_config import render
    from loom.up import Stack, default_data_dir, run_stack

    settings = settings_or_exit(config)

    def ready(stack: Stack, stack_settings: Settings) -> None:
        where = "embedded nats-server" if stack.embedded else "existing server"
        console.print(f"[bold green]Loom is up[/] (project [bold]{stack_settings.project_id}[/])")
        console.print(f"  NATS      {stack.nats_url}  ({where})")
        if stack.api_url:
            console.print(f"  Weft API  {stack.api_url}/api   docs {stack.api_url}/docs")
            hint = "bearer token required" if settings.api_tokens else "open on loopback (set LOOM_API_TOKEN)"
            console.print(f"  Auth      {hint}")
        console.print("\nConnect an MCP client:\n")
        console.print(render(stack_settings), markup=False, highlight=False)
        console.print("\nPress Ctrl-C to stop.")

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    run_async(
        run_stack(
            settings,
            data_dir=data_dir or default_data_dir(),
            nats_port=nats_port,
            api_host=api_host,
            api_port=api_port,
            with_weft=not no_weft,
            on_ready=ready,
        )
    )
    console.print("Loom stopped.")


@app.command()
def demo(
    keep_data: Annotated[bool, typer.Option(help="keep the demo's NATS data dir")] = False,
) -> None:
    """A self-contained showcase on the embedded stack; exits 0 when every step checked out.

    Example: loom demo
    """
    from loom.demo.run import run_demo

    ok = asyncio.run(run_demo(console, keep_data=keep_data))
    raise typer.Exit(0 if ok else 1)


@app.command()
def mcp(
    toolsets: Annotated[str, typer.Option(help="comma list of toolsets")] = "",
    transport: Annotated[str, typer.Option(help="stdio or http")] = "stdio",
    host: Annotated[str, typer.Option(help="address for --transport http")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port for --transport http")] = 8000,
    config: ConfigOption = None,
) -> None:
    """One MCP server with any toolsets (identity, channels, registry, direct, work, dlq,
    activity, reservations, memory).

    Example: loom mcp --toolsets channels,work,memory
    """
    from loom.mcp.server import serve
    from loom.mcp.toolsets import KNOWN

    if transport not in {"stdio", "http"}:
        err.print("Error [INVALID_ARGUMENT]: --transport: must be stdio or http")
        raise typer.Exit(2)
    settings = settings_or_exit(config, toolsets=toolsets or None)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    run_async(serve(settings, settings.toolsets or KNOWN, transport=transport, host=host, port=port))


@app.command("mcp-config")
def mcp_config(config: ConfigOption = None) -> None:
    """Print the MCP client config (Claude Code JSON and `claude mcp add` lines).

    Example: loom mcp-config > /dev/null && claude mcp list
    """
    from loom.mcp_config import render

    console.print(render(settings_or_exit(config)), markup=False, highlight=False)


@app.command()
def doctor(config: ConfigOption = None) -> None:
    """Check NATS reachability, auth, JetStream and the server version; exit 1 on any failure.

    Example: NATS_URL=nats://nats.internal:4222 loom doctor
    """
    from loom.doctor import run_checks

    checks = asyncio.run(run_checks(settings_or_exit(config)))
    for check in checks:
        mark = "[green]ok[/]  " if check.ok else "[red]FAIL[/]"
        console.print(f"{mark} {check.name}: {check.detail}", highlight=False)
        if check.fix:
            console.print(f"      fix: {check.fix}", highlight=False)
    failed = [c for c in checks if not c.ok]
    if failed or len(checks) < 5:
        raise typer.Exit(1)


@agent_app.command("run")
def agent_run(
    capability: Annotated[list[str], typer.Option("--capability", "-c", help="capability (repeatable)")],
    boundary: Annotated[
        list[str] | None, typer.Option("--boundary", "-b", help="boundary (repeatable)")
    ] = None,
    exec_: Annotated[str | None, typer.Option("--exec", help="command run per work item (no shell)")] = None,
    idle_exit: Annotated[float | None, typer.Option(help="exit after this many idle seconds")] = None,
    handle: Annotated[str | None, typer.Option(help="agent handle")] = None,
    agent_type: Annotated[str, typer.Option(help="agent type")] = "scripted",
    config: ConfigOption = None,
) -> None:
    """A scripted worker: claims work for its capabilities and runs --exec per item
    (item JSON on stdin, LOOM_WORK_* env; exit 0 completes with stdout as summary).

    Example: loom agent run -c review --exec 'python review.py' --idle-exit 300
    """
    from loom.agent.worker import WorkerOptions, run_worker

    settings = settings_or_exit(config)
    options = WorkerOptions(
        capabilities=capability,
        boundaries=boundary or [],
        command=exec_,
        idle_exit=idle_exit,
        handle=handle,
        agent_type=agent_type,
    )
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(name)s: %(message)s")
    run_async(run_worker(settings, options))


@agent_app.command("claude")
def agent_claude(
    capability: Annotated[
        list[str] | None,
        typer.Option("--capability", "-c", help="capability (repeatable; needed without --task)"),
    ] = None,
    boundary: Annotated[
        list[str] | None, typer.Option("--boundary", "-b", help="boundary (repeatable)")
    ] = None,
    idle_minutes: Annotated[int, typer.Option(min=1, help="stop after this many idle minutes")] = 10,
    agent_type: Annotated[str, typer.Option(help="agent type to register with")] = "claude-code",
    task: Annotated[str | None, typer.Option(help="do this one task, report it and stop")] = None,
    task_file: Annotated[Path | None, typer.Option(help="like --task, the text read from this file")] = None,
    report_channel: Annotated[str, typer.Option(help="channel for the summary of a task")] = "general",
    allow_tool: Annotated[
        list[str] | None,
        typer.Option("--allow-tool", help="Claude Code tool allowed besides Loom's (repeatable)"),
    ] = None,
    claude_args: Annotated[
        list[str] | None, typer.Argument(metavar="-- CLAUDE_ARGS", help="passed on to claude as they are")
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Start Claude Code (`claude -p`) with the Loom MCP servers configured: as a worker on its
    capabilities, or on one --task that it reports on a channel.

    Example: loom agent claude -c review -b corporate -- --model sonnet
    """
    from loom.agent.claude import build_profile, exec_claude, read_task

    settings = settings_or_exit(config)
    try:
        profile = build_profile(
            capability or [], boundary or [], agent_type=agent_type, task=read_task(task, task_file),
            report_channel=report_channel, tools=allow_tool or [], idle_minutes=idle_minutes,
            extra_args=claude_args or [],
        )  # fmt: skip
        exec_claude(profile, settings)
    except LoomError as exc:
        print_error(exc)
        raise typer.Exit(1) from None


def main() -> None:
    app()
