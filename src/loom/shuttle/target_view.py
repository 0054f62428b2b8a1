"""How targets, health checks and spin-ups look on a terminal (``--json`` prints Weft's bodies)."""

from __future__ import annotations

from typing import Any

from loom.shuttle.output import Output, ago, seconds, status_text

LIST_COLUMNS = (
    "NAME", "MECHANISM", "TYPE", "STATE", "HEALTH", "CAPABILITIES", "BOUNDARIES", "USES", "LAST USED",
)  # fmt: skip


def state_of(target: dict[str, Any]) -> str:
    return "enabled" if target.get("enabled") else "disabled"


def show_list(out: Output, targets: list[dict[str, Any]]) -> None:
    rows = [
        (
            t.get("name"),
            t.get("mechanism"),
            t.get("agentType"),
            status_text(state_of(t)),
            status_text((t.get("health") or {}).get("status")),
            t.get("capabilities"),
            t.get("boundaries"),
            t.get("useCount"),
            ago(t.get("lastUsedAt")),
        )
        for t in targets
    ]
    out.table(LIST_COLUMNS, rows, empty="No targets.")


def show_target(out: Output, t: dict[str, Any]) -> None:
    """Every setting, then the config (Weft has already replaced secrets with ``***``)."""
    health = t.get("health") or {}
    out.fields(
        [
            ("name", t.get("name")),
            ("id", t.get("id")),
            ("description", t.get("description")),
            ("type", t.get("agentType")),
            ("mechanism", t.get("mechanism")),
            ("state", status_text(state_of(t))),
            ("capabilities", t.get("capabilities")),
            ("boundaries", t.get("boundaries")),
            ("max concurrent", t.get("maxConcurrent")),
            ("cooldown", seconds(t.get("cooldownSeconds"))),
            ("idle timeout", seconds(t.get("idleTimeoutSeconds"))),
            ("health", status_text(health.get("status"))),
            ("checked", ago(health.get("checkedAt"))),
            ("health error", health.get("error")),
            ("uses", t.get("useCount")),
            ("last used", ago(t.get("lastUsedAt"))),
        ]
    )
    config = t.get("config") or {}
    out.fields(sorted(config.items()), title="config")


def health_of(result: Any) -> dict[str, Any]:
    """The health object from a test answer: the target with ``health``, or health itself."""
    if not isinstance(result, dict):
        return {}
    health = result.get("health", result)
    if not isinstance(health, dict):
        return {}
    if "status" not in health and "healthy" in health:
        health = {**health, "status": "healthy" if health["healthy"] else "unhealthy"}
    return health


def show_health(out: Output, target: str, health: dict[str, Any]) -> None:
    latency = health.get("latencyMs")
    out.fields(
        [
            ("target", target),
            ("health", status_text(health.get("status"))),
            ("latency", None if latency is None else f"{latency:.0f} ms"),
            ("error", health.get("error")),
        ]
    )


def show_spin_up(out: Output, record: dict[str, Any]) -> None:
    failed = record.get("status") == "failed"
    line = f"Spin-up on {record.get('target')}: {record.get('status')}"
    if failed:
        out.warn(line)
    else:
        out.success(line)
    keys = ("id", "status", "error") if failed else ("id", "status", "detail")
    out.fields([(key, record.get(key)) for key in keys if record.get(key)])
