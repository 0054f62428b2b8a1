"""Shuttle: the fleet CLI over Weft's REST API."""
