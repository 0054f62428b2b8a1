"""What every mechanism gets (``LaunchRequest``) and gives back."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from loom.bus.connect import strip_credentials
from loom.models.target import Target

TIMEOUT = 15.0  # seconds any one launch request may take
RETRIES = 3  # attempts for launches that may be retried (webhook 5xx, network errors)


@dataclass(frozen=True)
class LaunchRequest:
    target: Target
    spin_up_id: str
    project: str
    nats_url: str
    work_id: str | None = None
    capability: str | None = None
    boundary: str | None = None
    log_dir: Path | None = None

    def fields(self) -> dict[str, str]:
        """The launch fields every agent gets (env, Job env, workflow inputs, webhook body)."""
        values = {
            "NATS_URL": strip_credentials(self.nats_url) if "@" in self.nats_url else self.nats_url,
            "LOOM_PROJECT_ID": self.project,
            "LOOM_WORK_ID": self.work_id or "",
            "LOOM_CAPABILITY": self.capability or "",
            "LOOM_BOUNDARY": self.boundary or "",
            "LOOM_TARGET": self.target.name,
            "LOOM_SPINUP_ID": self.spin_up_id,
        }
        return values


class LaunchError(Exception):
    """A launch that failed, with a reason fit for the spin-up record (no secrets)."""
