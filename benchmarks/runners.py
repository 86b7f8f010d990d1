"""The contenders. Each consumes the same list of byte chunks end to end and returns the number
of events it handled; everything runs in memory (mock transports, no sockets).

- ``floor``: split on blank lines, ``json.loads`` each data payload. No validation, no
  accumulation: the least any Python client must do.
- ``ours_pipeline``: SSEDecoder -> parse_event -> RunAccumulator over a MockTransport
  ``Response`` body, then the final messages and run steps are materialised: the same work
  as ``AssistantStream`` without its async plumbing (how much that plumbing costs).
- ``ours_events``: the public ``EventStream`` (what ``create(..., stream=True)`` returns):
  decode + validate, no accumulation.
- ``ours_stream``: the public ``AssistantStream`` reading a MockTransport response (decode +
  validate + accumulate), ``async for`` over every event, then the final snapshots.
- ``official``: openai-python's ``AsyncOpenAI().beta.threads.runs.stream(...)`` with its default
  ``AsyncAssistantEventHandler`` over an ``httpx.MockTransport`` (openai 3.x ships on the
  ``httpx2`` fork, older ones on ``httpx``), ``async for`` over every event then
  ``until_done()``; its handler accumulates snapshots as it goes, like ``AssistantStream``.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from assistants_async._transport import MockTransport, Request, Response
from assistants_async.sse import SSEDecoder
from assistants_async.streaming.accumulate import RunAccumulator
from assistants_async.streaming.events import parse_event
from assistants_async.streaming.stream import AssistantStream, EventStream

__all__ = ["Runner", "available", "floor", "ours_events", "ours_pipeline", "ours_stream"]

Runner = Callable[[list[bytes]], Awaitable[int]]
_SSE_HEADERS = {"content-type": "text/event-stream; charset=utf-8"}


async def _chunks(chunks: list[bytes]) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk


def _transport(chunks: list[bytes]) -> MockTransport:
    def handler(request: Request) -> Response:
        return Response(200, headers=_SSE_HEADERS, stream=_chunks(chunks))

    return MockTransport(handler)


async def floor(chunks: list[bytes]) -> int:
    """Plain bytes work with no async source: a generous floor for everyone else."""
    buffer = b""
    count = 0
    loads = json.loads
    for chunk in chunks:
        buffer += chunk
        blocks = buffer.split(b"\n\n")
        buffer = blocks.pop()
        for block in blocks:
            data = block[block.index(b"data: ") + 6 :]
            if data != b"[DONE]":
                loads(data)
                count += 1
    return count


async def ours_pipeline(chunks: list[bytes]) -> int:
    transport = _transport(chunks)
    response = await transport.send(Request("POST", "http://bench.invalid/v1/threads/t/runs"))
    decoder = SSEDecoder()
    accumulator = RunAccumulator()
    count = 0
    async for chunk in response.aiter_bytes():
        for sse in decoder.decode(chunk):
            event = parse_event(sse)
            if event is None:
                break
            accumulator.accumulate(event)
            count += 1
    decoder.flush()
    await response.aclose()
    accumulator.final_messages()
    accumulator.final_run_steps()
    return count


def _opener(chunks: list[bytes]) -> Callable[[], Awaitable[Response]]:
    transport = _transport(chunks)

    async def opener() -> Response:
        return await transport.send(Request("POST", "http://bench.invalid/v1/threads/t/runs"))

    return opener


async def ours_events(chunks: list[bytes]) -> int:
    count = 0
    async with EventStream(_opener(chunks)) as stream:
        async for _event in stream:
            count += 1
    return count


async def ours_stream(chunks: list[bytes]) -> int:
    count = 0
    async with AssistantStream(_opener(chunks)) as stream:
        async for _event in stream:
            count += 1
        await stream.until_done()
        await stream.final_messages()
        await stream.final_run_steps()
    return count


def _official() -> Runner | None:
    try:
        import openai
    except ImportError:
        return None
    import importlib

    httpx: Any
    try:
        httpx = importlib.import_module("httpx2")  # openai 3.x is built on the httpx2 fork
    except ImportError:
        httpx = importlib.import_module("httpx")

    async def official(chunks: list[bytes]) -> int:
        async def body() -> AsyncIterator[bytes]:
            for chunk in chunks:
                yield chunk

        def handler(request: Any) -> Any:
            return httpx.Response(200, headers=_SSE_HEADERS, content=body())

        http_client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
        client = openai.AsyncOpenAI(
            api_key="sk-bench", base_url="http://bench.invalid/v1", http_client=http_client
        )
        count = 0
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            manager = client.beta.threads.runs.stream(thread_id="thread_1", assistant_id="asst_1")
            async with manager as stream:
                async for _event in stream:
                    count += 1
                await stream.until_done()
        await client.close()
        return count

    return official


def available() -> dict[str, Runner]:
    """The contenders installed in this environment, in table order."""
    runners: dict[str, Runner | None] = {
        "floor": floor,
        "ours (pipeline)": ours_pipeline,
        "EventStream": ours_events,
        "AssistantStream": ours_stream,
        "official SDK": _official(),
    }
    return {name: fn for name, fn in runners.items() if fn is not None}
