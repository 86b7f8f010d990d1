"""to_sse / to_ndjson on the sending side, from_sse / from_ndjson on the receiving side."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from assistants_async import _errors as errors
from assistants_async._transport import Response
from assistants_async.streaming.handler import AsyncEventHandler
from assistants_async.streaming.proxy import NDJSONDecoder
from assistants_async.streaming.stream import AssistantStream

RECORDED = [
    "ruby-openai_runs_streamed_create_1.sse",
    "simple-openai_threads_runs_createthreadandrun_stream_1.sse",
    "simple-openai_threads_runssteps_delta.sse",
]


async def chunks_of(data: bytes, size: int) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def opener(data: bytes, size: int = 977) -> Any:
    async def open_() -> Response:
        return Response(
            200, headers={"content-type": "text/event-stream"}, stream=chunks_of(data, size)
        )

    return open_


async def collect(stream: AssistantStream[Any]) -> dict[str, Any]:
    async with stream:
        events = [event.model_dump() async for event in stream]
        return {
            "events": events,
            "messages": [m.model_dump() for m in await stream.final_messages()],
            "steps": [s.model_dump() for s in await stream.final_run_steps()],
            "run": (await stream.final_run()).model_dump(),
        }


async def forwarded(raw: bytes, fmt: str) -> bytes:
    out = bytearray()
    async with AssistantStream(opener(raw)) as stream:
        source = stream.to_sse() if fmt == "sse" else stream.to_ndjson()
        async for piece in source:
            out += piece
    return bytes(out)


@pytest.mark.parametrize("name", RECORDED)
@pytest.mark.parametrize("fmt", ["sse", "ndjson"])
async def test_round_trip_gives_identical_events_and_snapshots(
    shared_dir: Path, name: str, fmt: str
) -> None:
    raw = (shared_dir / "recorded-streams" / name).read_bytes()
    original = await collect(AssistantStream(opener(raw)))
    wire = await forwarded(raw, fmt)
    # the receiving side gets the bytes in arbitrary pieces
    rebuilt_stream: AssistantStream[Any] = (
        AssistantStream.from_sse(chunks_of(wire, 101))
        if fmt == "sse"
        else AssistantStream.from_ndjson(chunks_of(wire, 101))
    )
    assert await collect(rebuilt_stream) == original


async def test_ndjson_lines_have_the_documented_shape(shared_dir: Path) -> None:
    raw = (shared_dir / "recorded-streams" / RECORDED[0]).read_bytes()
    lines = (await forwarded(raw, "ndjson")).decode().splitlines()
    records = [json.loads(line) for line in lines]
    assert all(set(r) == {"event", "data"} for r in records)
    assert records[0]["event"] == "thread.run.created"
    assert records[-1]["event"] == "thread.run.completed"
    assert len(records) == 25  # the recording's 26 events minus its `done`


async def test_sse_forwarding_keeps_the_servers_json_text(shared_dir: Path) -> None:
    raw = (shared_dir / "recorded-streams" / RECORDED[0]).read_bytes()
    wire = await forwarded(raw, "sse")
    assert wire.endswith(b"event: done\ndata: [DONE]\n\n")
    assert wire == raw  # this recording is already in canonical form: byte-identical


async def test_callbacks_fire_on_the_receiving_side(shared_dir: Path) -> None:
    raw = (shared_dir / "recorded-streams" / RECORDED[1]).read_bytes()
    wire = await forwarded(raw, "ndjson")

    class Texts(AsyncEventHandler):
        parts: list[str] = []

        async def on_text_delta(self, delta: Any, snapshot: Any) -> None:
            self.parts.append(delta.value)

    handler = Texts()
    async with AssistantStream.from_ndjson(chunks_of(wire, 64), event_handler=handler) as s:
        [message] = await s.final_messages()
    assert "".join(handler.parts) == message.content[0].text.value


def _sse(name: str, data: Any) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data)}\n\n".encode()


RUN = {
    "id": "run_1",
    "object": "thread.run",
    "created_at": 1,
    "thread_id": "thread_1",
    "assistant_id": "asst_1",
    "status": "in_progress",
    "model": "m",
}


@pytest.mark.parametrize("fmt", ["sse", "ndjson"])
async def test_a_server_error_is_forwarded_and_raised_on_both_sides(fmt: str) -> None:
    raw = _sse("thread.run.created", RUN) + _sse("error", {"code": "server_error", "message": "x"})
    out = bytearray()
    with pytest.raises(errors.ServerStreamError):
        async with AssistantStream(opener(raw)) as stream:
            async for piece in stream.to_sse() if fmt == "sse" else stream.to_ndjson():
                out += piece
    receive = AssistantStream.from_sse if fmt == "sse" else AssistantStream.from_ndjson
    with pytest.raises(errors.ServerStreamError) as info:
        async with receive(chunks_of(bytes(out), 7)) as stream:
            await stream.until_done()
    assert info.value.code == "server_error"


@pytest.mark.parametrize("fmt", ["sse", "ndjson"])
async def test_a_cut_off_sender_is_not_a_finished_stream_on_the_receiver(fmt: str) -> None:
    raw = _sse("thread.run.created", RUN)  # then EOF: incomplete
    out = bytearray()
    with pytest.raises(errors.StreamIncompleteError):
        async with AssistantStream(opener(raw)) as stream:
            async for piece in stream.to_sse() if fmt == "sse" else stream.to_ndjson():
                out += piece
    receive = AssistantStream.from_sse if fmt == "sse" else AssistantStream.from_ndjson
    with pytest.raises(errors.ServerStreamError) as info:
        async with receive(chunks_of(bytes(out), 5)) as stream:
            await stream.until_done()
    assert info.value.code == "StreamIncompleteError"


def test_ndjson_decoder_rejects_garbage_and_caps_lines() -> None:
    with pytest.raises(errors.StreamDecodeError):
        NDJSONDecoder().decode(b"{not json}\n")
    with pytest.raises(errors.StreamDecodeError):
        NDJSONDecoder().decode(b'["event", "data"]\n')
    with pytest.raises(errors.EventTooLargeError):
        NDJSONDecoder(max_line_bytes=10).decode(b'{"event": "x", "data": 12345678}')


def test_ndjson_decoder_takes_a_last_line_without_newline() -> None:
    decoder = NDJSONDecoder()
    [first] = decoder.decode(b'{"event": "a", "data": {"k": 1}}\n{"event": "b", ')
    assert first.event == "a" and json.loads(first.data) == {"k": 1}
    assert decoder.decode(b'"data": "t"}') == []
    [last] = decoder.flush()
    assert (last.event, last.data) == ("b", "t")


async def test_to_ndjson_enters_and_closes_a_stream_it_was_given_unopened(
    shared_dir: Path,
) -> None:
    raw = (shared_dir / "recorded-streams" / RECORDED[0]).read_bytes()
    closed: list[bool] = []

    async def on_close() -> None:
        closed.append(True)

    async def open_() -> Response:
        return Response(
            200,
            headers={"content-type": "text/event-stream"},
            stream=chunks_of(raw, 500),
            on_close=on_close,
        )

    stream: AssistantStream[Any] = AssistantStream(open_)
    lines = [line async for line in stream.to_ndjson()]
    assert len(lines) == 25
    assert closed == [True]


async def test_a_consumer_that_stops_early_closes_the_unopened_stream() -> None:
    closed: list[bool] = []

    async def endless() -> AsyncIterator[bytes]:
        yield _sse("thread.run.created", RUN)
        while True:
            yield _sse("thread.run.in_progress", RUN)

    async def on_close() -> None:
        closed.append(True)

    async def open_() -> Response:
        return Response(
            200, headers={"content-type": "text/event-stream"}, stream=endless(), on_close=on_close
        )

    body = AssistantStream(open_).to_sse()
    assert (await body.__anext__()).startswith(b"event: thread.run.created")
    await body.aclose()  # what a web framework does when the browser goes away
    assert closed == [True]


async def test_a_raw_event_stream_can_be_forwarded_too(shared_dir: Path) -> None:
    from assistants_async.streaming.stream import EventStream

    raw = (shared_dir / "recorded-streams" / RECORDED[0]).read_bytes()
    out = bytearray()
    async with EventStream(opener(raw)) as events:
        async for piece in events.to_sse():
            out += piece
    assert bytes(out) == raw


async def test_from_ndjson_honours_the_line_cap() -> None:
    line = json.dumps({"event": "thread.run.created", "data": {**RUN, "pad": "x" * 2000}})
    with pytest.raises(errors.EventTooLargeError):
        async with AssistantStream.from_ndjson(
            chunks_of(line.encode() + b"\n", 100), max_event_bytes=1000
        ) as stream:
            await stream.until_done()
