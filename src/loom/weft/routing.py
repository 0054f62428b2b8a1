"""Routing decisions: pure functions over agents and targets, so the rules are testable alone.

Boundary rule: an item with boundary B goes only to agents and targets whose boundaries
contain B; an item without a boundary goes to any of them (an agent with no boundaries takes
only unbounded work). ``requiredAgentType`` filters; ``preferredAgentType`` ranks first;
online before busy; fewest current tasks; an agent at ``maxConcurrentTasks`` is not eligible.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from loom.models.agent import AgentView
from loom.models.target import Target


@dataclass(frozen=True)
class Need:
    capability: str
    boundary: str | None = None
    required_agent_type: str | None = None
    preferred_agent_type: str | None = None


def fits(capabilities: list[str], boundaries: list[str], need: Need) -> bool:
    return need.capability in capabilities and (need.boundary is None or need.boundary in boundaries)


def eligible_agents(agents: Iterable[AgentView], need: Need) -> list[AgentView]:
    chosen = [
        a
        for a in agents
        if a.status != "offline"
        and fits(a.capabilities, a.boundaries, need)
        and (need.required_agent_type is None or a.agent_type == need.required_agent_type)
        and a.current_task_count < a.max_concurrent_tasks
    ]
    chosen.sort(
        key=lambda a: (
            a.agent_type != need.preferred_agent_type if need.preferred_agent_type else False,
            a.status != "online",
            a.current_task_count,
        )
    )
    return chosen


def eligible_targets(targets: Iterable[Target], need: Need) -> list[Target]:
    return [
        t
        for t in targets
        if t.enabled
        and t.health.status != "unhealthy"
        and fits(t.capabilities, t.boundaries, need)
        and (need.required_agent_type is None or t.agent_type == need.required_agent_type)
    ]
