"""One Weft serves several projects: a Runtime per project on one shared connection."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from loom.bus import Bus
from loom.names import validate_project
from loom.runtime import Runtime

Hook = Callable[[Runtime], Awaitable[None]]


class Projects:
    def __init__(self, bus: Bus, on_open: Hook | None = None) -> None:
        self.bus = bus
        self.default = bus.settings.project_id
        self._runtimes: dict[str, Runtime] = {}
        self._on_open = on_open

    async def get(self, project: str | None) -> Runtime:
        name = validate_project(project or self.default, "project")
        runtime = self._runtimes.get(name)
        if runtime is None:
            bus = self.bus.for_project(name)
            runtime = self._runtimes[name] = Runtime(bus, bus.settings)
            if self._on_open is not None:
                await self._on_open(runtime)
        return runtime

    async def close(self) -> None:
        for runtime in self._runtimes.values():
            await runtime.close()
        await self.bus.close()
