"""Shuttle's argument handling: global options anywhere, mechanism flags, SSE parsing."""

from __future__ import annotations

from typing import Any

import pytest
import typer
from hypothesis import given
from hypothesis import strategies as st

from loom.errors import InvalidArgument
from loom.shuttle import sse
from loom.shuttle.app import app, hoist_globals
from loom.shuttle.output import ago, plain
from loom.shuttle.target_flags import MechanismFlags, build_config, pairs


def test_globals_after_the_subcommand_move_to_the_front() -> None:
    args = ["work", "list", "--json", "--status", "pending", "--api-url", "http://h:1", "--project=p1"]
    assert hoist_globals(args) == ["--json", "--api-url", "http://h:1", "--project=p1", "work", "list"] + [
        "--status",
        "pending",
    ]


def test_nothing_after_a_double_dash_is_taken_as_an_option() -> None:
    args = ["channels", "post", "general", "--", "--json", "--token", "x"]
    assert hoist_globals(args) == args


def test_a_value_option_without_its_value_is_left_for_the_parser_to_reject() -> None:
    assert hoist_globals(["stats", "--token"]) == ["stats", "--token"]


plain_tokens = st.text(alphabet="abcxyz-=", min_size=1, max_size=8).filter(
    lambda t: t not in {"--", "--json"} and not t.startswith(("--api-url", "--token", "--project"))
)


@given(
    st.lists(
        st.one_of(
            plain_tokens,
            st.just("--json"),
            st.tuples(st.sampled_from(["--token", "--project"]), plain_tokens),
        )
    )
)
def test_hoisting_keeps_every_token_and_the_order_of_the_rest(parts: list[object]) -> None:
    args: list[str] = []
    for part in parts:
        args.extend(part if isinstance(part, tuple) else [str(part)])
    hoisted = hoist_globals(args)
    assert sorted(hoisted) == sorted(args)
    rest = [a for a in args if a == "--json" or a in {"--token", "--project"}]
    assert [a for a in hoisted if a == "--json" or a in {"--token", "--project"}] == rest
    non_globals = [p for p in parts if not isinstance(p, tuple) and p != "--json"]
    assert hoisted[len(hoisted) - len(non_globals) :] == non_globals


@pytest.mark.parametrize(
    ("mechanism", "flags", "config"),
    [
        (
            "local",
            MechanismFlags(command="loom agent run --capability 'py thon'", cwd="/w", env=("A=1", "B=x=y")),
            {
                "command": ["loom", "agent", "run", "--capability", "py thon"],
                "cwd": "/w",
                "env": {"A": "1", "B": "x=y"},
            },
        ),
        (
            "ssh",
            MechanismFlags(
                host="box", user="me", port=2222, identity_file="~/.ssh/id", command="loom agent run"
            ),
            {
                "host": "box",
                "user": "me",
                "port": 2222,
                "identityFile": "~/.ssh/id",
                "command": "loom agent run",
            },
        ),
        (
            "webhook",
            MechanismFlags(url="https://h/launch", method="put", header=("X-Team: core",), secret="s3"),
            {"url": "https://h/launch", "method": "PUT", "headers": {"X-Team": "core"}, "secret": "s3"},
        ),
        (
            "kubernetes",
            MechanismFlags(namespace="ci", image="ghcr.io/x/agent:1", service_account="loom", env=("K=V",)),
            {"namespace": "ci", "image": "ghcr.io/x/agent:1", "serviceAccount": "loom", "env": {"K": "V"}},
        ),
        (
            "github-actions",
            MechanismFlags(repo="acme/app", workflow="agent.yml", ref="dev", input=("size=large",)),
            {"repo": "acme/app", "workflow": "agent.yml", "ref": "dev", "inputs": {"size": "large"}},
        ),
    ],
)
def test_each_mechanism_gets_its_nested_config(
    mechanism: str, flags: MechanismFlags, config: dict[str, object]
) -> None:
    assert build_config(mechanism, flags) == config


