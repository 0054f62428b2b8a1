"""Connecting to NATS with every auth mode Loom supports, and reconnecting forever.

Credentials come from settings only; they are never logged. URLs are shown through
``redact_url`` wherever they reach a log line or an error text.
"""

from __future__ import annotations

import asyncio
import logging
import re
import ssl
from urllib.parse import urlsplit, urlunsplit

import nats
from nats.aio.client import Client as NatsClient
from nats.errors import Error as NatsError
from nats.errors import NoServersError

from loom.config import Settings
from loom.errors import InvalidArgument, Unavailable

log = logging.getLogger("loom.bus")


def _replace_userinfo(url: str, replacement: str) -> str:
    out = []
    for one in url.split(","):
        parts = urlsplit(one.strip() if "://" in one else f"nats://{one.strip()}")
        netloc = parts.netloc
        if "@" in netloc:
            netloc = replacement + netloc.rsplit("@", 1)[1]
        out.append(urlunsplit(parts._replace(netloc=netloc)))
    return ",".join(out)


def redact_url(url: str) -> str:
    """``nats://user:secret@host:4222`` → ``nats://***@host:4222``; a comma list stays a list."""
    return _replace_userinfo(url, "***@")


def strip_credentials(url: str) -> str:
    """``nats://user:secret@host:4222`` → ``nats://host:4222``: a URL to hand to another process,
    which brings its own credentials (``NATS_USER``/``NATS_PASSWORD``, ``NATS_CREDS``, ...)."""
    return _replace_userinfo(url, "")


def tls_context(settings: Settings) -> ssl.SSLContext | None:
    """A client TLS context when any TLS setting or a ``tls://``/``wss://`` URL asks for one."""
    wants_tls = any(url.lower().startswith(("tls://", "wss://")) for url in settings.nats_servers)
    if not (wants_tls or settings.nats_tls_ca or settings.nats_tls_cert):
        return None
    try:
        context = ssl.create_default_context(
            cafile=str(settings.nats_tls_ca) if settings.nats_tls_ca else None
        )
        if settings.nats_tls_cert:
            if not settings.nats_tls_key:
                raise InvalidArgument("is required with NATS_TLS_CERT", field="NATS_TLS_KEY")
            context.load_cert_chain(str(settings.nats_tls_cert), str(settings.nats_tls_key))
    except (OSError, ssl.SSLError) as exc:
        raise InvalidArgument(f"cannot load TLS files: {exc.__class__.__name__}", field="NATS_TLS") from None
    return context


def connect_options(settings: Settings) -> dict[str, object]:
    """Keyword arguments for ``nats.connect`` (kept separate so doctor can reuse them)."""
    options: dict[str, object] = {
        "servers": settings.nats_servers,
        "name": f"loom:{settings.project_id}",
        "allow_reconnect": True,
        "max_reconnect_attempts": -1,
        "reconnect_time_wait": 0.5,
        "connect_timeout": 5,
        "ping_interval": 20,
    }
    if settings.nats_user:
        options["user"] = settings.nats_user
        options["password"] = settings.nats_password.get_secret_value() if settings.nats_password else ""
    if settings.nats_token:
        options["token"] = settings.nats_token.get_secret_value()
    if settings.nats_creds:
        if not settings.nats_creds.is_file():
            raise InvalidArgument("creds file does not exist", field="NATS_CREDS")
        options["user_credentials"] = str(settings.nats_creds)
    if settings.nats_nkey:
        if not settings.nats_nkey.is_file():
            raise InvalidArgument("nkey seed file does not exist", field="NATS_NKEY")
        options["nkeys_seed"] = str(settings.nats_nkey)
    context = tls_context(settings)
    if context is not None:
        options["tls"] = context
    return options


_USERINFO = re.compile(r"//[^/@\s]*@")


def scrub(text: str) -> str:
    """Remove ``user:password@`` from any URL inside free text."""
    return _USERINFO.sub("//***@", text)


async def _log_error(exc: Exception) -> None:
    log.warning("nats: %s %s", exc.__class__.__name__, scrub(str(exc)))


async def _log_disconnected() -> None:
    log.info("nats: disconnected")  # also fires on a clean close


async def _log_reconnected() -> None:
    log.info("nats: reconnected")


async def open_connection(settings: Settings, *, first_attempt_timeout: float = 5.0) -> NatsClient:
    """Connect, failing fast with ``Unavailable`` when no server answers at first.

    Once connected, the client reconnects forever (``max_reconnect_attempts=-1``), so a NATS
    restart is a pause, not an outage.
    """
    options = connect_options(settings)
    try:
        return await asyncio.wait_for(
            nats.connect(
                error_cb=_log_error,
                disconnected_cb=_log_disconnected,
                reconnected_cb=_log_reconnected,
                **options,  # type: ignore[arg-type]
            ),
            first_attempt_timeout,
        )
    except (NoServersError, OSError, TimeoutError, NatsError) as exc:
        raise Unavailable(
            f"cannot reach NATS at {redact_url(settings.nats_url)} ({exc.__class__.__name__}); "
            "start one with `loom up` or set NATS_URL"
        ) from None
