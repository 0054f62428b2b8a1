"""The machine a run came from, and per-process CPU and memory read from /proc."""

from __future__ import annotations

import os
import platform
import subprocess
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from loom import __version__
from loom.bus.embedded import server_binary

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _first(path: str, key: str) -> str:
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(key):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def _run(argv: list[str]) -> str:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return (done.stdout or done.stderr).strip() or "unknown"


def describe() -> dict[str, Any]:
    """CPU model, cores, RAM, OS, Python, nats-server, Loom version and commit, date."""
    mem_kb = _first("/proc/meminfo", "MemTotal").split()[0]
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpu": _first("/proc/cpuinfo", "model name"),
        "cores": os.cpu_count(),
        "ram_gib": round(int(mem_kb) / 1024 / 1024, 1) if mem_kb.isdigit() else None,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "nats_server": _run([str(server_binary()), "--version"]),
        "loom": __version__,
        "commit": _run(["git", "rev-parse", "--short", "HEAD"]),
    }


def describe_text(machine: dict[str, Any]) -> str:
    return (
        f"{machine['cpu']}, {machine['cores']} cores, {machine['ram_gib']} GiB RAM, {machine['os']}; "
        f"Python {machine['python']}; {machine['nats_server']}; loom {machine['loom']} "
        f"({machine['commit']}); {machine['date']}"
    )


def rss_mib(pid: int) -> float:
    """Resident set size of a process (VmRSS), in MiB."""
    kb = _first(f"/proc/{pid}/status", "VmRSS").split()[0]
    return int(kb) / 1024 if kb.isdigit() else float("nan")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    # After the ")" of the command name, utime and stime are the 12th and 13th fields.
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


@dataclass
class CpuMeter:
    """CPU use of one process over a window, in percent of one core."""

    pid: int
    started_cpu: float = 0.0
    started_wall: float = 0.0

    def start(self) -> None:
        self.started_cpu, self.started_wall = cpu_seconds(self.pid), time.monotonic()

    def percent(self) -> float:
        wall = time.monotonic() - self.started_wall
        return 100 * (cpu_seconds(self.pid) - self.started_cpu) / wall if wall > 0 else float("nan")
