"""``shuttle`` as a subprocess where no Weft answers: exit 3, config handling, usage errors."""

from __future__ import annotations

import os
import re
import stat
import subprocess
from pathlib import Path

import pytest

from tests.e2e.conftest import free_port
from tests.e2e.shuttle_helpers import SHUTTLE, Result, run, shuttle_env

ANSI = re.compile(r"\x1b\[")
COLOUR = re.compile(r"\x1b\[[0-9;]*(3[0-9]|9[0-7])[;m]")  # a foreground colour code


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    # A port nobody listens on: every call to Weft fails to connect.
    return shuttle_env(tmp_path / "cfg", api_url=f"http://127.0.0.1:{free_port()}", LOOM_PROJECT_ID="offline")


@pytest.mark.parametrize(
    "args",
    [
        ("stats",),
        ("agents", "list"),
        ("work", "show", "w-1"),
        ("channels", "read", "general"),
        ("watch", "w-1"),
        ("submit", "do it", "--capability", "python"),
    ],
)
def test_weft_down_exits_3_and_suggests_loom_up(env: dict[str, str], args: tuple[str, ...]) -> None:
    result = run(env, *args)
    assert result.code == 3, result
    assert "cannot reach Weft" in result.err and "loom up" in result.err
    assert not ANSI.search(result.err), "no colour codes when not on a terminal"


def test_weft_down_with_json_writes_an_error_document(env: dict[str, str]) -> None:
    result = run(env, "work", "list", "--json")
    assert result.code == 3 and result.out == ""
    error = result.error()
    assert error["code"] == "UNAVAILABLE" and error["exitCode"] == 3


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (("submit", "x", "--capability", "Not Valid"), "--capability"),
        (("submit", "x", "--capability", "py", "--context", "[1]"), "--context"),
        (("submit", "x", "--capability", "py", "--deadline", "tomorrow"), "--deadline"),
        (("spin-up",), "--target"),
        (("shutdown", "g-1"), "--yes"),
        (
            ("targets", "add", "--name", "t", "--type", "x", "--mechanism", "ssh", "--capabilities", "py"),
            "--host",
        ),
        (("channels", "post", "general", "   "), "MESSAGE"),
        (("--project", "Bad_Project", "stats"), "--project"),
    ],
)
def test_bad_input_is_a_usage_error_naming_the_field_before_any_request(
    env: dict[str, str], args: tuple[str, ...], field: str
) -> None:
    result = run(env, "--json", *args)
    assert result.code == 2, result  # 2, not 3: nothing was sent to the (absent) Weft
    error = result.error()
    assert error["code"] == "INVALID_ARGUMENT" and error["message"].startswith(field), error


@pytest.mark.parametrize(
    "args",
    [
        ("submit", "x"),
        ("work", "list", "--status", "sleeping"),
        ("submit", "x", "-c", "p", "--priority", "11"),
    ],
)
def test_parser_errors_exit_2(env: dict[str, str], args: tuple[str, ...]) -> None:
    assert run(env, *args).code == 2


def test_config_set_get_list_path_and_the_token_never_in_clear(env: dict[str, str], tmp_path: Path) -> None:
    env = {k: v for k, v in env.items() if k != "LOOM_PROJECT_ID"}
    path = run(env, "config", "path", "--json").json()
    assert path == {"path": str(tmp_path / "cfg" / "loom" / "shuttle.toml"), "exists": False}

    assert run(env, "config", "set", "project", "alpha").code == 0
    secret = "tok-9f8e7d6c5b4a"
    stored = run(env, "config", "set", "token", "-", stdin=f"{secret}\n")
    assert stored.code == 0 and secret not in stored.out + stored.err

    listing = run(env, "config", "list", "--json")
    by_key = {s["key"]: s for s in listing.json()["settings"]}
    assert by_key["project"] == {"key": "project", "value": "alpha", "source": "file"}
    assert by_key["token"] == {"key": "token", "value": "********", "source": "file"}
    assert by_key["api-url"]["source"] == "env"
    for args in (("config", "list"), ("config", "get", "token"), ("config", "get", "token", "--json")):
        shown = run(env, *args)
        assert shown.code == 0 and secret not in shown.out + shown.err, shown

    file = Path(path["path"])
    assert stat.S_IMODE(file.stat().st_mode) == 0o600 and secret in file.read_text()

    # The environment overrides the file, and a flag overrides both.
    over = run(env | {"LOOM_PROJECT_ID": "beta"}, "config", "get", "project", "--json").json()
    assert over == {"key": "project", "value": "beta", "source": "env"}
    flag = run(env | {"LOOM_PROJECT_ID": "beta"}, "config", "get", "project", "--project", "gamma").out
    assert flag.strip() == "gamma  (flag)"

    assert run(env, "config", "unset", "token").code == 0
    assert run(env, "config", "get", "token", "--json").json()["value"] is None


def test_config_rejects_unknown_keys_and_bad_values_and_keeps_the_file(env: dict[str, str]) -> None:
    assert run(env, "config", "set", "api-url", "http://127.0.0.1:9").code == 0
    bad: list[Result] = [
        run(env, "config", "set", "colour", "blue"),
        run(env, "config", "set", "api-url", "not a url"),
        run(env, "config", "set", "project", "UPPER_case"),
    ]
    assert [r.code for r in bad] == [2, 2, 2]
    assert "KEY: unknown key 'colour'" in bad[0].err
    after = run({k: v for k, v in env.items() if k != "LOOM_API_URL"}, "config", "get", "api-url")
    assert after.out.strip() == "http://127.0.0.1:9  (file)"


def _on_a_terminal(env: dict[str, str], *args: str) -> str:
    """Run shuttle with stdout on a pseudo-terminal; return what it wrote there."""
    primary, secondary = os.openpty()
    try:
        proc = subprocess.run(
            [SHUTTLE, *args], env=env | {"COLUMNS": "120"}, stdout=secondary, stderr=subprocess.DEVNULL,
            timeout=30, check=False,
        )  # fmt: skip
        assert proc.returncode == 0
        os.close(secondary)
        chunks = []
        while True:
            try:
                chunk = os.read(primary, 65536)
            except OSError:  # EIO: the terminal is closed and drained
                break
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks).decode()
    finally:
        os.close(primary)


def test_colours_on_a_terminal_and_none_with_no_color(env: dict[str, str]) -> None:
    coloured = _on_a_terminal(env | {"TERM": "xterm-256color"}, "config", "list")
    assert COLOUR.search(coloured), coloured
    plain = _on_a_terminal(env | {"TERM": "xterm-256color", "NO_COLOR": "1"}, "config", "list")
    assert "api-url" in plain and not COLOUR.search(plain), plain
