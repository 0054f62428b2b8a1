"""`loom agent claude` with a stand-in `claude` on PATH that records its argv and env."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from loom.agent.claude import write_mcp_config
from loom.cli import app
from loom.config import Settings, load_settings
from loom.runtime import Runtime
from loom.services.directory import AgentDirectory

STAND_IN = """#!{python}
import json, os, sys
env = {{k: v for k, v in os.environ.items() if k.startswith(("LOOM_", "NATS_"))}}
record = {{"argv": sys.argv[1:], "env": env}}
i = sys.argv.index("--mcp-config")
record["mcp"] = json.load(open(sys.argv[i + 1]))
json.dump(record, open(os.environ["RECORD_TO"], "w"))
"""


def launch(tmp_path: Path, loom: str, *args: str) -> dict[str, Any]:
    """Run `loom agent claude ARGS` with the recording stand-in; what `claude` was given."""
    bindir = tmp_path / "bin"
    bindir.mkdir(exist_ok=True)
    claude = bindir / "claude"
    claude.write_text(STAND_IN.format(python=sys.executable))
    claude.chmod(0o755)
    record = tmp_path / "record.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LOOM_", "NATS_"))} | {
        "PATH": f"{bindir}:{os.environ['PATH']}",
        "RECORD_TO": str(record),
        "NATS_URL": "nats://127.0.0.1:4999",
        "LOOM_PROJECT_ID": "launch-test",
        "LOOM_WORK_ID": "w-42",
        "LOOM_TARGET": "claude-local",
    }
    result = subprocess.run(
        [loom, "agent", "claude", *args], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    seen: dict[str, Any] = json.loads(record.read_text())
    return seen


def test_claude_is_started_with_loom_servers_and_a_bootstrap_prompt(
    tmp_path: Path, bin_path: Callable[[str], str]
) -> None:
    seen = launch(tmp_path, bin_path("loom"), "-c", "review", "-b", "corporate")
    argv = seen["argv"]
    assert argv[0] == "-p"
    prompt = argv[1]
    assert "register_agent" in prompt and '["review"]' in prompt and '["corporate"]' in prompt
    assert "w-42" in prompt  # the work item that caused the launch
    assert "--allowedTools" in argv
    servers = seen["mcp"]["mcpServers"]
    assert servers["loom-warp"]["command"] == bin_path("warp")
    assert servers["loom-warp"]["env"]["LOOM_PROJECT_ID"] == "launch-test"
    assert seen["env"]["LOOM_TARGET"] == "claude-local"  # the launch env reaches the agent
    assert servers["loom-warp"]["env"]["LOOM_TARGET"] == "claude-local"  # and its MCP servers


def test_a_task_is_done_once_with_the_tools_and_channel_given(
    tmp_path: Path, bin_path: Callable[[str], str]
) -> None:
    task = tmp_path / "task.md"
    task.write_text("Review the diff of PR {9}.\n")
    seen = launch(
        tmp_path, bin_path("loom"), "--task-file", str(task), "--report-channel", "reviews",
        "--allow-tool", "Read", "--allow-tool", "Bash(git diff:*)", "--agent-type", "reviewer",
        "--", "--model", "sonnet",
    )  # fmt: skip
    argv = seen["argv"]
    prompt = argv[argv.index("-p") + 1]
    assert prompt.endswith("Task:\nReview the diff of PR {9}.")
    assert "remember_learning" in prompt and "`reviews` channel" in prompt and "claim_work" not in prompt
    assert 'agentType "reviewer", capabilities []' in prompt  # a task needs no capability
    assert argv[argv.index("--allowedTools") + 1] == "mcp__loom-warp,mcp__loom-pattern,Read,Bash(git diff:*)"
    assert argv[-2:] == ["--model", "sonnet"]
    # Inline, with a capability, the default channel and only Loom's tools.
    argv = launch(tmp_path, bin_path("loom"), "--task", "Triage issue 3", "-c", "triage")["argv"]
    prompt = argv[argv.index("-p") + 1]
    assert '["triage"]' in prompt and "`general` channel" in prompt and prompt.endswith("Triage issue 3")
    assert argv[argv.index("--allowedTools") + 1] == "mcp__loom-warp,mcp__loom-pattern"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--task", "a", "--task-file", "t.md"], "--task: use --task or --task-file, not both"),
        (["--task-file", "/nonexistent/t.md"], "--task-file: cannot read '/nonexistent/t.md'"),
        (["--task", "  "], "--task: the task must not be empty"),
        ([], "--capability: give at least one (-c), or a --task"),
        (["--task", "a", "--report-channel", "No Such!"], "--report-channel: 'No Such!' must match ^[a-z0-9]"),
        (["--task", "a", "--allow-tool", "Read,Grep"], "--allow-tool: 'Read,Grep' must be one tool name"),
        (["-c", "review", "--allow-tool", ""], "--allow-tool: '' must be one tool name"),
    ],
)  # fmt: skip
def test_bad_options_are_refused_naming_the_option(args: list[str], expected: str) -> None:
    # In-process, so no PATH: were an option let through, no `claude` could replace the test run.
    env = {"LOOM_PROJECT_ID": "launch-test", "PATH": ""}
    result = CliRunner().invoke(app, ["agent", "claude", *args], env=env)
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error [INVALID_ARGUMENT]: {expected}")


def test_missing_claude_is_a_clear_error(tmp_path: Path, bin_path: Callable[[str], str]) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LOOM_", "NATS_"))} | {
        "PATH": str(tmp_path),
        "LOOM_PROJECT_ID": "launch-test",
    }
    result = subprocess.run(
        [bin_path("loom"), "agent", "claude", "-c", "review"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "claude" in result.stderr and "PATH" in result.stderr


MCP_CLIENT_STAND_IN = """#!{python}
# Acts as Claude Code would: starts loom-warp from --mcp-config with only the env the config
# gives (MCP clients start stdio servers with a minimal env) and registers.
import asyncio, json, sys
from mcp import Client, StdioServerParameters

