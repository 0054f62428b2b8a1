"""``ChannelService``: persistent per-project channels whose history every reader sees.

Each channel is its own stream, so a channel's sequences are contiguous and the newest N
(or the page before/after a sequence) is one computed range: a stream-state request, and
one batched direct get for the messages this session has not read before (see
``channel_pages``). Reading never consumes.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, TypeVar

from nats.js.errors import APIError, NoStreamResponseError, NotFoundError

from loom.bus.replay import Stored, read_run
from loom.errors import InvalidArgument, LoomError, NotFound, Unavailable
from loom.models.base import encode
from loom.models.messages import ChannelMessage
from loom.names import validate_name
from loom.services.agent_state import AgentState
from loom.services.channel_pages import RecentMessages, page_range

if TYPE_CHECKING:
    from loom.runtime import Runtime

MAX_LIMIT = 1000
T = TypeVar("T")


@dataclass(frozen=True)
class ChannelInfo:
    name: str
    description: str
    message_count: int
    created: datetime | None
    last_sequence: int
    first_sequence: int = 0


@dataclass(frozen=True)
class Page:
    messages: list[tuple[int, ChannelMessage]]
    has_more: bool


def _missing(name: str) -> NotFound:
    return NotFound(f"no channel #{name}; list_channels shows them, create_channel adds one", field="channel")


def check_message(message: str, field: str = "message") -> str:
    if not message.strip():
        raise InvalidArgument("must not be empty", field=field)
    if len(message.encode()) > 1024 * 1024:
        raise InvalidArgument("must be at most 1 MiB of UTF-8", field=field)
    return message


class ChannelService:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.last_read: dict[str, int] = {}  # per session: what wait_for_activity counts from
        self._known: dict[str, tuple[str, int, int]] = {}  # (created, first, last) seen last
        self._recent = RecentMessages()
        self._defaults_ready = False

    async def _ensure_defaults(self) -> None:
        if not self._defaults_ready:
            for name, description in self.runtime.layout.DEFAULT_CHANNELS:
                await self._ensure(name, description)
            self._defaults_ready = True

    async def _ensure(self, name: str, description: str) -> None:
        spec = self.runtime.layout.channel_stream(name)
        try:
            await self.runtime.bus.js.stream_info(spec.name)
        except NotFoundError:
            await self.runtime.bus.stream(replace(spec, description=description))

    async def info(self, name: str) -> ChannelInfo:
        await self._ensure_defaults()
        spec = self.runtime.layout.channel_stream(validate_name(name, "channel"))
        try:
            info = await self.runtime.bus.js.stream_info(spec.name)
        except NotFoundError:
            raise _missing(name) from None
        return ChannelInfo(
            name=name,
            description=info.config.description or "",
            message_count=info.state.messages,
            created=info.created if isinstance(info.created, datetime) else None,
            last_sequence=info.state.last_seq,
            first_sequence=info.state.first_seq,
        )

    async def _state(self, name: str) -> tuple[int, str, int, int]:
        """(messages, created, first, last sequence) of a channel. Every read asks, so this is
        the bare stream-info request, without building the whole stream description."""
        await self._ensure_defaults()
        stream = self.runtime.layout.channel_stream(validate_name(name, "channel")).name
        reply = await self.runtime.bus.nc.request(f"$JS.API.STREAM.INFO.{stream}", b"", timeout=10)
        answer = json.loads(reply.data)
        if "error" in answer:
            try:
                APIError.from_error(answer["error"])  # raises the matching error
            except NotFoundError:
                raise _missing(name) from None
        state = answer["state"]
        counts = (int(state.get(key, 0)) for key in ("messages", "first_seq", "last_seq"))
        count, first, last = counts
        return count, str(answer.get("created", "")), first, last

    async def list(self) -> list[ChannelInfo]:
        """Every channel of the project with its message count: one filtered stream listing."""
        await self._ensure_defaults()
        prefix = self.runtime.layout.channel_stream("x").name[:-1]
        found, offset = [], 0
        while True:
            request = {"subject": self.runtime.layout.channel_subject_wildcard, "offset": offset}
            reply = await self.runtime.bus.nc.request(
                "$JS.API.STREAM.LIST", json.dumps(request).encode(), timeout=10
            )
            page = json.loads(reply.data)
            for stream in page.get("streams") or []:
                name = stream["config"]["name"][len(prefix) :]
                state = stream.get("state", {})
                found.append(
                    ChannelInfo(
                        name,
                        stream["config"].get("description", ""),
                        state.get("messages", 0),
                        None,
                        state.get("last_seq", 0),
                    )
                )
            offset += len(page.get("streams") or [])
            if not page.get("streams") or offset >= page.get("total", 0):
                break
        return sorted(found, key=lambda c: c.name)

    async def create(self, name: str, description: str = "") -> tuple[ChannelInfo, bool]:
        name = validate_name(name, "name")
        if len(description) > 1000:
            raise InvalidArgument("must be at most 1000 characters", field="description")
        try:
            return await self.info(name), False
        except NotFound:
            await self._ensure(name, description)
            return await self.info(name), True

    async def send(
        self, channel: str, message: str, reply_to: str | None = None, handle: str | None = None
    ) -> tuple[int, ChannelMessage]:
        """Publish straight away: JetStream itself answers "no stream" for an unknown channel,
        so the hot path is one round trip, not a stream lookup first."""
        await self._ensure_defaults()
        name = validate_name(channel, "channel")
        state = self.runtime.service(AgentState)
        try:
            record = ChannelMessage(
                id=str(uuid.uuid4()),
                handle=handle or state.require_handle(),
                sender_guid=state.guid if state.registered else None,
                message=check_message(message),
                reply_to=reply_to,
            )
        except LoomError:
            await self.info(name)  # an unknown channel is reported first
            raise
        try:
            ack = await self.runtime.bus.js.publish(
                self.runtime.layout.channel_subject(name), encode(record), headers={"Nats-Msg-Id": record.id}
            )
        except NoStreamResponseError:
            await self.info(name)  # NotFound when the channel is missing
            raise Unavailable("no JetStream server took the message; retry shortly") from None
        known = self._known.get(name)
        if known is not None and ack.seq == known[2] + 1:  # nobody else posted since
            self._known[name] = (known[0], known[1], ack.seq)
        return ack.seq, record

    async def read(
        self, channel: str, limit: int = 50, before: int | None = None, after: int | None = None
    ) -> Page:
        """A page of a channel. The channel's state is asked for on every read; the messages
        come from those kept from earlier reads, or are asked for in the same round trip as the
        state (the page as the state seen last time places it), or after it when it moved."""
        if not 1 <= limit <= MAX_LIMIT:
            raise InvalidArgument(f"must be between 1 and {MAX_LIMIT}", field="limit")
        if before is not None and after is not None:
            raise InvalidArgument("give before or after, not both", field="before")
        name = validate_name(channel, "channel")
        known = self._known.get(name)
        seen_created = known[0] if known else None
        guess = page_range(*known[1:], limit, before, after) if known and known[2] else None
        if known and guess and self._recent.has(name, known[0], *guess[:2]):
            guess = None  # kept already: only the state is needed
        state, run = await self._state_and_run(name, guess)
        self._known[name] = state[1:]
        count, created, first, last = state
        if count == 0:
            return Page([], False)
        start, end, has_more = page_range(first, last, limit, before, after)
        if end < start:
            return Page([], False)
        kept = self._recent.run(name, created, start, end)
        if kept is None:
            if run is None or guess is None or guess[:2] != (start, end) or seen_created != created:
                run = await read_run(self.runtime.bus, *self._names(name), start, end)
            kept = [(msg.seq, self._recent.keep(name, created, msg.seq, msg.data)) for msg in run]
            self._recent.trim(name)
        messages = [(seq, k.message) for seq, k in kept if k.message is not None]
        if messages:
            self.last_read[name] = max(self.last_read.get(name, 0), messages[-1][0])
        return Page(messages, has_more)

    def derived(self, channel: str, seq: int, message: ChannelMessage, key: str, make: Callable[[], T]) -> T:
        """``make()``, computed once for a message kept from a read. Don't change the result."""
        return self._recent.derived(channel, seq, message, key, make)

    def _names(self, name: str) -> tuple[str, str]:
        """(stream, subject) of a channel."""
        return self.runtime.layout.channel_stream(name).name, self.runtime.layout.channel_subject(name)

    async def _state_and_run(
        self, name: str, guess: tuple[int, int, bool] | None
    ) -> tuple[tuple[int, str, int, int], Sequence[Stored] | None]:
        """The channel's state and, side by side in the same round trip, the guessed run."""
        if guess is None or guess[1] < guess[0]:
            return await self._state(name), None
        state, run = await asyncio.gather(
            self._state(name), read_run(self.runtime.bus, *self._names(name), guess[0], guess[1]),
            return_exceptions=True,
        )  # fmt: skip
        if isinstance(state, BaseException):
            raise state
        return state, None if isinstance(run, BaseException) else run
