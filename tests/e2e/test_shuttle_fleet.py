"""``shuttle`` as a subprocess against a real ``weft``: work, targets, channels, stats, auth."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.e2e.conftest import WeftProcess
from tests.e2e.shuttle_helpers import run, shuttle_env

ANSI = re.compile(r"\x1b\[")


@pytest.fixture
def env(weft: WeftProcess, tmp_path: Path, project_id: str) -> dict[str, str]:
    return shuttle_env(tmp_path / "cfg", api_url=weft.url, LOOM_PROJECT_ID=project_id)


def test_submit_list_show_cancel(env: dict[str, str], weft: WeftProcess) -> None:
    submitted = run(
        env, "submit", "Fix the flaky login test", "--capability", "python", "--priority", "7", "--json"
    )
    assert submitted.code == 0, submitted
    created = submitted.json()
    assert set(created) >= {"id", "status", "routing"}
    assert set(created["routing"]) >= {"eligibleAgents", "targetAgentType", "spinUpTriggered", "target"}
    work_id = created["id"]

    listed = run(env, "work", "list", "--json").json()
    assert set(listed) >= {"items", "count", "nextCursor"}
    assert work_id in [item["id"] for item in listed["items"]]
    assert work_id not in [
        i["id"] for i in run(env, "work", "list", "--status", "completed", "--json").json()["items"]
    ]

    item = run(env, "work", "show", work_id, "--json").json()
    assert (item["id"], item["status"], item["capability"], item["priority"]) == (
        work_id,
        "pending",
        "python",
        7,
    )
    human = run(env, "work", "show", work_id)
    assert work_id in human.out and "pending" in human.out and not ANSI.search(human.out)
    table = run(env, "work", "list")
    assert work_id in table.out and "Fix the flaky login test" in table.out

    assert run(env, "work", "cancel", work_id, "--json").code == 0
    assert run(env, "work", "show", work_id, "--json").json()["status"] == "cancelled"

    missing = run(env, "--json", "work", "show", "no-such-item")
    assert missing.code == 1 and missing.error()["code"] == "NOT_FOUND"

    # Global options after the subcommand, with no environment pointing at Weft.
    bare = {k: v for k, v in env.items() if k != "LOOM_API_URL"}
    moved = run(bare, "work", "list", "--api-url", weft.url, "--json")
    assert moved.code == 0 and work_id in moved.out


def test_projects_are_kept_apart(env: dict[str, str]) -> None:
    work_id = run(env, "submit", "only here", "-c", "python", "--json").json()["id"]
    other = run(env, "work", "list", "--project", "some-other-project", "--json").json()
    assert work_id not in [item["id"] for item in other["items"]]


def test_targets_lifecycle_with_real_health_checks(env: dict[str, str]) -> None:
    added = run(
        env, "targets", "add", "--name", "laptop", "--type", "claude-code", "--mechanism", "local",
        "--command", f"{sys.executable} -c pass", "--capabilities", "python,review", "--json",
    )  # fmt: skip
    assert added.code == 0, added
    target = added.json()
    assert (target["name"], target["mechanism"]) == ("laptop", "local")
    assert target["config"]["command"] == [sys.executable, "-c", "pass"]
    assert target["capabilities"] == ["python", "review"]

    again = run(env, "--json", "targets", "add", "--name", "laptop", "--type", "x", "--mechanism", "local",
                "--command", "true", "--capabilities", "python")  # fmt: skip
    assert again.code == 1 and again.error()["code"] == "CONFLICT"

    assert "laptop" in [t["name"] for t in run(env, "targets", "list", "--json").json()["targets"]]
    assert run(env, "targets", "show", "laptop", "--json").json()["id"] == target["id"]

    updated = run(env, "targets", "update", "laptop", "--max-concurrent", "2", "--json")
    assert updated.code == 0 and updated.json()["maxConcurrent"] == 2

    healthy = run(env, "targets", "test", "laptop")
    assert healthy.code == 0, healthy
    assert "healthy" in healthy.out and "unhealthy" not in healthy.out
    assert run(env, "targets", "test", "laptop", "--json").json()

    assert run(env, "targets", "disable", "laptop").code == 0
    assert run(env, "targets", "show", "laptop", "--json").json()["enabled"] is False
    assert "disabled" in run(env, "targets", "list").out
    assert run(env, "targets", "enable", "laptop").code == 0
    assert run(env, "targets", "show", "laptop", "--json").json()["enabled"] is True

    spun = run(env, "spin-up", "--target", "laptop", "--json")
    assert spun.code == 0, spun
    nothing = run(env, "--json", "spin-up", "--capability", "cobol")
    assert nothing.code == 1 and nothing.error()["code"] == "NOT_FOUND"

    assert run(env, "targets", "remove", "laptop", "--yes").code == 0
    assert run(env, "targets", "show", "laptop").code == 1


def test_target_health_check_failure_and_secrets_never_shown(env: dict[str, str]) -> None:
    broken = run(env, "targets", "add", "--name", "broken", "--type", "claude-code", "--mechanism", "local",
                 "--command", "/nonexistent/agent-binary", "--capabilities", "python")  # fmt: skip
    assert broken.code == 0, broken
    tested = run(env, "targets", "test", "broken")
    assert tested.code == 1 and "unhealthy" in tested.out, tested
    assert "nonexistent" in tested.out or "not found" in tested.out.lower()

    secret = "whsec-5up3r-s3cr3t"
    hook = run(env, "targets", "add", "--name", "hook", "--type", "claude-code", "--mechanism", "webhook",
               "--url", "http://127.0.0.1:9/go", "--secret", secret, "--capabilities", "python")  # fmt: skip
    assert hook.code == 0 and secret not in hook.out + hook.err
    for args in (
        ("targets", "show", "hook"),
        ("targets", "show", "hook", "--json"),
        ("targets", "list", "--json"),
    ):
        shown = run(env, *args)
        assert shown.code == 0 and secret not in shown.out, args

    mismatched = run(env, "targets", "add", "--name", "x", "--type", "t", "--mechanism", "webhook",
                     "--url", "http://h", "--image", "img", "--capabilities", "python")  # fmt: skip
    assert mismatched.code == 2 and "--image" in mismatched.err


def test_channels_list_post_read(env: dict[str, str]) -> None:
    channels = run(env, "channels", "list", "--json").json()["channels"]
    assert "general" in [c["name"] for c in channels]

    posted = run(env, "channels", "post", "general", "hello from shuttle", "--handle", "alice", "--json")
    assert posted.code == 0, posted
    assert "sequence" in posted.json()

    read = run(env, "channels", "read", "general", "--limit", "5", "--json").json()
    assert set(read) >= {"messages", "hasMore"}
    assert (read["messages"][-1]["handle"], read["messages"][-1]["message"]) == (
        "alice",
        "hello from shuttle",
    )
    assert "alice: hello from shuttle" in run(env, "channels", "read", "general").out

    unknown = run(env, "--json", "channels", "read", "no-such-channel")
    assert unknown.code == 1 and unknown.error()["code"] == "NOT_FOUND"


def test_stats_shape(env: dict[str, str]) -> None:
    run(env, "submit", "count me", "-c", "python")
    stats = run(env, "stats", "--json").json()
    assert set(stats["agents"]) >= {"total", "online", "busy", "offline"}
    assert set(stats["work"]) >= {"pending", "assigned", "inProgress", "completed", "failed", "cancelled"}
    assert set(stats["targets"]) >= {"total", "enabled", "healthy"}
    assert set(stats["spinUps"]) >= {"started", "failed"}
    assert stats["work"]["pending"] >= 1
    assert "inProgress" in run(env, "stats").out


def test_token_errors_say_where_the_token_came_from(
    start_weft: Callable[..., WeftProcess], tmp_path: Path, project_id: str
) -> None:
    weft = start_weft(LOOM_API_TOKEN="right-token-123")
    env = shuttle_env(tmp_path / "cfg", api_url=weft.url, LOOM_PROJECT_ID=project_id)

    none_given = run(env, "stats")
    assert none_given.code == 1 and "none was given" in none_given.err

    wrong = run(env | {"LOOM_API_TOKEN": "wrong-token-456"}, "stats")
    assert wrong.code == 1 and "LOOM_API_TOKEN" in wrong.err and "wrong-token-456" not in wrong.err

    flagged = run(env, "stats", "--token", "nope-789")
    assert flagged.code == 1 and "--token" in flagged.err and "nope-789" not in flagged.err

    assert run(env, "stats", "--token", "right-token-123").code == 0
    assert run(env, "config", "set", "token", "right-token-123").code == 0
    assert run(env, "stats", "--json").code == 0
