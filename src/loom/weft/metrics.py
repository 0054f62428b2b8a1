"""Prometheus metrics of a Weft process (its own registry, so tests can build several apps)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.submitted = Counter(
            "loom_work_submitted", "Work items submitted", ["project"], registry=self.registry
        )
        self.finished = Counter(
            "loom_work_finished",
            "Work items that reached an end state",
            ["project", "status"],
            registry=self.registry,
        )
        self.spin_ups = Counter(
            "loom_spin_ups", "Spin-up operations", ["project", "state"], registry=self.registry
        )
        self.submit_to_claim = Histogram(
            "loom_submit_to_claim_seconds",
            "Time from submission to first claim",
            ["project"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
            registry=self.registry,
        )
        self.agents_online = Gauge("loom_agents_online", "Agents online", ["project"], registry=self.registry)
        self.requests = Histogram(
            "loom_api_request_seconds", "REST API latency", ["method", "route"], registry=self.registry
        )
