"""``loom mcp-config``: the MCP client configuration for this machine."""

from __future__ import annotations

import json
import shlex
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path

from loom.bus.connect import redact_url
from loom.config import Settings


def script_path(name: str) -> str:
    """Absolute path of one of our console scripts (next to this interpreter, else on PATH)."""
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    return shutil.which(name) or name


def server_env(settings: Settings) -> dict[str, str]:
    """The env a client must pass; credentials stay out (set them in the client's own env)."""
    env = {"NATS_URL": redact_url(settings.nats_url) if "@" in settings.nats_url else settings.nats_url}
    env["LOOM_PROJECT_ID"] = settings.project_id
    return env


def claude_json(settings: Settings, extra_env: Mapping[str, str] | None = None) -> dict[str, object]:
    env = server_env(settings) | dict(extra_env or {})
    return {
        "mcpServers": {
            "loom-warp": {"command": script_path("warp"), "args": [], "env": env},
            "loom-pattern": {"command": script_path("pattern"), "args": [], "env": env},
        }
    }


def claude_add_lines(settings: Settings) -> list[str]:
    env_flags = " ".join(f"--env {shlex.quote(f'{k}={v}')}" for k, v in server_env(settings).items())
    return [
        f"claude mcp add loom-warp {env_flags} -- {shlex.quote(script_path('warp'))}",
        f"claude mcp add loom-pattern {env_flags} -- {shlex.quote(script_path('pattern'))}",
    ]


def render(settings: Settings) -> str:
    lines = [
        "# Claude Code: run these once in your project",
        *claude_add_lines(settings),
        "",
        "# Or put this in .mcp.json (Claude Code) or your MCP client's config:",
        json.dumps(claude_json(settings), indent=2),
    ]
    if "@" in settings.nats_url:
        lines += [
            "",
            "# NATS credentials were left out: set NATS_USER/NATS_PASSWORD (or NATS_CREDS) in the env.",
        ]
    return "\n".join(lines)
