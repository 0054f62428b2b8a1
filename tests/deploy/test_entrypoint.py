"""The agent image's entrypoint, run on the host with the environment a container gets.

That environment is built the way it is built for real: the image's own ENV, the Job env
that the `kubernetes` mechanism writes, or the workflow inputs that the `github-actions`
mechanism dispatches (upper-cased, as the on-demand workflow maps them). NATS is a real
nats-server; Claude Code is a stand-in that starts the MCP servers named by --mcp-config with
only the env the config gives them (plus PATH and HOME), as an MCP client does, and does what
the prompt asks.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from loom.config import Settings
from loom.models.agent import AgentRecord
from loom.models.target import GithubConfig, KubernetesConfig, Target
from loom.runtime import Runtime
from loom.services.channels import ChannelService
from loom.services.directory import AgentDirectory
from loom.services.work import WorkService, WorkSpec
from loom.weft.spinup.base import LaunchRequest
from loom.weft.spinup.mechanisms import dispatch_inputs, job_manifest
from tests.deploy.files import DOCKERFILE, ENTRYPOINT, dockerfile_stages
from tests.waiting import eventually

STAND_IN = '''#!{python}
"""Claude Code stand-in: Loom's MCP servers from --mcp-config, driven by the prompt."""
import asyncio, json, os, re, sys
from mcp import Client, StdioServerParameters

argv = sys.argv[1:]
prompt = argv[argv.index("-p") + 1]
servers = json.load(open(argv[argv.index("--mcp-config") + 1]))["mcpServers"]
record = {{"argv": argv, "servers": sorted(servers)}}


async def main():
    warp = servers["loom-warp"]
    # An MCP client gives a stdio server a minimal env: what reaches warp is what the config holds.
    env = {{"PATH": os.environ["PATH"], "HOME": os.environ["HOME"], **warp.get("env", {{}})}}
    params = StdioServerParameters(command=warp["command"], args=warp["args"], env=env)
    async with Client(params) as client:
        async def call(tool, **arguments):
            result = await client.call_tool(tool, arguments)
            assert not result.is_error, result.content
            return result.structured_content

        agent_type = json.loads(re.search(r'agentType (".*?")', prompt).group(1))
        capabilities = json.loads(re.search(r"capabilities (\\[.*?\\])", prompt).group(1))
        await call("register_agent", agentType=agent_type, capabilities=capabilities)
        if "claim_work" in prompt:  # the worker's bootstrap prompt
            item = (await call("claim_work", capability=capabilities[0], timeout=15000))["workItem"]
            await call("complete_work", workItemId=item["id"], summary="reviewed by the stand-in")
        else:  # one task
            channel = re.search(r"on the `([a-z0-9_-]+)` channel", prompt).group(1)
            await call("create_channel", name=channel)
            await call("send_message", channel=channel, message="stand-in finished its task")
        await call("deregister_agent")
    json.dump(record, open(os.environ["RECORD_TO"], "w"))
    print("outcome: done")


