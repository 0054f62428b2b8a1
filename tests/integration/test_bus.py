"""The NATS layer against a real server: provisioning, limits updates, connection failures."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pytest

from loom.bus import Bus
from loom.bus.embedded import EmbeddedNats
from loom.bus.layout import StreamSpec
from loom.config import load_settings
from loom.errors import Unavailable
from loom.runtime import Runtime


async def test_provisioning_is_idempotent_and_updates_changed_limits(runtime: Runtime) -> None:
    spec = runtime.layout.channel_stream("general")
    await runtime.bus.stream(spec)
    await runtime.bus.stream(spec)  # second call is a cache hit
    info = await runtime.bus.js.stream_info(spec.name)
    assert info.config.max_msgs == spec.max_msgs

    # A new process with a different limit updates the stream in place.
    changed: StreamSpec = dataclasses.replace(spec, max_msgs=spec.max_msgs + 7)
    async with await Bus.connect(runtime.settings) as other:
        await other.stream(changed)
    info = await runtime.bus.js.stream_info(spec.name)
    assert info.config.max_msgs == spec.max_msgs + 7


async def test_ttl_bucket_is_provisioned_with_expiry_markers(runtime: Runtime) -> None:
    kv = await runtime.bus.kv(runtime.layout.presence_bucket)
    await kv.put("a", b"1")
    info = await runtime.bus.js.stream_info(f"KV_{runtime.layout.presence_bucket.name}")
    assert info.config.allow_msg_ttl
    assert info.config.subject_delete_marker_ttl


async def test_unreachable_nats_is_unavailable_and_names_no_credentials() -> None:
    settings = load_settings(env={"NATS_URL": "nats://alice:s3cret@127.0.0.1:1", "LOOM_PROJECT_ID": "x"})
    with pytest.raises(Unavailable) as caught:
        await Bus.connect(settings, timeout=2)
    assert "s3cret" not in str(caught.value)
    assert "127.0.0.1:1" in str(caught.value)


def test_warp_starts_without_aiohttp() -> None:
    code = "import sys, loom.mcp.entry, loom.runtime\nprint('aiohttp' in sys.modules)"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == "False"


async def test_a_websocket_server_is_reached_loading_aiohttp_then(tmp_path: Path) -> None:
    conf = tmp_path / "ws.conf"
    conf.write_text('websocket {\n  listen: "127.0.0.1:-1"\n  no_tls: true\n}\n')
    async with EmbeddedNats(data_dir=tmp_path / "nats", extra_args=["-c", str(conf)]) as server:
        ports_file = next((tmp_path / "nats" / "ports").glob("*.ports"))
        ws_url = json.loads(ports_file.read_text())["websocket"][0]
        settings = load_settings(env={"NATS_URL": ws_url, "LOOM_PROJECT_ID": "ws-test"}, config_path=None)
        async with await Runtime.open(settings) as rt:
            await rt.bus.stream(rt.layout.channel_stream("general"))
            ack = await rt.bus.js.publish(rt.layout.channel_subject("general"), b"{}")
            assert ack.seq == 1 and server.url.startswith("nats://")
