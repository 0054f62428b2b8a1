"""The NATS layer: connection, names, provisioning, embedded server."""

import loom.bus.lazy  # noqa: F401  (before nats-py is imported)
from loom.bus.bus import Bus
from loom.bus.layout import Layout

__all__ = ["Bus", "Layout"]