asyncio.run(main())
'''


def image_env() -> dict[str, str]:
    """The ENV of the agent image's final stage."""
    (agent,) = [s for s in dockerfile_stages(DOCKERFILE.read_text()) if s.name == "agent"]
    return dict(word.split("=", 1) for env in agent.all("ENV") for word in env.split())


def container_env(tmp_path: Path, **env: str) -> dict[str, str]:
    """A container's environment: PATH with Loom's commands (and the stand-in), HOME, image ENV."""
    bindir = tmp_path / "bin"
    path = [str(bindir), str(Path(sys.executable).parent), "/usr/local/bin", "/usr/bin", "/bin"]
    base = {"PATH": ":".join(path), "HOME": str(tmp_path), "RECORD_TO": str(tmp_path / "record.json")}
    return base | image_env() | env


def install_stand_in(tmp_path: Path) -> None:
    bindir = tmp_path / "bin"
    bindir.mkdir(exist_ok=True)
    claude = bindir / "claude"
    claude.write_text(STAND_IN.format(python=sys.executable))
    claude.chmod(0o755)


async def run_entrypoint(env: dict[str, str], cwd: Path, *args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        str(ENTRYPOINT), *args, env=env, cwd=cwd,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        out, err = await asyncio.wait_for(process.communicate(), 90)
    finally:
        if process.returncode is None:
            process.kill()
    return int(process.returncode or 0), out.decode(), err.decode()


def target(name: str, mechanism: str, config: dict[str, Any]) -> Target:
    return Target(
        id=f"id-{name}", name=name, agent_type="claude-code", capabilities=["review"],
        mechanism=mechanism, config=config,
    )  # fmt: skip


async def only_agent(runtime: Runtime) -> AgentRecord:
    directory = runtime.service(AgentDirectory)
    await directory.start()
    await eventually(lambda: len(directory.records) == 1, message="one agent registered")
    (record,) = directory.records.values()
    return record


async def test_a_kubernetes_job_env_runs_a_scripted_worker_that_registers_and_completes(
    tmp_path: Path, settings: Settings, nats_url: str
) -> None:
    script = tmp_path / "review.py"
    script.write_text("import json, sys\nprint('reviewed', json.load(sys.stdin)['description'])\n")
    extra = {"LOOM_AGENT_MODE": "worker", "LOOM_EXEC": f"{sys.executable} {script}", "LOOM_IDLE_EXIT": "1"}
    config = KubernetesConfig(namespace="loom", image="loom-agent:test", env=extra)
    async with await Runtime.open(settings) as rt:
        item = await rt.service(WorkService).offer(WorkSpec(description="pr 7", capability="review"), None)
        request = LaunchRequest(
            target=target("k8s", "kubernetes", config.model_dump(by_alias=True)), spin_up_id="s-k8s",
            project=settings.project_id, nats_url=nats_url, work_id=item.id, capability="review",
        )  # fmt: skip
        (container,) = job_manifest(config, request)["spec"]["template"]["spec"]["containers"]  # type: ignore[index]
        job_env = {e["name"]: e["value"] for e in container["env"]}
        code, _, err = await run_entrypoint(container_env(tmp_path, **job_env), tmp_path)
        assert code == 0, err
        done = await rt.service(WorkService).get(item.id)
        assert (done.status, done.summary) == ("completed", "reviewed pr 7")
        agent = await only_agent(rt)
        assert agent.capabilities == ["review"]
        assert (agent.target, agent.spin_up_id, agent.launch_work_id) == ("k8s", "s-k8s", item.id)


async def test_github_dispatch_inputs_start_claude_code_as_a_worker(
    tmp_path: Path, settings: Settings, nats_url: str
) -> None:
    install_stand_in(tmp_path)
    config = GithubConfig(repo="acme/app", workflow="loom-agent.yml")
    async with await Runtime.open(settings) as rt:
        item = await rt.service(WorkService).offer(WorkSpec(description="pr 8", capability="review"), None)
        request = LaunchRequest(
            target=target("gha", "github-actions", config.model_dump(by_alias=True)), spin_up_id="s-gha",
            project=settings.project_id, nats_url=nats_url, work_id=item.id, capability="review",
        )  # fmt: skip
        # The on-demand workflow maps each input to the env var of the same name, upper-cased.
        job_env = {name.upper(): value for name, value in dispatch_inputs(config, request).items()}
        # Arguments after the mode are passed on to `loom agent claude`.
        code, _, err = await run_entrypoint(
            container_env(tmp_path, **job_env), tmp_path, "claude", "--idle-minutes", "3"
        )
        assert code == 0, err
        done = await rt.service(WorkService).get(item.id)
        assert (done.status, done.summary) == ("completed", "reviewed by the stand-in")
        agent = await only_agent(rt)
        assert (agent.capabilities, agent.target, agent.spin_up_id) == (["review"], "gha", "s-gha")
    seen = json.loads((tmp_path / "record.json").read_text())
    prompt = seen["argv"][seen["argv"].index("-p") + 1]
    assert item.id in prompt and "3 minutes" in prompt
    assert seen["servers"] == ["loom-pattern", "loom-warp"]


async def test_once_does_one_task_reports_it_and_evaluates_nothing(
    tmp_path: Path, settings: Settings, nats_url: str
) -> None:
    install_stand_in(tmp_path)
    marker = tmp_path / "evaluated"
    task = f"Review PR #9: $(touch {marker}) `touch {marker}` ${{HOME}} {{braces}} *"
    env = container_env(
        tmp_path, NATS_URL=nats_url, LOOM_PROJECT_ID=settings.project_id, LOOM_CAPABILITIES="review, triage",
        LOOM_REPORT_CHANNEL="reviews", LOOM_TASK=task, LOOM_ALLOWED_TOOLS="Read,Grep,Bash(git diff:*)",
        LOOM_AGENT_TYPE="reviewer", LOOM_TARGET="gha-review", LOOM_SPINUP_ID="s-once",
    )  # fmt: skip
    code, out, err = await run_entrypoint(env, tmp_path, "once", "--model", "sonnet")
    assert code == 0, err
    assert out.strip() == "outcome: done"
    assert not marker.exists()
    seen = json.loads((tmp_path / "record.json").read_text())
    argv = seen["argv"]
    assert argv[argv.index("-p") + 1].endswith(task)  # the task text reached Claude Code as it was
    tools = argv[argv.index("--allowedTools") + 1]
    assert tools == "mcp__loom-warp,mcp__loom-pattern,Read,Grep,Bash(git diff:*)"
    assert argv[-2:] == ["--model", "sonnet"]
    async with await Runtime.open(settings) as rt:
        agent = await only_agent(rt)
        assert (agent.agent_type, agent.capabilities) == ("reviewer", ["review", "triage"])
        # The stand-in gave warp only the config's env: the launch fields were written into it.
        assert (agent.target, agent.spin_up_id) == ("gha-review", "s-once")
        page = await rt.service(ChannelService).read("reviews")
        assert [m.message for _, m in page.messages] == ["stand-in finished its task"]


@pytest.mark.parametrize(
    ("args", "env", "expected"),
    [
        ((), {"LOOM_AGENT_MODE": "bogus"}, "LOOM_AGENT_MODE: must be claude, worker or once (got 'bogus')"),
        (("worker",), {}, "LOOM_CAPABILITY: set the capability"),
        (("worker",), {"LOOM_CAPABILITY": "review", "LOOM_IDLE_EXIT": "soon"}, "LOOM_IDLE_EXIT: must be a number of seconds"),
        (("claude",), {"LOOM_CAPABILITY": "review", "LOOM_IDLE_MINUTES": "1.5"}, "LOOM_IDLE_MINUTES: must be a whole number"),
        (("once",), {}, "LOOM_TASK: set the task"),
        (("once",), {"LOOM_TASK_FILE": "/nonexistent/task.md"}, "LOOM_TASK_FILE: cannot read '/nonexistent/task.md'"),
    ],
)  # fmt: skip
async def test_bad_settings_are_refused_naming_the_variable(
    tmp_path: Path, args: tuple[str, ...], env: dict[str, str], expected: str
) -> None:
    code, out, err = await run_entrypoint(container_env(tmp_path, **env), tmp_path, *args)
    assert (code, out) == (2, "")
    assert err.startswith(f"loom-agent: {expected}")


RECORDER = """#!{python}
import json, os, sys
json.dump(sys.argv[1:], open(os.environ["RECORD_TO"], "w"))
"""


async def test_a_task_file_is_read_and_any_other_command_runs_as_given(tmp_path: Path) -> None:
    code, out, _ = await run_entrypoint(container_env(tmp_path), tmp_path, "printf", "%s|", "a b", "$HOME")
    assert (code, out) == (0, "a b|$HOME|")
    (tmp_path / "bin").mkdir()
    claude = tmp_path / "bin" / "claude"
    claude.write_text(RECORDER.format(python=sys.executable))
    claude.chmod(0o755)
    task = tmp_path / "task.md"
    task.write_text("Summarise the open issues.\n")
    # No capabilities: a task needs none.
    code, _, err = await run_entrypoint(container_env(tmp_path, LOOM_TASK_FILE=str(task)), tmp_path, "once")
    assert code == 0, err
    argv = json.loads((tmp_path / "record.json").read_text())
    prompt = argv[argv.index("-p") + 1]
    assert "capabilities []" in prompt and prompt.endswith("Task:\nSummarise the open issues.")


async def test_the_image_default_mode_is_one_the_entrypoint_knows(tmp_path: Path) -> None:
    # Without a capability the default mode (claude) stops at the capability, not at the mode.
    code, _, err = await run_entrypoint(container_env(tmp_path), tmp_path)
    assert code == 2
    assert err.startswith("loom-agent: LOOM_CAPABILITY: set the capability")
