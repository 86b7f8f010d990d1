"""``batch``: run a JSONL (or plain text) file of prompts through ``run_batch``.

Each input line is a ``BatchItem`` object (``{"id": ..., "prompt": ...}``) or, when it is not
a JSON object, a prompt whose id is ``line-N``. Results go to a JSONL file next to the input;
running the same command again resumes. The embedded server is used unless ``--base-url``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from ..batch import BatchItem, BatchProgress, BatchSummary, run_batch
from ..tools import Toolbox
from ._commands import in_daemon_thread, open_client, server_or
from ._render import Printer
from ._turns import get_weather

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

__all__ = ["batch", "read_items", "results_path_for"]


def read_items(lines: TextIO) -> list[BatchItem]:
    """Items from JSONL; a line that is not a JSON object is a prompt with id ``line-N``."""
    items: list[BatchItem] = []
    for number, line in enumerate(lines, start=1):
        text = line.rstrip("\r\n")
        if not text.strip():
            continue
        try:
            data: Any = json.loads(text)
        except ValueError:
            data = None
        if isinstance(data, dict):
            try:
                items.append(BatchItem.model_validate(data))
            except ValueError as exc:
                raise ValueError(f"line {number}: {exc}") from None
        else:
            items.append(BatchItem(id=f"line-{number}", prompt=text))
    return items


def _load(source: str) -> list[BatchItem]:
    if source == "-":
        return read_items(sys.stdin)
    with open(source, encoding="utf-8") as file:
        return read_items(file)


def results_path_for(source: str) -> Path:
    if source == "-":
        return Path("batch-results.jsonl")
    path = Path(source)
    return path.with_name(path.stem + ".results.jsonl")


class _Display:
    """A rich progress bar on a terminal; one plain line per finished item elsewhere."""

    def __init__(self, out: Printer) -> None:
        self.out = out
        self.bar: Progress | None = None
        self.task: TaskID | None = None
        self.finished = 0

    def __enter__(self) -> _Display:
        if self.out.console is not None:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

            self.bar = Progress(
                "[progress.description]{task.description}",
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                "{task.fields[detail]}",
                console=self.out.console,
                transient=True,
            )
            self.bar.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)

    def __call__(self, p: BatchProgress) -> None:
        todo = p.total - p.skipped
        self.finished = p.finished
        detail = f"in flight {p.in_flight}/{p.limit}, rate limited {p.rate_limited}"
        if self.bar is not None:
            if self.task is None:
                self.task = self.bar.add_task("batch", total=todo, detail=detail)
            self.bar.update(self.task, completed=p.finished, detail=detail)
        if p.last is not None:
            r = p.last
            line = f"[{p.finished:>{len(str(todo))}}/{todo}] {r.id} {r.status}"
            line += f" ({r.duration * 1000:.0f} ms"
            line += f", {r.attempts} runs" if r.attempts > 1 else ""
            line += f", {r.rate_limited} rate limited)" if r.rate_limited else ")"
            if self.bar is None:
                self.out.info(line)
            elif not r.ok:
                self.bar.console.print(line, style="yellow", markup=False, highlight=False)


def _summary_rows(summary: BatchSummary) -> list[tuple[str, str]]:
    rate = summary.finished / summary.elapsed if summary.elapsed > 0 else 0.0
    rows = [
        ("items", f"{summary.total} ({summary.skipped} already done)"),
        ("finished now", f"{summary.finished} in {summary.elapsed:.2f} s ({rate:.1f}/s)"),
        ("statuses", ", ".join(f"{k} {v}" for k, v in sorted(summary.statuses.items())) or "-"),
        ("rate limited", f"{summary.rate_limited} (lowest concurrency {summary.min_limit})"),
    ]
    if summary.results_path is not None:
        rows.append(("results", str(summary.results_path)))
    return rows


async def batch(
    out: Printer,
    *,
    source: str,
    results: str | None,
    concurrency: int,
    base_url: str | None,
    assistant_id: str | None,
    api_key: str | None,
    model: str,
    retry_failed: bool,
    item_timeout: float | None,
    delete_threads: bool,
) -> int:
    """Run every item of ``source``; exit status 1 when any item did not complete."""
    try:
        items = await in_daemon_thread(lambda: _load(source))
    except (OSError, ValueError) as exc:
        out.error(str(exc))
        return 2
    results_path = Path(results) if results is not None else results_path_for(source)
    async with server_or(base_url) as url:
        client = open_client(out, url, base_url=base_url, api_key=api_key)
        if client is None:
            return 2
        async with client:
            toolbox: Toolbox | None = None
            if assistant_id is None:
                toolbox = Toolbox([get_weather])  # quiet: one line per item, not per call
                created = await client.assistants.create(
                    model=model,
                    instructions="Answer briefly; use get_weather for the weather.",
                    tools=toolbox.definitions(),
                )
                assistant_id = created.id
            out.info(f"{len(items)} items for {assistant_id} on {url}; results: {results_path}")
            with _Display(out) as display:
                run = run_batch(
                    client,
                    items,
                    assistant_id=assistant_id,
                    results=results_path,
                    concurrency=concurrency,
                    toolbox=toolbox,
                    retry_failed=retry_failed,
                    item_timeout=item_timeout,
                    delete_threads=delete_threads,
                    on_progress=display,
                )
                try:
                    summary = await run
                except BaseException:
                    out.error(
                        f"stopped after {display.finished} items; results so far are in "
                        f"{results_path} and the same command resumes"
                    )
                    raise
    out.summary("batch", _summary_rows(summary))
    return 0 if summary.failed == 0 else 1
