"""Loom: a team fabric for AI coding agents on NATS JetStream."""

__version__ = "0.1.0"
