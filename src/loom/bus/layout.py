"""Every NATS name Loom uses, and every limit, derived from the project id.

This is the only module that builds subjects, stream names, consumer names and bucket
names. User-given tokens arrive here already validated by ``loom.names`` (so they are
``[a-z0-9][a-z0-9_-]*``); internal tokens start with ``_``, which no user token can, so
nothing a user types reaches an internal subject, a wildcard, or another project.

Naming scheme (``P`` = project id, which never contains ``_``):

    subjects   loom.P.ch.<channel>                 channel messages (one stream per channel)
               loom.P.inbox.<guid>                 direct messages
               loom.P.work.<cap>.<boundary|_>.p<NN> work queue (NN = 11 - priority: 01 is highest)
               loom.P.events.<kind>                coordinator events
               loom.P._wake.<guid>                 core-NATS nudges (no stream)
    streams    LOOM_P_CH_<channel>, LOOM_P_INBOX, LOOM_P_WORK, LOOM_P_EVENTS
    buckets    loom_P_<what>                       key-value state (registry, presence, ...)
               loom__personal_memory, loom__public_memory (cross-project memory)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property

from loom.names import validate_name, validate_project

NO_BOUNDARY = "_"
PRIORITY_LEVELS = range(10, 0, -1)  # claim order: highest priority first

MiB = 1024 * 1024
DAY = 86400.0


class Retention(StrEnum):
    LIMITS = "limits"
    WORK_QUEUE = "workqueue"


@dataclass(frozen=True)
class StreamSpec:
    """What a stream must look like; provisioning creates it or updates it to match."""

    name: str
    subjects: tuple[str, ...]
    description: str = ""
    retention: Retention = Retention.LIMITS
    max_msgs: int = -1
    max_bytes: int = -1
    max_age: float = 0.0
    max_msg_size: int = -1
    max_msgs_per_subject: int = -1
    allow_msg_ttl: bool = False
    duplicate_window: float = 120.0
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class BucketSpec:
    """A key-value bucket; ``ttl_keys`` enables per-message TTL (server >= 2.11)."""

    name: str
    description: str = ""
    history: int = 1
    max_value_size: int = -1
    max_bytes: int = -1
    ttl_keys: bool = False


class Layout:
    """All names for one project. Cheap to build; build one per project. The specs are
    built once each: hot paths (every claim, every KV write) ask for them."""

    def __init__(self, project: str, replicas: int = 1) -> None:
        self.project = validate_project(project)
        self.replicas = replicas
        self.prefix = f"loom.{project}"
        self._stream_prefix = f"LOOM_{project}"
        self._bucket_prefix = f"loom_{project}"

    # -- channels -------------------------------------------------------------------------
    DEFAULT_CHANNELS = (
        ("general", "General discussion for the whole team"),
        ("planning", "Plans, task breakdowns and who does what"),
    )
    CHANNEL_MAX_MSGS = 100_000
    MESSAGE_MAX_BYTES = 1 * MiB

    def channel_subject(self, channel: str) -> str:
        return f"{self.prefix}.ch.{validate_name(channel, 'channel')}"

    @cached_property
    def channel_subject_wildcard(self) -> str:
        return f"{self.prefix}.ch.*"

    def channel_stream(self, channel: str) -> StreamSpec:
        channel = validate_name(channel, "channel")
        return StreamSpec(
            name=f"{self._stream_prefix}_CH_{channel}",
            subjects=(self.channel_subject(channel),),
            max_msgs=self.CHANNEL_MAX_MSGS,
            max_msg_size=self.MESSAGE_MAX_BYTES + 64 * 1024,
        )

    def channel_from_subject(self, subject: str) -> str | None:
        head = f"{self.prefix}.ch."
        return subject[len(head) :] if subject.startswith(head) else None

    # -- direct messages ------------------------------------------------------------------
    INBOX_MAX_PER_AGENT = 10_000
    INBOX_MAX_AGE = 30 * DAY

    def inbox_subject(self, guid: str) -> str:
        return f"{self.prefix}.inbox.{guid}"

    @cached_property
    def inbox_stream(self) -> StreamSpec:
        return StreamSpec(
            name=f"{self._stream_prefix}_INBOX",
            subjects=(f"{self.prefix}.inbox.*",),
            max_age=self.INBOX_MAX_AGE,
            max_msgs_per_subject=self.INBOX_MAX_PER_AGENT,
            max_msg_size=self.MESSAGE_MAX_BYTES + 64 * 1024,
        )

    # -- work queues ----------------------------------------------------------------------
    def work_subject(self, capability: str, boundary: str | None, priority: int) -> str:
        cap = validate_name(capability, "capability")
        slot = validate_name(boundary, "boundary") if boundary else NO_BOUNDARY
        return f"{self.prefix}.work.{cap}.{slot}.p{11 - priority:02d}"

    def work_capability_wildcard(self, capability: str) -> str:
        return f"{self.prefix}.work.{validate_name(capability, 'capability')}.>"

    def work_consumer(self, capability: str, boundary: str | None, priority: int) -> str:
        cap = validate_name(capability, "capability")
        slot = validate_name(boundary, "boundary") if boundary else NO_BOUNDARY
        return f"w-{cap}-{slot}-p{11 - priority:02d}"

    @cached_property
    def work_stream(self) -> StreamSpec:
        return StreamSpec(
            name=f"{self._stream_prefix}_WORK",
            subjects=(f"{self.prefix}.work.>",),
            retention=Retention.WORK_QUEUE,
            max_msg_size=4 * MiB,
            duplicate_window=600.0,
        )

    # -- coordinator events ---------------------------------------------------------------
    def event_subject(self, kind: str) -> str:
        return f"{self.prefix}.events.{kind}"

    @cached_property
    def events_stream(self) -> StreamSpec:
        return StreamSpec(
            name=f"{self._stream_prefix}_EVENTS",
            subjects=(f"{self.prefix}.events.>",),
            max_age=7 * DAY,
            max_msgs=1_000_000,
        )

    # -- core-NATS nudges (no persistence: a missed nudge only delays a wake-up) ------------
    def wake_subject(self, guid: str) -> str:
        return f"{self.prefix}._wake.{guid}"

    # -- key-value buckets ----------------------------------------------------------------
    def _bucket(self, what: str, **kwargs: object) -> BucketSpec:
        return BucketSpec(name=f"{self._bucket_prefix}_{what}", **kwargs)  # type: ignore[arg-type]

    @cached_property
    def agents_bucket(self) -> BucketSpec:
        return self._bucket("agents", description="agent registry", max_value_size=64 * 1024)

    @cached_property
    def presence_bucket(self) -> BucketSpec:
        return self._bucket("presence", description="agent heartbeats (expire by TTL)", ttl_keys=True)

    @cached_property
    def reservations_bucket(self) -> BucketSpec:
        return self._bucket("reservations", description="advisory path leases", ttl_keys=True)

    @cached_property
    def control_bucket(self) -> BucketSpec:
        return self._bucket("control", description="shutdown requests to agents", ttl_keys=True)

    @cached_property
    def work_bucket(self) -> BucketSpec:
        return self._bucket("work", description="work item state", history=1, max_value_size=4 * MiB)

    @cached_property
    def dlq_bucket(self) -> BucketSpec:
        return self._bucket("dlq", description="dead-lettered work items", max_value_size=8 * MiB)

    @cached_property
    def targets_bucket(self) -> BucketSpec:
        return self._bucket("targets", description="spin-up targets")

    @cached_property
    def spinups_bucket(self) -> BucketSpec:
        return self._bucket("spinups", description="spin-up operations", ttl_keys=True)

    @cached_property
    def weft_bucket(self) -> BucketSpec:
        return self._bucket("weft", description="coordinator leases and cursors", ttl_keys=True)

    @cached_property
    def memory_bucket(self) -> BucketSpec:
        return self._bucket("memory", description="team and private memories", ttl_keys=True)


# Cross-project memory lives outside any project's namespace; ``__`` can't come from a slug.
PERSONAL_MEMORY_BUCKET = BucketSpec(
    name="loom__personal_memory", description="personal memories", ttl_keys=True
)
PUBLIC_MEMORY_BUCKET = BucketSpec(name="loom__public_memory", description="public memories", ttl_keys=True)
# Agents registered with visibility "public", mirrored for discovery from other projects.
PUBLIC_AGENTS_BUCKET = BucketSpec(name="loom__public_agents", description="public agents", ttl_keys=True)
