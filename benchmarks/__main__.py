"""``python -m benchmarks``: client CPU cost per delta event of decoding, validating and
accumulating an Assistants run stream, for this library, the official SDK and a floor.

All contenders read the same bytes from in-memory mock transports (no sockets), so the numbers
are the client's own cost. Ratios are against the floor measured in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import platform
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from .harness import CHUNKINGS, Row, growth, measure_row, render_flat, render_markdown
from .memory import MemoryRow, measure_memory, render_memory
from .runners import Runner, available
from .synth import SCENARIOS, chunk_per_event, make_stream

TARGET_RATIO = 3.0
TARGET_GROWTH = 1.5  # per-delta cost at 100k over 1k: "flat" allows noise, not a trend
TARGET_MEMORY = 1.5  # peak traced memory over the floor's at every size
OFFICIAL = "official SDK"
FULL: dict[str, object] = {
    "deltas": 10_000,
    "repeat": 5,
    "official_repeat": 3,
    "flat": "1000,10000,100000",
    "memory": "10000,100000",
}
QUICK: dict[str, object] = {
    "deltas": 2_000,
    "repeat": 3,
    "official_repeat": 1,
    "flat": "1000,10000",
    "memory": "10000",
}


def _args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--deltas", type=int, help="deltas per scenario (10,000)")
    parser.add_argument("--repeat", type=int, help="timed runs per cell, best counts (5)")
    parser.add_argument("--flat", help="delta counts of the flat-cost check (1000,10000,100000)")
    parser.add_argument(
        "--memory", help="delta counts of the peak-memory check (10000,100000); empty: skip"
    )
    parser.add_argument(
        "--official-repeat",
        type=int,
        help="timed runs per cell for the official SDK, 10-200x slower than the rest (3)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a smoke run: 2,000 deltas, 3 repeats (1 for the official SDK), flat 1k/10k, "
        "memory 10k",
    )
    parser.add_argument("--scenario", action="append", choices=sorted(SCENARIOS))
    parser.add_argument("--runner", action="append", help="only these contenders (and the floor)")
    parser.add_argument("--json", type=Path, help="also write the results here as JSON")
    args = parser.parse_args(argv)
    # --quick changes the defaults; sizes given explicitly still win.
    defaults = QUICK if args.quick else FULL
    for key, value in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    return args


def _repeats(runners: dict[str, Runner], repeat: int, official: int) -> dict[str, int]:
    return {name: official if name == OFFICIAL else repeat for name in runners}


def run(args: argparse.Namespace) -> dict[str, object]:
    """Measure everything ``args`` asks for; print progress to stderr; return the results."""
    runners = available()
    if args.runner:
        runners = {k: v for k, v in runners.items() if k == "floor" or k in args.runner}
    rows: list[Row] = []
    flat_rows: list[Row] = []
    loop = asyncio.new_event_loop()
    started = time.perf_counter()
    # Everything imported so far (pydantic, openai, httpx...) is long-lived: freeze it so the
    # collection before each timed run only walks what the runs themselves allocated.
    gc.collect()
    gc.freeze()
    try:
        for scenario in args.scenario or list(SCENARIOS):
            stream = make_stream(scenario, args.deltas)
            for chunking, split in CHUNKINGS.items():
                row = Row(scenario, chunking, stream.deltas, len(stream.body))
                repeats = _repeats(runners, args.repeat, args.official_repeat)
                measure_row(loop, row, runners, stream, split(stream), repeats)
                rows.append(row)
                print(f"  measured {scenario} / {chunking}", file=sys.stderr)
        for n in sorted(int(x) for x in args.flat.split(",") if x):
            stream = make_stream("long text", n)
            row = Row("long text", "1 event/chunk", n, len(stream.body))
            # Fewer repeats at the largest sizes: one run of 100k deltas is already long.
            scale = max(1, n // 10_000)
            repeats = _repeats(
                runners, max(2, args.repeat // scale), max(1, args.official_repeat // scale)
            )
            measure_row(loop, row, runners, stream, chunk_per_event(stream), repeats)
            flat_rows.append(row)
            print(f"  measured flat check at {n:,} deltas", file=sys.stderr)
        memory_sizes = sorted(int(x) for x in args.memory.split(",") if x)
        memory_rows = measure_memory(loop, runners, memory_sizes)
        if memory_rows:
            print("  measured peak memory", file=sys.stderr)
        # Let abandoned async generators (the official SDK's, ours) finish before closing.
        loop.run_until_complete(loop.shutdown_asyncgens())
    finally:
        loop.close()
        gc.unfreeze()
    names = list(runners)
    ours = [n for n in names if n in ("EventStream", "AssistantStream")]
    worst = max(
        ((r.ratio(n) or 0.0, n, r.scenario, r.chunking) for r in rows for n in ours),
        default=(0.0, "", "", ""),
    )
    growths = {n: growth(flat_rows, n) for n in names}
    return {
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
        "repeats": args.repeat,
        "official_repeats": args.official_repeat,
        "runners": names,
        "target_ratio": TARGET_RATIO,
        "rows": rows,
        "flat": flat_rows,
        "worst": worst,
        "growth": growths,
        "memory": memory_rows,
        "seconds": time.perf_counter() - started,
    }


def report(result: dict[str, Any]) -> str:
    """The results as markdown (what ``python -m benchmarks`` prints)."""
    names: list[str] = result["runners"]
    worst = result["worst"]
    growths: dict[str, float | None] = result["growth"]
    out = [
        f"Python {result['python']} on {result['machine']}; CPU µs per delta event "
        f"(best of {result['repeats']} runs, {result['official_repeats']} for the official "
        "SDK); ×floor = that over the floor in the same run.",
        "",
        render_markdown(result["rows"], names),
        "",
        "Flat cost: long text, 1 event/chunk, µs per delta by stream length:",
        "",
        render_flat(result["flat"], names),
        "",
    ]
    memory: list[MemoryRow] = result["memory"]
    if memory:
        out += [
            "Peak memory (tracemalloc): long text, 1 event/chunk, whole stream read:",
            "",
            render_memory(memory, names),
            "",
        ]
    verdict = "meets" if worst[0] <= TARGET_RATIO else "MISSES"
    out.append(
        f"Worst ours/floor ratio: {worst[0]:.2f} ({worst[1]}, {worst[2]}, {worst[3]}): "
        f"{verdict} the {TARGET_RATIO:g}x target."
    )
    ours_growth = [g for n, g in growths.items() if n in ("EventStream", "AssistantStream") and g]
    if ours_growth:
        g = max(ours_growth)
        flat = "flat" if g <= TARGET_GROWTH else "NOT flat"
        out.append(f"Largest per-delta growth of ours across the flat check: {g:.2f}x ({flat}).")
    ours_memory = [r.ratio(n) or 0.0 for r in memory for n in ("EventStream", "AssistantStream")]
    if ours_memory:
        m = max(ours_memory)
        verdict = "meets" if m <= TARGET_MEMORY else "MISSES"
        out.append(
            f"Largest peak memory of ours over the floor: {m:.2f}x: "
            f"{verdict} the {TARGET_MEMORY:g}x target."
        )
    out.append(f"Total {result['seconds']:.0f} s.")
    return "\n".join(out)


def _as_json(result: dict[str, Any]) -> dict[str, Any]:
    out = dict(result)
    out["rows"] = [r.as_json() for r in result["rows"]]
    out["flat"] = [r.as_json() for r in result["flat"]]
    out["memory"] = [
        {**asdict(r), "ratios_vs_floor": {n: r.ratio(n) for n in r.peak}} for r in result["memory"]
    ]
    out["worst"] = dict(
        zip(("ratio", "runner", "scenario", "chunking"), result["worst"], strict=True)
    )
    return out


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    result = run(args)
    print(report(result))
    if args.json:
        args.json.write_text(json.dumps(_as_json(result), indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
