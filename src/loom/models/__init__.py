"""Typed wire records, one module per domain; all derive from ``Record``."""

from loom.models.base import Record, decode, encode, utcnow

__all__ = ["Record", "decode", "encode", "utcnow"]
