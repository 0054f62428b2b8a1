"""[memory] Pattern's tools: remember, recall, search, promote, share, forget, export, import."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, Field

from loom.errors import InvalidArgument, LoomError
from loom.mcp.toolkit import NoArgs, Reply, ToolArgs, Toolset
from loom.models.base import iso
from loom.models.memory import MEMORY_ID_PATTERN, Category, Memory, ScopeName
from loom.runtime import Runtime
from loom.services.memory import Draft, MemoryService
from loom.services.memory.rules import MAX_CONTENT, MAX_TAGS, MAX_TTL, redact, secret_warning
from loom.services.memory.summary import summarise

toolset = Toolset("memory")
MemoryId = Annotated[str, Field(pattern=MEMORY_ID_PATTERN)]
Content = Annotated[str, Field(min_length=1, max_length=MAX_CONTENT)]
Tags = Annotated[list[str], Field(max_length=MAX_TAGS)]


def _utc(value: datetime | None) -> datetime | None:
    """A time without a zone is read as UTC."""
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


Since = Annotated[datetime | None, AfterValidator(_utc)]


class RememberArgs(ToolArgs):
    content: Content
    scope: ScopeName = "private"
    category: Category = "recent"
    tags: Tags = Field(default_factory=list)
    priority: int = Field(default=2, ge=1, le=3)
    related_to: list[MemoryId] = Field(default_factory=list, max_length=50)
    ttl_seconds: int | None = Field(default=None, ge=1, le=MAX_TTL)

    def draft(self) -> Draft:
        return Draft(
            content=self.content, scope=self.scope, category=self.category, tags=tuple(self.tags),
            priority=self.priority, related_to=tuple(self.related_to), ttl_seconds=self.ttl_seconds,
        )  # fmt: skip


def stored(memory: Memory) -> Reply:
    data: dict[str, Any] = {
        "memoryId": memory.memory_id,
        "scope": memory.scope,
        "category": memory.category,
        "expiresAt": iso(memory.expires_at),
    }
    text = f"Remembered {memory.memory_id} ({memory.scope}/{memory.category})."
    warning = secret_warning(memory.content)
    if warning:
        data["warnings"] = [warning]
        text += f" Warning: {warning}."
    return Reply(text, data)


async def _remember(rt: Runtime, args: RememberArgs) -> Reply:
    return stored(await rt.service(MemoryService).remember(args.draft()))


@toolset.tool(
    "remember", "Store a memory (scope private|personal|team|public, category, tags, TTL).", RememberArgs
)
async def remember(rt: Runtime, args: RememberArgs) -> Reply:
    return await _remember(rt, args)


class ShortArgs(ToolArgs):
    content: Content
    tags: Tags = Field(default_factory=list)


@toolset.tool("remember_task", "Remember a task note (private, expires after 24 h).", ShortArgs)
async def remember_task(rt: Runtime, args: ShortArgs) -> Reply:
    return await _remember(rt, RememberArgs(content=args.content, tags=args.tags, category="tasks"))


@toolset.tool("remember_learning", "Share a learning with the team.", ShortArgs)
async def remember_learning(rt: Runtime, args: ShortArgs) -> Reply:
    return await _remember(
        rt, RememberArgs(content=args.content, tags=args.tags, scope="team", category="learnings")
    )


@toolset.tool("core_memory", "Store a protected core memory about who you are and how you work.", ShortArgs)
async def core_memory(rt: Runtime, args: ShortArgs) -> Reply:
    return await _remember(rt, RememberArgs(content=args.content, tags=args.tags, category="core"))


class RecallArgs(ToolArgs):
    scopes: list[ScopeName] | None = None
    categories: list[Category] | None = None
    tags: list[str] | None = None
    query: str | None = Field(default=None, max_length=1000)
    limit: int = Field(default=50, ge=1, le=200)
    since: Since = None


@toolset.tool(
    "recall_context",
    "Read at session start: core first, then longterm, decisions/architecture/learnings, recent, tasks.",
    RecallArgs,
    read_only=True,
)
async def recall_context(rt: Runtime, args: RecallArgs) -> Reply:
    service = rt.service(MemoryService)
    filters: dict[str, Any] = {"scopes": args.scopes, "categories": args.categories, "tags": args.tags}
    if args.query and args.query.strip():
        found = [
            m for m, _ in await service.search(args.query, **filters, since=args.since, limit=args.limit)
        ]
    else:
        found = await service.select(**filters, since=args.since, limit=args.limit)
    counts: dict[str, int] = {}
    for memory in found:
        counts[memory.scope] = counts.get(memory.scope, 0) + 1
    text = summarise(found)
    return Reply(
        text or "No memories yet.",
        {"memories": [m.public() for m in found], "summary": text, "counts": counts},
    )


class SearchArgs(ToolArgs):
    query: str = Field(min_length=1, max_length=1000)
    scopes: list[ScopeName] | None = None
    categories: list[Category] | None = None
    tags: list[str] | None = None
    limit: int = Field(default=20, ge=1, le=200)


@toolset.tool(
    "search_memories",
    "Search memories by relevance (BM25 over content and tags).",
    SearchArgs,
    read_only=True,
)
async def search_memories(rt: Runtime, args: SearchArgs) -> Reply:
    top = await rt.service(MemoryService).search(
        args.query, scopes=args.scopes, categories=args.categories, tags=args.tags, limit=args.limit
    )
    data = [m.public() | {"score": round(score, 4)} for m, score in top]
    lines = [f"{score:.2f} {m.memory_id}: {redact(m.content[:120])}" for m, score in top]
    return Reply("\n".join(lines) or "Nothing matched.", {"memories": data})


class CommitArgs(ToolArgs):
    memory_id: MemoryId
    new_content: Content | None = None
    scope: ScopeName | None = None


@toolset.tool(
    "commit_insight", "Promote a recent or task memory to longterm (it stops expiring).", CommitArgs
)
async def commit_insight(rt: Runtime, args: CommitArgs) -> Reply:
    service = rt.service(MemoryService)
    memory = await service.get(args.memory_id)
    if memory.category not in ("recent", "tasks", "longterm"):
        raise InvalidArgument(f"a {memory.category} memory can't be promoted to longterm", field="memoryId")
    draft = Draft(
        content=args.new_content or memory.content, scope=args.scope or memory.scope, category="longterm",
        tags=tuple(memory.tags), priority=memory.priority, related_to=tuple(memory.related_to),
    )  # fmt: skip
    updated = service.build(draft, memory.memory_id, memory.created_at)
    return stored(await service.move(memory, updated))


class ShareArgs(ToolArgs):
    memory_id: MemoryId
    category: Category = "learnings"
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
    memory_id: MemoryId
    force: bool = False


@toolset.tool("forget", "Delete a memory (core memories need force=true).", ForgetArgs)
async def forget(rt: Runtime, args: ForgetArgs) -> Reply:
    await rt.service(MemoryService).forget(args.memory_id, args.force)
    return Reply(f"Forgot {args.memory_id}.", {"memoryId": args.memory_id, "forgotten": True})


class ForgetBulkArgs(ToolArgs):
    memory_ids: list[MemoryId] = Field(min_length=1, max_length=1000)
    force: bool = False


@toolset.tool("forget_bulk", "Delete several memories.", ForgetBulkArgs)
async def forget_bulk(rt: Runtime, args: ForgetBulkArgs) -> Reply:
    service = rt.service(MemoryService)
    forgotten, errors = [], []
    for memory_id in args.memory_ids:
        try:
            await service.forget(memory_id, args.force)
            forgotten.append(memory_id)
        except LoomError as exc:
            errors.append({"memoryId": memory_id, "error": f"[{exc.code}] {exc}"})
    return Reply(
        f"Forgot {len(forgotten)}, failed {len(errors)}.",
        {"forgotten": forgotten, "failed": len(errors), "errors": errors},
    )


class BulkArgs(ToolArgs):
    memories: list[RememberArgs] = Field(min_length=1, max_length=1000)


@toolset.tool("remember_bulk", "Store several memories at once.", BulkArgs)
async def remember_bulk(rt: Runtime, args: BulkArgs) -> Reply:
    ids, errors, warnings = [], [], []
    for index, item in enumerate(args.memories):
        try:
            reply = await _remember(rt, item)
        except LoomError as exc:
            errors.append({"index": index, "error": f"[{exc.code}] {exc}"})
            continue
        ids.append(reply.data["memoryId"])
        warnings += [f"memories[{index}]: {w}" for w in reply.data.get("warnings", [])]
    data: dict[str, Any] = {"stored": len(ids), "failed": len(errors), "errors": errors, "memoryIds": ids}
    if warnings:
        data["warnings"] = warnings
    return Reply(f"Stored {len(ids)}, failed {len(errors)}." + "".join(f" {w}" for w in warnings), data)


class ExportArgs(ToolArgs):
    scope: ScopeName | None = None
    category: Category | None = None
    since: Since = None


@toolset.tool(
    "export_memories", "Export memories you can read (round-trips through import_memories).", ExportArgs,
    read_only=True,
)  # fmt: skip
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
            memory = Memory.model_validate(raw)
            draft = Draft(
                content=memory.content, scope=memory.scope, category=memory.category, tags=tuple(memory.tags),
                priority=memory.priority, related_to=tuple(memory.related_to),
            )  # fmt: skip
            checked = service.build(draft, memory.memory_id, memory.created_at)  # same rules as remember
            checked = checked.model_copy(update={"expires_at": memory.expires_at})
            if service.cache.get(memory.memory_id) is not None and not args.overwrite_existing:
                skipped += 1
                continue
            await service.store(checked)
            imported += 1
        except LoomError as exc:
            errors.append({"index": index, "error": f"[{exc.code}] {exc}"})
        except ValueError as exc:
            errors.append({"index": index, "error": f"[INVALID_ARGUMENT] {str(exc)[:300]}"})
    return Reply(
        f"Imported {imported}, skipped {skipped}, failed {len(errors)}.",
        {"imported": imported, "skipped": skipped, "errors": errors},
    )


@toolset.tool("cleanup", "Report what expired and trim core memories over the cap.", NoArgs)
async def cleanup(rt: Runtime, args: NoArgs) -> Reply:
    expired, trimmed = await rt.service(MemoryService).cleanup()
    return Reply(f"Expired {expired}, trimmed {trimmed}.", {"expired": expired, "trimmed": trimmed})


@toolset.tool("pattern_health", "Pattern's connection and memory counts.", NoArgs, read_only=True)
async def pattern_health(rt: Runtime, args: NoArgs) -> Reply:
    service = rt.service(MemoryService)
    await service.start()
    counts = service.counts()
    nats = "connected" if rt.bus.nc.is_connected else "disconnected"
    status = "ok" if nats == "connected" else "degraded"
    return Reply(
        f"Pattern {status}; NATS {nats}; {counts}", {"status": status, "nats": nats, "memoryCounts": counts}
    )
