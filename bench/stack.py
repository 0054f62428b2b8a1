"""What every scenario stands on: an embedded nats-server, settings, runtimes, MCP sessions."""

from __future__ import annotations

import contextlib
import os
import socket
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mcp import Client, StdioServerParameters
from mcp_types import CallToolResult

from loom.bus.embedded import EmbeddedNats
from loom.config import Settings, load_settings
from loom.runtime import Runtime

BIN = Path(sys.executable).parent


def project(prefix: str) -> str:
    """A fresh project id, so scenarios sharing one server never see each other's state."""
    return f"bench-{prefix}-{uuid.uuid4().hex[:6]}"


def settings(url: str, project_id: str, agent_id: str | None = None, **extra: Any) -> Settings:
    env = {"NATS_URL": url, "LOOM_PROJECT_ID": project_id}
    return load_settings(env=env, config_path=None, agent_id=agent_id, **extra)


@contextlib.asynccontextmanager
async def nats_server() -> AsyncIterator[EmbeddedNats]:
    """A nats-server with JetStream on an OS-chosen port and a temporary store."""
    with tempfile.TemporaryDirectory(prefix="loom-bench-") as tmp:
        async with EmbeddedNats(data_dir=Path(tmp)) as server:
            yield server


@contextlib.asynccontextmanager
async def runtimes(settings_list: list[Settings]) -> AsyncIterator[list[Runtime]]:
    """Several runtimes (one NATS connection each), closed together."""
    async with contextlib.AsyncExitStack() as stack:
        opened = [await stack.enter_async_context(await Runtime.open(s)) for s in settings_list]
        yield opened


def process_env(url: str, project_id: str, **extra: str) -> dict[str, str]:
    """The environment of a Loom child process: ours, pointed at the bench server."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LOOM_", "NATS_"))}
    env |= {"NATS_URL": url, "LOOM_PROJECT_ID": project_id, **extra}
    return env


def child_pids(parent: int | None = None) -> list[int]:
    """Direct children of a process (default: this one), from every thread's list."""
    found: list[int] = []
    for children in Path(f"/proc/{parent or os.getpid()}/task").glob("*/children"):
        with contextlib.suppress(OSError):
            found += [int(pid) for pid in children.read_text().split()]
    return found


def cmdline(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return []


@dataclass
class McpSession:
    """A real MCP client session over stdio with a separate server process."""

    client: Client
    pid: int

    async def call(self, tool: str, **arguments: Any) -> dict[str, Any]:
        """Call a tool; its structuredContent, or ``RuntimeError`` when it answered isError."""
        result: CallToolResult = await self.client.call_tool(tool, arguments)
        if result.is_error:
            text = result.content[0].text if result.content else ""  # type: ignore[union-attr]
            raise RuntimeError(f"{tool}: {text}")
        assert isinstance(result.structured_content, dict)
        return result.structured_content


@contextlib.asynccontextmanager
async def stdio_session(command: str, env: dict[str, str]) -> AsyncIterator[McpSession]:
    """Spawn ``.venv/bin/<command>`` as an MCP stdio server and open a session with it."""
    before = set(child_pids())
    params = StdioServerParameters(command=str(BIN / command), args=[], env=env)
    async with Client(params) as client:
        spawned = [pid for pid in child_pids() if pid not in before and command in " ".join(cmdline(pid))]
        if not spawned:
            raise RuntimeError(f"cannot find the {command} process")
        yield McpSession(client, spawned[0])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port
