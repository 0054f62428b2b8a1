"""The ssh mechanism against a real sshd on loopback (key-only auth, host keys checked)."""

from __future__ import annotations

import getpass
import os
import shlex
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncssh
import pytest

from loom.runtime import Runtime
from loom.services.work import WorkService, WorkSpec
from loom.weft.spinup import mechanisms
from loom.weft.spinup.base import LaunchError, LaunchRequest
from loom.weft.spinup.manager import SpinUpManager
from loom.weft.targets import TargetRegistry, build_target
from tests.waiting import eventually

SSHD = shutil.which("sshd") or "/usr/sbin/sshd"


@dataclass
class Sshd:
    port: int
    host_key: asyncssh.SSHKey
    client_key_path: Path
    known_hosts: Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sshd]:
    if not os.path.exists(SSHD):
        pytest.skip("sshd is not installed (make test installs openssh-server through apt-get)")
    work = tmp_path_factory.mktemp("sshd")
    host_key = asyncssh.generate_private_key("ssh-ed25519")
    host_key.write_private_key(str(work / "host_key"))
    os.chmod(work / "host_key", 0o600)
    client_key = asyncssh.generate_private_key("ssh-ed25519")
    client_key.write_private_key(str(work / "client_key"))
    os.chmod(work / "client_key", 0o600)
    client_key.write_public_key(str(work / "authorized_keys"))
    port = free_port()
    (work / "sshd_config").write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {work / 'host_key'}\n"
        f"AuthorizedKeysFile {work / 'authorized_keys'}\nPasswordAuthentication no\n"
        "KbdInteractiveAuthentication no\nPubkeyAuthentication yes\nPermitRootLogin prohibit-password\n"
        f"StrictModes no\nUsePAM no\nPidFile {work / 'sshd.pid'}\n"
    )
    known = work / "known_hosts"
    known.write_text(f"[127.0.0.1]:{port} {host_key.export_public_key().decode().strip()}\n")
    Path("/run/sshd").mkdir(exist_ok=True)
    proc = subprocess.Popen([SSHD, "-D", "-e", "-f", str(work / "sshd_config")], stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while socket.socket().connect_ex(("127.0.0.1", port)) != 0:
        if proc.poll() is not None or time.monotonic() > deadline:
            pytest.skip("sshd could not start here")
        time.sleep(0.05)  # readiness poll bounded by the deadline
    try:
        yield Sshd(port, host_key, work / "client_key", known)
    finally:
        proc.terminate()
        proc.wait(10)


def ssh_target(server: Sshd, command: str, known_hosts: Path | None = None) -> dict[str, object]:
    return {
        "name": "remote", "agentType": "coder", "mechanism": "ssh", "capabilities": ["python"],
        "config": {"host": "127.0.0.1", "port": server.port, "user": getpass.getuser(),
                   "identityFile": str(server.client_key_path), "knownHosts": str(known_hosts or server.known_hosts),
                   "command": command},
    }  # fmt: skip


async def test_ssh_launch_runs_the_command_with_the_loom_env(sshd: Sshd, tmp_path: Path) -> None:
    out = tmp_path / "remote-env"
    script = f"import os; open({str(out)!r}, 'w').write(os.environ['LOOM_WORK_ID'] + '|' + os.environ['LOOM_BOUNDARY'])"
    target = build_target(ssh_target(sshd, f'{sys.executable} -c "{script}"'))
    nasty = "x'; touch /tmp/pwned-by-loom; echo '"
    request = LaunchRequest(target=target, spin_up_id="s", project="p", nats_url="nats://127.0.0.1:1",
                            work_id="w-ssh", boundary=nasty)  # fmt: skip
    await mechanisms.check(target)
    await mechanisms.launch(target, request)
    # The file exists (empty) before the remote command has written it: wait for the content.
    # Quoted: the value arrives intact, nothing in it runs.
    expected = f"w-ssh|{nasty}"
    await eventually(
        lambda: out.exists() and out.read_text() == expected,
        timeout=15,
        message=f"{out} never held {expected!r}",
    )
    assert not Path("/tmp/pwned-by-loom").exists()


async def test_a_wrong_host_key_is_refused(sshd: Sshd, tmp_path: Path) -> None:
    impostor = asyncssh.generate_private_key("ssh-ed25519")
    wrong = tmp_path / "known_hosts"
    wrong.write_text(f"[127.0.0.1]:{sshd.port} {impostor.export_public_key().decode().strip()}\n")
    target = build_target(ssh_target(sshd, "true", wrong))
    with pytest.raises(LaunchError, match="ssh|host key"):
        await mechanisms.check(target)
    with pytest.raises(LaunchError):
        await mechanisms.launch(
            target, LaunchRequest(target=target, spin_up_id="s", project="p", nats_url="n")
        )


async def test_accept_new_records_an_unknown_host_key_and_still_refuses_a_changed_one(
    sshd: Sshd, tmp_path: Path
) -> None:
    fresh = tmp_path / "ssh" / "known_hosts"  # absent: every host is new
    strict = build_target(ssh_target(sshd, "true", fresh))
    with pytest.raises(LaunchError, match="known_hosts does not exist .*acceptNewHostKeys"):
        await mechanisms.check(strict)
    fresh.parent.mkdir()
    fresh.write_text("")
    with pytest.raises(LaunchError, match="is not in .*acceptNewHostKeys"):
        await mechanisms.check(strict)
    body = ssh_target(sshd, "true", fresh)
    body["config"] = {**body["config"], "acceptNewHostKeys": True}  # type: ignore[dict-item]
    await mechanisms.check(build_target(body))
    recorded = fresh.read_text().split()
    assert recorded[0] == f"[127.0.0.1]:{sshd.port}"
    assert recorded[1:] == sshd.host_key.export_public_key().decode().split()[:2]
    await mechanisms.check(strict)  # now known: plain checking accepts it
    impostor = asyncssh.generate_private_key("ssh-ed25519")
    fresh.write_text(f"[127.0.0.1]:{sshd.port} {impostor.export_public_key().decode().strip()}\n")
    with pytest.raises(LaunchError, match="does not match the key recorded"):
        await mechanisms.check(build_target(body))  # a changed key is never accepted
    assert len(fresh.read_text().splitlines()) == 1


async def test_an_agent_launched_over_ssh_registers_and_completes_work(
    sshd: Sshd, runtime: Runtime, tmp_path: Path
) -> None:
    loom = str(Path(sys.executable).parent / "loom")
    command = shlex.join([loom, "agent", "run", "-c", "remote", "--idle-exit", "5"])
    registry = runtime.service(TargetRegistry)
    body = ssh_target(sshd, f"cd {shlex.quote(str(tmp_path))} && {command}")
    target = await registry.create(body | {"capabilities": ["remote"]})
    item = await runtime.service(WorkService).offer(
        WorkSpec(description="over ssh", capability="remote"), None
    )
    manager = runtime.service(SpinUpManager)
    spun = await manager.spin_up(target, item.id, "remote")
    assert spun.state == "launched", spun.detail

    async def registered() -> bool:
        record = await manager.record(spun.id)
        return record is not None and record.state == "registered"

    async def completed() -> bool:
        return (await runtime.service(WorkService).get(item.id)).status == "completed"

    await eventually(registered, timeout=60)
    await eventually(completed, timeout=60)


async def test_accept_new_refuses_a_key_that_differs_from_one_recorded_under_the_address(
    sshd: Sshd, tmp_path: Path
) -> None:
    known = tmp_path / "known_hosts"
    impostor = asyncssh.generate_private_key("ssh-ed25519")
    known.write_text(f"[127.0.0.1]:{sshd.port} {impostor.export_public_key().decode().strip()}\n")
    body = ssh_target(sshd, "true", known)
    body["config"] = {**body["config"], "host": "localhost", "acceptNewHostKeys": True}  # type: ignore[dict-item]
    with pytest.raises(LaunchError, match="host key of localhost does not match"):
        await mechanisms.check(build_target(body))
    assert len(known.read_text().splitlines()) == 1  # nothing was recorded
