"""``webhook``: a JSON body with the launch fields, HMAC-signed, retried with backoff on 5xx."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from urllib.parse import urlsplit

import httpx

from loom.models.target import WebhookConfig
from loom.weft.spinup.base import RETRIES, TIMEOUT, LaunchError, LaunchRequest


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
            # Scheme and host only: webhook URLs often carry their token in the path or query.
            where = urlsplit(config.url)
            raise LaunchError(
                f"cannot reach {where.scheme}://{where.hostname} ({exc.__class__.__name__})"
            ) from None
