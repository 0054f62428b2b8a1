"""Which registration answers which launch."""

from __future__ import annotations

from datetime import timedelta

from loom.models.agent import AgentRecord
from loom.models.base import utcnow
from loom.models.target import SpinUp
from loom.weft.spinup.manager import answers

LAUNCH = SpinUp(id="s-1", target="t1", target_id="tid", work_id="w-1")


def agent(**fields: object) -> AgentRecord:
    base: dict[str, object] = {
        "guid": "g", "handle": "h", "agent_type": "coder", "capabilities": ["python"], "hostname": "box",
        "username": "u", "project_id": "p", "target": "t1",
    }  # fmt: skip
    return AgentRecord.model_validate(base | fields)


def test_an_agent_carrying_a_spin_up_id_answers_only_that_launch() -> None:
    assert answers(LAUNCH, agent(spin_up_id="s-1"))
    assert not answers(LAUNCH, agent(spin_up_id="s-2"))  # same target, another launch


def test_without_an_id_target_work_item_and_time_must_agree() -> None:
    later = utcnow() + timedelta(seconds=1)
    earlier = LAUNCH.requested_at - timedelta(seconds=1)
    assert answers(LAUNCH, agent(registered_at=later))
    assert answers(LAUNCH, agent(registered_at=later, launch_work_id="w-1"))
    assert not answers(LAUNCH, agent(registered_at=later, launch_work_id="w-2"))
    assert not answers(LAUNCH, agent(registered_at=later, target="other"))
    assert not answers(LAUNCH, agent(registered_at=earlier))  # it was there before the launch
