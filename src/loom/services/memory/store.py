"""Where memories live. Keys are built so a read can't cross an access boundary:

    team      loom_<P>_memory         team.<id>
    private   loom_<P>_memory         private.<guid>.<id>
    personal  loom__personal_memory   <personal key>.<id>
    public    loom__public_memory     <id>

An agent watches only ``team.>`` and ``private.<its guid>.>`` of its project, its own personal
prefix and the public bucket, so another agent's private memories never reach its process.
"""

from __future__ import annotations

from dataclasses import dataclass

from loom.bus.layout import PERSONAL_MEMORY_BUCKET, PUBLIC_MEMORY_BUCKET, BucketSpec, Layout
from loom.models.memory import Scope


@dataclass(frozen=True)
class Source:
    """One watched slice of a bucket and the scope of what it holds."""

    bucket: BucketSpec
    keys: str
    scope: Scope


class Placement:
    def __init__(self, layout: Layout, guid: str, personal_key: str) -> None:
        self.layout = layout
        self.guid = guid
        self.personal_key = personal_key

    def place(self, scope: Scope, memory_id: str) -> tuple[BucketSpec, str]:
        if scope == "team":
            return self.layout.memory_bucket, f"team.{memory_id}"
        if scope == "private":
            return self.layout.memory_bucket, f"private.{self.guid}.{memory_id}"
        if scope == "personal":
            return PERSONAL_MEMORY_BUCKET, f"{self.personal_key}.{memory_id}"
        return PUBLIC_MEMORY_BUCKET, memory_id

    def sources(self) -> list[Source]:
        return [
            Source(self.layout.memory_bucket, "team.>", "team"),
            Source(self.layout.memory_bucket, f"private.{self.guid}.>", "private"),
            Source(PERSONAL_MEMORY_BUCKET, f"{self.personal_key}.>", "personal"),
            Source(PUBLIC_MEMORY_BUCKET, ">", "public"),
        ]
