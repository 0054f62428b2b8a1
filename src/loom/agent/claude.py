"""Launcher profile for Claude Code: ``claude -p`` with Loom's MCP servers and a bootstrap prompt.

A target whose command is ``loom agent claude -c review`` starts a Claude Code session that
registers with Loom, claims work for its capabilities, reports progress, completes, and exits
when idle. With ``--task`` it does that one task instead and reports it on a channel. The MCP
config is written to a private temp file and passed with ``--mcp-config``; the process is
exec'd with an argv list (no shell).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from loom.bus.connect import strip_credentials
from loom.config import ENV_KEYS, Settings
from loom.errors import InvalidArgument
from loom.mcp_config import claude_json
from loom.names import validate_name, validate_names

PROMPT_TEMPLATE = """You are a worker agent in a Loom team (project {project}).
1. Call register_agent with agentType {agent_type}, capabilities {capabilities} and boundaries {boundaries}.
2. Read the `general` channel with read_messages to catch up.
3. Loop: claim_work for each of your capabilities (timeout 30000). For each item you get:
   do the work in this repository, call report_progress as you go (it extends your lease),
   then complete_work with a short summary, or fail_work with the error if you cannot do it.
   When nothing is available, call wait_for_activity (timeout 120).
4. Stop when wait_for_activity reports shutdownRequested, or when no work arrived for
   {idle_minutes} minutes; then call deregister_agent.
{work_hint}"""

TASK_PROMPT_TEMPLATE = """You are an agent of a Loom team (project {project}) and have one task.
1. Call register_agent with agentType {agent_type}, capabilities {capabilities} and boundaries {boundaries}.
2. Do the task below. Save what the team should know next time with remember_learning.
3. Post a short summary of the outcome on the `{channel}` channel: create_channel (harmless
   if it exists), then send_message.
4. Call deregister_agent. Your final answer is the outcome of the task.

Task:
{task}"""

LOOM_TOOLS = ("mcp__loom-warp", "mcp__loom-pattern")


@dataclass(frozen=True)
class ClaudeProfile:
    capabilities: Sequence[str] = ()
    boundaries: Sequence[str] = ()
    agent_type: str = "claude-code"
    idle_minutes: int = 10
    task: str | None = None  # one task instead of the worker loop
    report_channel: str = "general"
    allowed_tools: Sequence[str] = ()  # Claude Code tools allowed besides Loom's
    extra_args: Sequence[str] = ()  # passed on to claude as they are

    def prompt(self, settings: Settings, work_id: str | None) -> str:
        common = {
            "project": settings.project_id,
            "agent_type": json.dumps(self.agent_type),
            "capabilities": json.dumps(list(self.capabilities)),
            "boundaries": json.dumps(list(self.boundaries)),
        }
        if self.task is not None:
            return TASK_PROMPT_TEMPLATE.format(**common, channel=self.report_channel, task=self.task)
        hint = f"Start with work item {work_id}: it is why you were launched." if work_id else ""
        return PROMPT_TEMPLATE.format(**common, idle_minutes=self.idle_minutes, work_hint=hint).strip()

    def argv(self, claude: str, settings: Settings, mcp_config_path: str, work_id: str | None) -> list[str]:
        return [
            claude,
            "-p",
            self.prompt(settings, work_id),
            "--mcp-config",
            mcp_config_path,
            "--allowedTools",
            ",".join([*LOOM_TOOLS, *self.allowed_tools]),
            *self.extra_args,
        ]


def read_task(task: str | None, task_file: Path | None) -> str | None:
    """The one task from ``--task`` or ``--task-file`` (never both), or None for a worker."""
    if task is not None and task_file is not None:
        raise InvalidArgument("use --task or --task-file, not both", field="--task")
    field = "--task-file" if task_file is not None else "--task"
    if task_file is not None:
        try:
            task = task_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            why = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
            raise InvalidArgument(f"cannot read '{task_file}' ({why})", field=field) from None
    if task is not None and not task.strip():
        raise InvalidArgument("the task must not be empty", field=field)
    return task.strip() if task is not None else None


def allowed_tools(tools: Sequence[str]) -> list[str]:
    """Tools joined into one ``--allowedTools`` list, so each must be one non-empty name."""
    cleaned = [tool.strip() for tool in tools]
    for tool in cleaned:
        if not tool or "," in tool:
            raise InvalidArgument(
                f"{tool!r} must be one tool name, not empty and without commas", field="--allow-tool"
            )
    return cleaned


def build_profile(
    capabilities: Sequence[str],
    boundaries: Sequence[str] = (),
    *,
    agent_type: str = "claude-code",
    task: str | None = None,
    report_channel: str = "general",
    tools: Sequence[str] = (),
    idle_minutes: int = 10,
    extra_args: Sequence[str] = (),
) -> ClaudeProfile:
    """A profile from command-line values, each checked with an error naming its option."""
    if not capabilities and task is None:
        raise InvalidArgument("give at least one (-c), or a --task", field="--capability")
    if not agent_type.strip() or len(agent_type.strip()) > 64:
        raise InvalidArgument("must be 1..64 characters", field="--agent-type")
    return ClaudeProfile(
        capabilities=validate_names(capabilities, "capability"),
        boundaries=validate_names(boundaries, "boundary"),
        agent_type=agent_type.strip(),
        task=task,
        report_channel=validate_name(report_channel, "--report-channel"),
        allowed_tools=allowed_tools(tools),
        idle_minutes=idle_minutes,
        extra_args=tuple(extra_args),
    )


# What the MCP servers must get from the launch: MCP clients start stdio servers with a
# minimal env, so without this the agent would register without its target and spin-up id
# (Weft could not tell the launch worked) and could not authenticate to NATS. NATS_URL and
# LOOM_PROJECT_ID come from the settings; Weft's API settings are no business of the servers.
PASSED_ON = (
    *(
        key
        for key in ENV_KEYS.values()
        if key not in {"NATS_URL", "LOOM_PROJECT_ID", "LOOM_API_TOKEN", "LOOM_API_URL"}
    ),
    "LOOM_CONFIG",
)


# Passed as ``${VAR}`` references, which Claude Code expands from its own environment when it
# starts a server: the secret values are never written to disk.
SECRET_KEYS = frozenset({"NATS_PASSWORD", "NATS_TOKEN", "NATS_NKEY"})


def mcp_server_env(settings: Settings, environ: Mapping[str, str]) -> dict[str, str]:
    """The env the MCP servers get: the launch settings, and references to the secrets."""
    env = {
        key: f"${{{key}}}" if key in SECRET_KEYS else environ[key] for key in PASSED_ON if environ.get(key)
    }
    url = environ.get("NATS_URL")
    if url and "@" in url:
        env["NATS_URL"] = "${NATS_URL}"  # credentials in the URL: a reference as well
    else:
        env["NATS_URL"] = strip_credentials(settings.nats_url)
    return env


def write_mcp_config(settings: Settings, environ: Mapping[str, str]) -> str:
    """The MCP config in a file only this user can read; it holds no secret values."""
    config = claude_json(settings, mcp_server_env(settings, environ))
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
