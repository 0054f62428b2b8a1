"""deploy/ agrees with what Weft's spin-up mechanisms really send.

The on-demand workflow declares exactly the inputs that the `github-actions` mechanism
dispatches (GitHub refuses a dispatch with an undeclared input), and the Job template is
the Job the `kubernetes` mechanism builds. Both are checked with the mechanisms' own code.
"""

from __future__ import annotations

import re
from typing import Any

from loom.models.target import GithubConfig, KubernetesConfig, Target
from loom.weft.spinup.base import LaunchRequest
from loom.weft.spinup.mechanisms import dispatch_inputs, job_manifest
from tests.deploy.files import (
    AGENT_JOB,
    IMAGES_WORKFLOW,
    KUBERNETES,
    ON_DEMAND_WORKFLOW,
    load_all,
    load_yaml,
    manifests,
    workflow_triggers,
)

# GitHub took at most 10 workflow_dispatch inputs for years (25 now); 10 works everywhere,
# GitHub Enterprise Server included.
MAX_DISPATCH_INPUTS = 10


def target(name: str, mechanism: str, config: dict[str, Any]) -> Target:
    return Target(
        id="t-1",
        name=name,
        agent_type="claude-code",
        capabilities=["review"],
        mechanism=mechanism,
        config=config,
    )


def launch(t: Target, *, work_id: str | None, capability: str | None, boundary: str | None) -> LaunchRequest:
    return LaunchRequest(
        target=t, spin_up_id="s-1", project="acme", nats_url="nats://nats:4222",
        work_id=work_id, capability=capability, boundary=boundary,
    )  # fmt: skip


def on_demand_inputs() -> dict[str, dict[str, Any]]:
    inputs = workflow_triggers(load_yaml(ON_DEMAND_WORKFLOW))["workflow_dispatch"]["inputs"]
    assert isinstance(inputs, dict)
    return inputs


def test_the_on_demand_workflow_declares_exactly_what_weft_dispatches() -> None:
    config = GithubConfig(repo="acme/app", workflow=ON_DEMAND_WORKFLOW.name)
    t = target("gha", "github-actions", config.model_dump(by_alias=True))
    full = dispatch_inputs(config, launch(t, work_id="w-1", capability="review", boundary="corp"))
    bare = dispatch_inputs(config, launch(t, work_id=None, capability=None, boundary=None))
    declared = on_demand_inputs()
    assert set(declared) == set(full) == set(bare)
    assert len(declared) <= MAX_DISPATCH_INPUTS
    for name, spec in declared.items():
        assert spec.get("type", "string") == "string", name
        if spec.get("required"):
            assert bare[name], f"{name} is required but Weft may send it empty"


def test_the_on_demand_job_hands_every_input_to_the_agent_under_its_env_name() -> None:
    workflow = load_yaml(ON_DEMAND_WORKFLOW)
    (job,) = workflow["jobs"].values()
    env = job["env"]
    for name in on_demand_inputs():
        # NATS_URL may be overridden by a repository variable when runners see NATS elsewhere.
        assert re.search(rf"\binputs\.{name}\s*}}}}$", env[name.upper()]), (name, env.get(name.upper()))
    assert any(step.get("run", "").startswith("loom-agent ") for step in job["steps"])


def template_config_and_request(job: dict[str, Any]) -> tuple[KubernetesConfig, LaunchRequest]:
    """The target config and launch that the template claims to show, read from the template."""
    pod = job["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    env = {e["name"]: e["value"] for e in container["env"]}
    launch_fields = set(
        launch(target("x", "kubernetes", {}), work_id=None, capability=None, boundary=None).fields()
    )
    config = KubernetesConfig(
        namespace="loom",
        image=container["image"],
        serviceAccount=pod.get("serviceAccountName"),
        resources=container.get("resources"),
        envFromSecrets=[source["secretRef"]["name"] for source in container.get("envFrom", [])],
        env={k: v for k, v in env.items() if k not in launch_fields},
    )
    t = target(env["LOOM_TARGET"], "kubernetes", config.model_dump(by_alias=True))
    request = LaunchRequest(
        target=t, spin_up_id=env["LOOM_SPINUP_ID"], project=env["LOOM_PROJECT_ID"], nats_url=env["NATS_URL"],
        work_id=env["LOOM_WORK_ID"] or None, capability=env["LOOM_CAPABILITY"] or None,
        boundary=env["LOOM_BOUNDARY"] or None,
    )  # fmt: skip
    return config, request


def test_the_job_template_is_the_job_weft_creates_with_the_mechanism_defaults() -> None:
    (job,) = load_all(AGENT_JOB)
    config, request = template_config_and_request(job)
    assert job == job_manifest(config, request)
    assert "namespace" not in job["metadata"]  # Weft names the namespace in the API path


def test_the_job_template_fits_the_cluster_manifests() -> None:
    (job,) = load_all(AGENT_JOB)
    pod = job["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    env = {e["name"]: e["value"] for e in container["env"]}
    objects = [doc for path in manifests() if path != AGENT_JOB for doc in load_all(path)]
    named = {(doc["kind"], doc["metadata"].get("name")) for doc in objects}
    assert ("ServiceAccount", pod["serviceAccountName"]) in named
    assert ("Namespace", "loom") in named
    host = re.fullmatch(r"nats://([a-z0-9-]+):4222", env["NATS_URL"])
    assert host and ("Service", host.group(1)) in named
    # The image is one the publishing workflow builds.
    tags = {
        row["tag"] for row in load_yaml(IMAGES_WORKFLOW)["jobs"]["image"]["strategy"]["matrix"]["include"]
    }
    assert container["image"].rsplit(":", 1)[1] in tags


def test_kustomize_applies_the_cluster_and_leaves_the_job_template_out() -> None:
    kustomization = load_yaml(KUBERNETES / "kustomization.yaml")
    cluster = sorted(
        p.name for p in KUBERNETES.glob("*.yaml") if p.name not in {"kustomization.yaml", AGENT_JOB.name}
    )
    assert sorted(kustomization["resources"]) == cluster
    assert kustomization["resources"][0] == "namespace.yaml"
