"""[memory] Pattern's tools: remember, recall, search, promote, share, forget, export, import."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from loom.errors import LoomError
from loom.mcp.toolkit import NoArgs, Reply, ToolArgs, Toolset
from loom.models.base import iso
from loom.models.memory import Memory
from loom.runtime import Runtime
from loom.services.memory import MemoryService
from loom.services.memory.service import Draft

toolset = Toolset("memory")
SUMMARY_BYTES = 4096


class RememberArgs(ToolArgs):
    content: str = Field(min_length=1, max_length=32 * 1024)
    scope: str = "private"
    category: str = "recent"
    tags: list[str] = Field(default_factory=list, max_length=10)
    priority: int = Field(default=2, ge=1, le=3)
    related_to: list[str] = Field(default_factory=list, max_length=50)
    ttl_seconds: int | None = Field(default=None, ge=1, le=31_536_000)


def stored(memory: Memory, warning: str | None) -> Reply:
    data: dict[str, Any] = {
        "memoryId": memory.memory_id,
        "scope": memory.scope,
        "category": memory.category,
        "expiresAt": iso(memory.expires_at),
    }
    text = f"Remembered {memory.memory_id} ({memory.scope}/{memory.category})."
    if warning:
        data["warnings"] = [warning]
        text += f" Warning: {warning}."
    return Reply(text, data)


async def _remember(rt: Runtime, args: RememberArgs, **fixed: Any) -> Reply:
    service = rt.service(MemoryService)
    values = args.model_dump() | fixed
    draft = Draft(
        content=values["content"], scope=values["scope"], category=values["category"],
        tags=tuple(values["tags"]), priority=values["priority"], related_to=tuple(values["related_to"]),
        ttl_seconds=values["ttl_seconds"],
    )  # fmt: skip
    memory = await service.remember(draft)
    return stored(memory, service.secret_warning(memory.content))


@toolset.tool(
    "remember", "Store a memory (scope private|personal|team|public, category, tags, TTL).", RememberArgs
)
async def remember(rt: Runtime, args: RememberArgs) -> Reply:
    return await _remember(rt, args)


class ShortArgs(ToolArgs):
    content: str = Field(min_length=1, max_length=32 * 1024)
    tags: list[str] = Field(default_factory=list, max_length=10)


@toolset.tool("remember_task", "Remember a task note (private, expires after 24 h).", ShortArgs)
async def remember_task(rt: Runtime, args: ShortArgs) -> Reply:
    return await _remember(rt, RememberArgs(content=args.content, tags=args.tags), category="tasks")


@toolset.tool("remember_learning", "Share a learning with the team.", ShortArgs)
async def remember_learning(rt: Runtime, args: ShortArgs) -> Reply:
    return await _remember(
        rt, RememberArgs(content=args.content, tags=args.tags), scope="team", category="learnings"
    )


@toolset.tool("core_memory", "Store a protected core memory about who you are and how you work.", ShortArgs)
async def core_memory(rt: Runtime, args: ShortArgs) -> Reply:
    return await _remember(rt, RememberArgs(content=args.content, tags=args.tags), category="core")


class RecallArgs(ToolArgs):
    scopes: list[str] | None = None
    categories: list[str] | None = None
    tags: list[str] | None = None
    query: str | None = Field(default=None, max_length=1000)
    limit: int = Field(default=50, ge=1, le=200)
    since: datetime | None = None


def summary(memories: list[Memory]) -> str:
    lines, size = [], 0
    for memory in memories:
        line = f"- [{memory.category}/{memory.scope}] {memory.content.strip().splitlines()[0][:300]}"
        if size + len(line.encode()) + 1 > SUMMARY_BYTES:
            break
        lines.append(line)
        size += len(line.encode()) + 1
    return "\n".join(lines)


@toolset.tool(
    "recall_context",
    "What you should know now: core first, then longterm, shared, recent, tasks.",
    RecallArgs,
)
async def recall_context(rt: Runtime, args: RecallArgs) -> Reply:
    service = rt.service(MemoryService)
    filters: dict[str, Any] = {"scopes": args.scopes, "categories": args.categories, "tags": args.tags}
    filters["since"] = args.since
    if args.query:
        found = [m for m, _ in await service.search(args.query, **filters)]
    else:
        found = await service.select(**filters)
    found = found[: args.limit]
    counts: dict[str, int] = {}
    for memory in found:
        counts[memory.scope] = counts.get(memory.scope, 0) + 1
    text = summary(found)
    return Reply(
        text or "No memories yet.",
        {"memories": [m.public() for m in found], "summary": text, "counts": counts},
    )


class SearchArgs(ToolArgs):
    query: str = Field(min_length=1, max_length=1000)
    scopes: list[str] | None = None
    categories: list[str] | None = None
    tags: list[str] | None = None
    limit: int = Field(default=20, ge=1, le=200)


@toolset.tool(
    "search_memories",
    "Search memories by relevance (BM25 over content and tags).",
    SearchArgs,
    read_only=True,
)
async def search_memories(rt: Runtime, args: SearchArgs) -> Reply:
    ranked = await rt.service(MemoryService).search(
        args.query, scopes=args.scopes, categories=args.categories, tags=args.tags
    )
    top = ranked[: args.limit]
    data = [m.public() | {"score": round(score, 4)} for m, score in top]
    lines = [f"{score:.2f} {m.memory_id}: {m.content[:120]}" for m, score in top]
    return Reply("\n".join(lines) or "Nothing matched.", {"memories": data})


class CommitArgs(ToolArgs):
    memory_id: str
    new_content: str | None = Field(default=None, max_length=32 * 1024)
    scope: str | None = None


@toolset.tool("commit_insight", "Promote a recent or task memory to longterm.", CommitArgs)
async def commit_insight(rt: Runtime, args: CommitArgs) -> Reply:
    service = rt.service(MemoryService)
    memory = await service.get(args.memory_id)
    moved = service.build(
        Draft(content=args.new_content or memory.content, scope=args.scope or memory.scope,
              category="longterm",
              tags=tuple(memory.tags), priority=memory.priority, related_to=tuple(memory.related_to)),
        memory.memory_id, memory.created_at,
    )  # fmt: skip
    result = await service.move(
        memory, **{k: getattr(moved, k) for k in ("scope", "category", "content", "expires_at")}
    )
    return stored(result, None)


class ShareArgs(ToolArgs):
    memory_id: str
    category: str = "learnings"
    keep_original: bool = True


@toolset.tool("share_learning", "Share one of your memories with the team.", ShareArgs)
async def share_learning(rt: Runtime, args: ShareArgs) -> Reply:
    service = rt.service(MemoryService)
    memory = await service.get(args.memory_id)
    shared = await service.remember(
        Draft(content=memory.content, scope="team", category=args.category, tags=tuple(memory.tags),
              priority=memory.priority, related_to=(memory.memory_id,))
    )  # fmt: skip
    if not args.keep_original:
        await service.forget(memory.memory_id, force=True)
    return Reply(f"Shared as {shared.memory_id}.", {"memoryId": shared.memory_id, "scope": "team"})


class ForgetArgs(ToolArgs):
    memory_id: str
    force: bool = False


@toolset.tool("forget", "Delete a memory (core memories need force).", ForgetArgs)
async def forget(rt: Runtime, args: ForgetArgs) -> Reply:
    await rt.service(MemoryService).forget(args.memory_id, args.force)
    return Reply(f"Forgot {args.memory_id}.", {"memoryId": args.memory_id, "forgotten": True})


class ForgetBulkArgs(ToolArgs):
    memory_ids: list[str] = Field(min_length=1, max_length=1000)


@toolset.tool("forget_bulk", "Delete several memories.", ForgetBulkArgs)
async def forget_bulk(rt: Runtime, args: ForgetBulkArgs) -> Reply:
    service = rt.service(MemoryService)
    forgotten, errors = [], []
    for memory_id in args.memory_ids:
        try:
            await service.forget(memory_id)
            forgotten.append(memory_id)
        except LoomError as exc:
            errors.append({"memoryId": memory_id, "error": exc.message})
    return Reply(
        f"Forgot {len(forgotten)}.", {"forgotten": forgotten, "failed": len(errors), "errors": errors}
    )


class BulkArgs(ToolArgs):
    memories: list[RememberArgs] = Field(min_length=1, max_length=1000)


@toolset.tool("remember_bulk", "Store several memories at once.", BulkArgs)
async def remember_bulk(rt: Runtime, args: BulkArgs) -> Reply:
    ids, errors = [], []
    for index, item in enumerate(args.memories):
        try:
            ids.append((await _remember(rt, item)).data["memoryId"])
        except LoomError as exc:
            errors.append({"index": index, "error": exc.message})
    data = {"stored": len(ids), "failed": len(errors), "errors": errors, "memoryIds": ids}
    return Reply(f"Stored {len(ids)}, failed {len(errors)}.", data)


class ExportArgs(ToolArgs):
    scope: str | None = None
    category: str | None = None
    since: datetime | None = None


@toolset.tool(
    "export_memories", "Export memories you can read (round-trips through import_memories).", ExportArgs
)
async def export_memories(rt: Runtime, args: ExportArgs) -> Reply:
    found = await rt.service(MemoryService).select(
        [args.scope] if args.scope else None, [args.category] if args.category else None, None, args.since
    )
    return Reply(f"Exported {len(found)} memories.", {"memories": [m.to_wire() for m in found]})


class ImportArgs(ToolArgs):
    memories: list[dict[str, Any]] = Field(min_length=1, max_length=10_000)
    overwrite_existing: bool = False


@toolset.tool("import_memories", "Import exported memories (keeps their ids).", ImportArgs)
async def import_memories(rt: Runtime, args: ImportArgs) -> Reply:
    service = rt.service(MemoryService)
    await service.start()
    imported, skipped, errors = 0, 0, []
    for index, raw in enumerate(args.memories):
        try:
            memory = Memory.model_validate(raw).model_copy(update={"agent_id": service.guid})
            if memory.memory_id in service.memories and not args.overwrite_existing:
                skipped += 1
                continue
            await service.store(memory)
            imported += 1
        except (LoomError, ValueError) as exc:
            errors.append({"index": index, "error": str(exc)[:300]})
    return Reply(
        f"Imported {imported}, skipped {skipped}.",
        {"imported": imported, "skipped": skipped, "errors": errors},
    )


@toolset.tool("cleanup", "Drop expired memories from view (the server already deleted them).", NoArgs)
async def cleanup(rt: Runtime, args: NoArgs) -> Reply:
    expired, trimmed = await rt.service(MemoryService).cleanup()
    return Reply(f"Expired {expired}, trimmed {trimmed}.", {"expired": expired, "trimmed": trimmed})


@toolset.tool("pattern_health", "Pattern's connection and memory counts.", NoArgs, read_only=True)
async def pattern_health(rt: Runtime, args: NoArgs) -> Reply:
    service = rt.service(MemoryService)
    await service.start()
    counts: dict[str, int] = {}
    for memory in service._live():
        counts[memory.scope] = counts.get(memory.scope, 0) + 1
    nats = "connected" if rt.bus.nc.is_connected else "disconnected"
    return Reply(f"Pattern ok; NATS {nats}; {counts}", {"status": "ok", "nats": nats, "memoryCounts": counts})
