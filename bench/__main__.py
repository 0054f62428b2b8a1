"""``python -m bench``: run the scenarios, print one table, write JSON (and a Markdown table).

python -m bench                       # every scenario, full sizes
python -m bench --quick               # small sizes, a smoke run
python -m bench --only mcp,work       # some scenarios
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from bench import channels, mcp_calls, memory, registry, weft, work
from bench.harness import Row, failed, table
from bench.machine import describe, describe_text
from bench.stack import nats_server

Scenario = Callable[[str, bool], Awaitable[list[Row]]]

SCENARIOS: dict[str, tuple[str, Scenario]] = {
    "mcp": (mcp_calls.SCENARIO, mcp_calls.run),
    "work": (work.SCENARIO, work.run),
    "channels": (channels.SCENARIO, channels.run),
    "registry": (registry.SCENARIO, registry.run),
    "memory": (memory.SCENARIO, memory.run),
    "weft": (weft.SCENARIO, weft.run),
}
RESULTS = Path(__file__).parent / "results"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description="Loom benchmarks with baselines")
    parser.add_argument("--only", default="", help=f"comma list of: {', '.join(SCENARIOS)}")
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run in a minute or two")
    parser.add_argument("--json", type=Path, default=RESULTS / "latest.json", help="where to write results")
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.only.split(",") if n.strip()] or list(SCENARIOS)
    unknown = [n for n in names if n not in SCENARIOS]
    if unknown:
        parser.error(f"--only: unknown scenario {', '.join(unknown)}; choose from {', '.join(SCENARIOS)}")
    args.names = names
    return args


async def run_one(name: str, quick: bool) -> tuple[list[Row], float]:
    """One scenario on its own nats-server; a failure becomes a row, never a lost run."""
    label, scenario = SCENARIOS[name]
    started = time.perf_counter()
    try:
        async with nats_server() as server:
            rows = await scenario(server.url, quick)
    except Exception as exc:  # reported in the table; the other scenarios still run
        logging.getLogger("bench").exception("scenario %s failed", name)
        rows = [failed(label, exc)]
    return rows, time.perf_counter() - started


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    machine = describe()
    print(f"machine: {describe_text(machine)}", flush=True)
    rows: list[Row] = []
    durations: dict[str, float] = {}
    load: dict[str, tuple[float, float]] = {}
    for name in args.names:
        print(f"running {name} ...", flush=True)
        before = os.getloadavg()[0]
        found, seconds = await run_one(name, args.quick)
        # Other work on the machine shows here: on 2 cores a scenario adds about 1 to 2.
        load[name] = (before, os.getloadavg()[0])
        durations[name] = round(seconds, 1)
        rows += found
        note = f"{name}: {seconds:.0f} s, load average {load[name][0]:.1f} → {load[name][1]:.1f}"
        print(table(found), f"\n({note})\n", sep="\n", flush=True)
    return {
        "machine": machine,
        "quick": args.quick,
        "durations_s": durations,
        "load_average_1m": load,
        "rows": [row.to_json() for row in rows],
        "table_markdown": table(rows, markdown=True),
        "_rows": rows,
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(name)s: %(message)s")
    started = time.perf_counter()
    result = asyncio.run(main_async(args))
    rows: list[Row] = result.pop("_rows")
    print("\n== all scenarios ==")
    print(table(rows))
    print(f"\nmachine: {describe_text(result['machine'])}")
    print(f"total {time.perf_counter() - started:.0f} s")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2, default=str) + "\n")
    args.json.with_suffix(".md").write_text(
        f"Machine: {describe_text(result['machine'])}\n\n{result['table_markdown']}\n"
    )
    print(f"results: {args.json} (and {args.json.with_suffix('.md').name})")
    return 1 if any(row.error for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
