"""Whether two path patterns can match a common path (``*``, ``?``, ``[...]``, ``**``).

Conservative: when in doubt, two patterns overlap (a false conflict is cheap; a missed one
lets two agents edit the same file).
"""

from __future__ import annotations

import posixpath
import re
from fnmatch import fnmatchcase

from loom.errors import InvalidArgument

_WILD = re.compile(r"[*?\[]")


def normalise(path: str, field: str = "paths") -> str:
    if not path or len(path) > 1024 or "\x00" in path:
        raise InvalidArgument("each path must be 1..1024 characters without NUL", field=field)
    clean = posixpath.normpath(path.strip()).lstrip("/")
    if clean == ".." or clean.startswith("../"):
        raise InvalidArgument(f"{path!r} leaves the project", field=field)
    return clean


def _segments_overlap(a: str, b: str) -> bool:
    if not _WILD.search(a) or not _WILD.search(b):
        return fnmatchcase(b, a) if _WILD.search(a) else fnmatchcase(a, b) if _WILD.search(b) else a == b
    # Both wild: compare the literal heads and tails they force.
    head_a, head_b = re.split(r"[*?\[]", a, maxsplit=1)[0], re.split(r"[*?\[]", b, maxsplit=1)[0]
    tail_a, tail_b = re.split(r"[*?\]]", a)[-1], re.split(r"[*?\]]", b)[-1]
    heads = head_a.startswith(head_b) or head_b.startswith(head_a)
    tails = tail_a.endswith(tail_b) or tail_b.endswith(tail_a)
    return heads and tails


def overlap(a: str, b: str) -> bool:
    return _overlap(a.split("/"), b.split("/"))


def _overlap(a: list[str], b: list[str]) -> bool:
    if not a or not b:
        rest = a or b
        return all(seg == "**" for seg in rest)
    if a[0] == "**":
        return _overlap(a[1:], b) or _overlap(a, b[1:])
    if b[0] == "**":
        return _overlap(a, b[1:]) or _overlap(a[1:], b)
    return _segments_overlap(a[0], b[0]) and _overlap(a[1:], b[1:])


def covers(pattern: str, path: str) -> bool:
    """A directory reservation (``src``) covers everything below it."""
    return overlap(pattern, path) or overlap(pattern + "/**", path) or overlap(pattern, path + "/**")
