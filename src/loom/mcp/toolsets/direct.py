"""[direct] send_direct_message, read_direct_messages."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from loom.mcp.args import Name
from loom.mcp.toolkit import Reply, ToolArgs, Toolset
from loom.models.base import iso
from loom.runtime import Runtime
from loom.services.inbox import InboxService

toolset = Toolset("direct")


class SendDirectArgs(ToolArgs):
    recipient_guid: str = Field(min_length=1, max_length=64)
    message: str
    message_type: Name = "text"
    metadata: dict[str, Any] = Field(default_factory=dict)
    reply_to: str | None = Field(default=None, max_length=64)


@toolset.tool(
    "send_direct_message", "Send a private message to one agent (kept until it reads it).", SendDirectArgs
)
async def send_direct_message(rt: Runtime, args: SendDirectArgs) -> Reply:
    msg, status = await rt.service(InboxService).send(
        args.recipient_guid, args.message, args.message_type, args.metadata, args.reply_to
    )
    data = {"id": msg.id, "recipientGuid": msg.recipient_guid, "recipientStatus": status}
    return Reply(f"Delivered to {args.recipient_guid} ({status}).", data)


class ReadDirectArgs(ToolArgs):
    limit: int = Field(default=10, ge=1, le=100)
    message_type: Name | None = None
    sender_guid: str | None = Field(default=None, max_length=64)


@toolset.tool(
    "read_direct_messages",
    "Take your unread direct messages (each is returned once; filtered-out ones stay unread).",
    ReadDirectArgs,
)
async def read_direct_messages(rt: Runtime, args: ReadDirectArgs) -> Reply:
    messages, remaining = await rt.service(InboxService).read(args.limit, args.message_type, args.sender_guid)
    data = [
        {
            "id": m.id,
            "senderGuid": m.sender_guid,
            "senderHandle": m.sender_handle,
            "messageType": m.message_type,
            "message": m.message,
            "metadata": m.metadata,
            "timestamp": iso(m.timestamp),
            "replyTo": m.reply_to,
        }
        for m in messages
    ]
    lines = [f"[{iso(m.timestamp)}] {m.sender_handle} ({m.message_type}): {m.message}" for m in messages]
    text = ("\n".join(lines) if lines else "No new direct messages.") + f"\n{remaining} more unread."
    return Reply(text, {"messages": data, "remaining": remaining})
