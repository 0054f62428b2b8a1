"""The demo: embedded NATS + Weft + scripted agents, every step checked.

alice (review, boundary corporate) and bob (python) register and talk on #general; alice
sends bob a direct message; work is submitted through Weft's REST API and routed by
capability and boundary; a ``docs`` item finds no agent, so Weft spins one up from a local
target (a real ``loom agent run`` process), which completes it and is retired when idle;
one flaky item fails into the DLQ, is "fixed" and retried, and completes.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import shutil
import socket
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console

from loom.agent.worker import Worker, WorkerOptions
from loom.bus.embedded import EmbeddedNats
from loom.config import Settings, load_settings
from loom.runtime import Runtime
from loom.services.channels import ChannelService
from loom.services.inbox import InboxService
from loom.weft.entry import run_weft

JOB = """
import json, os, sys
item = json.load(sys.stdin)
if item["contextData"].get("flaky") and not os.path.exists(item["contextData"]["fixFile"]):
    sys.exit("flaky dependency is down")
print("PROGRESS 50 halfway")
print(os.environ.get("LOOM_WORK_CAPABILITY"), "done:", item["description"])
"""


class Demo:
    def __init__(self, console: Console, workdir: Path) -> None:
        self.console = console
        self.workdir = workdir
        self.failures: list[str] = []
        self.tasks: list[asyncio.Task[Any]] = []

    def step(self, ok: bool, text: str) -> bool:
        mark = "[green]✓[/]" if ok else "[red]✗[/]"
        self.console.print(f" {mark} {text}", highlight=False)
        if not ok:
            self.failures.append(text)
        return ok

    async def until(self, probe: Callable[[], Awaitable[bool]], timeout: float = 60) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if await probe():
                return True
            await asyncio.sleep(0.2)  # the demo polls its own REST API, like a user would
        return False


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def start_agent(
    settings: Settings, name: str, caps: list[str], boundaries: list[str]
) -> tuple[Runtime, Worker]:
    runtime = await Runtime.open(settings.model_copy(update={"agent_id": name}))
    options = WorkerOptions(capabilities=caps, boundaries=boundaries, handle=name, agent_type="scripted",
                            command=f"{sys.executable} -c '{JOB}'")  # fmt: skip
    return runtime, Worker(runtime, options)


async def run_demo(console: Console, keep_data: bool = False) -> bool:
    workdir = Path(tempfile.mkdtemp(prefix="loom-demo-"))
    demo = Demo(console, workdir)
    console.print("[bold]Loom demo[/]: embedded NATS, Weft, scripted agents\n")
    stop = asyncio.Event()
    try:
        async with EmbeddedNats(data_dir=workdir / "nats") as nats:
            demo.step(True, f"nats-server with JetStream at {nats.url}")
            env = {"NATS_URL": nats.url, "LOOM_PROJECT_ID": "demo", "LOOM_WORK_MAX_ATTEMPTS": "2",
                   "LOOM_HEARTBEAT_SECONDS": "2"}  # fmt: skip
            settings = load_settings(env=env, cwd=workdir)
            port = free_port()
            started = asyncio.Event()
            demo.tasks.append(asyncio.create_task(run_weft(settings, "127.0.0.1", port, started)))
            await asyncio.wait_for(started.wait(), 30)
            api = f"http://127.0.0.1:{port}"
            demo.step(True, f"Weft REST API at {api}/api (docs at {api}/docs)")
            try:
                async with httpx.AsyncClient(base_url=api, timeout=30) as http:
                    await scenario(demo, settings, http, stop)
            finally:  # stop everything while NATS is still up
                stop.set()
                for task in demo.tasks:
                    task.cancel()
                await asyncio.gather(*demo.tasks, return_exceptions=True)
    except Exception as exc:  # the demo reports, it does not crash
        demo.step(False, f"unexpected error: {exc.__class__.__name__}: {exc}")
    finally:
        if not keep_data:
            shutil.rmtree(workdir, ignore_errors=True)
    ok = not demo.failures
    console.print(
        f"\n[bold {'green' if ok else 'red'}]{'Every step checked out.' if ok else 'Some steps failed.'}[/]"
    )
    return ok


async def scenario(demo: Demo, settings: Settings, http: httpx.AsyncClient, stop: asyncio.Event) -> None:
    alice_rt, alice = await start_agent(settings, "alice", ["review"], ["corporate"])
    bob_rt, bob = await start_agent(settings, "bob", ["python"], [])
    try:
        for worker in (alice, bob):
            demo.tasks.append(asyncio.create_task(worker.run(stop)))

        async def both_online() -> bool:
            agents = (await http.get("/api/agents", params={"status": "online"})).json()["agents"]
            return {a["handle"] for a in agents} >= {"alice", "bob"}

        demo.step(await demo.until(both_online), "alice (review, corporate) and bob (python) registered")
        await talk(demo, alice_rt, bob_rt)
        await route(demo, http, settings)
    finally:
        stop.set()
        await asyncio.sleep(0)
        for runtime in (alice_rt, bob_rt):
            with contextlib.suppress(Exception):
                await runtime.close()


async def talk(demo: Demo, alice_rt: Runtime, bob_rt: Runtime) -> None:
    await alice_rt.service(ChannelService).send("general", "Morning! I'll take the corporate reviews.")
    page = await bob_rt.service(ChannelService).read("general")
    demo.step(
        any("corporate reviews" in m.message for _, m in page.messages),
        "alice posted on #general; bob read it",
    )
    await alice_rt.service(InboxService).send(
        bob_rt.identity.guid, "Can you look at the flaky test?", "request"
    )
    mail, _ = await bob_rt.service(InboxService).read()
    demo.step(
        [m.sender_handle for m in mail] == ["alice"], "alice sent bob a direct message; bob read it once"
    )


async def submit(http: httpx.AsyncClient, **body: Any) -> dict[str, Any]:
    response = await http.post("/api/work", json=body)
    response.raise_for_status()
    return dict(response.json())


async def route(demo: Demo, http: httpx.AsyncClient, settings: Settings) -> None:
    async def status_of(work_id: str, wanted: str) -> bool:
        return bool((await http.get(f"/api/work/{work_id}")).json()["status"] == wanted)

    review = await submit(
        http, description="Review the billing PR", capability="review", boundary="corporate"
    )
    python = await submit(http, description="Fix the date parser", capability="python")
    for item, who in ((review, "alice"), (python, "bob")):
        done = await demo.until(functools.partial(status_of, item["id"], "completed"))
        demo.step(done, f"{item['routing']['eligibleAgents'] and who} completed routed work {item['id'][:8]}")

    loom = str(Path(sys.executable).parent / "loom")
    target = {
        "name": "docs-writer", "agentType": "scripted", "mechanism": "local", "capabilities": ["docs"],
        "idleTimeoutSeconds": 3, "cooldownSeconds": 0,
        "config": {"command": [loom, "agent", "run", "-c", "docs", "--handle", "carol", "--idle-exit", "60"]},
    }  # fmt: skip
    created = await http.post("/api/targets", json=target)
    demo.step(created.status_code == 201, "registered a local target for capability docs")
    docs = await submit(http, description="Write the release notes", capability="docs")
    demo.step(
        docs["routing"]["spinUpTriggered"], f"no docs agent online: Weft spun one up ({docs['reason']})"
    )
    demo.step(
        await demo.until(functools.partial(status_of, docs["id"], "completed"), 90),
        "the spun-up agent completed the docs item",
    )

    async def carol_gone() -> bool:
        agents = (await http.get("/api/agents", params={"status": "offline"})).json()["agents"]
        return any(a["handle"] == "carol" for a in agents)

    demo.step(await demo.until(carol_gone, 60), "Weft retired the idle docs agent (it exited)")

    fix = demo.workdir / "fixed"
    flaky = await submit(http, description="Run the flaky suite", capability="python",
                         contextData={"flaky": True, "fixFile": str(fix)})  # fmt: skip
    in_dlq = await demo.until(functools.partial(status_of, flaky["id"], "dead-lettered"), 60)
    letters = (await http.get("/api/dlq")).json()["items"]
    errors = [e["error"] for d in letters for e in d["errors"]]
    demo.step(in_dlq and len(errors) == 2, f"the flaky item failed twice and went to the DLQ ({errors[:1]})")
    fix.write_text("fixed")
    await http.post(f"/api/dlq/{flaky['id']}/retry", json={"resetAttempts": True})
    demo.step(
        await demo.until(functools.partial(status_of, flaky["id"], "completed")),
        "after the fix, the retried item completed",
    )
    stats = (await http.get("/api/stats")).json()
    demo.step(
        stats["work"]["completed"] == 4,
        f"stats: {stats['work']['completed']} completed, agents {stats['agents']}",
    )
