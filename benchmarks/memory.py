"""Peak memory of each contender over a whole stream, against the floor in the same run.

Measured with ``tracemalloc`` (Python allocations only, so the numbers do not depend on the
allocator's arenas or on what else the process holds) in separate runs from the timed ones:
tracing slows everything down several times. The input chunks are built before tracing starts,
so only what a contender allocates while reading counts.

Every client ends up holding the server's ``thread.message.completed`` object, whose text is the
whole reply: the floor's peak is mostly that one ``json.loads``. Accumulation that kept every
delta around, or copied the text per delta, shows up as a ratio well above 1.
"""

from __future__ import annotations

import asyncio
import gc
import tracemalloc
from collections.abc import Mapping
from dataclasses import dataclass, field

from .runners import Runner
from .synth import chunk_per_event, make_stream

__all__ = ["MemoryRow", "measure_memory", "render_memory"]


@dataclass
class MemoryRow:
    deltas: int
    bytes: int
    peak: dict[str, int] = field(default_factory=dict)  # runner -> peak traced bytes

    def ratio(self, runner: str) -> float | None:
        if runner not in self.peak or not self.peak.get("floor"):
            return None
        return self.peak[runner] / self.peak["floor"]


def _peak(loop: asyncio.AbstractEventLoop, runner: Runner, chunks: list[bytes]) -> int:
    gc.collect()
    tracemalloc.start()
    try:
        loop.run_until_complete(runner(chunks))
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def measure_memory(
    loop: asyncio.AbstractEventLoop, runners: Mapping[str, Runner], sizes: list[int]
) -> list[MemoryRow]:
    """One traced run per runner per size of the long-text stream, one event per chunk."""
    rows = []
    for n in sizes:
        stream = make_stream("long text", n)
        chunks = chunk_per_event(stream)
        row = MemoryRow(n, len(stream.body))
        for name, runner in runners.items():
            loop.run_until_complete(runner(chunks))  # warm-up: caches are not the stream's
            row.peak[name] = _peak(loop, runner, chunks)
        rows.append(row)
    return rows


def render_memory(rows: list[MemoryRow], runners: list[str]) -> str:
    """Peak KiB per runner and size, then each over the floor."""
    head = ["deltas", "body KiB", *[f"{n} KiB" for n in runners]]
    head += [f"{n} ×floor" for n in runners if n != "floor"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        cells = [f"{row.deltas:,}", f"{row.bytes / 1024:,.0f}"]
        cells += [f"{row.peak[n] / 1024:,.0f}" if n in row.peak else "–" for n in runners]
        for name in runners:
            if name != "floor":
                ratio = row.ratio(name)
                cells.append("–" if ratio is None else f"**{ratio:.2f}**")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
