"""The five launch mechanisms and their health checks, one module each.

``launch`` returns a short detail (pid, job name, ...) or raises ``LaunchError``;
``check`` raises ``LaunchError`` when the target cannot launch. Neither ever puts a secret
into a detail or an error text.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from loom.models.target import Target, parse_config
from loom.weft.spinup.base import LaunchRequest
from loom.weft.spinup.mechanisms.github import check_github, dispatch_inputs, launch_github
from loom.weft.spinup.mechanisms.kubernetes import check_kubernetes, job_manifest, launch_kubernetes
from loom.weft.spinup.mechanisms.local import check_local, launch_local
from loom.weft.spinup.mechanisms.ssh import check_ssh, launch_ssh, remote_command
from loom.weft.spinup.mechanisms.webhook import check_webhook, launch_webhook, signature

__all__ = ["check", "dispatch_inputs", "job_manifest", "launch", "remote_command", "signature"]

# mechanism -> (launch, check); each takes its own parsed config type.
_MECHANISMS: dict[str, tuple[Callable[..., Awaitable[str]], Callable[[Any], Awaitable[None]]]] = {
    "local": (launch_local, check_local),
    "ssh": (launch_ssh, check_ssh),
    "webhook": (launch_webhook, check_webhook),
    "kubernetes": (launch_kubernetes, check_kubernetes),
    "github-actions": (launch_github, check_github),
}


async def launch(target: Target, request: LaunchRequest) -> str:
    run, _ = _MECHANISMS[target.mechanism]
    return await run(parse_config(target.mechanism, target.config), request)


async def check(target: Target) -> None:
    _, probe = _MECHANISMS[target.mechanism]
    await probe(parse_config(target.mechanism, target.config))
