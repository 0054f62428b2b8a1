"""Launching agents from targets: one module per mechanism, a manager for limits and records."""
