"""Validation of every name a user can type.

A valid name is lower-case ASCII letters, digits, ``-`` and ``_``, starting with a letter
or digit, at most 64 characters. Such a name can never be a NATS wildcard (``*``, ``>``),
a subject separator (``.``) or whitespace, and never starts with ``_``, the prefix Loom
keeps for its internal subject tokens, so no user name reaches an internal subject.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from loom.errors import InvalidArgument

NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
PROJECT_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
NAME_RULE = "must match ^[a-z0-9][a-z0-9_-]{0,63}$ (lower-case letters, digits, '-' and '_')"
PROJECT_RULE = "must match ^[a-z0-9][a-z0-9-]{0,63}$ (lower-case letters, digits and '-')"


def validate_name(value: object, field: str) -> str:
    """Return ``value`` lower-cased if it is a valid name, else raise ``InvalidArgument``."""
    if not isinstance(value, str):
        raise InvalidArgument("must be a string", field=field)
    name = value.strip().lower()
    if not NAME_PATTERN.fullmatch(name):
        raise InvalidArgument(f"{value!r} {NAME_RULE}", field=field)
    return name


def validate_names(values: Iterable[object], field: str) -> list[str]:
    """Validate a list of names; duplicates are dropped, order kept."""
    seen: dict[str, None] = {}
    for index, value in enumerate(values):
        seen.setdefault(validate_name(value, f"{field}[{index}]"), None)
    return list(seen)


def validate_project(value: object, field: str = "projectId") -> str:
    if not isinstance(value, str) or not PROJECT_PATTERN.fullmatch(value):
        raise InvalidArgument(f"{value!r} {PROJECT_RULE}", field=field)
    return value


def slugify_project(raw: str) -> str:
    """Turn a directory name into a project slug (used for the default project id)."""
    slug = re.sub(r"[^a-z0-9-]+", "-", raw.lower()).strip("-")
    return (slug or "default")[:64].rstrip("-") or "default"
