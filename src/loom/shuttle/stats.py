"""``stats``: the fleet in numbers."""

from __future__ import annotations

from typing import Any

import typer

from loom.shuttle.context import state
from loom.shuttle.output import Output

SECTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("agents", ("total", "online", "busy", "offline")),
    ("work", ("pending", "assigned", "inProgress", "completed", "failed", "cancelled", "deadLettered")),
    ("targets", ("total", "enabled", "healthy")),
    ("spinUps", ("started", "failed")),
)


def stats(ctx: typer.Context) -> None:
    """Counts of agents, work items by status, targets and spin-ups.

    Example: shuttle stats --json
    """
    st = state(ctx)
    with st.client() as api:
        data = api.get("/api/stats")
    if st.out.json_mode:
        st.out.json(data)
        return
    show_stats(st.out, data)


def show_stats(out: Output, data: dict[str, Any]) -> None:
    for section, keys in SECTIONS:
        values = data.get(section) or {}
        out.fields([(key, values.get(key, 0)) for key in keys], title=section)


def register(app: typer.Typer) -> None:
    app.command("stats")(stats)
