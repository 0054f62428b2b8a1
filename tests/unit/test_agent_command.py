"""The scripted worker's per-item command: stdin JSON, env, PROGRESS lines, exit codes."""

from __future__ import annotations

import sys

import pytest

from loom.agent.command import parse_command, run_command
from loom.errors import InvalidArgument

ITEM = {"id": "w1", "capability": "review", "priority": 7, "description": "check it", "attempts": 1}

SCRIPT = """
import json, os, sys
item = json.load(sys.stdin)
print("PROGRESS 40 halfway")
print("reviewed", item["id"], os.environ["LOOM_WORK_CAPABILITY"], os.environ["LOOM_WORK_PRIORITY"])
print("PROGRESS 100")
sys.exit(int(os.environ.get("EXIT", "0")))
"""


async def test_command_gets_the_item_and_reports_progress() -> None:
    seen: list[tuple[int, str | None]] = []

    async def progress(value: int, message: str | None) -> None:
        seen.append((value, message))

    outcome = await run_command([sys.executable, "-c", SCRIPT], ITEM, progress)
    assert outcome.ok
    assert outcome.summary == "reviewed w1 review 7"
    assert seen == [(40, "halfway"), (100, None)]


async def test_failing_command_carries_stderr_or_the_exit_code() -> None:
    async def ignore(value: int, message: str | None) -> None:
        return None

    failed = await run_command(
        [sys.executable, "-c", "import sys; sys.stderr.write('boom'); sys.exit(3)"], ITEM, ignore
    )
    assert (failed.ok, failed.exit_code, failed.error) == (False, 3, "boom")
    silent = await run_command([sys.executable, "-c", "raise SystemExit(2)"], ITEM, ignore)
    assert silent.error == "exited with code 2"
    deaf = await run_command(["false"], ITEM, ignore)  # exits without reading stdin
    assert (deaf.exit_code, deaf.error) == (1, "exited with code 1")
    missing = await run_command(["/nonexistent/tool"], ITEM, ignore)
    assert missing.exit_code == 127 and "cannot run" in missing.error


def test_commands_are_split_without_a_shell() -> None:
    assert parse_command("echo 'a b' ; rm -rf /") == ["echo", "a b", ";", "rm", "-rf", "/"]
    with pytest.raises(InvalidArgument):
        parse_command("  ")