async def main():
    config = json.load(open(sys.argv[sys.argv.index("--mcp-config") + 1]))
    warp = config["mcpServers"]["loom-warp"]
    params = StdioServerParameters(command=warp["command"], args=warp["args"], env=warp["env"])
    async with Client(params) as client:
        result = await client.call_tool("register_agent", {{"agentType": "claude-code", "capabilities": ["review"]}})
        assert not result.is_error, result

asyncio.run(main())
"""


async def test_the_launched_session_registers_as_the_launch_it_answers(
    tmp_path: Path, bin_path: Callable[[str], str], settings: Settings
) -> None:
    bindir = tmp_path / "bin"
    bindir.mkdir()
    claude = bindir / "claude"
    claude.write_text(MCP_CLIENT_STAND_IN.format(python=sys.executable))
    claude.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LOOM_", "NATS_"))} | {
        "PATH": f"{bindir}:{os.environ['PATH']}",
        "NATS_URL": settings.nats_url,
        "LOOM_PROJECT_ID": settings.project_id,
        "LOOM_TARGET": "claude-local",
        "LOOM_WORK_ID": "w-7",
        "LOOM_SPINUP_ID": "spin-7",
    }
    process = await asyncio.create_subprocess_exec(
        bin_path("loom"), "agent", "claude", "-c", "review", env=env, cwd=str(tmp_path),
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, stderr = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, stderr.decode()
    async with await Runtime.open(settings.model_copy(update={"agent_id": "observer"})) as rt:
        directory = rt.service(AgentDirectory)
        await directory.start()
        [agent] = [r for r in directory.records.values() if r.agent_type == "claude-code"]
    assert (agent.target, agent.launch_work_id, agent.spin_up_id) == ("claude-local", "w-7", "spin-7")


def test_the_mcp_config_refers_to_secrets_without_holding_them(tmp_path: Path) -> None:
    environ = {
        "NATS_URL": "nats://loom:pw-in-url@10.0.0.1:4222", "NATS_PASSWORD": "s3cret-pass",
        "NATS_TOKEN": "tok-value", "LOOM_PROJECT_ID": "p", "LOOM_TARGET": "t1", "LOOM_SPINUP_ID": "s-1",
    }  # fmt: skip
    settings = load_settings(env=environ, cwd=tmp_path)
    path = Path(write_mcp_config(settings, environ))
    try:
        text = path.read_text()
        assert path.stat().st_mode & 0o077 == 0  # this user only
    finally:
        path.unlink()
    for secret in ("pw-in-url", "s3cret-pass", "tok-value"):
        assert secret not in text
    env = json.loads(text)["mcpServers"]["loom-warp"]["env"]
    assert (env["NATS_URL"], env["NATS_PASSWORD"], env["NATS_TOKEN"]) == (
        "${NATS_URL}",
        "${NATS_PASSWORD}",
        "${NATS_TOKEN}",
    )
    assert (env["LOOM_TARGET"], env["LOOM_SPINUP_ID"]) == ("t1", "s-1")  # plain values stay plain
