"""``loom agent run``: a scripted worker built from the same services as Warp.

It registers, claims work for its capabilities, runs ``--exec`` per item (see
``agent.command``), completes or fails the item, keeps the lease alive while the command
runs, honours shutdown requests (graceful: after the current item; forced: at once, the
item failing as recoverable) and exits after ``--idle-exit`` seconds without work.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from loom.agent.command import parse_command, run_command
from loom.config import Settings
from loom.models.work import WorkRecord
from loom.runtime import Runtime
from loom.services.control import ControlService
from loom.services.registry import Registration, RegistryService
from loom.services.work import WorkService
from loom.signals import stop_on_signals

log = logging.getLogger("loom.agent")

CLAIM_WINDOW_MS = 2000


@dataclass(frozen=True)
class WorkerOptions:
    capabilities: Sequence[str]
    boundaries: Sequence[str] = field(default_factory=tuple)
    command: str | None = None
    idle_exit: float | None = None
    handle: str | None = None
    agent_type: str = "scripted"


class Worker:
    def __init__(self, runtime: Runtime, options: WorkerOptions) -> None:
        self.runtime = runtime
        self.options = options
        self.argv = parse_command(options.command) if options.command else None
        self.work = runtime.service(WorkService)
        self.registry = runtime.service(RegistryService)
        self.control = runtime.service(ControlService)
        self.completed = 0

    async def run(self, stop: asyncio.Event) -> None:
        record = await self.registry.register(
            Registration(
                agent_type=self.options.agent_type,
                capabilities=list(self.options.capabilities),
                boundaries=list(self.options.boundaries),
                handle=self.options.handle,
            )
        )
        log.info("registered %s (%s) for %s", record.handle, record.guid, ", ".join(record.capabilities))
        idle_since = time.monotonic()
        while not stop.is_set():
            request = await self.control.shutdown_requested(record.guid)
            if request is not None:
                log.info("shutdown requested (%s); exiting", request.reason or "no reason given")
                await self.control.clear(record.guid)
                return
            item = await self.work.claim(list(record.capabilities), CLAIM_WINDOW_MS)
            if item is None:
                if (
                    self.options.idle_exit is not None
                    and time.monotonic() - idle_since >= self.options.idle_exit
                ):
                    log.info("idle for %.0fs; exiting", self.options.idle_exit)
                    return
                continue
            await self.handle(item, stop)
            idle_since = time.monotonic()

    async def handle(self, item: WorkRecord, stop: asyncio.Event) -> None:
        log.info("working on %s: %s", item.id, item.description[:80])
        await self._set_busy(1)
        keepalive = asyncio.create_task(self._keep_lease(item))
        try:
            if self.argv is None:
                await self.work.complete(item.id, {}, f"done: {item.description[:200]}")
                self.completed += 1
                return

            async def progress(value: int, message: str | None) -> None:
                await self.work.report_progress(item.id, value, message)

            outcome = await run_command(self.argv, item.claimed(), progress)
            if outcome.ok:
                await self.work.complete(item.id, {"exitCode": 0}, outcome.summary or None)
                self.completed += 1
            else:
                await self.work.fail(item.id, outcome.error)
        except Exception as exc:  # one bad item must not stop the worker, nor sit until its lease lapses
            log.warning("item %s: %s", item.id, exc)
            with contextlib.suppress(Exception):
                await self.work.fail(item.id, f"worker error: {exc.__class__.__name__}: {exc}")
        finally:
            keepalive.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keepalive
            await self._set_busy(0)

    async def _keep_lease(self, item: WorkRecord) -> None:
        """Extend the lease while the command runs, even if it prints no PROGRESS lines."""
        interval = max(0.5, self.runtime.settings.work_lease / 3)
        while True:
            await asyncio.sleep(interval)
            current = await self.work.get(item.id)
            await self.work.report_progress(item.id, current.progress, current.progress_message)

    async def _set_busy(self, tasks: int) -> None:
        with contextlib.suppress(Exception):
            await self.registry.update_presence(
                status="busy" if tasks else "online", current_task_count=tasks
            )


async def run_worker(settings: Settings, options: WorkerOptions) -> int:
    """Run until idle, shut down or signalled; returns the number of completed items."""
    async with stop_on_signals() as stop, await Runtime.open(settings) as runtime:
        worker = Worker(runtime, options)
        await worker.run(stop)
        return worker.completed
