"""``spin-up``: launch an agent now, on a named target or on the one Weft picks."""

from __future__ import annotations

from typing import Annotated

import typer

from loom.errors import InvalidArgument
from loom.shuttle.client import segment
from loom.shuttle.context import name_option, state
from loom.shuttle.target_view import show_spin_up


def spin_up(
    ctx: typer.Context,
    target: Annotated[str | None, typer.Option("--target", "-t", help="target name or id")] = None,
    capability: Annotated[
        str | None, typer.Option("--capability", "-c", help="let Weft pick a target for this capability")
    ] = None,
    boundary: Annotated[str | None, typer.Option("--boundary", "-b", help="with --capability")] = None,
) -> None:
    """Launch an agent now, on a named target or on the target Weft picks for a capability.

    Weft picks as it does for arriving work: the first enabled, not unhealthy target that
    offers the capability (and the boundary) and has a free slot.

    Exit code 1 when no target fits or has a free slot, or when the launch fails.

    Example: shuttle spin-up --capability python --boundary personal
    """
    st = state(ctx)
    if (target is None) == (capability is None):
        raise InvalidArgument("give exactly one of --target or --capability", field="--target")
    if boundary is not None and capability is None:
        raise InvalidArgument("needs --capability", field="--boundary")
    with st.client() as api:
        if target is not None:
            record = api.post(f"/api/targets/{segment(target)}/spin-up")
        else:
            body = {"capability": name_option(capability, "--capability")}
            if boundary is not None:
                body["boundary"] = name_option(boundary, "--boundary")
            record = api.post("/api/spin-up", body)
    if st.out.json_mode:
        st.out.json(record)
    else:
        show_spin_up(st.out, record)
    if record.get("status") == "failed":  # the launch itself failed: a failed operation
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("spin-up")(spin_up)
