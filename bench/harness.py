"""Timing, statistics, result rows, the table, the JSON file and the machine description.

Every scenario returns ``Row``s: one figure measured beside its baseline in the same run, so
the ratio holds on a noisy machine even when the absolute numbers move.
"""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal


@dataclass(frozen=True)
class Stats:
    """Latency samples in milliseconds."""

    count: int
    p50: float
    p99: float
    mean: float
    max: float
    seconds: float  # wall time of the whole run, for a rate

    @property
    def rate(self) -> float:
        """Calls per second over the run (sequential calls: 1000 / mean latency)."""
        return self.count / self.seconds if self.seconds else 0.0

    def figures(self) -> dict[str, float]:
        """The numbers for the JSON file."""
        return {"count": self.count, "p50_ms": self.p50, "p99_ms": self.p99, "mean_ms": self.mean,
                "max_ms": self.max, "per_s": self.rate}  # fmt: skip

    def brief(self) -> str:
        return f"p50 {fmt_ms(self.p50)} · p99 {fmt_ms(self.p99)}"


def percentile(sorted_samples: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of already sorted samples."""
    if not sorted_samples:
        return math.nan
    rank = max(1, math.ceil(q / 100 * len(sorted_samples)))
    return sorted_samples[min(rank, len(sorted_samples)) - 1]


def stats(samples_ms: list[float], seconds: float) -> Stats:
    ordered = sorted(samples_ms)
    return Stats(
        count=len(ordered),
        p50=percentile(ordered, 50),
        p99=percentile(ordered, 99),
        mean=sum(ordered) / len(ordered) if ordered else math.nan,
        max=ordered[-1] if ordered else math.nan,
        seconds=seconds,
    )


async def timed(runs: int, call: Callable[[int], Awaitable[Any]], warmup: int = 5) -> Stats:
    """Run ``call(i)`` ``runs`` times one after another; per-call latency and the rate."""
    for i in range(warmup):
        await call(-1 - i)
    samples = []
    started = time.perf_counter()
    for i in range(runs):
        t0 = time.perf_counter()
        await call(i)
        samples.append((time.perf_counter() - t0) * 1000)
    return stats(samples, time.perf_counter() - started)


def fmt_ms(value: float) -> str:
    if math.isnan(value):
        return "-"
    return f"{value:.2f} ms" if value < 100 else f"{value:,.0f} ms"


def fmt_num(value: float | None, unit: str) -> str:
    if value is None or math.isnan(value):
        return "-"
    if unit == "ms":
        return fmt_ms(value)
    digits = 0 if abs(value) >= 100 else (1 if abs(value) >= 10 else 2)
    return f"{value:,.{digits}f} {unit}".strip()


# -- goals ----------------------------------------------------------------------------------
Check = Literal["ratio>=", "value<="]


@dataclass(frozen=True)
class Goal:
    """``ratio>=`` compares figure/baseline with ``limit``; ``value<=`` the figure itself."""

    check: Check
    limit: float
    text: str

    def met(self, value: float | None, ratio: float | None) -> bool | None:
        subject = ratio if self.check == "ratio>=" else value
        if subject is None or math.isnan(subject):
            return None
        return subject >= self.limit if self.check == "ratio>=" else subject <= self.limit


def at_least_ratio(limit: float) -> Goal:
    return Goal("ratio>=", limit, f">= {limit:g} x baseline")


def at_most(limit: float, unit: str) -> Goal:
    return Goal("value<=", limit, f"< {limit:g} {unit}")


# -- rows -----------------------------------------------------------------------------------
@dataclass
class Row:
    """One line of the table: a figure, its baseline from the same run, and a goal."""

    scenario: str
    figure: str
    value: float | None
    unit: str
    baseline: float | None = None
    baseline_label: str = ""
    goal: Goal | None = None
    detail: str = ""  # latencies and sizes that explain the figure
    higher_is_better: bool = True
    error: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        if self.value is None or not self.baseline:
            return None
        return self.value / self.baseline

    @property
    def met(self) -> bool | None:
        return None if self.goal is None else self.goal.met(self.value, self.ratio)

    def cells(self) -> list[str]:
        if self.error is not None:
            return [self.scenario, self.figure, f"FAILED: {self.error}", "", "", "", "no"]
        ratio = self.ratio
        met = self.met
        return [
            self.scenario,
            self.figure,
            fmt_num(self.value, self.unit) + (f" ({self.detail})" if self.detail else ""),
            (fmt_num(self.baseline, self.unit) + f" {self.baseline_label}".rstrip())
            if self.baseline is not None
            else "",
            f"{ratio:.2f}" if ratio is not None else "",
            self.goal.text if self.goal else "",
            "" if met is None else ("yes" if met else "NO"),
        ]

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["goal"] = self.goal.text if self.goal else None
        data["ratio"] = self.ratio
        data["met"] = self.met
        return data


def failed(scenario: str, error: BaseException) -> Row:
    text = f"{error.__class__.__name__}: {error}".strip().splitlines()[0][:200]
    return Row(scenario, "(scenario failed)", None, "", error=text)


HEADERS = ["scenario", "figure", "result", "baseline (same run)", "ratio", "goal", "met?"]


def table(rows: list[Row], markdown: bool = False) -> str:
    cells = [HEADERS, *[row.cells() for row in rows]]
    if markdown:
        lines = ["| " + " | ".join(HEADERS) + " |", "|" + "---|" * len(HEADERS)]
        lines += ["| " + " | ".join(c.replace("|", "\\|") for c in line) + " |" for line in cells[1:]]
        return "\n".join(lines)
    widths = [max(len(line[i]) for line in cells) for i in range(len(HEADERS))]
    out = []
    for n, line in enumerate(cells):
        out.append("  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip())
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


async def interleaved(
    calls: dict[str, Callable[[int], Awaitable[Any]]], runs: int, rounds: int = 5, warmup: int = 5
) -> dict[str, Stats]:
    """Time several calls in alternating blocks, so a slow spell of the machine hits them all.

    Each call runs ``runs`` times in all, in ``rounds`` blocks of ``runs / rounds``.
    """
    samples: dict[str, list[float]] = {name: [] for name in calls}
    seconds = dict.fromkeys(calls, 0.0)
    for call in calls.values():
        for i in range(warmup):
            await call(-1 - i)
    per_round = max(1, runs // rounds)
    for r in range(rounds):
        for name, call in calls.items():
            block = time.perf_counter()
            for i in range(per_round):
                t0 = time.perf_counter()
                await call(r * per_round + i)
                samples[name].append((time.perf_counter() - t0) * 1000)
            seconds[name] += time.perf_counter() - block
    return {name: stats(samples[name], seconds[name]) for name in calls}
