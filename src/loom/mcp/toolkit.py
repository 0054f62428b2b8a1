"""The thin MCP adapter every toolset plugs into.

A tool is a name, a description, a pydantic model of its arguments (field names in
snake_case, exposed in camelCase exactly as INTERFACES.md names them) and an async handler
``handler(app, args) -> Reply``. The toolkit turns the model into the input schema,
validates arguments (errors name the field and the rule), runs the handler and shapes the
result: a short text for the model plus ``structuredContent``. Failures become
``isError: true`` with ``Error [CODE]: message``. Nothing here knows about NATS.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import mcp_types as types
from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic.alias_generators import to_camel

from loom.bus.errors import translate
from loom.errors import InternalError, InvalidArgument, LoomError

log = logging.getLogger("loom.mcp")

A = TypeVar("A", bound="ToolArgs")
AppT = TypeVar("AppT")


class ToolArgs(BaseModel):
    """Base of every tool's arguments: camelCase on the wire, unknown keys rejected."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class NoArgs(ToolArgs):
    pass


@dataclass(frozen=True)
class Reply:
    """What a tool returns: ``text`` for the model, ``data`` as ``structuredContent``."""

    text: str
    data: dict[str, Any]


Handler = Callable[[Any, Any], Awaitable[Reply]]


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    args: type[ToolArgs]
    handler: Handler
    read_only: bool = False

    def describe(self) -> types.Tool:
        schema = self.args.model_json_schema(by_alias=True)
        schema.pop("title", None)
        return types.Tool(
            name=self.name,
            description=self.description,
            input_schema=schema,
            annotations=types.ToolAnnotations(read_only_hint=self.read_only),
        )


@dataclass
class Toolset:
    """A named group of tools (``identity``, ``channels``, ``work``, ``memory``, ...)."""

    name: str
    tools: list[Tool] = field(default_factory=list)

    def tool(
        self,
        name: str,
        description: str,
        args: type[A],
        *,
        read_only: bool = False,
    ) -> Callable[[Callable[[Any, A], Awaitable[Reply]]], Callable[[Any, A], Awaitable[Reply]]]:
        """Register ``handler(app, args)`` as tool ``name``; ``args`` is its ToolArgs model."""

        def register(handler: Callable[[Any, A], Awaitable[Reply]]) -> Callable[[Any, A], Awaitable[Reply]]:
            self.tools.append(Tool(name, description, args, handler, read_only))
            return handler

        return register


def validation_message(exc: ValidationError) -> InvalidArgument:
    """The first validation error, naming the field (camelCase, as the caller sent it)."""
    error = exc.errors()[0]
    where = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in error["loc"]).lstrip(".")
    where = where or "arguments"
    message = error["msg"]
    if error["type"] == "extra_forbidden":
        message = "is not a parameter of this tool"
    elif error["type"] == "missing":
        message = "is required"
    # LoomError raised inside a validator arrives wrapped; keep its own text.
    ctx_error = (error.get("ctx") or {}).get("error")
    if isinstance(ctx_error, LoomError):
        return InvalidArgument(ctx_error.message.split(": ", 1)[-1], field=where)
    return InvalidArgument(message.removeprefix("Value error, "), field=where)


def error_result(error: LoomError) -> types.CallToolResult:
    return types.CallToolResult(
        content=[types.TextContent(type="text", text=f"Error [{error.code}]: {error.message}")],
        structured_content={"error": {"code": error.code, "message": error.message}},
        is_error=True,
    )


class ToolRunner(Generic[AppT]):
    """Dispatches ``tools/call`` to the selected tools with one error policy."""

    def __init__(self, app: AppT, toolsets: Iterable[Toolset]) -> None:
        self.app = app
        self.tools: dict[str, Tool] = {}
        for toolset in toolsets:
            for tool in toolset.tools:
                self.tools[tool.name] = tool

    def list(self) -> list[types.Tool]:
        return [tool.describe() for tool in self.tools.values()]

    async def call(self, name: str, arguments: dict[str, Any] | None) -> types.CallToolResult:
        tool = self.tools.get(name)
        if tool is None:
            return error_result(InvalidArgument(f"unknown tool {name!r}", field="name"))
        try:
            args = tool.args.model_validate(arguments or {})
            reply = await tool.handler(self.app, args)
        except ValidationError as exc:
            return error_result(validation_message(exc))
        except Exception as exc:  # the one place every tool failure is shaped
            error = translate(exc)
            if error is None:
                log.exception("tool %s failed unexpectedly", name)
                error = InternalError("unexpected server error; see the server log")
            return error_result(error)
        return types.CallToolResult(
            content=[types.TextContent(type="text", text=reply.text)], structured_content=reply.data
        )
