"""Toolset catalogue. Each toolset lives in its own module exposing ``toolset``."""

from __future__ import annotations

import importlib
from collections.abc import Iterable

from loom.errors import InvalidArgument
from loom.mcp.toolkit import Toolset

KNOWN = (
    "identity",
    "channels",
    "registry",
    "direct",
    "work",
    "dlq",
    "activity",
    "reservations",
    "memory",
)
WARP_DEFAULT = ("identity", "channels", "registry", "direct", "work", "dlq", "activity", "reservations")
PATTERN_DEFAULT = ("memory",)


def load(names: Iterable[str]) -> list[Toolset]:
    """The toolsets named, in the order given; an unknown name is an error."""
    toolsets = []
    for raw in names:
        name = raw.strip().lower()
        if name not in KNOWN:
            raise InvalidArgument(
                f"unknown toolset {raw!r}; choose from {', '.join(KNOWN)}", field="toolsets"
            )
        toolsets.append(importlib.import_module(f"loom.mcp.toolsets.{name}").toolset)
    return toolsets
