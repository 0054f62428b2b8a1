"""``Runtime``: what one Loom process (an agent session, Weft, the scripted agent) holds.

It owns the NATS connection, the settings and the agent identity, and gives services a
place to live: ``runtime.service(ChannelService)`` builds a service once per runtime and
hands back the same instance afterwards. Services that run background tasks (heartbeats,
KV watches) start them with ``spawn`` and register cleanups with ``on_close``; closing the
runtime runs the cleanups in reverse order, cancels the tasks, then drains NATS.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from types import TracebackType
from typing import Any, Protocol, Self, TypeVar

from loom.bus import Bus, Layout
from loom.config import Settings
from loom.identity import Identity

log = logging.getLogger("loom.runtime")

S = TypeVar("S", bound="Service")


class Service(Protocol):
    def __init__(self, runtime: Runtime) -> None: ...


class Runtime:
    def __init__(self, bus: Bus, settings: Settings, identity: Identity | None = None) -> None:
        self.bus = bus
        self.settings = settings
        self.identity = identity or Identity.resolve(settings)
        self._services: dict[type[Any], Any] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._cleanups: list[Callable[[], Awaitable[None]]] = []
        self.closed = asyncio.Event()

    @classmethod
    async def open(cls, settings: Settings, *, timeout: float = 5.0) -> Self:
        return cls(await Bus.connect(settings, timeout=timeout), settings)

    @property
    def layout(self) -> Layout:
        return self.bus.layout

    def service(self, kind: type[S]) -> S:
        """The runtime's single instance of ``kind`` (built on first use)."""
        instance = self._services.get(kind)
        if instance is None:
            instance = self._services[kind] = kind(self)
        return instance

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str | None = None) -> asyncio.Task[Any]:
        """Run ``coro`` in the background for the life of the runtime; failures are logged."""
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("background task %s failed", task.get_name(), exc_info=task.exception())

    def on_close(self, cleanup: Callable[[], Awaitable[None]]) -> None:
        self._cleanups.append(cleanup)

    async def close(self) -> None:
        if self.closed.is_set():
            return
        self.closed.set()
        for cleanup in reversed(self._cleanups):
            try:
                await asyncio.wait_for(cleanup(), 5)
            except Exception:  # a failing cleanup must not stop the others
                log.exception("cleanup failed")
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.bus.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()
