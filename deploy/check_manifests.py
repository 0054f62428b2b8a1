#!/usr/bin/env python3
"""Check Kubernetes manifests against the Kubernetes OpenAPI schemas, offline.

    python deploy/check_manifests.py deploy/kubernetes/nats.yaml ...

Every object of every file is validated in strict mode (an unknown field is an error) with
the schemas that kubernetes-validate bundles, for the oldest and the newest Kubernetes
version we support. Prints one line per problem and exits 1 if there is any.

kubernetes-validate's own command line fails on objects that have only a ``generateName``
(such as the agent Job template), so this calls its library instead.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import kubernetes_validate
import yaml

OLDEST = "1.30.0"
VERSIONS = (OLDEST, kubernetes_validate.latest_version())


def describe(doc: dict[str, Any]) -> str:
    metadata = doc.get("metadata") or {}
    name = metadata.get("name") or metadata.get("generateName") or "?"
    return f"{doc.get('kind', '?')}/{name}"


def check_object(doc: Any, version: str) -> str | None:
    """The problem with one object, or None."""
    if not isinstance(doc, dict) or "apiVersion" not in doc or "kind" not in doc:
        return "not a Kubernetes object (apiVersion and kind are required)"
    try:
        kubernetes_validate.validate(doc, version, strict=True)
    except kubernetes_validate.ValidationError as exc:
        where = ".".join(str(part) for part in exc.path) or "(top level)"
        return f"{where}: {exc.message}"
    except kubernetes_validate.SchemaNotFoundError as exc:
        return exc.message
    return None


def check_file(path: Path) -> list[str]:
    try:
        docs = [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]
    except (OSError, yaml.YAMLError) as exc:
        return [f"{path}: cannot read: {exc}"]
    if not docs:
        return [f"{path}: no objects"]
    problems = []
    for doc in docs:
        for version in VERSIONS:
            problem = check_object(doc, version)
            if problem:
                what = describe(doc) if isinstance(doc, dict) else "?"
                problems.append(f"{path}: {what} (Kubernetes {version}): {problem}")
    return problems


def main(argv: list[str]) -> int:
    if not argv:
        print("usage: check_manifests.py FILE...", file=sys.stderr)
        return 2
    problems = [problem for name in argv for problem in check_file(Path(name))]
    for problem in problems:
        print(problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
