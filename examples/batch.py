"""A batch job: many prompts, bounded concurrency, a resumable results file.

The first pass is stopped after a few items, as a crash or Ctrl-C would stop it; the second
pass skips what is already in the results file and finishes the rest. Part of the second pass
meets 429s from the server, and the runner lowers its concurrency until they stop.

    python examples/batch.py
"""

from __future__ import annotations

import asyncio
import json
import tempfile
from pathlib import Path

from assistants_async import (
    AsyncAssistants,
    BatchProgress,
    Toolbox,
    function_tool,
    run_batch,
)
from assistants_async.testing import AssistantsServer, Respond


@function_tool
async def get_weather(city: str) -> str:
    """Current weather in a city."""
    return f"sunny, 21 C in {city}"


PROMPTS = [f"Summarise document {n}" for n in range(1, 19)]
ITEMS = [{"id": f"doc-{n:02d}", "prompt": p} for n, p in enumerate(PROMPTS, start=1)]
ITEMS += [{"id": "weather", "prompt": 'call get_weather {"city": "Lisbon"}'}]


async def main() -> None:
    results = Path(tempfile.mkdtemp()) / "results.jsonl"
    toolbox = Toolbox([get_weather])
    async with AssistantsServer() as server:
        # max_retries=0: the batch runner retries on its own and adapts its concurrency to
        # 429s; client-level retries would hide them from it.
        async with AsyncAssistants(
            api_key="sk-local", base_url=server.url, max_retries=0
        ) as client:
            assistant = await client.assistants.create(model="gpt-4o", tools=toolbox.definitions())

            # Pass 1: cancelled once 5 items are done, as a crash or Ctrl-C would stop it.
            def stop_after_five(progress: BatchProgress) -> None:
                if progress.finished == 5:
                    job.cancel()

            job = asyncio.create_task(
                run_batch(
                    client,
                    ITEMS,
                    assistant_id=assistant.id,
                    results=results,
                    concurrency=4,
                    toolbox=toolbox,
                    on_progress=stop_after_five,
                )
            )
            await asyncio.gather(job, return_exceptions=True)
            print(f"pass 1 stopped: {len(results.read_text().splitlines())} results on disk")

            # Pass 2: the server now answers some run creations with 429 (retry-after 0.2 s).
            server.faults.add("POST", "/threads/*/runs", Respond(429, retry_after=0.2), times=6)
            summary = await run_batch(
                client,
                ITEMS,
                assistant_id=assistant.id,
                results=results,
                concurrency=4,
                toolbox=toolbox,
            )
            print(f"pass 2: skipped {summary.skipped}, finished {summary.finished}")
            print(
                f"rate limited {summary.rate_limited} times, concurrency went down to "
                f"{summary.min_limit}"
            )
            print(f"statuses: {dict(summary.statuses)}")

    lines = [json.loads(line) for line in results.read_text().splitlines()]
    print(f"results file: {len(lines)} lines, {len({r['id'] for r in lines})} distinct items")
    weather = next(r for r in lines if r["id"] == "weather")
    print(f"weather: {weather['output']}")


if __name__ == "__main__":
    asyncio.run(main())
