"""Time each contender on each scenario and render the results.

Times are CPU time of this process (``time.process_time``), not wall time: the machines these
run on are shared, and another process taking the core must not count against whoever was
running. Within a cell the contenders run round-robin, one repeat each in turn, so a slow
patch of the machine hits them all alike; the best repeat is what the ratios use.
"""

from __future__ import annotations

import asyncio
import gc
import statistics
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field

from .runners import Runner
from .synth import Stream, chunk_fixed, chunk_per_event

__all__ = ["CHUNKINGS", "Measurement", "Row", "measure_row", "render_flat", "render_markdown"]

CHUNKINGS: dict[str, Callable[[Stream], list[bytes]]] = {
    "1 event/chunk": chunk_per_event,
    "64 KiB chunks": chunk_fixed,
}


@dataclass
class Measurement:
    runner: str
    best_us: float  # CPU µs per delta event
    median_us: float
    repeats: int


@dataclass
class Row:
    scenario: str
    chunking: str
    deltas: int
    bytes: int
    results: dict[str, Measurement] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)

    def ratio(self, runner: str, base: str = "floor") -> float | None:
        if runner not in self.results or base not in self.results:
            return None
        return self.results[runner].best_us / self.results[base].best_us

    def as_json(self) -> dict[str, object]:
        out = asdict(self)
        out["ratios_vs_floor"] = {name: self.ratio(name) for name in self.results}
        return out


def _run_once(
    loop: asyncio.AbstractEventLoop, runner: Runner, chunks: list[bytes]
) -> tuple[float, int]:
    gc.collect()
    start = time.process_time()
    count = loop.run_until_complete(runner(chunks))
    return time.process_time() - start, count


def measure_row(
    loop: asyncio.AbstractEventLoop,
    row: Row,
    runners: Mapping[str, Runner],
    stream: Stream,
    chunks: list[bytes],
    repeats: Mapping[str, int],
) -> None:
    """Fill ``row.results``: each runner ``repeats[name]`` times, round-robin."""
    times: dict[str, list[float]] = {name: [] for name in runners}
    want = len(stream.events) - 1  # every event but the end marker
    for name, runner in runners.items():
        # Warm-up (imports, pydantic's lazy schema bits, caches), not timed.
        _, count = _run_once(loop, runner, chunks)
        # Every contender must have seen every event, or the race is void.
        if count != want:
            raise RuntimeError(f"{name}: handled {count} events, want {want}")
    for rep in range(max(repeats.values(), default=0)):
        for name, runner in runners.items():
            if rep < repeats[name]:
                elapsed, count = _run_once(loop, runner, chunks)
                if count != want:
                    raise RuntimeError(f"{name}: handled {count} events, want {want}")
                times[name].append(elapsed)
    for name, samples in times.items():
        per_delta = [t / stream.deltas * 1e6 for t in samples]
        row.results[name] = Measurement(
            name, min(per_delta), statistics.median(per_delta), len(samples)
        )


def _header(runners: list[str]) -> list[str]:
    head = ["scenario", "chunks", "deltas"]
    head += [f"{name} µs" for name in runners]
    head += [f"{name} ×floor" for name in runners if name != "floor"]
    return head


def render_markdown(rows: list[Row], runners: list[str]) -> str:
    """One line per scenario × chunking: µs of CPU per delta (best repeat), then ratios."""
    head = _header(runners)
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        cells = [row.scenario, row.chunking, f"{row.deltas:,}"]
        for name in runners:
            m = row.results.get(name)
            cells.append("skipped" if m is None else f"{m.best_us:.2f}")
        for name in runners:
            if name == "floor":
                continue
            ratio = row.ratio(name)
            cells.append("–" if ratio is None else f"**{ratio:.2f}**")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def growth(rows: list[Row], runner: str) -> float | None:
    """Per-delta cost at the largest size over the smallest (1.0 = perfectly flat)."""
    if len(rows) < 2:
        return None
    small = min(rows, key=lambda r: r.deltas).results.get(runner)
    large = max(rows, key=lambda r: r.deltas).results.get(runner)
    if small is None or large is None:
        return None
    return large.best_us / small.best_us


def render_flat(rows: list[Row], runners: list[str]) -> str:
    """The flat-cost check: µs per delta at each size, and the largest/smallest ratio."""
    rows = sorted(rows, key=lambda r: r.deltas)
    head = ["deltas", *[f"{name} µs" for name in runners]]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        cells = [f"{row.deltas:,}"]
        for name in runners:
            m = row.results.get(name)
            cells.append(
                f"skipped ({row.skipped.get(name, 'n/a')})" if m is None else f"{m.best_us:.2f}"
            )
        lines.append("| " + " | ".join(cells) + " |")
    if len(rows) >= 2:
        label = f"**{rows[-1].deltas // 1000:,}k / {rows[0].deltas // 1000:,}k**"
        cells = [label]
        for name in runners:
            g = growth(rows, name)
            cells.append("–" if g is None else f"**{g:.2f}**")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
