"""Console entry points ``warp`` and ``pattern`` (and ``loom mcp``)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from loom.config import load_settings
from loom.errors import LoomError
from loom.mcp.server import serve
from loom.mcp.toolsets import PATTERN_DEFAULT, WARP_DEFAULT


def parse_args(prog: str, argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=prog, description=f"Loom MCP server ({prog})")
    parser.add_argument("--transport", choices=["stdio", "http"], default="stdio")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--toolsets", default=None, help="comma list of toolsets (default: LOOM_TOOLSETS)")
    parser.add_argument("--config", default=None, help="TOML settings file")
    return parser.parse_args(argv)


def run(prog: str, default_toolsets: Sequence[str], argv: Sequence[str] | None = None) -> int:
    args = parse_args(prog, argv)
    # stdout belongs to the MCP protocol on stdio: logs go to stderr.
    logging.basicConfig(
        level=logging.WARNING, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s"
    )
    try:
        settings = load_settings(
            config_path=Path(args.config) if args.config else None, toolsets=args.toolsets
        )
        names = settings.toolsets or tuple(default_toolsets)
        asyncio.run(
            serve(settings, names, transport=args.transport, host=args.host, port=args.port, name=prog)
        )
    except LoomError as exc:
        print(f"{prog}: Error [{exc.code}]: {exc.message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


def warp_main() -> None:
    sys.exit(run("warp", WARP_DEFAULT))


def pattern_main() -> None:
    sys.exit(run("pattern", PATTERN_DEFAULT))
