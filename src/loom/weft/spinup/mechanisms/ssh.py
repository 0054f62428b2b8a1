"""``ssh``: asyncssh with key auth and checked host keys; the Loom env passed quoted."""

from __future__ import annotations

import asyncio
import shlex
from pathlib import Path
from typing import TYPE_CHECKING, Any

from loom.models.target import SshConfig
from loom.weft.spinup.base import TIMEOUT, LaunchError, LaunchRequest

if TYPE_CHECKING:  # asyncssh (and cryptography) load on the first ssh launch, not with Weft
    import asyncssh


def remote_command(config: SshConfig, request: LaunchRequest) -> str:
    """``env K=V ... sh -c '<command>'`` with every value quoted: nothing in a field can inject.

    The command runs under ``sh -c`` so it may be a small script (``cd app && loom agent run``)
    whatever the remote login shell is; the env applies to all of it.
    """
    assignments = " ".join(shlex.quote(f"{k}={v}") for k, v in request.fields().items())
    return f"env {assignments} sh -c {shlex.quote(config.command)}"


def _known_keys(known_hosts: Path, host: str, addr: str, port: int) -> list[Any]:
    """Host and CA keys recorded for this host under its name or its address."""
    if not known_hosts.is_file():
        return []
    import asyncssh

    matched = asyncssh.match_known_hosts(str(known_hosts), host, addr, port)
    return [*matched[0], *matched[1]]


def _client_factory(config: SshConfig, known_hosts: Path) -> type[asyncssh.SSHClient]:
    """Host-key policy: the key in known_hosts, or (``acceptNewHostKeys``) trust on first use.

    Like OpenSSH's ``StrictHostKeyChecking=accept-new``: a host with no recorded key has its
    key recorded and accepted; a host whose recorded key differs is always refused.
    """
    import asyncssh

    class Client(asyncssh.SSHClient):
        def validate_host_public_key(self, host: str, addr: str, port: int, key: Any) -> bool:
            # Anything recorded under the name or the address means this key is a changed one.
            if not config.accept_new_host_keys or _known_keys(known_hosts, host, addr, port):
                return False
            name = config.host if config.port == 22 else f"[{config.host}]:{config.port}"
            known_hosts.parent.mkdir(parents=True, exist_ok=True)
            with known_hosts.open("a") as file:
                file.write(f"{name} {key.export_public_key().decode().strip()}\n")
            return True

    return Client


def _known_hosts_file(config: SshConfig) -> Path:
    known_hosts = Path(config.known_hosts or Path.home() / ".ssh" / "known_hosts")
    if known_hosts.exists():
        return known_hosts
    if not config.accept_new_host_keys:
        raise LaunchError(f"{known_hosts} does not exist (set acceptNewHostKeys to trust on first use)")
    known_hosts.parent.mkdir(parents=True, exist_ok=True)
    known_hosts.touch(mode=0o600)  # an empty list: every host is new, its key gets recorded
    return known_hosts


async def _ssh_connect(config: SshConfig) -> Any:
    import asyncssh

    known_hosts = _known_hosts_file(config)
    keys = [config.identity_file] if config.identity_file else None
    try:
        return await asyncio.wait_for(
            asyncssh.connect(
                config.host, port=config.port, username=config.user, client_keys=keys,
                known_hosts=str(known_hosts), agent_path=None,
                client_factory=_client_factory(config, known_hosts),
            ),
            TIMEOUT,
        )  # fmt: skip
    except asyncssh.HostKeyNotVerifiable:
        if config.accept_new_host_keys or _known_keys(known_hosts, config.host, "", config.port):
            problem = f"does not match the key recorded in {known_hosts}"
        else:
            problem = f"is not in {known_hosts} (set acceptNewHostKeys to trust it on first use)"
        raise LaunchError(f"host key of {config.host} {problem}; refusing to connect") from None
    except (OSError, asyncssh.Error, TimeoutError) as exc:
        raise LaunchError(
            f"ssh to {config.user}@{config.host}:{config.port} failed: {exc.__class__.__name__}"
        ) from None


async def launch_ssh(config: SshConfig, request: LaunchRequest) -> str:
    connection = await _ssh_connect(config)
    async with connection:
        # Detached, so the agent outlives this connection; its output stays on the remote host.
        logs = '"$HOME"/.loom/spinups'
        log = f"{logs}/{shlex.quote(request.spin_up_id + '.log')}"
        line = f"mkdir -p {logs} && nohup {remote_command(config, request)} >{log} 2>&1 </dev/null &"
        try:
            result = await asyncio.wait_for(connection.run(line, check=False), TIMEOUT)
        except TimeoutError:
            raise LaunchError(f"remote command did not return within {TIMEOUT:.0f}s") from None
        if result.exit_status not in (0, None):
            raise LaunchError(f"remote command exited with {result.exit_status}")
    return f"started on {config.host}, log ~/.loom/spinups/{request.spin_up_id}.log"


async def check_ssh(config: SshConfig) -> None:
    connection = await _ssh_connect(config)
    connection.close()
