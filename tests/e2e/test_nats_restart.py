"""The NATS server restarts in the middle of a run: nothing accepted is lost, agents carry on."""

from __future__ import annotations

import asyncio
from pathlib import Path

from loom.bus.embedded import EmbeddedNats
from loom.config import load_settings
from loom.runtime import Runtime
from loom.services.registry import Registration, RegistryService
from loom.services.work import WorkService, WorkSpec
from tests.waiting import eventually


async def test_work_survives_a_server_restart(tmp_path: Path) -> None:
    server = EmbeddedNats(data_dir=tmp_path / "nats")
    await asyncio.to_thread(server.start)
    try:
        settings = load_settings(env={"NATS_URL": server.url, "LOOM_PROJECT_ID": "restart"}, cwd=tmp_path)
        async with (
            await Runtime.open(settings) as lead,
            await Runtime.open(settings.model_copy(update={"agent_id": "w"})) as worker,
        ):
            await worker.service(RegistryService).register(
                Registration(agent_type="w", capabilities=["build"])
            )
            offered = [
                (
                    await lead.service(WorkService).offer(
                        WorkSpec(description=f"{i}", capability="build"), None
                    )
                ).id
                for i in range(20)
            ]
            done: set[str] = set()
            work = worker.service(WorkService)
            for _ in range(10):
                item = await work.claim(["build"], 1000)
                assert item is not None
                await work.complete(item.id)
                done.add(item.id)

            await asyncio.to_thread(server.restart)  # same port, same store
            await eventually(lambda: worker.bus.nc.is_connected and lead.bus.nc.is_connected, timeout=30)

            async def drain() -> bool:
                try:
                    item = await work.claim(["build"], 500)
                except Exception:  # still reconnecting: try again
                    return False
                if item is not None:
                    await work.complete(item.id)
                    done.add(item.id)
                return len(done) == len(offered)

            await eventually(drain, timeout=60, interval=0.01)
            assert done == set(offered)
            states = {(await lead.service(WorkService).get(i)).status for i in offered}
            assert states == {"completed"}
    finally:
        await asyncio.to_thread(server.stop)
