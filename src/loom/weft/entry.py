"""The ``weft`` command, and ``run_weft`` for ``loom up``."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ipaddress
import logging
import sys
from collections.abc import Iterator, Sequence

import uvicorn

from loom.bus import Bus
from loom.config import Settings, load_settings
from loom.errors import InvalidArgument, LoomError
from loom.runtime import Runtime
from loom.signals import stop_on_signals
from loom.weft.app import create_app
from loom.weft.coordinator import Coordinator
from loom.weft.metrics import Metrics
from loom.weft.projects import Projects

log = logging.getLogger("loom.weft")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _Server(uvicorn.Server):
    """uvicorn without its own signal handlers (the caller owns SIGINT/SIGTERM)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def run_weft(settings: Settings, host: str, port: int, started: asyncio.Event | None = None) -> None:
    """Serve the API and coordinate until cancelled."""
    if not is_loopback(host) and not settings.api_tokens:
        raise InvalidArgument("refusing to listen off loopback without LOOM_API_TOKEN", field="--host")
    metrics = Metrics()

    async def open_project(runtime: Runtime) -> None:
        Coordinator(runtime, metrics).start()

    projects = Projects(await Bus.connect(settings), open_project)
    await projects.get(None)  # the default project is coordinated from the start
    app = create_app(projects, settings.api_tokens, metrics)
    server = _Server(uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="off"))
    serving = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if serving.done():
                serving.result()
                raise LoomError(f"Weft could not listen on {host}:{port}")
            await asyncio.sleep(0.02)  # uvicorn exposes readiness only as a flag
        if started is not None:
            started.set()
        await serving
    finally:
        server.should_exit = True
        with contextlib.suppress(BaseException):
            await asyncio.wait_for(serving, 5)
        await projects.close()


async def main_async(host: str, port: int) -> None:
    settings = load_settings()
    async with stop_on_signals() as stop:
        weft = asyncio.create_task(run_weft(settings, host, port))
        stopping = asyncio.create_task(stop.wait())
        await asyncio.wait({weft, stopping}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        if weft.done():
            weft.result()  # why it stopped by itself
            return
        weft.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await weft


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="weft", description="Loom's coordinator and REST API")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(name)s: %(message)s")
    try:
        asyncio.run(main_async(args.host, args.port))
    except LoomError as exc:
        print(f"weft: Error [{exc.code}]: {exc.message}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
