"""Translate nats-py exceptions into Loom's error tree at the adapter boundary."""

from __future__ import annotations

import asyncio

import nats.errors
import nats.js.errors

from loom.errors import LoomError, Timeout, Unavailable

_UNAVAILABLE = (
    nats.errors.ConnectionClosedError,
    nats.errors.ConnectionDrainingError,
    nats.errors.ConnectionReconnectingError,
    nats.errors.NoServersError,
    nats.errors.NoRespondersError,
    nats.errors.StaleConnectionError,
    nats.js.errors.ServiceUnavailableError,
    nats.js.errors.ServerError,
)


def translate(exc: BaseException) -> LoomError | None:
    """The Loom error for a NATS failure, or ``None`` when ``exc`` is not one."""
    if isinstance(exc, LoomError):
        return exc
    if isinstance(exc, nats.errors.TimeoutError | asyncio.TimeoutError):
        return Timeout("NATS did not answer in time; is the server overloaded or restarting?")
    if isinstance(exc, _UNAVAILABLE):
        return Unavailable(f"NATS is unavailable ({exc.__class__.__name__}); retry shortly")
    if isinstance(exc, nats.js.errors.APIError):
        return Unavailable(f"JetStream refused the request ({exc.description or exc.__class__.__name__})")
    return None
