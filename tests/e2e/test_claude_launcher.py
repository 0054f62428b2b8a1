"""`loom agent claude` with a stand-in `claude` on PATH that records its argv and env."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from loom.config import Settings
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


def test_claude_is_started_with_loom_servers_and_a_bootstrap_prompt(
    tmp_path: Path, bin_path: Callable[[str], str]
) -> None:
    bindir = tmp_path / "bin"
    bindir.mkdir()
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
        [bin_path("loom"), "agent", "claude", "-c", "review", "-b", "corporate"],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    seen = json.loads(record.read_text())
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
