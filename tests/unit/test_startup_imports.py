"""Weft and `loom up` start without the heavy libraries only some launches need.

kubernetes_asyncio, asyncssh and the MCP SDK together cost Weft about a second of start-up
and 70 MB of memory; they load on first use (a Kubernetes or ssh launch), never at import.
"""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("kubernetes_asyncio", "asyncssh", "mcp")


def test_weft_and_loom_up_import_none_of_the_heavy_libraries() -> None:
    code = (
        "import sys, loom.weft.entry, loom.up, loom.weft.spinup.manager\n"
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == ""