@pytest.mark.parametrize(
    ("mechanism", "flags", "field"),
    [
        ("ssh", MechanismFlags(host="box", command="x"), "--user"),
        ("local", MechanismFlags(), "--command"),
        ("local", MechanismFlags(command="x", url="http://h"), "--url"),
        ("webhook", MechanismFlags(url="ftp://h"), "--url"),
        ("github-actions", MechanismFlags(repo="noslash", workflow="w"), "--repo"),
        ("kubernetes", MechanismFlags(namespace="n", image="i", env=("novalue",)), "--env"),
        ("local", MechanismFlags(command="'unclosed"), "--command"),
        ("ssh", MechanismFlags(host="h", user="u", command="x", port=70000), "--port"),
        ("carrier-pigeon", MechanismFlags(), "--mechanism"),
    ],
)
def test_bad_mechanism_flags_name_the_flag(mechanism: str, flags: MechanismFlags, field: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        build_config(mechanism, flags)
    assert caught.value.field == field


def test_a_partial_config_needs_no_required_flags() -> None:
    assert build_config("ssh", MechanismFlags(port=2200), partial=True) == {"port": 2200}


@given(st.dictionaries(st.text(alphabet="ABCdef_", min_size=1), st.text(alphabet="xyz=1 ", max_size=10)))
def test_key_value_pairs_round_trip(values: dict[str, str]) -> None:
    items = tuple(f"{k}={v}" for k, v in values.items())
    assert pairs(items, "=", "--env") == values


def test_sse_parser_joins_data_lines_and_tracks_ids() -> None:
    lines = [
        ": ping",
        "id: 7",
        "event: work",
        'data: {"id": "w1",',
        'data: "status": "completed"}',
        "",
        "data: plain",
        "\r\n",
        "event: ignored-without-data",
        "",
    ]
    events = list(sse.parse(lines))
    assert events == [
        sse.Event("work", '{"id": "w1",\n"status": "completed"}', "7"),
        sse.Event("message", "plain", "7"),
    ]
    assert events[0].json() == {"id": "w1", "status": "completed"}
    assert events[1].json() == "plain"


def test_relative_times_and_cells() -> None:
    from datetime import UTC, datetime

    now = datetime(2025, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert ago("2025-01-01T11:59:50Z", now) == "10s ago"
    assert ago("2025-01-01T09:00:00Z", now) == "3h ago"
    assert ago("2025-01-01T12:05:00Z", now) == "in 5m"
    assert ago(None, now) == "-"
    assert plain(["a", "b"]) == "a, b"
    assert plain({"b": 1}) == '{"b":1}'
    assert plain(None) == "-"


def _leaves(group: Any, prefix: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
    """Leaf commands of a (Typer-vendored) click group, by their path."""
    found: list[tuple[tuple[str, ...], Any]] = []
    for name, command in group.commands.items():
        if hasattr(command, "commands"):
            found += _leaves(command, (*prefix, name))
        else:
            found.append(((*prefix, name), command))
    return found


def test_every_command_has_help_with_an_example() -> None:
    leaves = dict(_leaves(typer.main.get_command(app)))
    expected = {
        ("submit",), ("watch",), ("stats",), ("shutdown",), ("spin-up",),
        ("agents", "list"), ("agents", "show"), ("work", "list"), ("work", "show"), ("work", "cancel"),
        ("targets", "add"), ("targets", "list"), ("targets", "show"), ("targets", "update"),
        ("targets", "remove"), ("targets", "test"), ("targets", "enable"), ("targets", "disable"),
        ("dlq", "list"), ("dlq", "retry"), ("dlq", "discard"),
        ("channels", "list"), ("channels", "read"), ("channels", "post"),
        ("config", "set"), ("config", "get"), ("config", "list"), ("config", "path"), ("config", "unset"),
    }  # fmt: skip
    assert set(leaves) == expected
    for path, command in leaves.items():
        assert "Example: shuttle" in (command.help or ""), path
