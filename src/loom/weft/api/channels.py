"""``/api/channels``: read and post to channels as a human or a script."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query

from loom.names import validate_name
from loom.services.channels import ChannelService
from loom.weft.api.common import Body, Rt, api_router

router = api_router()


@router.get("/channels")
async def list_channels(rt: Rt) -> dict[str, Any]:
    channels = await rt.service(ChannelService).list()
    return {
        "channels": [
            {"name": c.name, "description": c.description, "messageCount": c.message_count} for c in channels
        ]
    }


@router.get("/channels/{name}/messages")
async def read_channel(
    rt: Rt, name: str, limit: Annotated[int, Query(ge=1, le=1000)] = 50, before: int | None = None
) -> dict[str, Any]:
    page = await rt.service(ChannelService).read(name, limit, before)
    return {"messages": [m.public(s) for s, m in page.messages], "hasMore": page.has_more}


class PostBody(Body):
    message: str
    handle: str | None = None


@router.post("/channels/{name}/messages", status_code=201)
async def post_channel(rt: Rt, name: str, body: PostBody) -> dict[str, Any]:
    handle = validate_name(body.handle, "handle") if body.handle else "human"
    seq, msg = await rt.service(ChannelService).send(name, body.message, None, handle=handle)
    return msg.public(seq) | {"channel": name}
