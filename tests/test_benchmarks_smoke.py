"""The benchmark harness runs end to end (tiny sizes; no timing is asserted)."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.__main__ import _args, main, report, run
from benchmarks.synth import SCENARIOS


def test_quick_run_has_every_row_and_contender(tmp_path: Path) -> None:
    args = _args(
        ["--quick", "--deltas", "40", "--repeat", "1", "--flat", "20,60", "--memory", "30"]
    )
    result = run(args)
    names = result["runners"]
    assert isinstance(names, list)
    assert {"floor", "EventStream", "AssistantStream", "official SDK"} <= set(names)
    rows = result["rows"]
    assert isinstance(rows, list)
    assert [(r.scenario, r.chunking) for r in rows] == [
        (s, c) for s in SCENARIOS for c in ("1 event/chunk", "64 KiB chunks")
    ]
    for row in rows:
        assert set(row.results) == set(names), row
        assert all(m.best_us > 0 for m in row.results.values())
    flat = result["flat"]
    assert isinstance(flat, list)
    assert [r.deltas for r in flat] == [20, 60]
    memory = result["memory"]
    assert isinstance(memory, list)
    assert [r.deltas for r in memory] == [30]
    assert set(memory[0].peak) == set(names)
    # Reading a stream allocates: a zero peak would mean tracing saw nothing.
    assert all(peak > 0 for peak in memory[0].peak.values())
    text = report(result)
    for scenario in SCENARIOS:
        assert scenario in text
    assert "×floor" in text and "60k" not in text and "Worst ours/floor ratio" in text
    assert "Peak memory" in text and "Largest peak memory of ours" in text


def test_json_output(tmp_path: Path, capsys: object) -> None:
    out = tmp_path / "bench.json"
    argv = ["--quick", "--deltas", "20", "--repeat", "1", "--flat", "20,40", "--memory", ""]
    argv += ["--scenario", "long text", "--runner", "AssistantStream", "--json", str(out)]
    assert main(argv) == 0
    data = json.loads(out.read_text())
    assert [r["scenario"] for r in data["rows"]] == ["long text", "long text"]
    assert set(data["rows"][0]["results"]) == {"floor", "AssistantStream"}
    assert data["rows"][0]["ratios_vs_floor"]["AssistantStream"] > 0
    assert len(data["flat"]) == 2
    assert data["memory"] == []  # --memory "" skips the memory check


def test_batch_benchmark_runs_both_contenders_on_the_same_requests() -> None:
    from benchmarks import batch

    result = batch.run(60, 8, 1)
    assert result["items"] == 60
    assert set(result["us_per_item"]) == {"gather", "run_batch"}
    assert all(us > 0 for us in result["us_per_item"].values())
    assert result["ratio"] > 0 and result["resume_us_per_line"] > 0
    # four requests per item each; run_batch also checks the assistant once up front
    assert result["requests"] == {"gather": 4 * 60, "run_batch": 4 * 60 + 1}
    text = batch.report(result)
    assert "run_batch" in text and "× gather" in text and "per line" in text
