"""The NATS layer: connection, names, provisioning, embedded server."""

from loom.bus.bus import Bus
from loom.bus.layout import Layout

__all__ = ["Bus", "Layout"]
