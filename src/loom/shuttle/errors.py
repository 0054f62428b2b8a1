"""Shuttle's errors and how each maps to an exit code.

LoomError
 ├── InvalidArgument  raised here, before anything is sent   → exit 2 (usage)
 ├── WeftUnreachable  no answer from Weft (refused, timeout) → exit 3
 ├── WeftError        Weft answered with an error status     → exit 1
 └── any other        a failed operation                     → exit 1
"""

from __future__ import annotations

from loom.errors import InvalidArgument, LoomError, Unavailable

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_UNREACHABLE = 3


class WeftUnreachable(Unavailable):
    """Weft did not answer at all."""


class WeftError(LoomError):
    """Weft answered with an error; ``remote_code`` is its ``error.code``."""

    def __init__(self, message: str, *, status: int, remote_code: str) -> None:
        super().__init__(message)
        self.status = status
        self.remote_code = remote_code


def exit_code(exc: LoomError) -> int:
    if isinstance(exc, WeftUnreachable):
        return EXIT_UNREACHABLE
    if isinstance(exc, InvalidArgument):
        return EXIT_USAGE
    return EXIT_FAILED


def error_code(exc: LoomError) -> str:
    return exc.remote_code if isinstance(exc, WeftError) else exc.code
