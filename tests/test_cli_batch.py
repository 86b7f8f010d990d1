"""``python -m assistants_async batch``: input formats, results, resume, exit status, Ctrl-C."""

from __future__ import annotations

import functools
import io
import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_cli import CLI, REPO, _env, _run_cli

from assistants_async.cli import build_parser
from assistants_async.cli._batch import batch, read_items, results_path_for
from assistants_async.cli._render import Printer
from assistants_async.testing import AssistantsServer, Fail, ScriptedModel


def records(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_input_lines_are_items_or_plain_prompts() -> None:
    text = "\n".join(["plain prompt", '{"id": "j", "prompt": "json prompt"}', "", "[1, 2]", ""])
    got = [(i.id, i.prompt) for i in read_items(io.StringIO(text))]
    assert got == [("line-1", "plain prompt"), ("j", "json prompt"), ("line-4", "[1, 2]")]
    with pytest.raises(ValueError, match="line 2: "):
        read_items(io.StringIO('ok\n{"id": "no prompt"}\n'))


def test_default_results_path_sits_next_to_the_input() -> None:
    assert results_path_for("data/prompts.jsonl") == Path("data/prompts.results.jsonl")
    assert results_path_for("-") == Path("batch-results.jsonl")


def test_concurrency_must_be_positive() -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["batch", "x", "--concurrency", "0"])


@pytest.mark.timeout(45)
def test_batch_runs_a_file_and_a_second_run_resumes(tmp_path: Path) -> None:
    source = tmp_path / "prompts.txt"
    source.write_text(
        'hello batch\n{"id": "w", "prompt": "call get_weather {\\"city\\": \\"Rome\\"}"}\n'
    )
    proc = _run_cli("--plain", "batch", str(source), "--concurrency", "2")
    assert proc.returncode == 0, proc.stderr + proc.stdout
    assert re.search(r"^\[\d/2\] w completed \(\d+ ms\)$", proc.stdout, flags=re.M)
    assert "items: 2 (0 already done)" in proc.stdout
    assert "statuses: completed 2" in proc.stdout
    results = tmp_path / "prompts.results.jsonl"
    outputs = {r["id"]: r["output"] for r in records(results)}
    assert outputs == {
        "line-1": "Echo: hello batch",
        "w": "get_weather returned: sunny, 21 C in Rome",
    }

    again = _run_cli("--plain", "batch", str(source))
    assert again.returncode == 0, again.stderr
    assert "items: 2 (2 already done)" in again.stdout
    assert len(records(results)) == 2


def test_bad_input_exits_2_with_the_line(tmp_path: Path) -> None:
    source = tmp_path / "bad.jsonl"
    source.write_text('{"id": "a", "prompt": "x"}\n{"id": "b"}\n')
    proc = _run_cli("batch", str(source))
    assert proc.returncode == 2
    assert "line 2: " in proc.stderr and "Traceback" not in proc.stderr
    missing = _run_cli("batch", str(tmp_path / "nope.txt"))
    assert missing.returncode == 2 and "nope.txt" in missing.stderr


async def test_items_that_do_not_complete_give_exit_status_1(tmp_path: Path) -> None:
    model = ScriptedModel(rules=[("doomed", Fail("broken", code="server_error"))])
    source = tmp_path / "in.txt"
    source.write_text("fine\ndoomed\n")
    buffer = io.StringIO()
    async with AssistantsServer(model) as server:
        code = await batch(
            Printer(buffer),
            source=str(source),
            results=str(tmp_path / "out.jsonl"),
            concurrency=2,
            base_url=server.url,
            assistant_id=None,
            api_key="sk-test",
            model="gpt-4o",
            retry_failed=False,
            item_timeout=None,
            delete_threads=False,
        )
    assert code == 1
    assert "statuses: completed 1, failed 1" in buffer.getvalue()
    assert {r["id"]: r["status"] for r in records(tmp_path / "out.jsonl")} == {
        "line-1": "completed",
        "line-2": "failed",
    }


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.timeout(60)
def test_ctrl_c_leaves_whole_lines_and_the_same_command_finishes_the_rest(tmp_path: Path) -> None:
    source = tmp_path / "many.txt"
    total = 600
    source.write_text("".join(f"prompt {i}\n" for i in range(total)))
    results = tmp_path / "many.results.jsonl"
    proc = subprocess.Popen(
        [*CLI, "--plain", "batch", str(source)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
        cwd=REPO,
        preexec_fn=functools.partial(signal.signal, signal.SIGINT, signal.SIG_DFL),
    )
    try:
        deadline = time.monotonic() + 30
        while not (results.exists() and results.read_bytes().count(b"\n") >= 20):
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.02)  # watching a file another process writes
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert re.search(r"stopped after \d+ items; results so far are in .* resumes", err)
    first = records(results)  # every line whole
    assert 20 <= len(first) < total

    again = _run_cli("--plain", "batch", str(source), timeout=60)
    assert again.returncode == 0, again.stderr
    assert f"items: {total} ({len(first)} already done)" in again.stdout
    ids = [r["id"] for r in records(results)]
    assert sorted(ids) == sorted(f"line-{i + 1}" for i in range(total))
