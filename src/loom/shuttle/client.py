"""A small HTTP client of Weft's REST API that turns every failure into a shuttle error.

Transport failures (refused, DNS, timeouts) become ``WeftUnreachable`` (exit 3); error
answers become ``WeftError`` with Weft's ``{error: {code, message}}`` (exit 1). The token
goes only into the ``Authorization`` header; messages name where it came from, never it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote

import httpx

from loom import __version__
from loom.shuttle import sse
from loom.shuttle.errors import WeftError, WeftUnreachable
from loom.shuttle.profile import Profile

TIMEOUT = httpx.Timeout(30.0, connect=5.0)
# An event stream may be quiet for long; a read timeout only makes the caller reconnect.
STREAM_TIMEOUT = httpx.Timeout(5.0, read=45.0)


def segment(value: str) -> str:
    """One URL path segment, escaped (ids and names never change the path)."""
    return quote(value, safe="")


class WeftClient:
    """Use as ``with WeftClient(profile) as api: api.get("/api/stats")``."""

    def __init__(self, profile: Profile) -> None:
        self.profile = profile
        self.base_url = profile.api_url.value or ""
        headers = {"User-Agent": f"shuttle/{__version__}", "Accept": "application/json"}
        if profile.token.value:
            headers["Authorization"] = f"Bearer {profile.token.value}"
        if profile.project.value:
            headers["X-Loom-Project"] = profile.project.value
        self._http = httpx.Client(base_url=self.base_url, headers=headers, timeout=TIMEOUT)

    def __enter__(self) -> WeftClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._http.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
    ) -> Any:
        """Send one request; return the decoded JSON body (``None`` for an empty body)."""
        query = {k: v for k, v in (params or {}).items() if v is not None}
        try:
            response = self._http.request(method, path, params=query, json=json)
        except httpx.TransportError as exc:
            raise self.unreachable(exc) from None
        if response.is_error:
            raise self.failure(response)
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise WeftError(
                f"{self.base_url} answered {method} {path} with something that is not JSON; "
                "is --api-url pointing at Weft?",
                status=response.status_code,
                remote_code="BAD_RESPONSE",
            ) from None

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params=params)

    def post(self, path: str, body: Any = None) -> Any:
        return self.request("POST", path, json=body)

    @contextmanager
    def events(self, last_event_id: str | None = None) -> Iterator[Iterator[sse.Event]]:
        """Open ``GET /api/events``; yields once the stream is connected (headers received)."""
        headers = {"Accept": "text/event-stream"}
        if last_event_id:
            headers["Last-Event-ID"] = last_event_id
        try:
            with self._http.stream("GET", "/api/events", headers=headers, timeout=STREAM_TIMEOUT) as response:
                if response.is_error:
                    response.read()
                    raise self.failure(response)
                yield _until_dropped(sse.parse(response.iter_lines()))
        except httpx.TransportError as exc:
            raise self.unreachable(exc) from None

    def unreachable(self, exc: httpx.TransportError) -> WeftUnreachable:
        reason = str(exc) or type(exc).__name__
        return WeftUnreachable(
            f"cannot reach Weft at {self.base_url} ({reason}). Is it running? Start the stack with "
            "`loom up`, or point shuttle at Weft with --api-url or LOOM_API_URL."
        )

    def failure(self, response: httpx.Response) -> WeftError:
        code, message = _error_body(response)
        if response.status_code == 401:
            message = self._auth_hint()
        return WeftError(message, status=response.status_code, remote_code=code)

    def _auth_hint(self) -> str:
        token = self.profile.token
        if token.value is None:
            return (
                "Weft requires an API token and none was given; pass --token, set LOOM_API_TOKEN, "
                "or run `shuttle config set token ...`."
            )
        origin = {"flag": "--token", "env": "LOOM_API_TOKEN", "file": f"the config file {self.profile.path}"}
        return f"Weft refused the API token taken from {origin.get(token.source, token.source)}."


def _until_dropped(events: Iterator[sse.Event]) -> Iterator[sse.Event]:
    """End the iteration when the stream goes quiet or drops; the caller reconnects."""
    try:
        yield from events
    except (httpx.ReadTimeout, httpx.RemoteProtocolError, httpx.ReadError):
        return


def _error_body(response: httpx.Response) -> tuple[str, str]:
    """Weft's ``{error: {code, message}}``, tolerating other shapes (a proxy, FastAPI's detail)."""
    default = f"HTTP_{response.status_code}"
    try:
        body = response.json()
    except ValueError:
        text = response.text.strip()[:200]
        return default, text or response.reason_phrase
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):
            return str(error.get("code") or default), str(error.get("message") or response.reason_phrase)
        detail = body.get("detail")
        if isinstance(detail, list):
            parts = [f"{'.'.join(str(p) for p in d.get('loc', [])[1:])}: {d.get('msg')}" for d in detail]
            return "INVALID_ARGUMENT", "; ".join(parts)
        if detail or error:
            return default, str(detail or error)
    return default, response.reason_phrase
