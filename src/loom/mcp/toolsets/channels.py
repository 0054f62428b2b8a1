"""[channels] list_channels, create_channel, send_message, read_messages."""

from __future__ import annotations

from functools import partial
from typing import Any

from pydantic import Field

from loom.mcp.args import ChannelName, Name
from loom.mcp.toolkit import NoArgs, Reply, ToolArgs, Toolset
from loom.models.base import iso
from loom.models.messages import ChannelMessage
from loom.runtime import Runtime
from loom.services.channels import ChannelService

toolset = Toolset("channels")


@toolset.tool("list_channels", "The project's channels with their message counts.", NoArgs, read_only=True)
async def list_channels(rt: Runtime, args: NoArgs) -> Reply:
    channels = await rt.service(ChannelService).list()
    data = [{"name": c.name, "description": c.description, "messageCount": c.message_count} for c in channels]
    text = "\n".join(f"#{c.name} ({c.message_count}): {c.description}" for c in channels)
    return Reply(text or "No channels.", {"channels": data})


class CreateChannelArgs(ToolArgs):
    name: Name
    description: str = Field(default="", max_length=1000)


@toolset.tool("create_channel", "Create a persistent channel for the project.", CreateChannelArgs)
async def create_channel(rt: Runtime, args: CreateChannelArgs) -> Reply:
    info, created = await rt.service(ChannelService).create(args.name, args.description)
    text = f"Created #{info.name}." if created else f"#{info.name} already exists."
    return Reply(text, {"name": info.name, "description": info.description, "created": created})


class SendMessageArgs(ToolArgs):
    channel: ChannelName
    message: str
    reply_to: str | None = Field(default=None, max_length=64)


@toolset.tool(
    "send_message", "Post a message to a channel (everyone, now and later, can read it).", SendMessageArgs
)
async def send_message(rt: Runtime, args: SendMessageArgs) -> Reply:
    seq, msg = await rt.service(ChannelService).send(args.channel, args.message, args.reply_to)
    data = {"id": msg.id, "channel": args.channel, "sequence": seq, "timestamp": iso(msg.timestamp)}
    return Reply(f"Sent to #{args.channel} as {msg.handle} (sequence {seq}).", data)


class ReadMessagesArgs(ToolArgs):
    channel: ChannelName
    limit: int = Field(default=50, ge=1, le=1000)
    before: int | None = Field(default=None, ge=1)
    after: int | None = Field(default=None, ge=0)


@toolset.tool(
    "read_messages",
    "Read a channel's newest messages (oldest first); page with before/after sequences. Never consumes.",
    ReadMessagesArgs,
    read_only=True,
)
async def read_messages(rt: Runtime, args: ReadMessagesArgs) -> Reply:
    channels = rt.service(ChannelService)
    page = await channels.read(args.channel, args.limit, args.before, args.after)
    # Each message's entry and line are shaped once and kept with the message.
    shown = [
        channels.derived(args.channel, seq, m, "read_messages", partial(shape, seq, m))
        for seq, m in page.messages
    ]
    text = "\n".join(line for _, line in shown) if shown else f"No messages in #{args.channel}."
    data = {"channel": args.channel, "messages": [entry for entry, _ in shown], "hasMore": page.has_more}
    return Reply(text, data)


def shape(seq: int, message: ChannelMessage) -> tuple[dict[str, Any], str]:
    """A message as ``read_messages`` shows it: its entry in the result and its line of text."""
    entry = message.public(seq)
    return entry, f"[{entry['timestamp']}] #{seq} {message.handle}: {message.message}"
