"""Loopback server fault injection, seen from a raw aiohttp client: each fault kind really
happens on the wire (the client library's reactions are tested elsewhere)."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from test_server_support import Event, parse_sse

from assistants_async.testing import (
    AssistantsServer,
    ByteByByte,
    CutStream,
    Disconnect,
    DripEvents,
    EndlessLine,
    ErrorEvent,
    InjectRaw,
    KeepAliveOnly,
    MalformedEvent,
    OversizedEvent,
    Respond,
    Stall,
    StallStream,
    TruncatedChunk,
    UnknownEvents,
)

RUN_EVENTS_AFTER_CREATE = 16  # create-and-run of "hello world": thread.created ... run.completed


async def instant(seconds: float) -> None:
    if seconds >= 60:
        await asyncio.Event().wait()
    await asyncio.sleep(0)


class Wire:
    """A started server, a raw session and one assistant."""

    def __init__(self, server: AssistantsServer, session: aiohttp.ClientSession) -> None:
        self.server = server
        self.session = session
        self.assistant_id = ""

    @property
    def faults(self) -> Any:
        return self.server.faults

    def url(self, path: str) -> str:
        return self.server.url + path

    def run_body(self, **extra: Any) -> dict[str, Any]:
        thread = {"messages": [{"role": "user", "content": "hello world"}]}
        return {"assistant_id": self.assistant_id, "thread": thread, **extra}

    def stream_request(self) -> Any:
        return self.session.post(self.url("/threads/runs"), json=self.run_body(stream=True))

    async def stream(self) -> tuple[bytes, list[Event]]:
        async with self.stream_request() as response:
            assert response.status == 200
            raw = await response.read()
        return raw, parse_sse(raw.decode("utf-8", "replace"))


@pytest.fixture
async def wire() -> AsyncIterator[Wire]:
    async with AssistantsServer(sleep=instant) as server, aiohttp.ClientSession() as session:
        w = Wire(server, session)
        async with session.post(w.url("/assistants"), json={"model": "gpt-4o"}) as r:
            w.assistant_id = (await r.json())["id"]
        yield w


def event_names(events: list[Event]) -> list[str]:
    return [e.event for e in events]


# -- request level ------------------------------------------------------------------------------


async def test_unfaulted_stream_is_the_baseline(wire: Wire) -> None:
    _, events = await wire.stream()
    assert len(events) == RUN_EVENTS_AFTER_CREATE + 1
    assert events[-2].event == "thread.run.completed" and events[-1].event == "done"
    record = wire.server.requests[-1].stream
    assert record is not None and record.completed
    assert record.events_sent == RUN_EVENTS_AFTER_CREATE


async def test_respond_with_retry_after_then_normal_service(wire: Wire) -> None:
    wire.faults.add("POST", "/threads/runs", Respond(429, retry_after=2), times=2)
    for _ in range(2):
        async with wire.session.post(wire.url("/threads/runs"), json=wire.run_body()) as r:
            assert r.status == 429
            assert r.headers["retry-after"] == "2"
            assert "retry-after-ms" not in r.headers
            body = await r.json()
            assert body["error"]["type"] == "requests"
            assert body["error"]["code"] == "rate_limit_exceeded"
    assert wire.server.runs_created() == 0  # the request was never handled
    async with wire.session.post(wire.url("/threads/runs"), json=wire.run_body()) as r:
        assert r.status == 200
    assert wire.server.runs_created() == 1


async def test_respond_with_retry_after_ms_and_should_retry(wire: Wire) -> None:
    wire.faults.add(
        "GET", "/assistants/*", Respond(503, retry_after_ms=250, should_retry=False), times=None
    )
    for _ in range(3):  # times=None: every matching request
        async with wire.session.get(wire.url(f"/assistants/{wire.assistant_id}")) as r:
            assert r.status == 503
            assert r.headers["retry-after-ms"] == "250"
            assert r.headers["x-should-retry"] == "false"
            assert (await r.json())["error"]["type"] == "server_error"
    async with wire.session.get(wire.url("/assistants")) as r:  # other routes unaffected
        assert r.status == 200


async def test_respond_with_html_or_malformed_json(wire: Wire) -> None:
    truncated = '{"object": "list", "da'
    wire.faults.add("GET", "/assistants", Respond(502, html_size=5000))
    wire.faults.add(
        "GET", "/assistants", Respond(200, text=truncated, content_type="application/json")
    )
    async with wire.session.get(wire.url("/assistants")) as r:
        assert r.status == 502 and r.content_type == "text/html"
        assert len(await r.read()) == 5000
    async with wire.session.get(wire.url("/assistants")) as r:
        assert r.status == 200 and r.content_type == "application/json"
        assert await r.text() == truncated
        with pytest.raises(json.JSONDecodeError):
            await r.json()


@pytest.mark.parametrize("reset", [False, True])
async def test_disconnect_before_handling_creates_nothing(wire: Wire, reset: bool) -> None:
    wire.faults.add("POST", "/threads/runs", Disconnect(reset=reset))
    with pytest.raises(aiohttp.ClientError):
        async with wire.session.post(wire.url("/threads/runs"), json=wire.run_body()) as r:
            await r.read()
    assert wire.server.runs_created() == 0
    assert wire.server.requests[-1].status is None


async def test_disconnect_after_handling_loses_the_response_only(wire: Wire) -> None:
    wire.faults.add("POST", "/threads/runs", Disconnect(when="after"))
    with pytest.raises(aiohttp.ClientError):
        async with wire.session.post(wire.url("/threads/runs"), json=wire.run_body()) as r:
            await r.read()
    assert wire.server.runs_created() == 1  # the run exists; the client never heard of it


async def test_stall_delays_then_answers(wire: Wire) -> None:
    wire.faults.add("GET", "/assistants", Stall(0.2))
    loop = asyncio.get_running_loop()
    started = loop.time()
    async with wire.session.get(wire.url("/assistants")) as r:
        assert r.status == 200
    assert loop.time() - started >= 0.2


async def test_long_stall_outlasts_a_client_timeout(wire: Wire) -> None:
    wire.faults.add("POST", "/threads/runs", Stall(30, when="after"))
    timeout = aiohttp.ClientTimeout(total=0.3)
    with pytest.raises(asyncio.TimeoutError):
        async with wire.session.post(
            wire.url("/threads/runs"), json=wire.run_body(), timeout=timeout
        ) as r:
            await r.read()
    assert wire.server.runs_created() == 1  # "after": handled, then stalled


async def test_stall_after_headers_sends_status_then_nothing(wire: Wire) -> None:
    wire.faults.add("GET", "/assistants", Stall(30, headers_first=True))
    async with wire.session.get(wire.url("/assistants")) as r:
        assert r.status == 200
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(r.read(), 0.3)


# -- stream level -------------------------------------------------------------------------------


@pytest.mark.parametrize("after", [0, 3, 10])
async def test_cut_stream_after_n_events(wire: Wire, after: int) -> None:
    wire.faults.add("POST", "/threads/runs", CutStream(after_events=after))
    async with wire.stream_request() as response:
        raw = b""
        with pytest.raises(aiohttp.ClientPayloadError):
            async for chunk in response.content.iter_any():
                raw += chunk
    events = parse_sse(raw.decode())
    assert len(events) == after and "done" not in event_names(events)
    record = wire.server.requests[-1].stream
    assert record is not None and record.events_sent == after and not record.completed
    assert wire.server.runs_created() == 1


async def test_stall_stream_after_n_events(wire: Wire) -> None:
    wire.faults.add("POST", "/threads/runs", StallStream(after_events=2, seconds=30))
    async with wire.stream_request() as response:
        first = [await asyncio.wait_for(response.content.readuntil(b"\n\n"), 5) for _ in range(2)]
        assert [b.split(b"\n")[0] for b in first] == [
            b"event: thread.created",
            b"event: thread.run.created",
        ]
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(response.content.readuntil(b"\n\n"), 0.3)


async def test_short_stream_stall_then_carries_on(wire: Wire) -> None:
    wire.faults.add("POST", "/threads/runs", StallStream(after_events=1, seconds=0.2))
    loop = asyncio.get_running_loop()
    started = loop.time()
    _, events = await wire.stream()
    assert loop.time() - started >= 0.2
    assert events[-1].event == "done" and len(events) == RUN_EVENTS_AFTER_CREATE + 1


async def test_malformed_event_is_inserted_and_the_stream_goes_on(wire: Wire) -> None:
    wire.faults.add("POST", "/threads/runs", MalformedEvent(after_events=2))
    _, events = await wire.stream()
    assert events[2].event == "thread.message.delta" and events[2].data == "{not json"
    with pytest.raises(json.JSONDecodeError):
        events[2].json()
    assert events[-1].event == "done" and len(events) == RUN_EVENTS_AFTER_CREATE + 2


async def test_error_event_ends_the_stream(wire: Wire) -> None:
    wire.faults.add("POST", "/threads/runs", ErrorEvent(after_events=4))
    _, events = await wire.stream()
    assert len(events) == 5
    assert events[-1].event == "error"
    assert events[-1].json() == {"code": "server_error", "message": "boom"}


async def test_oversized_event_is_one_valid_line_of_that_size(wire: Wire) -> None:
    wire.faults.add("POST", "/threads/runs", OversizedEvent(after_events=1, size=300_000))
    raw, events = await wire.stream()
    big = events[1]
    assert big.event == "thread.message.delta"
    assert len(big.data) == 300_000
    assert big.json()["object"] == "thread.message.delta"
    assert events[-1].event == "done"


async def test_drip_spaces_out_every_event(wire: Wire) -> None:
    wire.faults.add("POST", "/threads/runs", DripEvents(0.05), CutStream(after_events=4))
    loop = asyncio.get_running_loop()
    arrivals = []
    async with wire.stream_request() as response:
        with pytest.raises(aiohttp.ClientPayloadError):
            while True:
                await response.content.readuntil(b"\n\n")
                arrivals.append(loop.time())
    assert len(arrivals) == 4
    # 0.05 s before each event on the server; a late arrival can shorten the next gap a bit
    gaps = [b - a for a, b in zip(arrivals, arrivals[1:], strict=False)]
    assert all(gap >= 0.025 for gap in gaps), gaps
    assert arrivals[-1] - arrivals[0] >= 0.12, gaps


async def test_byte_by_byte_writes_the_same_stream_in_many_pieces(wire: Wire) -> None:
    wire.faults.add("POST", "/threads/runs", ByteByByte())
    chunks = []
    async with wire.stream_request() as response:
        async for chunk in response.content.iter_any():
            chunks.append(chunk)
    raw = b"".join(chunks)
    events = parse_sse(raw.decode())
    assert event_names(events)[-2:] == ["thread.run.completed", "done"]
    record = wire.server.requests[-1].stream
    assert record is not None and record.bytes_written == len(raw)
    assert len(chunks) > len(events)  # never one write per event


async def test_endless_line_never_ends_its_data_line(wire: Wire) -> None:
    wire.faults.add(
        "POST", "/threads/runs", EndlessLine(after_events=1, chunk_size=4096, max_bytes=200_000)
    )
    async with wire.stream_request() as response:
        raw = b""
        with pytest.raises(aiohttp.ClientPayloadError):
            async for chunk in response.content.iter_any():
                raw += chunk
    head, _, tail = raw.partition(b"\n\nevent: thread.message.delta\ndata: ")
    assert head.startswith(b"event: thread.created")
    assert tail == b"x" * 200_000


async def test_unknown_events_are_inserted(wire: Wire) -> None:
    wire.faults.add("POST", "/threads/runs", UnknownEvents(after_events=3))
    _, events = await wire.stream()
    assert event_names(events)[3:5] == ["thread.run.step.teleported", "ping"]
    assert events[-1].event == "done"


async def test_keep_alive_only_sends_comments_for_a_while(wire: Wire) -> None:
    wire.faults.add(
        "POST", "/threads/runs", KeepAliveOnly(after_events=2, interval=0.01, duration=0.1)
    )
    raw, events = await wire.stream()
    text = raw.decode()
    assert text.count(": keep-alive\n\n") >= 3
    before, _, after = text.partition(": keep-alive")
    assert len(parse_sse(before)) == 2
    assert events[-1].event == "done" and len(events) == RUN_EVENTS_AFTER_CREATE + 1


async def test_inject_raw_writes_the_bytes_verbatim(wire: Wire) -> None:
    blob = b"\xef\xbb\xbfevent: thread.run.queued\rdata: {}\r\r"
    wire.faults.add("POST", "/threads/runs", InjectRaw(after_events=1, data=blob))
    raw, _ = await wire.stream()
    first_end = raw.index(b"\n\n") + 2
    assert raw[first_end : first_end + len(blob)] == blob


async def test_truncated_chunk_breaks_the_chunked_framing(wire: Wire) -> None:
    wire.faults.add("POST", "/threads/runs", TruncatedChunk(after_events=1))
    async with wire.stream_request() as response:
        with pytest.raises(aiohttp.ClientPayloadError):
            await response.read()


# -- matching rules -------------------------------------------------------------------------


async def test_paths_methods_and_times_select_requests(wire: Wire) -> None:
    faults = wire.faults
    faults.add("DELETE", "/assistants/*", Respond(418))
    faults.add("*", "/threads/**", Respond(409), times=2)
    faults.add("GET", re.compile(r"/assistants\?.*|/assistants"), Respond(404))
    async with wire.session.get(wire.url(f"/assistants/{wire.assistant_id}")) as r:
        assert r.status == 200  # GET does not match the DELETE rule
    async with wire.session.delete(wire.url(f"/assistants/{wire.assistant_id}")) as r:
        assert r.status == 418
    async with wire.session.get(wire.url("/threads/thread_x/runs/run_y")) as r:
        assert r.status == 409
    async with wire.session.post(wire.url("/threads"), json={}) as r:
        assert r.status == 200  # "/threads/**" is what lies under /threads, not /threads itself
    async with wire.session.post(wire.url("/threads/runs"), json=wire.run_body()) as r:
        assert r.status == 409
    async with wire.session.post(wire.url("/threads/runs"), json=wire.run_body()) as r:
        assert r.status == 200  # used up
    async with wire.session.get(wire.url("/assistants"), params={"limit": "1"}) as r:
        assert r.status == 404
    assert [rule.hits for rule in faults.rules] == [1, 2, 1]


async def test_stream_faults_are_consumed_but_ignored_by_json_responses(wire: Wire) -> None:
    rule = wire.faults.add("POST", "/threads/runs", CutStream(after_events=1))
    async with wire.session.post(wire.url("/threads/runs"), json=wire.run_body()) as r:
        assert r.status == 200 and (await r.json())["object"] == "thread.run"
    assert rule.exhausted
    _, events = await wire.stream()
    assert events[-1].event == "done"


def test_one_request_action_per_rule() -> None:
    server = AssistantsServer()
    with pytest.raises(ValueError):
        server.faults.add("GET", "/x", Respond(500), Stall(1))
    with pytest.raises(ValueError):
        server.faults.add("GET", "/x")
