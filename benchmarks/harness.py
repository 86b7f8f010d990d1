"""Time each contender on each scenario and render the results."""

from __future__ import annotations

import asyncio
import gc
import statistics
import time
from dataclasses import asdict, dataclass, field

from .runners import Runner
from .synth import Stream, chunk_fixed, chunk_per_event

__all__ = ["Measurement", "Row", "measure", "render_markdown"]

CHUNKINGS = {"1 event/chunk": chunk_per_event, "64 KiB chunks": chunk_fixed}


@dataclass
class Measurement:
    runner: str
    best_us: float  # per delta event
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


def measure(
    loop: asyncio.AbstractEventLoop,
    runner_name: str,
    runner: Runner,
    stream: Stream,
    chunks: list[bytes],
    repeats: int,
) -> Measurement:
    expected = None
    times: list[float] = []
    for _ in range(repeats):
        gc.collect()
        start = time.perf_counter()
        count = loop.run_until_complete(runner(chunks))
        times.append(time.perf_counter() - start)
        if expected is not None and count != expected:
            raise RuntimeError(f"{runner_name} handled {count} events, then {expected}")
        expected = count
    # Every contender must have seen every event but the end marker, or the race is void.
    if expected != len(stream.events) - 1:
        raise RuntimeError(f"{runner_name}: {expected} events, want {len(stream.events) - 1}")
    per_delta = [t / stream.deltas * 1e6 for t in times]
    return Measurement(runner_name, min(per_delta), statistics.median(per_delta), repeats)


def render_markdown(rows: list[Row], runners: list[str]) -> str:
    head = ["scenario", "chunks", "deltas"]
    for name in runners:
        head.append(f"{name} µs/delta best (median)")
        if name != "floor":
            head.append(f"{name} ×floor")
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        cells = [row.scenario, row.chunking, f"{row.deltas:,}"]
        for name in runners:
            m = row.results.get(name)
            if m is None:
                cells.append(f"skipped ({row.skipped.get(name, 'n/a')})")
                if name != "floor":
                    cells.append("–")
                continue
            cells.append(f"{m.best_us:.2f} ({m.median_us:.2f})")
            if name != "floor":
                ratio = row.ratio(name)
                cells.append("–" if ratio is None else f"{ratio:.2f}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
