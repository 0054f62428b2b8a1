"""Agent registry records."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from loom.models.base import Record, utcnow

AgentStatus = Literal["online", "busy", "offline"]
Visibility = Literal["private", "project-only", "user-only", "public"]
Scope = Literal["user", "project"]


class AgentRecord(Record):
    """One agent in ``loom_P_agents`` (key = guid). Presence lives in a separate TTL bucket:
    an agent whose presence key expired is offline, whatever ``status`` says."""

    guid: str
    handle: str
    agent_type: str
    capabilities: list[str] = Field(default_factory=list)
    boundaries: list[str] = Field(default_factory=list)
    hostname: str
    username: str | None = None
    project_id: str
    scope: Scope = "project"
    visibility: Visibility = "project-only"
    max_concurrent_tasks: int = 1
    metadata: dict[str, Any] = Field(default_factory=dict)
    status: AgentStatus = "online"
    current_task_count: int = 0
    registered_at: datetime = Field(default_factory=utcnow)
    last_heartbeat: datetime = Field(default_factory=utcnow)
    last_activity_at: datetime = Field(default_factory=utcnow)
    # Set when the agent was launched by a Weft target (LOOM_TARGET / LOOM_WORK_ID /
    # LOOM_SPINUP_ID), so Weft can tell which launch this registration answers.
    target: str | None = None
    launch_work_id: str | None = None
    spin_up_id: str | None = None
    # A random id per process: tells two live processes claiming one guid apart.
    session_id: str | None = None


class PresenceBeat(Record):
    """A heartbeat in ``loom_P_presence`` (key = guid), written with a per-message TTL."""

    status: AgentStatus = "online"
    current_task_count: int = 0
    beat_at: datetime = Field(default_factory=utcnow)
    session_id: str | None = None


class AgentView(Record):
    """What discovery returns: the record with status computed from presence."""

    guid: str
    handle: str
    agent_type: str
    capabilities: list[str]
    boundaries: list[str]
    status: AgentStatus
    current_task_count: int
    last_heartbeat: datetime
    hostname: str
    max_concurrent_tasks: int = 1
    target: str | None = None
    launch_work_id: str | None = None
    spin_up_id: str | None = None
    last_activity_at: datetime | None = None
