"""The one exception tree of Loom.

Every failure a user can see is a ``LoomError`` with a stable ``code``; adapters map the
code to their surface (MCP ``Error [CODE]: ...``, REST status + ``{error: {code, message}}``,
CLI exit codes). Dependency errors (nats, httpx, asyncssh) are translated at the boundary
and never leak out raw.

    LoomError
     ├── InvalidArgument   INVALID_ARGUMENT  bad input; names the field and the rule
     ├── NotRegistered     NOT_REGISTERED    the caller must register_agent first
     ├── NotFound          NOT_FOUND
     ├── Forbidden         FORBIDDEN         exists, but not yours
     ├── Conflict          CONFLICT          lost a race, or state forbids it
     ├── StorageFull       STORAGE_FULL      a per-agent or per-project cap is reached
     ├── Unavailable       UNAVAILABLE       NATS (or another backend) cannot be reached
     ├── Timeout           TIMEOUT
     └── InternalError     INTERNAL
"""

from __future__ import annotations

from typing import ClassVar


class LoomError(Exception):
    """Root of every error Loom raises on purpose."""

    code: ClassVar[str] = "INTERNAL"
    http_status: ClassVar[int] = 500

    def __init__(self, message: str, *, field: str | None = None) -> None:
        self.message = f"{field}: {message}" if field else message
        self.reason = message  # without the field, for texts that say where it applies anyway
        self.field = field
        super().__init__(self.message)


class InvalidArgument(LoomError, ValueError):
    """Also a ``ValueError``, so pydantic validators can raise it and keep its text."""

    code = "INVALID_ARGUMENT"
    http_status = 422


class NotRegistered(LoomError):
    code = "NOT_REGISTERED"
    http_status = 409


class NotFound(LoomError):
    code = "NOT_FOUND"
    http_status = 404


class Forbidden(LoomError):
    code = "FORBIDDEN"
    http_status = 403


class Conflict(LoomError):
    code = "CONFLICT"
    http_status = 409


class StorageFull(LoomError):
    code = "STORAGE_FULL"
    http_status = 409


class Unavailable(LoomError):
    code = "UNAVAILABLE"
    http_status = 503


class Timeout(LoomError):
    code = "TIMEOUT"
    http_status = 503


class InternalError(LoomError):
    code = "INTERNAL"
    http_status = 500
