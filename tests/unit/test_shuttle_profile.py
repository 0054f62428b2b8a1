"""Shuttle's settings: precedence, sources, validation, the file, the token kept hidden."""

from __future__ import annotations

import stat
from pathlib import Path

import httpx
import pytest

from loom.errors import InvalidArgument
from loom.shuttle import profile
from loom.shuttle.client import _error_body


def test_flag_beats_env_beats_file_beats_default(tmp_path: Path) -> None:
    path = tmp_path / "shuttle.toml"
    profile.write_file(path, {"api-url": "http://file:1", "project": "from-file", "token": "file-token"})
    env = {"LOOM_API_URL": "http://env:2", "LOOM_API_TOKEN": "env-token"}
    resolved = profile.resolve({"api-url": "http://flag:3/"}, env=env, path=path)
    assert (resolved.api_url.value, resolved.api_url.source) == ("http://flag:3", "flag")
    assert (resolved.token.value, resolved.token.source) == ("env-token", "env")
    assert (resolved.project.value, resolved.project.source) == ("from-file", "file")
    empty = profile.resolve({}, env={}, path=tmp_path / "missing.toml")
    assert (empty.api_url.value, empty.api_url.source) == (profile.DEFAULT_API_URL, "default")
    assert empty.token.value is None and empty.project.value is None


@pytest.mark.parametrize(
    ("flags", "env", "field"),
    [
        ({"project": "Not A Slug"}, {}, "--project"),
        ({}, {"LOOM_PROJECT_ID": "under_score"}, "LOOM_PROJECT_ID"),
        ({"api-url": "ftp://x"}, {}, "--api-url"),
        ({}, {"LOOM_API_URL": "nohost"}, "LOOM_API_URL"),
    ],
)
def test_bad_values_name_where_they_came_from(
    tmp_path: Path, flags: dict[str, str | None], env: dict[str, str], field: str
) -> None:
    with pytest.raises(InvalidArgument) as caught:
        profile.resolve(flags, env=env, path=tmp_path / "none.toml")
    assert caught.value.field == field


def test_file_is_private_and_round_trips_quotes(tmp_path: Path) -> None:
    path = tmp_path / "dir" / "shuttle.toml"
    profile.write_file(path, {"token": 'a"b\\c'})
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert profile.read_file(path) == {"token": 'a"b\\c'}


@pytest.mark.parametrize("body", ["not toml [", 'other = "x"', "token = 5"])
def test_a_broken_file_is_an_error_naming_the_config(tmp_path: Path, body: str) -> None:
    path = tmp_path / "shuttle.toml"
    path.write_text(body)
    with pytest.raises(InvalidArgument) as caught:
        profile.read_file(path)
    assert caught.value.field == "config"


def test_a_bad_token_is_rejected_without_echoing_it() -> None:
    with pytest.raises(InvalidArgument) as caught:
        profile.validate_value("token", "has space-secret")
    assert "secret" not in caught.value.message
    assert profile.mask("abc") == "********"


def test_config_path_follows_shuttle_config(tmp_path: Path) -> None:
    assert profile.config_path({"SHUTTLE_CONFIG": str(tmp_path / "x.toml")}) == tmp_path / "x.toml"


@pytest.mark.parametrize(
    ("status", "content", "expected"),
    [
        (404, {"error": {"code": "NOT_FOUND", "message": "no item w1"}}, ("NOT_FOUND", "no item w1")),
        (
            422,
            {"detail": [{"loc": ["body", "priority"], "msg": "too big"}]},
            ("INVALID_ARGUMENT", "priority: too big"),
        ),
        (502, "Bad gateway from proxy", ("HTTP_502", "Bad gateway from proxy")),
    ],
)
def test_error_bodies_of_any_shape_become_code_and_message(
    status: int, content: object, expected: tuple[str, str]
) -> None:
    if isinstance(content, str):
        response = httpx.Response(status, text=content)
    else:
        response = httpx.Response(status, json=content)
    assert _error_body(response) == expected
