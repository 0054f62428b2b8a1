"""Channels and direct messages through real MCP sessions against a real nats-server."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from loom.config import Settings
from loom.runtime import Runtime
from tests.mcp_helpers import Agent, in_process

TOOLSETS = ("identity", "registry", "channels", "direct")


async def register(agent: Agent, handle: str) -> str:
    return str((await agent.call("register_agent", agentType="dev", handle=handle))["guid"])


async def test_history_is_there_for_a_late_joiner_and_reading_never_consumes(
    make_settings: Callable[..., Settings],
) -> None:
    async with await Runtime.open(make_settings(agent_id="early")) as rt, in_process(rt, TOOLSETS) as early:
        await register(early, "early")
        for i in range(5):
            sent = await early.call("send_message", channel="general", message=f"m{i}")
        assert sent["channel"] == "general" and sent["sequence"] == 5
    async with await Runtime.open(make_settings(agent_id="late")) as rt, in_process(rt, TOOLSETS) as late:
        for _ in range(2):
            page = await late.call("read_messages", channel="general", limit=3)
            assert [m["message"] for m in page["messages"]] == ["m2", "m3", "m4"]
            assert page["hasMore"] is True
        older = await late.call("read_messages", channel="general", before=3)
        assert [m["message"] for m in older["messages"]] == ["m0", "m1"] and older["hasMore"] is False
        newer = await late.call("read_messages", channel="general", after=3, limit=1)
        assert [m["sequence"] for m in newer["messages"]] == [4] and newer["hasMore"] is True
        listed = {c["name"]: c["messageCount"] for c in (await late.call("list_channels"))["channels"]}
        assert listed == {"general": 5, "planning": 0}


async def test_reading_1000_messages_is_one_fetch_not_1000_round_trips(runtime: Runtime) -> None:
    async with in_process(runtime, TOOLSETS) as agent:
        await register(agent, "writer")
        subject = runtime.layout.channel_subject("general")
        await agent.call("list_channels")  # defaults exist
        acks = [
            await runtime.bus.js.publish_async(subject, b'{"id":"x","handle":"w","message":"hi"}')
            for _ in range(1000)
        ]
        await asyncio.gather(*acks)
        before = runtime.bus.nc.stats["out_msgs"]
        page = await agent.call("read_messages", channel="general", limit=1000)
        sent = runtime.bus.nc.stats["out_msgs"] - before
        assert len(page["messages"]) == 1000
        assert sent < 20, f"{sent} requests to read 1000 messages"


async def test_channels_are_created_validated_and_isolated_per_project(
    make_settings: Callable[..., Settings],
) -> None:
    async with await Runtime.open(make_settings()) as rt, in_process(rt, TOOLSETS) as agent:
        await register(agent, "ann")
        made = await agent.call("create_channel", name="Builds", description="CI chatter")
        assert made == {"name": "builds", "description": "CI chatter", "created": True}
        assert (await agent.call("create_channel", name="builds"))["created"] is False
        for bad in ["*", ">", "a.b", "x y", "_internal"]:
            error = await agent.error("create_channel", name=bad)
            assert error.code == "INVALID_ARGUMENT" and "name" in error.text
        assert (await agent.error("send_message", channel="nope", message="x")).code == "NOT_FOUND"
        assert (await agent.error("send_message", channel="general", message="  ")).code == "INVALID_ARGUMENT"
        await agent.call("send_message", channel="builds", message="green")
    other = make_settings(project_id="other-project-x")
    async with await Runtime.open(other) as rt, in_process(rt, TOOLSETS) as stranger:
        names = {c["name"] for c in (await stranger.call("list_channels"))["channels"]}
        assert "builds" not in names
        assert (await stranger.error("read_messages", channel="builds")).code == "NOT_FOUND"


async def test_send_needs_a_handle(runtime: Runtime) -> None:
    async with in_process(runtime, TOOLSETS) as agent:
        assert (await agent.error("send_message", channel="general", message="hi")).code == "NOT_REGISTERED"
        await agent.call("set_handle", handle="solo")
        assert (await agent.call("send_message", channel="general", message="hi"))["sequence"] == 1


async def test_direct_messages_wait_for_an_offline_agent(make_settings: Callable[..., Settings]) -> None:
    async with await Runtime.open(make_settings(agent_id="bob")) as rt, in_process(rt, TOOLSETS) as bob:
        bob_guid = await register(bob, "bob")
    async with await Runtime.open(make_settings(agent_id="amy")) as rt, in_process(rt, TOOLSETS) as amy:
        await register(amy, "amy")
        sent = await amy.call(
            "send_direct_message", recipientGuid=bob_guid, message="review PR 7", messageType="request"
        )
        assert sent["recipientStatus"] == "offline"
        await amy.call("send_direct_message", recipientGuid=bob_guid, message="fyi", metadata={"pr": 7})
        assert (
            await amy.error("send_direct_message", recipientGuid="nobody", message="x")
        ).code == "NOT_FOUND"
    async with await Runtime.open(make_settings(agent_id="bob")) as rt, in_process(rt, TOOLSETS) as bob:
        assert await register(bob, "bob") == bob_guid
        requests = await bob.call("read_direct_messages", messageType="request")
        assert [m["message"] for m in requests["messages"]] == ["review PR 7"]
        assert requests["messages"][0]["senderHandle"] == "amy"
        assert requests["remaining"] == 1  # the non-matching one stays unread
        rest = await bob.call("read_direct_messages")
        assert [(m["message"], m["metadata"]) for m in rest["messages"]] == [("fyi", {"pr": 7})]
        assert (await bob.call("read_direct_messages")) == {"messages": [], "remaining": 0}


async def test_each_direct_message_is_returned_exactly_once_to_concurrent_readers(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(agent_id="shared-box")
    async with (
        await Runtime.open(settings) as rt1,
        await Runtime.open(settings) as rt2,
        in_process(rt1, TOOLSETS) as r1,
        in_process(rt2, TOOLSETS) as r2,
        await Runtime.open(make_settings(agent_id="sender")) as rt3,
        in_process(rt3, TOOLSETS) as sender,
    ):
        guid = await register(r1, "box")
        await register(r2, "box")
        await register(sender, "sender")
        for i in range(30):
            await sender.call("send_direct_message", recipientGuid=guid, message=str(i))
        seen: list[str] = []

        async def drain(agent: Agent) -> None:
            while True:
                got = await agent.call("read_direct_messages", limit=3)
                seen.extend(m["message"] for m in got["messages"])
                if not got["messages"] and got["remaining"] == 0:
                    return

        await asyncio.gather(drain(r1), drain(r2))
        assert sorted(seen, key=int) == [str(i) for i in range(30)]


@pytest.mark.parametrize(
    ("tool", "args", "field"),
    [
        ("read_messages", {"channel": "general", "limit": 0}, "limit"),
        ("read_messages", {"channel": "general", "limit": 1001}, "limit"),
        ("read_direct_messages", {"limit": 101}, "limit"),
        ("send_direct_message", {"recipientGuid": "x", "message": "m", "messageType": "a b"}, "messageType"),
        ("send_message", {"channel": "general", "message": "x", "extra": 1}, "extra"),
    ],
)
async def test_bad_arguments_name_the_field(
    runtime: Runtime, tool: str, args: dict[str, Any], field: str
) -> None:
    async with in_process(runtime, TOOLSETS) as agent:
        await register(agent, "ann")
        error = await agent.error(tool, **args)
        assert error.code == "INVALID_ARGUMENT"
        assert error.text.startswith(f"Error [INVALID_ARGUMENT]: {field}")


async def test_each_read_shows_what_was_posted_since_the_last_one(
    make_settings: Callable[..., Settings],
) -> None:
    async with (
        await Runtime.open(make_settings(agent_id="poster")) as rt1,
        in_process(rt1, TOOLSETS) as poster,
        await Runtime.open(make_settings(agent_id="reader")) as rt2,
        in_process(rt2, TOOLSETS) as reader,
    ):
        await register(poster, "poster")
        await register(reader, "reader")

        async def newest(**page: Any) -> list[str]:
            return [
                m["message"]
                for m in (await reader.call("read_messages", channel="general", **page))["messages"]
            ]

        assert await newest(limit=2) == []
        for round_ in range(3):
            for i in range(3):
                await poster.call("send_message", channel="general", message=f"r{round_}m{i}")
            assert await newest(limit=2) == [f"r{round_}m1", f"r{round_}m2"]
            assert await newest(limit=2) == [f"r{round_}m1", f"r{round_}m2"]
            assert await newest(limit=2, before=3 * round_ + 2) == (
                [f"r{round_ - 1}m2"] if round_ else []
            ) + [f"r{round_}m0"]
        await reader.call("send_message", channel="general", message="mine")
        assert await newest(limit=2) == ["r2m2", "mine"]
        assert await newest(after=8, limit=5) == ["r2m2", "mine"]


async def test_reads_follow_a_purged_or_remade_channel(
    runtime: Runtime, make_settings: Callable[..., Settings]
) -> None:
    async with in_process(runtime, TOOLSETS) as agent:
        await register(agent, "ann")
        await agent.call("create_channel", name="ops")

        async def page() -> tuple[list[str], bool]:
            got = await agent.call("read_messages", channel="ops", limit=3)
            return [m["message"] for m in got["messages"]], got["hasMore"]

        for i in range(4):
            await agent.call("send_message", channel="ops", message=f"old{i}")
        assert await page() == (["old1", "old2", "old3"], True)
        stream = runtime.layout.channel_stream("ops").name
        await runtime.bus.js.purge_stream(stream, keep=2)
        assert await page() == (["old2", "old3"], False)
        await runtime.bus.js.delete_stream(stream)
        async with (
            await Runtime.open(make_settings(agent_id="other")) as rt,
            in_process(rt, TOOLSETS) as other,
        ):
            await register(other, "other")
            await other.call("create_channel", name="ops")
            for i in range(4):  # the same sequences as before, in a new stream
                await other.call("send_message", channel="ops", message=f"new{i}")
        assert await page() == (["new1", "new2", "new3"], True)


async def test_malformed_mail_is_removed_and_never_returned(make_settings: Callable[..., Settings]) -> None:
    async with (
        await Runtime.open(make_settings(agent_id="box")) as rt,
        in_process(rt, TOOLSETS) as box,
        await Runtime.open(make_settings(agent_id="sender")) as rt2,
        in_process(rt2, TOOLSETS) as sender,
    ):
        guid = await register(box, "box")
        await register(sender, "sender")
        await sender.call("send_direct_message", recipientGuid=guid, message="m0")
        await rt.bus.js.publish(rt.layout.inbox_subject(guid), b"{broken")
        for i in range(1, 4):
            await sender.call("send_direct_message", recipientGuid=guid, message=f"m{i}")
        got = await box.call("read_direct_messages", limit=2)
        assert [m["message"] for m in got["messages"]] == ["m0", "m1"] and got["remaining"] == 2
        got = await box.call("read_direct_messages", limit=5)
        assert [m["message"] for m in got["messages"]] == ["m2", "m3"] and got["remaining"] == 0
