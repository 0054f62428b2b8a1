"""The target examples of README's "Targets" section: per mechanism, a shuttle command and its JSON."""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from loom.shuttle.target_flags import MECHANISMS

README = Path(__file__).resolve().parents[1] / "README.md"
SECTION = "## Targets: agents on demand"
# Values the README leaves to the reader's shell.
SHELL_VARS = {"HOOK_SECRET": "the-shared-secret"}
BLOCK = re.compile(r"```(\w+)\n(.*?)```", re.S)


@dataclass(frozen=True)
class Example:
    mechanism: str
    argv: list[str]  # after "shuttle"
    body: dict[str, Any]


def section_text(text: str) -> str:
    start = text.index(SECTION)
    end = text.find("\n## ", start + len(SECTION))
    return text[start : end if end != -1 else len(text)]


def command_argv(block: str) -> list[str]:
    """A ``shuttle ...`` block as argv: joined continuation lines, ``$VAR`` filled in."""
    line = block.replace("\\\n", " ")
    for name, value in SHELL_VARS.items():
        line = line.replace(f'"${name}"', shlex.quote(value))
    argv = shlex.split(line)
    assert argv[0] == "shuttle", argv
    return argv[1:]


def examples(text: str | None = None) -> list[Example]:
    """One example per ``### <mechanism>`` subsection, in README order (other subsections are prose)."""
    section = section_text(README.read_text() if text is None else text)
    found = []
    for part in section.split("\n### ")[1:]:
        mechanism = part.split("\n", 1)[0].strip()
        if mechanism not in MECHANISMS:
            continue
        pairs = BLOCK.findall(part)
        assert sorted(kind for kind, _ in pairs) == ["json", "sh"], f"{mechanism}: one sh, one json block"
        blocks = dict(pairs)
        found.append(Example(mechanism, command_argv(blocks["sh"]), json.loads(blocks["json"])))
    return found
