"""Channel and direct message records."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from loom.models.base import Record, iso, utcnow


class ChannelMessage(Record):
    id: str
    handle: str
    sender_guid: str | None = None
    message: str
    timestamp: datetime = Field(default_factory=utcnow)
    reply_to: str | None = None

    def public(self, sequence: int) -> dict[str, Any]:
        """The shape ``read_messages`` and the REST API return."""
        return {
            "id": self.id,
            "sequence": sequence,
            "handle": self.handle,
            "senderGuid": self.sender_guid,
            "message": self.message,
            "timestamp": iso(self.timestamp),
            "replyTo": self.reply_to,
        }


class DirectMessage(Record):
    id: str
    sender_guid: str
    sender_handle: str
    recipient_guid: str
    message_type: str = "text"
    message: str
    metadata: dict[str, Any] = Field(default_factory=dict)
    timestamp: datetime = Field(default_factory=utcnow)
    reply_to: str | None = None
