"""``python -m benchmarks``: client CPU cost per delta event of decoding, validating and
accumulating an Assistants run stream, for this library, the official SDK and a floor.

All contenders read the same bytes from in-memory mock transports (no sockets), so the numbers
are the client's own cost. Ratios are against the floor measured in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import sys
import time
from pathlib import Path

from .harness import CHUNKINGS, Row, measure, render_markdown
from .runners import available
from .synth import SCENARIOS, chunk_per_event, make_stream

TARGET_RATIO = 3.0


def _args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--deltas", type=int, default=10_000, help="deltas per scenario")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per cell")
    parser.add_argument(
        "--flat", default="1000,10000,100000", help="delta counts of the flat-cost check"
    )
    parser.add_argument(
        "--official-max",
        type=int,
        default=10_000,
        help="skip the official SDK above this many deltas (it costs ~0.1 ms per delta)",
    )
    parser.add_argument("--quick", action="store_true", help="2,000 deltas, 3 repeats, flat 1k/10k")
    parser.add_argument("--scenario", action="append", choices=sorted(SCENARIOS))
    parser.add_argument("--runner", action="append", help="only these contenders (and the floor)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    if args.quick:
        args.deltas, args.repeat, args.flat = 2_000, 3, "1000,10000"
    return args


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    runners = available()
    if args.runner:
        runners = {k: v for k, v in runners.items() if k == "floor" or k in args.runner}
    names = list(runners)
    loop = asyncio.new_event_loop()
    rows: list[Row] = []
    started = time.perf_counter()

    def cell(row: Row, stream_chunks: list[bytes], stream: object, repeats: int) -> None:
        for name, runner in runners.items():
            if name == "official SDK" and row.deltas > args.official_max:
                row.skipped[name] = f"> {args.official_max:,} deltas"
                continue
            reps = repeats if name != "official SDK" else max(1, min(repeats, 3))
            row.results[name] = measure(loop, name, runner, stream, stream_chunks, reps)  # type: ignore[arg-type]

    try:
        for scenario in args.scenario or list(SCENARIOS):
            stream = make_stream(scenario, args.deltas)
            for chunking, split in CHUNKINGS.items():
                chunks = split(stream)
                row = Row(scenario, chunking, stream.deltas, len(stream.body))
                cell(row, chunks, stream, args.repeat)
                rows.append(row)
                print(f"  measured {scenario} / {chunking}", file=sys.stderr)
        flat_rows: list[Row] = []
        for n in (int(x) for x in args.flat.split(",") if x):
            stream = make_stream("long text", n)
            row = Row("long text (flat check)", "1 event/chunk", n, len(stream.body))
            cell(row, chunk_per_event(stream), stream, args.repeat if n <= 10_000 else 2)
            flat_rows.append(row)
            print(f"  measured flat check at {n:,} deltas", file=sys.stderr)
    finally:
        loop.close()

    print(
        f"\nPython {platform.python_version()} on {platform.machine()}, "
        f"{args.repeat} repeats, µs of CPU per delta event (best, median in brackets)\n"
    )
    print(render_markdown(rows, names))
    print("\nFlat cost (per-delta cost should not grow with the stream length):\n")
    print(render_markdown(flat_rows, names))
    worst = max(
        (r.ratio(n) or 0.0, r.scenario, r.chunking, n)
        for r in rows + flat_rows
        for n in names
        if n.startswith("ours")
    )
    verdict = "meets" if worst[0] <= TARGET_RATIO else "MISSES"
    print(
        f"\nWorst ours/floor ratio {worst[0]:.2f} ({worst[3]}, {worst[1]}, {worst[2]}): "
        f"{verdict} the {TARGET_RATIO:g}x target. Total {time.perf_counter() - started:.0f} s."
    )
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "python": platform.python_version(),
                    "repeats": args.repeat,
                    "target_ratio": TARGET_RATIO,
                    "rows": [r.as_json() for r in rows],
                    "flat": [r.as_json() for r in flat_rows],
                },
                indent=1,
            )
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
