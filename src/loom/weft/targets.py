"""``TargetRegistry``: spin-up targets in the project's targets bucket (key = id)."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from nats.js.kv import KeyValue

from loom.errors import Conflict, InvalidArgument, NotFound
from loom.models.target import Target, parse_config
from loom.names import validate_name, validate_names
from loom.services.kvstore import cas_update, read_all

if TYPE_CHECKING:
    from loom.runtime import Runtime

EDITABLE = {
    "description",
    "agentType",
    "capabilities",
    "boundaries",
    "config",
    "enabled",
    "maxConcurrent",
    "cooldownSeconds",
    "idleTimeoutSeconds",
}


def build_target(body: dict[str, Any], target_id: str | None = None) -> Target:
    """A validated target from an API body (camelCase keys); errors name the field."""
    from pydantic import ValidationError

    mechanism = body.get("mechanism")
    parse_config(str(mechanism), body.get("config") or {})
    try:
        target = Target.model_validate({**body, "id": target_id or str(uuid.uuid4())})
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(p) for p in error["loc"])
        raise InvalidArgument(
            "is required" if error["type"] == "missing" else error["msg"], field=where
        ) from None
    return target.model_copy(
        update={
            "name": validate_name(target.name, "name"),
            "capabilities": validate_names(target.capabilities, "capabilities"),
            "boundaries": validate_names(target.boundaries, "boundaries"),
            "config": parse_config(target.mechanism, target.config).model_dump(
                by_alias=True, exclude_none=True
            ),
        }
    )


class TargetRegistry:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    async def kv(self) -> KeyValue:
        return await self.runtime.bus.kv(self.runtime.layout.targets_bucket)

    async def list(self) -> list[Target]:
        found = await read_all(self.runtime.bus, self.runtime.layout.targets_bucket, Target)
        return sorted((target for _, target in found), key=lambda t: t.created_at)

    async def get(self, id_or_name: str) -> Target:
        for target in await self.list():
            if id_or_name in (target.id, target.name):
                return target
        raise NotFound(f"no target {id_or_name!r}", field="target")

    async def create(self, body: dict[str, Any]) -> Target:
        target = build_target(body)
        if any(t.name == target.name for t in await self.list()):
            raise Conflict(f"a target named {target.name!r} exists", field="name")
        await cas_update(await self.kv(), target.id, Target, lambda _: target)
        return target

    async def update(self, id_or_name: str, changes: dict[str, Any]) -> Target:
        unknown = set(changes) - EDITABLE
        if unknown:
            raise InvalidArgument(
                f"cannot be changed ({', '.join(sorted(unknown))})", field=sorted(unknown)[0]
            )
        current = await self.get(id_or_name)
        body = current.to_wire()
        if "config" in changes:
            changes = {**changes, "config": {**current.config, **changes["config"]}}
        updated = build_target({**body, **changes}, current.id)
        updated = updated.model_copy(update={"health": current.health, "use_count": current.use_count})
        return await self.save(updated)

    async def save(self, target: Target) -> Target:
        saved = await cas_update(await self.kv(), target.id, Target, lambda _: target)
        assert saved is not None
        return saved

    async def change(self, target_id: str, **updates: Any) -> Target:
        def apply(current: Target | None) -> Target | None:
            if current is None:
                raise NotFound(f"no target {target_id!r}", field="target")
            return current.model_copy(update=updates)

        saved = await cas_update(await self.kv(), target_id, Target, apply)
        assert saved is not None
        return saved

    async def delete(self, id_or_name: str) -> None:
        target = await self.get(id_or_name)
        await (await self.kv()).purge(target.id)
