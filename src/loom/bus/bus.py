"""``Bus``: one NATS connection, its JetStream context, and provisioned-once handles."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from types import TracebackType
from typing import Any, Self

from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext
from nats.js.kv import KeyValue

from loom.bus.connect import open_connection
from loom.bus.layout import BucketSpec, Layout, StreamSpec
from loom.bus.provision import bucket_config, ensure_stream, stream_config
from loom.config import Settings


class Bus:
    """The shared NATS handle of a process.

    Streams and buckets are provisioned lazily, at most once per process, so a service
    can ask for its bucket on every call at the cost of a dict lookup.
    """

    def __init__(self, nc: NatsClient, settings: Settings, *, owns_connection: bool = True) -> None:
        self.nc = nc
        self.owns_connection = owns_connection
        self.settings = settings
        self.js: JetStreamContext = nc.jetstream(timeout=10)
        self.layout = Layout(settings.project_id, settings.replicas)
        self._layouts: dict[str, Layout] = {settings.project_id: self.layout}
        self._ready: dict[str, asyncio.Future[KeyValue | None]] = {}

    @classmethod
    async def connect(cls, settings: Settings, *, timeout: float = 5.0) -> Self:
        return cls(await open_connection(settings, first_attempt_timeout=timeout), settings)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    def for_project(self, project: str) -> Bus:
        """A Bus for another project on the same connection (closing it leaves the connection)."""
        settings = self.settings.model_copy(update={"project_id": self.layout_for(project).project})
        return Bus(self.nc, settings, owns_connection=False)

    async def close(self) -> None:
        if self.owns_connection and not self.nc.is_closed:
            try:
                await asyncio.wait_for(self.nc.drain(), 5)
            except (TimeoutError, Exception):  # draining is best effort at shutdown
                await self.nc.close()

    def layout_for(self, project: str) -> Layout:
        """The layout of another project (Weft serves several); validated on first use."""
        layout = self._layouts.get(project)
        if layout is None:
            layout = self._layouts[project] = Layout(project, self.settings.replicas)
        return layout

    async def stream(self, spec: StreamSpec) -> None:
        """Make sure the stream of ``spec`` exists with its limits."""
        await self._provision(f"s:{spec.name}", lambda: self._make_stream(spec))

    async def kv(self, spec: BucketSpec) -> KeyValue:
        """The bucket of ``spec``, created or updated on first use."""
        bucket = await self._provision(f"b:{spec.name}", lambda: self._make_bucket(spec))
        assert bucket is not None
        return bucket

    async def _make_stream(self, spec: StreamSpec) -> KeyValue | None:
        await ensure_stream(self.js, stream_config(spec, self.settings.replicas))
        return None

    async def _make_bucket(self, spec: BucketSpec) -> KeyValue | None:
        await ensure_stream(self.js, bucket_config(spec, self.settings.replicas))
        bucket: KeyValue = await self.js.key_value(spec.name)
        return bucket

    async def _provision(
        self, key: str, make: Callable[[], Coroutine[Any, Any, KeyValue | None]]
    ) -> KeyValue | None:
        """Run ``make`` once per key; concurrent callers share the same future."""
        future = self._ready.get(key)
        if future is None:
            future = self._ready[key] = asyncio.ensure_future(make())
            try:
                return await future
            except BaseException:
                self._ready.pop(key, None)  # let the next caller try again
                raise
        return await asyncio.shield(future)
