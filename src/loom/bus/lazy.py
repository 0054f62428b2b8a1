"""nats-py without aiohttp at start: it is needed for WebSocket (``ws://``) servers only.

nats-py imports aiohttp when it is itself imported, and aiohttp is about 9 MB of every Loom
process's memory. While nats-py is imported, ``aiohttp`` is a stand-in that imports the
real module on the first use of one of its names (a ``ws://`` connection); nothing else
ever sees the stand-in.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
from typing import Any


class _OnFirstUse(types.ModuleType):
    def __getattr__(self, attr: str) -> Any:
        return getattr(importlib.import_module(self.__name__), attr)


def import_nats() -> None:
    if "nats.aio.transport" in sys.modules or "aiohttp" in sys.modules:
        return
    if importlib.util.find_spec("aiohttp") is None:
        return  # not installed: nats-py does without
    stand_in = _OnFirstUse("aiohttp")
    sys.modules["aiohttp"] = stand_in
    try:
        importlib.import_module("nats.aio.transport")
    finally:
        if sys.modules.get("aiohttp") is stand_in:
            del sys.modules["aiohttp"]


import_nats()
