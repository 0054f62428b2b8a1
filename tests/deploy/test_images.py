"""The Dockerfile builds what the workflows and manifests expect (no container engine here).

One Dockerfile makes every image: a `loom` target and an `agent` target whose runtimes come
from one `flavor-*` stage per flavor. These tests read it as data and check what a build
would otherwise show: names line up, every COPY source is in the context, users are not root.
"""

from __future__ import annotations

import fnmatch
import re
import tomllib

from tests.deploy.files import (
    DOCKERFILE,
    IMAGES_WORKFLOW,
    ROOT,
    WORKFLOWS,
    Stage,
    dockerfile_stages,
    load_yaml,
)

FLAVORS = {"node20", "python3.12", "multi"}  # the images the issue names: claude-<flavor>-full


def stages() -> dict[str, Stage]:
    return {s.name: s for s in dockerfile_stages(DOCKERFILE.read_text()) if s.name}


def global_args() -> dict[str, str]:
    head = DOCKERFILE.read_text().split("\nFROM ", 1)[0]
    return dict(re.findall(r"^ARG (\w+)=(\S+)$", head, re.M))


def test_one_flavor_stage_per_agent_image_and_the_workflow_builds_each() -> None:
    flavors = {name.removeprefix("flavor-") for name in stages() if name.startswith("flavor-")}
    assert flavors == FLAVORS
    assert global_args()["FLAVOR"] in flavors
    assert stages()["agent"].base == "flavor-${FLAVOR}"
    matrix = load_yaml(IMAGES_WORKFLOW)["jobs"]["image"]["strategy"]["matrix"]["include"]
    agents = {(row["flavor"], row["tag"]) for row in matrix if row["target"] == "agent"}
    assert agents == {(flavor, f"claude-{flavor}-full") for flavor in FLAVORS}
    assert {row["target"] for row in matrix} == {"loom", "agent"} <= set(stages())


def test_flavors_share_one_base_and_only_layer_runtimes() -> None:
    by_name = stages()
    for name in by_name:
        if name.startswith("flavor-"):
            chain = [name]
            while chain[-1] in by_name and chain[-1] != "agent-base":
                chain.append(by_name[chain[-1]].base)
            assert chain[-1] == "agent-base", chain
    assert by_name["agent-base"].base == "loom-base"
    assert by_name["loom"].base == "loom-base"


def test_images_run_as_numeric_non_root_users() -> None:
    by_name = stages()
    assert by_name["loom"].all("USER") == ["10001:10001"]
    # uid 1001 is the uid of GitHub's hosted runners, whose workspace a container job writes.
    assert by_name["agent"].all("USER") == ["1001:1001"]
    assert "--uid 1001 " in " ".join(by_name["agent-base"].all("RUN"))


def test_the_loom_image_checks_its_health_and_the_agent_image_starts_the_entrypoint() -> None:
    by_name = stages()
    (healthcheck,) = by_name["loom"].all("HEALTHCHECK")
    assert healthcheck.endswith('CMD ["loom-healthcheck"]')
    assert "deploy/docker/healthcheck.py /usr/local/bin/loom-healthcheck" in " ".join(
        by_name["loom-base"].all("COPY")
    )
    assert by_name["agent"].all("ENTRYPOINT") == ['["loom-agent"]']
    assert "deploy/docker/entrypoint.sh /usr/local/bin/loom-agent" in " ".join(
        by_name["agent-base"].all("COPY")
    )
    # Workflows call the entrypoint by that name inside their container jobs.
    runs = [
        step.get("run", "")
        for path in WORKFLOWS.glob("*.yml")
        for job in load_yaml(path)["jobs"].values()
        for step in job["steps"]
    ]
    assert any(run.startswith("loom-agent ") for run in runs)


def test_every_copy_source_exists_and_is_in_the_build_context() -> None:
    ignore = (DOCKERFILE.parent / "Dockerfile.dockerignore").read_text().splitlines()
    patterns = [line for line in ignore if line and not line.startswith("#")]

    def in_context(path: str) -> bool:
        included = False
        for pattern in patterns:
            negated = pattern.startswith("!")
            bare = pattern.removeprefix("!")
            if fnmatch.fnmatch(path, bare) or path.startswith(bare.rstrip("/") + "/"):
                included = negated
        return included

    sources = []
    for stage in dockerfile_stages(DOCKERFILE.read_text()):
        for args in stage.all("COPY"):
            words = [w for w in args.split() if not w.startswith("--")]
            if "--from=" not in args:
                sources += words[:-1]
    assert sources
    for source in sources:
        assert (ROOT / source).exists(), source
        assert in_context(source), f"{source} is excluded by Dockerfile.dockerignore"
    # The wheel stage copies what packaging reads: the project file, its readme and the code.
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert {"pyproject.toml", project["readme"], "src"} <= set(sources)
