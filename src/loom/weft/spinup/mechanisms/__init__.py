"""The five launch mechanisms and their health checks.

``launch`` returns a short detail (pid, job name, ...) or raises ``LaunchError``;
``check`` raises ``LaunchError`` when the target cannot launch. Neither ever puts a secret
into a detail or an error text.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import shlex
import shutil
from pathlib import Path

import httpx

from loom.models.target import (
    GithubConfig,
    KubernetesConfig,
    LocalConfig,
    SshConfig,
    Target,
    WebhookConfig,
    parse_config,
)
from loom.weft.spinup.base import LaunchError, LaunchRequest

TIMEOUT = 15.0
RETRIES = 3


# -- local ---------------------------------------------------------------------------------
async def launch_local(config: LocalConfig, request: LaunchRequest) -> str:
    log_dir = request.log_dir or Path.cwd() / ".loom" / "spinups"
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{request.spin_up_id}.log"
    env = {**os.environ, **config.env, **request.fields()}
    with log_path.open("ab") as log:
        try:
            process = await asyncio.create_subprocess_exec(
                *config.command, cwd=config.cwd, env=env, stdin=asyncio.subprocess.DEVNULL,
                stdout=log, stderr=log, start_new_session=True,
            )  # fmt: skip
        except OSError as exc:
            raise LaunchError(f"cannot run {config.command[0]!r}: {exc.strerror or exc}") from None
    return f"pid {process.pid}, log {log_path}"


async def check_local(config: LocalConfig) -> None:
    program = config.command[0]
    found = (
        shutil.which(program) if "/" not in program else (program if os.access(program, os.X_OK) else None)
    )
    if not found:
        raise LaunchError(f"{program!r} not found or not executable")


# -- ssh -----------------------------------------------------------------------------------
def remote_command(config: SshConfig, request: LaunchRequest) -> str:
    """``env K=V ... <command>`` with every value quoted: nothing in a field can inject."""
    assignments = " ".join(shlex.quote(f"{k}={v}") for k, v in request.fields().items())
    return f"env {assignments} {config.command}"


async def _ssh_connect(config: SshConfig):  # type: ignore[no-untyped-def]  # asyncssh is untyped
    import asyncssh

    known_hosts = config.known_hosts or str(Path.home() / ".ssh" / "known_hosts")
    keys = [config.identity_file] if config.identity_file else None
    try:
        return await asyncio.wait_for(
            asyncssh.connect(
                config.host, port=config.port, username=config.user, client_keys=keys,
                known_hosts=known_hosts, agent_path=None,
            ),
            TIMEOUT,
        )  # fmt: skip
    except asyncssh.HostKeyNotVerifiable:
        raise LaunchError(f"host key of {config.host} is not in {known_hosts}; refusing to connect") from None
    except (OSError, asyncssh.Error, TimeoutError) as exc:
        raise LaunchError(
            f"ssh to {config.user}@{config.host}:{config.port} failed: {exc.__class__.__name__}"
        ) from None


async def launch_ssh(config: SshConfig, request: LaunchRequest) -> str:
    connection = await _ssh_connect(config)
    async with connection:
        # Detached, so the agent outlives this connection; output stays on the remote host.
        line = f"nohup {remote_command(config, request)} >/dev/null 2>&1 &"
        result = await connection.run(line, check=False)
        if result.exit_status not in (0, None):
            raise LaunchError(f"remote command exited with {result.exit_status}")
    return f"started on {config.host}"


async def check_ssh(config: SshConfig) -> None:
    connection = await _ssh_connect(config)
    connection.close()


# -- webhook -------------------------------------------------------------------------------
def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


async def launch_webhook(config: WebhookConfig, request: LaunchRequest) -> str:
    body = json.dumps({"event": "spin-up", **request.fields()}, sort_keys=True).encode()
    headers = {**config.headers, "Content-Type": "application/json"}
    if config.secret:
        headers["X-Loom-Signature"] = signature(config.secret, body)
    async with httpx.AsyncClient(timeout=TIMEOUT) as client:
        for attempt in range(RETRIES):
            try:
                response = await client.request(config.method, config.url, content=body, headers=headers)
            except httpx.HTTPError as exc:
                error = f"cannot reach the webhook ({exc.__class__.__name__})"
            else:
                if response.status_code < 400:
                    return f"webhook answered {response.status_code}"
                if response.status_code < 500:
                    raise LaunchError(f"webhook refused with {response.status_code}: {response.text[:300]}")
                error = f"webhook answered {response.status_code}"
            await asyncio.sleep(0.5 * 2**attempt)  # backoff between retries on 5xx/network errors
    raise LaunchError(error)


async def check_webhook(config: WebhookConfig) -> None:
    async with httpx.AsyncClient(timeout=5) as client:
        try:
            await client.request("HEAD", config.url)
        except httpx.HTTPError as exc:
            raise LaunchError(f"cannot reach {config.url} ({exc.__class__.__name__})") from None


# -- kubernetes ----------------------------------------------------------------------------
def job_manifest(config: KubernetesConfig, request: LaunchRequest) -> dict[str, object]:
    labels = {"loom.target": request.target.name, "loom.project": request.project}
    if request.work_id:
        labels["loom.work-id"] = request.work_id
    env = [{"name": k, "value": v} for k, v in {**config.env, **request.fields()}.items()]
    container: dict[str, object] = {"name": "agent", "image": config.image, "env": env}
    if config.resources:
        container["resources"] = config.resources
    pod: dict[str, object] = {"restartPolicy": "Never", "containers": [container]}
    if config.service_account:
        pod["serviceAccountName"] = config.service_account
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"generateName": f"loom-{request.target.name}-", "labels": labels},
        "spec": {
            "backoffLimit": 0,
            "ttlSecondsAfterFinished": 3600,
            "template": {"metadata": {"labels": labels}, "spec": pod},
        },
    }


def _k8s(config: KubernetesConfig) -> tuple[str, dict[str, str]]:
    server = config.api_server or "https://kubernetes.default.svc"
    token = os.environ.get(config.token_env)
    token_file = Path("/var/run/secrets/kubernetes.io/serviceaccount/token")
    if token is None and token_file.is_file():
        token = token_file.read_text().strip()
    if not token:
        raise LaunchError(f"no Kubernetes token: set {config.token_env} or run in a cluster")
    return server.rstrip("/"), {"Authorization": f"Bearer {token}"}


async def launch_kubernetes(config: KubernetesConfig, request: LaunchRequest) -> str:
    server, headers = _k8s(config)
    url = f"{server}/apis/batch/v1/namespaces/{config.namespace}/jobs"
    async with httpx.AsyncClient(timeout=TIMEOUT) as client:
        try:
            response = await client.post(url, json=job_manifest(config, request), headers=headers)
        except httpx.HTTPError as exc:
            raise LaunchError(f"cannot reach the Kubernetes API ({exc.__class__.__name__})") from None
    if response.status_code not in (200, 201, 202):
        raise LaunchError(f"Kubernetes refused the Job ({response.status_code}): {response.text[:300]}")
    return f"job {response.json().get('metadata', {}).get('name', '?')}"


async def check_kubernetes(config: KubernetesConfig) -> None:
    server, headers = _k8s(config)
    async with httpx.AsyncClient(timeout=5) as client:
        try:
            response = await client.get(f"{server}/api/v1/namespaces/{config.namespace}", headers=headers)
        except httpx.HTTPError as exc:
            raise LaunchError(f"cannot reach the Kubernetes API ({exc.__class__.__name__})") from None
    if response.status_code != 200:
        raise LaunchError(f"namespace {config.namespace} not readable ({response.status_code})")


# -- github actions ------------------------------------------------------------------------
def dispatch_inputs(config: GithubConfig, request: LaunchRequest) -> dict[str, str]:
    return {**config.inputs, **{k.lower(): v for k, v in request.fields().items()}}


def _github(config: GithubConfig) -> dict[str, str]:
    token = os.environ.get(config.token_env)
    if not token:
        raise LaunchError(f"no GitHub token in ${config.token_env}")
    return {
        "Authorization": f"Bearer {token}",
        "Accept": "application/vnd.github+json",
        "X-GitHub-Api-Version": "2022-11-28",
    }


async def launch_github(config: GithubConfig, request: LaunchRequest) -> str:
    url = f"{config.api_url.rstrip('/')}/repos/{config.repo}/actions/workflows/{config.workflow}/dispatches"
    body = {"ref": config.ref, "inputs": dispatch_inputs(config, request)}
    async with httpx.AsyncClient(timeout=TIMEOUT) as client:
        try:
            response = await client.post(url, json=body, headers=_github(config))
        except httpx.HTTPError as exc:
            raise LaunchError(f"cannot reach GitHub ({exc.__class__.__name__})") from None
    if response.status_code != 204:
        raise LaunchError(f"GitHub refused the dispatch ({response.status_code}): {response.text[:300]}")
    return f"dispatched {config.workflow} on {config.repo}@{config.ref}"


async def check_github(config: GithubConfig) -> None:
    url = f"{config.api_url.rstrip('/')}/repos/{config.repo}/actions/workflows/{config.workflow}"
    async with httpx.AsyncClient(timeout=5) as client:
        try:
            response = await client.get(url, headers=_github(config))
        except httpx.HTTPError as exc:
            raise LaunchError(f"cannot reach GitHub ({exc.__class__.__name__})") from None
    if response.status_code != 200:
        raise LaunchError(f"workflow not readable ({response.status_code})")


# -- dispatch by mechanism -----------------------------------------------------------------
async def launch(target: Target, request: LaunchRequest) -> str:
    config = parse_config(target.mechanism, target.config)
    if isinstance(config, LocalConfig):
        return await launch_local(config, request)
    if isinstance(config, SshConfig):
        return await launch_ssh(config, request)
    if isinstance(config, WebhookConfig):
        return await launch_webhook(config, request)
    if isinstance(config, KubernetesConfig):
        return await launch_kubernetes(config, request)
    assert isinstance(config, GithubConfig)
    return await launch_github(config, request)


async def check(target: Target) -> None:
    config = parse_config(target.mechanism, target.config)
    if isinstance(config, LocalConfig):
        await check_local(config)
    elif isinstance(config, SshConfig):
        await check_ssh(config)
    elif isinstance(config, WebhookConfig):
        await check_webhook(config)
    elif isinstance(config, KubernetesConfig):
        await check_kubernetes(config)
    else:
        assert isinstance(config, GithubConfig)
        await check_github(config)
