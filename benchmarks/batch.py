"""``python -m benchmarks.batch``: the batch runner's own CPU cost per item.

Both contenders make the same requests (create a thread, create a run, poll it once, list the
run's messages) to an in-memory fake API behind ``MockTransport``, so the numbers are client
CPU only, and both write one JSON line per item:

- ``gather``: what one writes by hand, ``asyncio.gather`` under a ``Semaphore`` over
  ``threads.create`` + ``runs.create_and_poll`` + ``messages.list``, ``json.dumps`` per line;
- ``run_batch``: the batch runner (adaptive limit, retries armed, results file, progress).

The ratio ``run_batch / gather`` is the price of the runner's machinery; the target is 1.3x.
Also reported: resuming, i.e. reading back a results file of the same size, per line.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import itertools
import json
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from assistants_async import AsyncAssistants, MockTransport, Request, Response, run_batch
from assistants_async.batch import ResultsFile
from assistants_async.types import TextContentBlock

TARGET_RATIO = 1.3
HEADERS = {"openai-poll-after-ms": "0", "x-request-id": "req_bench"}


class FakeAPI:
    """Just enough of the protocol for one thread, one run and one reply per item."""

    def __init__(self) -> None:
        self.ids = itertools.count()
        self.prompts: dict[str, str] = {}
        self.requests = 0

    def __call__(self, request: Request) -> Response:
        self.requests += 1
        path = request.url.split("/v1", 1)[1].split("?", 1)[0]
        parts = path.strip("/").split("/")
        now = 1_700_000_000
        if parts[0] == "assistants":
            body: dict[str, Any] = {
                "id": parts[1],
                "object": "assistant",
                "created_at": now,
                "model": "m",
            }
        elif parts == ["threads"]:
            thread_id = f"thread_{next(self.ids)}"
            sent = json.loads(request.content or b"{}")
            self.prompts[thread_id] = sent["messages"][0]["content"]
            body = {"id": thread_id, "object": "thread", "created_at": now, "metadata": {}}
        elif len(parts) >= 3 and parts[2] == "runs":
            status = "queued" if request.method == "POST" else "completed"
            run_id = parts[3] if len(parts) > 3 else f"run_{parts[1]}"
            body = {
                "id": run_id,
                "object": "thread.run",
                "created_at": now,
                "thread_id": parts[1],
                "assistant_id": "asst_bench",
                "status": status,
                "model": "m",
                "usage": {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7},
            }
        elif len(parts) == 3 and parts[2] == "messages":
            message = {
                "id": f"msg_{parts[1]}",
                "object": "thread.message",
                "created_at": now,
                "thread_id": parts[1],
                "role": "assistant",
                "run_id": f"run_{parts[1]}",
                "content": [
                    {
                        "type": "text",
                        "text": {"value": "Echo: " + self.prompts[parts[1]], "annotations": []},
                    }
                ],
            }
            body = {
                "object": "list",
                "data": [message],
                "first_id": message["id"],
                "last_id": message["id"],
                "has_more": False,
            }
        else:
            return Response(404, json={"error": {"message": path}}, headers=HEADERS)
        return Response(200, json=body, headers=HEADERS)


def _items(n: int) -> list[dict[str, str]]:
    return [{"id": f"item-{i}", "prompt": f"document {i} " + "x" * 200} for i in range(n)]


async def by_hand(client: AsyncAssistants, items: list[dict[str, str]], out: Path, c: int) -> None:
    sem = asyncio.Semaphore(c)
    with out.open("w") as file:

        async def one(item: dict[str, str]) -> None:
            async with sem:
                thread = await client.threads.create(
                    messages=[{"role": "user", "content": item["prompt"]}]
                )
                run = await client.threads.runs.create_and_poll(
                    thread_id=thread.id, assistant_id="asst_bench"
                )
                page = await client.threads.messages.list(thread.id, run_id=run.id, order="asc")
                text = [
                    b.text.value
                    for m in page.data
                    for b in m.content
                    if isinstance(b, TextContentBlock)
                ]
                line = {"id": item["id"], "status": run.status, "output": "\n\n".join(text)}
                file.write(json.dumps(line) + "\n")
                file.flush()

        await asyncio.gather(*(one(item) for item in items))


async def with_runner(
    client: AsyncAssistants, items: list[dict[str, str]], out: Path, c: int
) -> None:
    summary = await run_batch(
        client,
        items,
        assistant_id="asst_bench",
        results=out,
        concurrency=c,
        on_progress=lambda p: None,
    )
    assert summary.completed == len(items), summary.statuses


Contender = Callable[[AsyncAssistants, list[dict[str, str]], Path, int], Awaitable[None]]
CONTENDERS: dict[str, Contender] = {"gather": by_hand, "run_batch": with_runner}


def _cpu(contender: Contender, n: int, c: int, folder: Path) -> tuple[float, int]:
    """CPU seconds for ``n`` items, and the number of requests they made."""

    async def go() -> tuple[float, int]:
        out = folder / f"{contender.__name__}.jsonl"
        out.unlink(missing_ok=True)
        api = FakeAPI()
        async with AsyncAssistants(
            api_key="sk-bench",
            base_url="http://127.0.0.1:9/v1",
            transport=MockTransport(api),
        ) as client:
            items = _items(n)
            gc.collect()
            started = time.process_time()
            await contender(client, items, out, c)
            return time.process_time() - started, api.requests

    return asyncio.run(go())


def run(n: int, c: int, repeat: int) -> dict[str, Any]:
    best: dict[str, float] = {}
    requests: dict[str, int] = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for _ in range(repeat):  # round-robin: a slow patch of the machine hits both
            for name, contender in CONTENDERS.items():
                cpu, requests[name] = _cpu(contender, n, c, folder)
                best[name] = min(best.get(name, cpu), cpu)
        results = folder / "with_runner.jsonl"
        load = []
        for _ in range(repeat):
            started = time.process_time()
            loaded = ResultsFile(results).load()
            load.append(time.process_time() - started)
        assert len(loaded) == n
    per_item = {name: seconds / n * 1e6 for name, seconds in best.items()}
    return {
        "items": n,
        "concurrency": c,
        "us_per_item": per_item,
        "ratio": per_item["run_batch"] / per_item["gather"],
        "requests": requests,
        "resume_us_per_line": min(load) / n * 1e6,
    }


def report(result: dict[str, Any]) -> str:
    per = result["us_per_item"]
    ratio = result["ratio"]
    lines = [
        f"Batch runner, {result['items']} items at concurrency {result['concurrency']} "
        "(client CPU per item, best of the repeats):",
        f"  gather by hand  {per['gather']:8.1f} µs",
        f"  run_batch       {per['run_batch']:8.1f} µs  ({ratio:.2f}× gather; target "
        f"≤ {TARGET_RATIO}×: {'met' if ratio <= TARGET_RATIO else 'MISSED'})",
        f"  resume: reading the results file back, {result['resume_us_per_line']:.1f} µs per line",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.batch", description=__doc__)
    parser.add_argument("--items", type=int, default=5_000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    result = run(args.items, args.concurrency, args.repeat)
    print(report(result))
    return 0 if result["ratio"] <= TARGET_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
