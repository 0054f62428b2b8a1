"""``channels list|read|post``: the team's channels, from a terminal."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.text import Text

from loom.errors import InvalidArgument
from loom.names import validate_name
from loom.shuttle.client import segment
from loom.shuttle.context import state
from loom.shuttle.output import Output

channels_app = typer.Typer(help="Read and post to channels.", no_args_is_help=True)


@channels_app.command("list")
def list_channels(ctx: typer.Context) -> None:
    """List channels with their message counts.

    Example: shuttle channels list
    """
    st = state(ctx)
    with st.client() as api:
        data = api.get("/api/channels")
    if st.out.json_mode:
        st.out.json(data)
        return
    rows = [
        (f"#{ch.get('name')}", ch.get("messageCount"), ch.get("description"))
        for ch in data.get("channels", [])
    ]
    st.out.table(("CHANNEL", "MESSAGES", "DESCRIPTION"), rows, empty="No channels.")


@channels_app.command("read")
def read_channel(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(metavar="NAME")],
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, max=1000, help="newest N messages")] = 50,
    before: Annotated[int | None, typer.Option("--before", min=1, help="older than this sequence")] = None,
) -> None:
    """Print a channel's newest messages, oldest first.

    Example: shuttle channels read general --limit 20
    """
    st = state(ctx)
    channel = validate_name(name, "NAME")
    with st.client() as api:
        data = api.get(f"/api/channels/{segment(channel)}/messages", limit=limit, before=before)
    if st.out.json_mode:
        st.out.json(data)
        return
    show_messages(st.out, channel, data)


def show_messages(out: Output, channel: str, data: dict[str, Any]) -> None:
    messages = data.get("messages", [])
    if not messages:
        out.info(f"No messages in #{channel}.")
        return
    for msg in messages:
        line = Text(f"[{msg.get('timestamp', '')}] ", style="dim")
        line.append(f"{msg.get('handle') or msg.get('senderGuid') or 'unknown'}", style="bold blue")
        line.append(f": {msg.get('message', '')}")
        out.console.print(line)
    if data.get("hasMore"):
        first = messages[0].get("sequence")
        out.info(f"Older: shuttle channels read {channel} --before {first}")


@channels_app.command("post")
def post_message(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(metavar="NAME")],
    message: Annotated[str, typer.Argument(metavar="MESSAGE")],
    handle: Annotated[str | None, typer.Option("--handle", help="name to post as")] = None,
) -> None:
    """Post a message to a channel as a person.

    Example: shuttle channels post general "Deploy freeze until 14:00" --handle alice
    """
    st = state(ctx)
    channel = validate_name(name, "NAME")
    if not message.strip():
        raise InvalidArgument("must not be empty", field="MESSAGE")
    body: dict[str, Any] = {"message": message}
    if handle is not None:
        body["handle"] = validate_name(handle, "--handle")
    with st.client() as api:
        sent = api.post(f"/api/channels/{segment(channel)}/messages", body)
    if st.out.json_mode:
        st.out.json(sent)
    else:
        st.out.success(f"Posted to #{channel} (seq {sent.get('sequence')})")


def register(app: typer.Typer) -> None:
    app.add_typer(channels_app, name="channels")
