"""Routing rules as a property: nothing reaches an agent or target outside its boundary."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from loom.models.agent import AgentView
from loom.models.target import Target
from loom.weft.routing import Need, eligible_agents, eligible_targets

NAMES = st.sampled_from(["corp", "home", "lab"])
CAPS = st.sampled_from(["python", "review"])


@st.composite
def agents(draw: st.DrawFn) -> AgentView:
    return AgentView(
        guid=draw(st.uuids()).hex, handle="a", agent_type=draw(st.sampled_from(["x", "y"])),
        capabilities=draw(st.lists(CAPS, unique=True)), boundaries=draw(st.lists(NAMES, unique=True)),
        status=draw(st.sampled_from(["online", "busy", "offline"])), current_task_count=draw(st.integers(0, 3)),
        max_concurrent_tasks=draw(st.integers(1, 3)), last_heartbeat=datetime.now(UTC), hostname="h",
    )  # fmt: skip


@st.composite
def targets(draw: st.DrawFn) -> Target:
    return Target(
        id=draw(st.uuids()).hex, name="t", agent_type="x", mechanism="local", config={"command": ["x"]},
        capabilities=draw(st.lists(CAPS, unique=True)), boundaries=draw(st.lists(NAMES, unique=True)),
        enabled=draw(st.booleans()),
    )  # fmt: skip


@given(
    st.lists(agents(), max_size=8),
    st.lists(targets(), max_size=5),
    CAPS,
    st.none() | NAMES,
    st.none() | st.sampled_from(["x", "y"]),
)
def test_routing_respects_capability_boundary_type_and_capacity(
    all_agents: list[AgentView],
    all_targets: list[Target],
    capability: str,
    boundary: str | None,
    required: str | None,
) -> None:
    need = Need(capability, boundary, required_agent_type=required)
    for agent in eligible_agents(all_agents, need):
        assert capability in agent.capabilities
        assert boundary is None or boundary in agent.boundaries
        assert required is None or agent.agent_type == required
        assert agent.status != "offline" and agent.current_task_count < agent.max_concurrent_tasks
    for target in eligible_targets(all_targets, need):
        assert target.enabled and capability in target.capabilities
        assert boundary is None or boundary in target.boundaries


def test_online_before_busy_and_fewest_tasks_first() -> None:
    def agent(guid: str, status: str, tasks: int) -> AgentView:
        return AgentView(guid=guid, handle=guid, agent_type="x", capabilities=["python"], boundaries=[], status=status,  # type: ignore[arg-type]
                         current_task_count=tasks, max_concurrent_tasks=5, last_heartbeat=datetime.now(UTC), hostname="h")  # fmt: skip

    chosen = eligible_agents(
        [agent("b", "busy", 0), agent("o2", "online", 2), agent("o1", "online", 1)], Need("python")
    )
    assert [a.guid for a in chosen] == ["o1", "o2", "b"]
