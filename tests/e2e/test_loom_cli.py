"""`loom up`, `loom doctor` and `loom mcp-config` as real processes."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_open(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def wait_for_line(proc: subprocess.Popen[str], needle: str, timeout: float = 20) -> list[str]:
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            if proc.poll() is not None:
                break
            continue
        seen.append(line)
        if needle in line:
            return seen
    raise AssertionError(f"{needle!r} not printed; got:\n{''.join(seen)}")


@pytest.fixture
def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("LOOM_", "NATS_"))} | {
        "LOOM_PROJECT_ID": "cli-test",
        "PYTHONUNBUFFERED": "1",
    }


def test_up_starts_nats_and_stops_it_on_sigint(
    tmp_path: Path, bin_path: Callable[[str], str], clean_env: dict[str, str]
) -> None:
    port = free_port()
    env = clean_env | {"NATS_URL": f"nats://127.0.0.1:{port}"}
    proc = subprocess.Popen(
        [bin_path("loom"), "up", "--no-weft", "--nats-port", str(port), "--data-dir", str(tmp_path / "d")],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        output = "".join(wait_for_line(proc, "Press Ctrl-C"))
        assert f"nats://127.0.0.1:{port}" in output
        assert "claude mcp add loom-warp" in output
        doctor = subprocess.run(
            [bin_path("loom"), "doctor"], env=env, capture_output=True, text=True, timeout=30
        )
        assert doctor.returncode == 0, doctor.stdout + doctor.stderr
        assert "jetstream" in doctor.stdout and "FAIL" not in doctor.stdout
        assert (tmp_path / "d" / "jetstream").is_dir()  # data kept in the data dir
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=20)
    assert proc.returncode == 0
    assert not port_open(port), "the embedded nats-server outlived `loom up`"


def test_doctor_fails_with_a_fix_when_nats_is_down(
    bin_path: Callable[[str], str], clean_env: dict[str, str]
) -> None:
    env = clean_env | {"NATS_URL": f"nats://someone:pw-secret@127.0.0.1:{free_port()}"}
    result = subprocess.run([bin_path("loom"), "doctor"], env=env, capture_output=True, text=True, timeout=30)
    assert result.returncode == 1
    assert "loom up" in result.stdout
    assert "pw-secret" not in result.stdout + result.stderr


def test_doctor_reports_a_bad_setting_as_usage_error(
    bin_path: Callable[[str], str], clean_env: dict[str, str]
) -> None:
    env = clean_env | {"LOOM_PROJECT_ID": "Not Valid"}
    result = subprocess.run([bin_path("loom"), "doctor"], env=env, capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert "LOOM_PROJECT_ID" in result.stderr


def test_mcp_config_points_at_our_servers_without_credentials(
    bin_path: Callable[[str], str], clean_env: dict[str, str]
) -> None:
    env = clean_env | {"NATS_URL": "nats://bob:hunter2@nats.example:4222"}
    result = subprocess.run(
        [bin_path("loom"), "mcp-config"], env=env, capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0
    assert "hunter2" not in result.stdout
    config = json.loads(result.stdout[result.stdout.index("{") :].split("\n\n#")[0])
    warp = config["mcpServers"]["loom-warp"]
    assert warp["command"] == bin_path("warp")
    assert warp["env"]["LOOM_PROJECT_ID"] == "cli-test"


def test_up_runs_weft_beside_nats(
    tmp_path: Path, bin_path: Callable[[str], str], clean_env: dict[str, str]
) -> None:
    import httpx

    nats_port, api_port = free_port(), free_port()
    env = clean_env | {"NATS_URL": f"nats://127.0.0.1:{nats_port}"}
    proc = subprocess.Popen(
        [bin_path("loom"), "up", "--nats-port", str(nats_port), "--api-port", str(api_port), "--data-dir", str(tmp_path / "d")],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        output = "".join(wait_for_line(proc, "Press Ctrl-C", timeout=40))
        assert f"http://127.0.0.1:{api_port}/api" in output and "LOOM_API_TOKEN" in output
        health = httpx.get(f"http://127.0.0.1:{api_port}/health", timeout=10).json()
        assert health["nats"] == "connected"
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
    assert proc.returncode == 0
    assert not port_open(api_port) and not port_open(nats_port)
