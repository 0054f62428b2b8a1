"""``loom up``: the whole stack on one machine (embedded NATS + Weft) until Ctrl-C."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import platformdirs

from loom.bus.connect import open_connection, redact_url
from loom.bus.embedded import EmbeddedNats
from loom.config import Settings
from loom.errors import Unavailable
from loom.signals import stop_on_signals

DEFAULT_API_PORT = 8765
DEFAULT_NATS_PORT = 4222


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("loom")) / "nats"


async def nats_reachable(settings: Settings) -> bool:
    try:
        nc = await open_connection(settings, first_attempt_timeout=1.5)
    except Unavailable:
        return False
    await nc.close()
    return True


def loopback_port(url: str) -> int | None:
    """The port of a loopback NATS URL (the one to start an embedded server on)."""
    parts = urlsplit(url if "://" in url else f"nats://{url}")
    if parts.hostname in {"127.0.0.1", "localhost", "::1"}:
        return parts.port or DEFAULT_NATS_PORT
    return None


@dataclass
class Stack:
    nats_url: str
    embedded: bool
    api_url: str | None


@contextlib.asynccontextmanager
async def nats_for(
    settings: Settings, data_dir: Path, nats_port: int | None
) -> AsyncIterator[tuple[str, bool]]:
    """Reuse a reachable NATS_URL; else run an embedded server (yields url, embedded?)."""
    if nats_port is None and await nats_reachable(settings):
        yield settings.nats_url, False
        return
    port = nats_port if nats_port is not None else loopback_port(settings.nats_servers[0])
    if port is None:
        raise Unavailable(
            f"NATS_URL {redact_url(settings.nats_url)} is not reachable and not local; "
            "start that server, or unset NATS_URL to run an embedded one"
        )
    async with EmbeddedNats(data_dir=data_dir, port=port) as server:
        yield server.url, True


async def run_stack(
    settings: Settings,
    *,
    data_dir: Path,
    nats_port: int | None,
    api_host: str,
    api_port: int,
    with_weft: bool,
    on_ready: Callable[[Stack, Settings], None],
) -> None:
    """Start everything, call ``on_ready``, run until SIGINT/SIGTERM, stop in reverse order."""
    async with stop_on_signals() as stop, nats_for(settings, data_dir, nats_port) as (url, embedded):
        stack_settings = settings.model_copy(update={"nats_url": url})
        weft_task: asyncio.Task[None] | None = None
        api_url = None
        if with_weft:
            from loom.weft.entry import run_weft

            started = asyncio.Event()
            weft_task = asyncio.create_task(run_weft(stack_settings, api_host, api_port, started))
            ready = asyncio.create_task(started.wait())
            await asyncio.wait({weft_task, ready}, return_when=asyncio.FIRST_COMPLETED)
            if weft_task.done():
                ready.cancel()
                weft_task.result()  # raises why Weft could not start
            api_url = f"http://{api_host}:{api_port}"
        on_ready(Stack(url, embedded, api_url), stack_settings)
        waiters = {asyncio.create_task(stop.wait())} | ({weft_task} if weft_task else set())
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        for task in waiters:
            task.cancel()
        await asyncio.gather(*waiters, return_exceptions=True)
