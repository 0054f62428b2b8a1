"""``shuttle``: the fleet CLI over Weft's REST API (Typer + Rich).

Exit codes: 0 ok, 1 failed operation, 2 usage error, 3 cannot reach Weft.
The global options ``--api-url``, ``--token``, ``--project`` and ``--json`` may come before
or after the subcommand; ``main`` moves them to the front before Typer parses.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Annotated

import typer

from loom import __version__
from loom.errors import LoomError
from loom.shuttle import agents, channels, config_cmd, dlq, spin_up, stats, targets, watch, work
from loom.shuttle.context import State
from loom.shuttle.errors import exit_code
from loom.shuttle.output import Output

VALUE_OPTIONS = ("--api-url", "--token", "--project")
FLAG_OPTIONS = ("--json",)

app = typer.Typer(
    name="shuttle",
    help=(
        "Shuttle: run the Loom fleet from the command line (talks to Weft's REST API).\n\n"
        "Global options may also follow the subcommand. "
        "Exit codes: 0 ok, 1 failed operation, 2 usage error, 3 cannot reach Weft."
    ),
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(__version__)
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    api_url: Annotated[
        str | None,
        typer.Option("--api-url", help="Weft's URL (env LOOM_API_URL; default http://127.0.0.1:8765)"),
    ] = None,
    token: Annotated[
        str | None, typer.Option("--token", help="API token (env LOOM_API_TOKEN)", show_default=False)
    ] = None,
    project: Annotated[str | None, typer.Option("--project", help="project id (env LOOM_PROJECT_ID)")] = None,
    json_mode: Annotated[bool, typer.Option("--json", help="print JSON instead of tables")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="print the version")
    ] = False,
) -> None:
    ctx.obj = State(flags={"api-url": api_url, "token": token, "project": project}, out=Output(json_mode))


work.register(app)
watch.register(app)
agents.register(app)
targets.register(app)
spin_up.register(app)
dlq.register(app)
channels.register(app)
stats.register(app)
config_cmd.register(app)


def hoist_globals(args: Sequence[str]) -> list[str]:
    """Move global options (wherever they are, up to ``--``) in front of the subcommand.

    A value that looks like a global option can still be passed after ``--``:
    ``shuttle channels post general -- --json``.
    """
    front: list[str] = []
    rest: list[str] = []
    index = 0
    while index < len(args):
        arg = args[index]
        if arg == "--":
            rest.extend(args[index:])
            break
        if arg in FLAG_OPTIONS or arg.split("=", 1)[0] in VALUE_OPTIONS and "=" in arg:
            front.append(arg)
        elif arg in VALUE_OPTIONS and index + 1 < len(args):
            front.extend(args[index : index + 2])
            index += 1
        else:
            rest.append(arg)
        index += 1
    return front + rest


def main(argv: Sequence[str] | None = None) -> None:
    args = hoist_globals(sys.argv[1:] if argv is None else argv)
    json_mode = "--json" in args[: args.index("--")] if "--" in args else "--json" in args
    try:
        app(args=args, prog_name="shuttle")
    except LoomError as exc:
        Output(json_mode=json_mode).error(exc)
        sys.exit(exit_code(exc))
