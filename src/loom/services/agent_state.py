"""The calling agent's own state within one runtime (one MCP session or one scripted agent).

Every service that acts "as the caller" (send a message, claim work, remember) asks this
object who the caller is. The registry service fills ``record`` on ``register_agent``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from loom.errors import NotRegistered
from loom.models.agent import AgentRecord

if TYPE_CHECKING:
    from loom.runtime import Runtime


class AgentState:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.guid: str = runtime.identity.guid
        self.handle: str | None = runtime.settings.handle
        self.record: AgentRecord | None = None

    @property
    def registered(self) -> bool:
        return self.record is not None

    def require(self) -> AgentRecord:
        """The caller's registry record, or ``NotRegistered`` with what to do about it."""
        if self.record is None:
            raise NotRegistered("this session is not registered; call register_agent first")
        return self.record

    def require_handle(self) -> str:
        if self.handle:
            return self.handle
        if self.record is not None:
            return self.record.handle
        raise NotRegistered("no handle yet; call set_handle or register_agent first")
