"""``github-actions``: a ``workflow_dispatch`` with ref and inputs; token from a named env var."""

from __future__ import annotations

import os

import httpx

from loom.models.target import GithubConfig
from loom.weft.spinup.base import TIMEOUT, LaunchError, LaunchRequest


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
