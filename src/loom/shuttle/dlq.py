"""``dlq list|retry|discard``: work items that ran out of attempts."""

from __future__ import annotations

from typing import Annotated

import typer

from loom.shuttle.client import segment
from loom.shuttle.context import name_option, state
from loom.shuttle.output import ago

dlq_app = typer.Typer(help="Dead-lettered work: inspect, retry, discard.", no_args_is_help=True)


@dlq_app.command("list")
def list_dlq(
    ctx: typer.Context,
    capability: Annotated[str | None, typer.Option("--capability", "-c")] = None,
    limit: Annotated[int | None, typer.Option("--limit", "-n", min=1, max=100)] = None,
) -> None:
    """List dead-lettered items with why they failed.

    Example: shuttle dlq list --capability python
    """
    st = state(ctx)
    with st.client() as api:
        data = api.get("/api/dlq", capability=name_option(capability, "--capability"), limit=limit)
    if st.out.json_mode:
        st.out.json(data)
        return
    rows = []
    for entry in data.get("items", []):
        item = entry.get("workItem") or {}
        errors = entry.get("errors") or []
        last_error = errors[-1] if errors else entry.get("reason")
        rows.append(
            (
                entry.get("id"),
                item.get("capability"),
                entry.get("attempts"),
                ago(entry.get("failedAt")),
                last_error.get("error", last_error) if isinstance(last_error, dict) else last_error,
                item.get("description"),
            )
        )
    columns = ("ID", "CAPABILITY", "TRIES", "FAILED", "LAST ERROR", "DESCRIPTION")
    st.out.table(columns, rows, empty="The dead-letter queue is empty.")


@dlq_app.command("retry")
def retry_dlq(
    ctx: typer.Context,
    item_id: Annotated[str, typer.Argument(metavar="ID")],
    reset_attempts: Annotated[
        bool, typer.Option("--reset-attempts", help="start counting tries again")
    ] = False,
) -> None:
    """Put a dead-lettered item back on its queue.

    Example: shuttle dlq retry 6f1c2b0e-... --reset-attempts
    """
    st = state(ctx)
    with st.client() as api:
        answer = api.post(f"/api/dlq/{segment(item_id)}/retry", {"resetAttempts": reset_attempts})
    if st.out.json_mode:
        st.out.json(answer)
    else:
        st.out.success(f"Item {item_id} is pending again")


@dlq_app.command("discard")
def discard_dlq(ctx: typer.Context, item_id: Annotated[str, typer.Argument(metavar="ID")]) -> None:
    """Drop a dead-lettered item for good.

    Example: shuttle dlq discard 6f1c2b0e-...
    """
    st = state(ctx)
    with st.client() as api:
        answer = api.request("DELETE", f"/api/dlq/{segment(item_id)}")
    if st.out.json_mode:
        st.out.json(answer or {"itemId": item_id, "status": "discarded"})
    else:
        st.out.success(f"Item {item_id} discarded")


def register(app: typer.Typer) -> None:
    app.add_typer(dlq_app, name="dlq")
