"""Glob overlap for path reservations."""

from __future__ import annotations

import pytest

from loom.errors import InvalidArgument
from loom.services.globs import covers, normalise


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("src/a.py", "src/a.py", True),
        ("src/a.py", "src/b.py", False),
        ("src/**", "src/a/b.py", True),
        ("src", "src/a/b.py", True),
        ("*.py", "*.md", False),
        ("src/*.py", "src/main.py", True),
        ("src/*.py", "docs/*.py", False),
        ("**/test_*.py", "tests/unit/test_x.py", True),
        ("a/[bc].py", "a/b.py", True),
        ("lib/*.py", "lib/x/y.md", False),
    ],
)
def test_overlap(a: str, b: str, expected: bool) -> None:
    assert covers(a, b) is expected
    assert covers(b, a) is expected


@pytest.mark.parametrize("bad", ["", "../etc/passwd", "a/../../b", "x\x00y", "a" * 1025])
def test_bad_paths_are_rejected(bad: str) -> None:
    with pytest.raises(InvalidArgument):
        normalise(bad)


def test_paths_are_normalised() -> None:
    assert normalise("./src//a/../b.py") == "src/b.py"
