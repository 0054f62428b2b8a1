"""Launcher profile for Claude Code: ``claude -p`` with Loom's MCP servers and a bootstrap prompt.

A target whose command is ``loom agent claude -c review`` starts a Claude Code session that
registers with Loom, claims work for its capabilities, reports progress, completes, and exits
when idle. The MCP config is written to a private temp file and passed with ``--mcp-config``;
the process is exec'd with an argv list (no shell).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from loom.config import Settings
from loom.errors import InvalidArgument
from loom.mcp_config import claude_json

PROMPT_TEMPLATE = """You are a worker agent in a Loom team (project {project}).
1. Call register_agent with agentType "{agent_type}", capabilities {capabilities} and boundaries {boundaries}.
2. Read the `general` channel with read_messages to catch up.
3. Loop: claim_work for each of your capabilities (timeout 30000). For each item you get:
   do the work in this repository, call report_progress as you go (it extends your lease),
   then complete_work with a short summary, or fail_work with the error if you cannot do it.
   When nothing is available, call wait_for_activity (timeout 120).
4. Stop when wait_for_activity reports shutdownRequested, or when no work arrived for
   {idle_minutes} minutes; then call deregister_agent.
{work_hint}"""


@dataclass(frozen=True)
class ClaudeProfile:
    capabilities: Sequence[str]
    boundaries: Sequence[str] = ()
    agent_type: str = "claude-code"
    idle_minutes: int = 10
    extra_args: Sequence[str] = field(default_factory=tuple)

    def prompt(self, settings: Settings, work_id: str | None) -> str:
        hint = f"Start with work item {work_id}: it is why you were launched." if work_id else ""
        return PROMPT_TEMPLATE.format(
            project=settings.project_id,
            agent_type=self.agent_type,
            capabilities=json.dumps(list(self.capabilities)),
            boundaries=json.dumps(list(self.boundaries)),
            idle_minutes=self.idle_minutes,
            work_hint=hint,
        ).strip()

    def argv(self, claude: str, settings: Settings, mcp_config_path: str, work_id: str | None) -> list[str]:
        return [
            claude,
            "-p",
            self.prompt(settings, work_id),
            "--mcp-config",
            mcp_config_path,
            "--allowedTools",
            "mcp__loom-warp,mcp__loom-pattern",
            *self.extra_args,
        ]


# What the MCP servers must inherit from the launch: MCP clients start stdio servers with a
# minimal env, so without this the agent would register without its target and spin-up id
# (Weft could not tell the launch worked) and could not authenticate to NATS.
PASSED_ON = (
    "LOOM_TARGET", "LOOM_WORK_ID", "LOOM_SPINUP_ID", "LOOM_AGENT_ID", "LOOM_HANDLE",
    "LOOM_HEARTBEAT_SECONDS", "LOOM_WORK_LEASE", "NATS_USER", "NATS_PASSWORD", "NATS_TOKEN",
    "NATS_CREDS", "NATS_NKEY", "NATS_TLS_CA", "NATS_TLS_CERT", "NATS_TLS_KEY",
)  # fmt: skip


def write_mcp_config(settings: Settings, environ: Mapping[str, str]) -> str:
    """The MCP config in a file only this user can read (it may hold NATS credentials)."""
    config = claude_json(settings, {key: environ[key] for key in PASSED_ON if environ.get(key)})
    handle, path = tempfile.mkstemp(prefix="loom-mcp-", suffix=".json")  # created 0600
    with os.fdopen(handle, "w") as out:
        json.dump(config, out)
    return path


def exec_claude(profile: ClaudeProfile, settings: Settings, env: Mapping[str, str] | None = None) -> None:
    """Replace this process with Claude Code (so signals and exit codes pass straight through)."""
    environ = dict(os.environ if env is None else env)
    claude = shutil.which("claude", path=environ.get("PATH"))
    if claude is None:
        raise InvalidArgument(
            "the `claude` CLI is not on PATH (npm install -g @anthropic-ai/claude-code)", field="claude"
        )
    argv = profile.argv(claude, settings, write_mcp_config(settings, environ), environ.get("LOOM_WORK_ID"))
    os.execvpe(claude, argv, environ)
