"""What every shuttle command gets: the global options, resolved lazily, and the printer."""

from __future__ import annotations

from dataclasses import dataclass, field

import typer

from loom.errors import InvalidArgument
from loom.names import validate_name
from loom.shuttle.client import WeftClient
from loom.shuttle.output import Output
from loom.shuttle.profile import Profile, resolve


@dataclass
class State:
    flags: dict[str, str | None]
    out: Output
    _profile: Profile | None = field(default=None, repr=False)

    @property
    def profile(self) -> Profile:
        # Resolved on first use, so `config set` can repair a broken file it would refuse.
        if self._profile is None:
            self._profile = resolve(self.flags)
        return self._profile

    def client(self) -> WeftClient:
        return WeftClient(self.profile)


def state(ctx: typer.Context) -> State:
    obj = ctx.find_root().obj
    if not isinstance(obj, State):  # only when a command is invoked outside the app
        obj = State(flags={}, out=Output())
        ctx.find_root().obj = obj
    return obj


def name_option(value: str | None, flag: str) -> str | None:
    """Validate a user-typed name before it is sent; the error names the flag."""
    return None if value is None else validate_name(value, flag)


def csv_names(value: str | None, flag: str) -> list[str] | None:
    """``a,b`` → ``["a", "b"]``, each validated; ``None`` stays ``None``."""
    if value is None:
        return None
    parts = [part.strip() for part in value.split(",") if part.strip()]
    return [validate_name(part, f"{flag}[{index}]") for index, part in enumerate(parts)]


def agent_type_option(value: str | None, flag: str) -> str | None:
    """An agent type as Warp accepts it: 1..64 characters once trimmed."""
    if value is None:
        return None
    agent_type = value.strip()
    if not agent_type or len(agent_type) > 64:
        raise InvalidArgument("must be 1 to 64 characters", field=flag)
    return agent_type
