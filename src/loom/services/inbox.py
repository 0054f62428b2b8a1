"""``InboxService``: a personal inbox per agent; offline agents get their mail later.

All inboxes of a project share one stream (subject per guid). A read returns at once with
what matches; each returned message is deleted from the stream first, and only messages
whose delete succeeded are returned, so two readers never both get one. Messages that don't
match the filters are left where they are.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import TYPE_CHECKING, Any

from nats.js.errors import NotFoundError

from loom.bus.replay import Batch, Stored, read_range, subject_count
from loom.errors import InvalidArgument, NotFound
from loom.models.agent import AgentRecord
from loom.models.base import decode, encode
from loom.models.messages import DirectMessage
from loom.services.agent_state import AgentState
from loom.services.channels import check_message
from loom.services.directory import AgentDirectory
from loom.services.kvstore import read

if TYPE_CHECKING:
    from loom.runtime import Runtime

MAX_SCAN = 1000


log = logging.getLogger("loom.inbox")


class InboxService:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._lock = asyncio.Lock()

    async def _stream(self) -> str:
        spec = self.runtime.layout.inbox_stream
        await self.runtime.bus.stream(spec)
        return spec.name

    async def send(
        self,
        recipient: str,
        message: str,
        message_type: str = "text",
        metadata: dict[str, Any] | None = None,
        reply_to: str | None = None,
    ) -> tuple[DirectMessage, str]:
        me = self.runtime.service(AgentState).require()
        check_message(message)
        directory = self.runtime.service(AgentDirectory)
        await directory.start()
        if not await self._known(directory, recipient):
            raise NotFound(f"no agent {recipient} in this project", field="recipientGuid")
        status = "online" if directory.is_online(recipient) else "offline"
        record = DirectMessage(
            id=str(uuid.uuid4()),
            sender_guid=me.guid,
            sender_handle=me.handle,
            recipient_guid=recipient,
            message_type=message_type,
            message=message,
            metadata=metadata or {},
            reply_to=reply_to,
        )
        await self._stream()
        await self.runtime.bus.js.publish(
            self.runtime.layout.inbox_subject(recipient), encode(record), headers={"Nats-Msg-Id": record.id}
        )
        return record, status

    async def _known(self, directory: AgentDirectory, guid: str) -> bool:
        """Is ``guid`` a registered agent? The watched directory answers without a round trip;
        the bucket is asked only when the directory has not seen it (yet)."""
        if guid in directory.records:
            return True
        if not _is_key(guid):
            return False
        agents = await self.runtime.bus.kv(self.runtime.layout.agents_bucket)
        record, _ = await read(agents, guid, AgentRecord)
        return record is not None

    async def unread(self) -> int:
        guid = self.runtime.service(AgentState).guid
        stream = await self._stream()
        return await subject_count(self.runtime.bus, stream, self.runtime.layout.inbox_subject(guid))

    async def read(
        self, limit: int = 10, message_type: str | None = None, sender: str | None = None
    ) -> tuple[list[DirectMessage], int]:
        """Take up to ``limit`` matching messages (oldest first); returns them and what's left.

        What's left is counted from the same read: every message scanned and not taken
        (filtered out, or beyond ``limit``) plus those past the scan.
        """
        if not 1 <= limit <= 100:
            raise InvalidArgument("must be between 1 and 100", field="limit")
        me = self.runtime.service(AgentState).require()
        stream = await self._stream()
        subject = self.runtime.layout.inbox_subject(me.guid)
        filtered = bool(message_type or sender)
        direct = self.runtime.settings.replicas == 1  # a follower may lag: read from the leader
        async with self._lock:
            # Unfiltered, the first ``limit`` are the ones; a filter may have to look further.
            scan = MAX_SCAN if filtered else limit
            batch = await read_range(self.runtime.bus, stream, subject, 1, scan, direct=direct)
            chosen, wanted = _choose(batch, limit, message_type, sender)
            if wanted < limit and not filtered and batch.pending:  # malformed ones took places
                batch = await read_range(self.runtime.bus, stream, subject, 1, MAX_SCAN, direct=direct)
                chosen, wanted = _choose(batch, limit, message_type, sender)
            # Deleting is what makes a message ours: only a successful delete returns it.
            outcomes = await asyncio.gather(
                *(self._take(stream, msg.seq) for msg, _ in chosen), return_exceptions=True
            )
        # A failed delete must not cost the messages whose deletes went through: those are
        # returned; the error surfaces only when nothing could be taken.
        failures = [o for o in outcomes if isinstance(o, BaseException)]
        if failures and len(failures) == len(outcomes):
            raise failures[0]
        if failures:
            log.warning(
                "%d of %d inbox deletes failed; those messages are left for a later read",
                len(failures),
                len(outcomes),
            )
        won = [o is True for o in outcomes]
        taken = [parsed for (_, parsed), ok in zip(chosen, won, strict=True) if ok and parsed is not None]
        remaining = len(batch.messages) + batch.pending - len(chosen)
        return taken, remaining

    async def _take(self, stream: str, seq: int) -> bool:
        try:
            return bool(await self.runtime.bus.js.delete_msg(stream, seq))
        except NotFoundError:
            return False  # another reader took it first
        except Exception as exc:
            if "no message found" in str(exc).lower():
                return False
            raise


def _choose(
    batch: Batch, limit: int, message_type: str | None, sender: str | None
) -> tuple[list[tuple[Stored, DirectMessage | None]], int]:
    """The messages to take, oldest first, and how many of them match: up to ``limit``
    matching ones, and the malformed ones met on the way (removed, never returned)."""
    chosen: list[tuple[Stored, DirectMessage | None]] = []
    wanted = 0
    for msg in batch.messages:
        if wanted >= limit:
            break
        parsed = decode(DirectMessage, msg.data)
        if parsed is not None:
            if message_type and parsed.message_type != message_type:
                continue
            if sender and parsed.sender_guid != sender:
                continue
            wanted += 1
        chosen.append((msg, parsed))
    return chosen, wanted


def _is_key(guid: str) -> bool:
    return 0 < len(guid) <= 64 and all(c.isalnum() or c in "-_" for c in guid)
