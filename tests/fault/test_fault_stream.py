"""Fault catalogue, event streams over real sockets: retried stream opens, disconnects after N
events, truncated chunks, ``event: error``, oversized and endless events, malformed data, slow
drips, stalls, keep-alive-only streams, wrong content types, early exits. Every case ends with
the connection released (reliability.md 4.2 #19-#36)."""

from __future__ import annotations

import asyncio
import os
from typing import Any

import pytest
from fault_support import REPLY, Harness, acquired, eventually, open_sockets

from assistants_async import _errors as errors
from assistants_async._config import Limits, Timeout
from assistants_async.testing import (
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

RUNS = "/threads/*/runs"
ECHO = f"Echo: {REPLY}"


async def _events(harness: Harness, client: Any, **kwargs: Any) -> tuple[list[str], str]:
    """Stream a new run with ``runs.create(stream=True)``: the event names and the text."""
    thread_id, assistant_id = await harness.thread_and_assistant(client)
    names: list[str] = []
    text = ""
    async with await client.threads.runs.create(
        thread_id, assistant_id=assistant_id, stream=True, **kwargs
    ) as events:
        async for event in events:
            names.append(event.event)
            if event.event == "thread.message.delta":
                text += event.data.delta.content[0].text.value
    return names, text


async def test_healthy_stream_returns_the_connection_to_the_pool(harness: Harness) -> None:
    client = harness.client()
    names, text = await _events(harness, client)
    assert names[0] == "thread.run.created" and names[-1] == "thread.run.completed"
    assert text == ECHO
    assert acquired(client) == 0
    # the next request reuses the same connection: the server sees the same peer port
    await client.assistants.list()
    ports = {r.peer_port for r in harness.server.requests}
    assert len(ports) == 1
    await harness.assert_released(client)


async def test_stream_open_429_then_success_streams_once(harness: Harness) -> None:
    client = harness.client()
    harness.server.faults.add("POST", RUNS, Respond(429, retry_after_ms=40))
    names, text = await _events(harness, client)
    assert text == ECHO and names[-1] == "thread.run.completed"
    assert harness.sleeps.delays == [0.04]
    posts = harness.server.requests.matching("POST", RUNS)
    assert [p.status for p in posts] == [429, 200]
    assert posts[1].headers["Accept"] == "text/event-stream"
    assert posts[1].headers["Accept-Encoding"] == "identity"
    assert harness.server.runs_created() == 1
    await harness.assert_released(client)


async def test_stream_open_dropped_after_commit_is_ambiguous(harness: Harness) -> None:
    client = harness.client()
    thread_id, assistant_id = await harness.thread_and_assistant(client)
    harness.server.faults.add("POST", RUNS, Disconnect(when="after"))
    with pytest.raises(errors.AmbiguousOutcomeError):
        async with client.threads.runs.stream(thread_id=thread_id, assistant_id=assistant_id):
            pass
    assert harness.server.requests.count("POST", RUNS) == 1
    assert harness.server.runs_created(thread_id) == 1
    await harness.assert_released(client)


@pytest.mark.parametrize("reset", [False, True], ids=["fin", "rst"])
async def test_disconnect_after_n_events_is_incomplete_and_not_replayed(
    harness: Harness, reset: bool
) -> None:
    client = harness.client()
    thread_id, assistant_id = await harness.thread_and_assistant(client)
    harness.server.faults.add("POST", RUNS, CutStream(after_events=3, reset=reset))
    seen: list[str] = []
    with pytest.raises(errors.StreamIncompleteError):
        async with client.threads.runs.stream(
            thread_id=thread_id, assistant_id=assistant_id
        ) as stream:
            async for event in stream:
                seen.append(event.event)
    assert len(seen) == 3
    assert harness.server.requests.count("POST", RUNS) == 1
    assert harness.server.runs_created(thread_id) == 1
    await harness.assert_released(client)


async def test_truncated_chunk_is_incomplete_with_the_cause_kept(harness: Harness) -> None:
    client = harness.client()
    harness.server.faults.add("POST", RUNS, TruncatedChunk(after_events=4))
    with pytest.raises(errors.StreamIncompleteError) as info:
        await _events(harness, client)
    assert isinstance(info.value.__cause__, errors.APIConnectionError)
    await harness.assert_released(client)


@pytest.mark.parametrize(
    "data",
    [
        {"code": "server_error", "message": "boom"},
        {"error": {"code": "server_error", "message": "boom"}},
        "plain text",
    ],
    ids=["flat", "envelope", "text"],
)
async def test_error_event_raises_after_the_earlier_events(harness: Harness, data: Any) -> None:
    client = harness.client()
    thread_id, assistant_id = await harness.thread_and_assistant(client)
    harness.server.faults.add("POST", RUNS, ErrorEvent(after_events=5, data=data))
    seen = 0
    with pytest.raises(errors.ServerStreamError) as info:
        async with await client.threads.runs.create(
            thread_id, assistant_id=assistant_id, stream=True
        ) as events:
            async for _ in events:
                seen += 1
    assert seen == 5
    if isinstance(data, dict):
        assert info.value.code == "server_error"
        assert "boom" in str(info.value)
    record = harness.server.requests.matching("POST", RUNS)[0].stream
    assert record is not None and record.events_sent == 5
    await harness.assert_released(client)


@pytest.mark.parametrize(("cap", "delivered"), [(1 << 20, False), (4 << 20, True)])
async def test_oversized_event_is_refused_or_delivered_per_the_cap(
    harness: Harness, cap: int, delivered: bool
) -> None:
    client = harness.client(limits=Limits(max_event_bytes=cap))
    harness.server.faults.add("POST", RUNS, OversizedEvent(after_events=3, size=2 << 20))
    if delivered:
        names, text = await _events(harness, client)
        assert names[-1] == "thread.run.completed"
        assert len(text) > 2_000_000  # the 2 MB delta arrived intact
    else:
        with pytest.raises(errors.EventTooLargeError) as info:
            await _events(harness, client)
        assert info.value.limit == cap
    await harness.assert_released(client)


async def test_endless_line_stops_at_the_cap_and_closes(harness: Harness) -> None:
    cap = 256 * 1024
    client = harness.client(limits=Limits(max_event_bytes=cap))
    harness.server.faults.add("POST", RUNS, EndlessLine(after_events=2, chunk_size=16 * 1024))
    with pytest.raises(errors.EventTooLargeError):
        await _events(harness, client)
    record = harness.server.requests.matching("POST", RUNS)[0].stream
    assert record is not None
    assert await eventually(lambda: record.disconnected_at is not None)
    # the server stopped soon after the cap (what it wrote beyond it sits in kernel buffers,
    # a few MB on loopback), far from its 100 MB budget
    assert record.bytes_written < 16 * 1024 * 1024
    await harness.assert_released(client)


async def test_malformed_event_is_a_decode_error_after_earlier_events(harness: Harness) -> None:
    client = harness.client()
    harness.server.faults.add("POST", RUNS, MalformedEvent(after_events=4))
    thread_id, assistant_id = await harness.thread_and_assistant(client)
    seen = 0
    with pytest.raises(errors.StreamDecodeError) as info:
        async with await client.threads.runs.create(
            thread_id, assistant_id=assistant_id, stream=True
        ) as events:
            async for _ in events:
                seen += 1
    assert seen == 4
    assert info.value.event == "thread.message.delta"
    assert info.value.data is not None and "{not json" in info.value.data
    await harness.assert_released(client)


async def test_slow_drip_outlives_the_total_timeout(harness: Harness) -> None:
    # total applies to non-stream requests only: a 0.1 s total must not cut a longer stream
    client = harness.client(timeout=Timeout(connect=1, read=1, total=0.1, event=1))
    harness.server.faults.add("POST", RUNS, DripEvents(0.01))
    loop = asyncio.get_running_loop()
    started = loop.time()
    names, text = await _events(harness, client)
    assert loop.time() - started > 0.15
    assert text == ECHO and names[-1] == "thread.run.completed"
    await harness.assert_released(client)


async def test_byte_by_byte_stream_decodes_the_same_events(harness: Harness) -> None:
    client = harness.client()
    baseline = await _events(harness, client)
    harness.server.faults.add("POST", RUNS, ByteByByte())
    assert await _events(harness, client) == baseline
    await harness.assert_released(client)


async def test_unknown_events_pass_through_and_known_ones_follow(harness: Harness) -> None:
    client = harness.client()
    harness.server.faults.add("POST", RUNS, UnknownEvents(after_events=2))
    names, text = await _events(harness, client)
    assert names[2:4] == ["thread.run.step.teleported", "ping"]
    assert text == ECHO and names[-1] == "thread.run.completed"
    await harness.assert_released(client)


async def test_stalled_stream_hits_the_socket_idle_timeout(harness: Harness) -> None:
    client = harness.client(timeout=Timeout(connect=1, read=0.15, total=None, event=None))
    harness.server.faults.add("POST", RUNS, StallStream(after_events=2, seconds=5))
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(errors.StreamIdleTimeoutError):
        await _events(harness, client)
    assert 0.14 <= loop.time() - started < 1.5
    record = harness.server.requests.matching("POST", RUNS)[0].stream
    assert record is not None and record.events_sent == 2
    assert await eventually(lambda: record.disconnected_at is not None)
    await harness.assert_released(client)


async def test_keepalive_comments_do_not_reset_the_event_timeout(harness: Harness) -> None:
    # bytes every 20 ms keep the socket timer (read=0.15) quiet; only the event timer fires
    client = harness.client(timeout=Timeout(connect=1, read=0.15, total=None, event=0.3))
    harness.server.faults.add(
        "POST", RUNS, KeepAliveOnly(after_events=2, interval=0.02, duration=5)
    )
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(errors.StreamIdleTimeoutError) as info:
        await _events(harness, client)
    assert 0.29 <= loop.time() - started < 1.5
    assert info.value.timeout == 0.3
    await harness.assert_released(client)


@pytest.mark.parametrize(
    ("respond", "content_type"),
    [
        (Respond(200, json={"error": {"message": "nope", "type": "x"}}), "application/json"),
        (Respond(200, html_size=50_000), "text/html"),
    ],
    ids=["json-envelope", "html"],
)
async def test_non_sse_content_type_on_a_stream_is_typed(
    harness: Harness, respond: Respond, content_type: str
) -> None:
    client = harness.client()
    harness.server.faults.add("POST", RUNS, respond)
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(errors.UnexpectedContentTypeError) as info:
        await _events(harness, client)
    assert loop.time() - started < 0.5
    assert info.value.content_type == content_type
    assert len(str(info.value)) < 2_300
    if content_type == "application/json":
        assert "nope" in str(info.value)
    await harness.assert_released(client)


async def test_stream_error_status_is_typed_and_closed(harness: Harness) -> None:
    client = harness.client(max_retries=0)
    harness.server.faults.add(
        "POST", RUNS, Respond(400, json={"error": {"message": "bad", "param": "tools"}})
    )
    with pytest.raises(errors.BadRequestError) as info:
        await _events(harness, client)
    assert info.value.param == "tools"
    await harness.assert_released(client)


async def test_break_after_two_events_closes_the_connection(harness: Harness) -> None:
    client = harness.client()
    thread_id, assistant_id = await harness.thread_and_assistant(client)
    harness.server.faults.add("POST", RUNS, DripEvents(0.02))
    async with client.threads.runs.stream(thread_id=thread_id, assistant_id=assistant_id) as s:
        count = 0
        async for _ in s:
            count += 1
            if count == 2:
                break
    assert acquired(client) == 0
    record = harness.server.requests.matching("POST", RUNS)[0].stream
    assert record is not None
    assert await eventually(lambda: record.disconnected_at is not None, timeout=0.5)
    assert not record.completed
    # the client stays usable
    assert (await client.threads.retrieve(thread_id)).id == thread_id
    await harness.assert_released(client)


async def test_task_cancelled_mid_stream_propagates_and_releases(harness: Harness) -> None:
    client = harness.client()
    thread_id, assistant_id = await harness.thread_and_assistant(client)
    harness.server.faults.add("POST", RUNS, StallStream(after_events=2, seconds=5))
    got_two = asyncio.Event()

    async def consume() -> None:
        async with client.threads.runs.stream(thread_id=thread_id, assistant_id=assistant_id) as s:
            n = 0
            async for _ in s:
                n += 1
                if n == 2:
                    got_two.set()

    task = asyncio.create_task(consume())
    await got_two.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert acquired(client) == 0
    record = harness.server.requests.matching("POST", RUNS)[0].stream
    assert record is not None
    assert await eventually(lambda: record.disconnected_at is not None, timeout=0.5)
    await harness.assert_released(client)


async def test_user_timeout_around_a_dripping_stream(harness: Harness) -> None:
    client = harness.client()
    thread_id, assistant_id = await harness.thread_and_assistant(client)
    harness.server.faults.add("POST", RUNS, DripEvents(0.05))

    async def consume() -> None:
        async with client.threads.runs.stream(thread_id=thread_id, assistant_id=assistant_id) as s:
            async for _ in s:
                pass

    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(consume(), 0.2)
    assert acquired(client) == 0
    await client.threads.runs.list(thread_id)  # still usable
    await harness.assert_released(client)


async def test_aclose_while_streams_are_in_flight(harness: Harness) -> None:
    client = harness.client()
    thread_ids = []
    for _ in range(3):
        thread_id, assistant_id = await harness.thread_and_assistant(client)
        thread_ids.append(thread_id)
    harness.server.faults.add("POST", RUNS, StallStream(after_events=1, seconds=5), times=None)
    started = asyncio.Event()
    counter = 0

    async def consume(thread_id: str) -> None:
        nonlocal counter
        async with client.threads.runs.stream(thread_id=thread_id, assistant_id=assistant_id) as s:
            async for _ in s:
                counter += 1
                if counter == 3:
                    started.set()

    tasks = [asyncio.create_task(consume(t)) for t in thread_ids]
    await started.wait()
    loop = asyncio.get_running_loop()
    closing = loop.time()
    await client.aclose()
    # aiohttp alone would leave these readers waiting for Timeout.read (1 s here, 600 s by
    # default): the transport wakes them.
    results = await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 2.0)
    assert loop.time() - closing < 0.5
    assert all(isinstance(r, errors.ClientClosedError) for r in results), results
    assert client.is_closed
    await harness.assert_released(client)


async def test_aclose_while_a_request_waits_for_its_response(harness: Harness) -> None:
    client = harness.client(max_retries=2)
    harness.server.faults.add("GET", "/assistants", Stall(5), times=None)

    async def first_page() -> object:
        return await client.assistants.list()

    task = asyncio.create_task(first_page())
    assert await eventually(lambda: len(harness.server.requests) == 1)
    await client.aclose()
    with pytest.raises(errors.ClientClosedError):
        await asyncio.wait_for(task, 0.5)
    assert harness.sleeps.delays == []  # no backoff before telling the caller
    assert harness.server.requests.count("GET", "/assistants") == 1  # no retry after close
    await harness.assert_released(client)


async def test_invalid_utf8_in_an_event_is_a_decode_error(harness: Harness) -> None:
    client = harness.client()
    harness.server.faults.add(
        "POST",
        RUNS,
        InjectRaw(after_events=3, data=b'event: thread.message.delta\ndata: {"x": "\xff\xfe"}\n\n'),
    )
    with pytest.raises(errors.StreamDecodeError):
        await _events(harness, client)
    await harness.assert_released(client)


async def test_repeated_early_exits_do_not_grow_the_pool(harness: Harness) -> None:
    """30 streams left after 2 events (break) and 30 cancelled mid-stream: no connection stays
    checked out, no socket or file descriptor accumulates (reliability.md #34, #35, #38)."""
    client = harness.client()
    thread_id, assistant_id = await harness.thread_and_assistant(client)
    fds_before = len(os.listdir("/proc/self/fd"))
    for round_ in range(60):
        harness.server.faults.add("POST", RUNS, StallStream(after_events=2, seconds=5))
        if round_ % 2 == 0:
            async with client.threads.runs.stream(
                thread_id=thread_id, assistant_id=assistant_id, cancel_run_on_exit=True
            ) as s:
                n = 0
                async for _ in s:
                    n += 1
                    if n == 2:
                        break
        else:
            got_two = asyncio.Event()

            async def consume(got_two: asyncio.Event) -> None:
                async with client.threads.runs.stream(
                    thread_id=thread_id, assistant_id=assistant_id, cancel_run_on_exit=True
                ) as s:
                    n = 0
                    async for _ in s:
                        n += 1
                        if n == 2:
                            got_two.set()

            task = asyncio.create_task(consume(got_two))
            await got_two.wait()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
        assert acquired(client) == 0
        # the run was cancelled on exit; wait for the thread to be free for the next one
        assert await eventually(lambda: harness.server.store.thread(thread_id).active_run() is None)
    assert open_sockets(harness.port) <= 1  # at most the one pooled keep-alive connection
    assert len(os.listdir("/proc/self/fd")) <= fds_before + 1
    assert harness.server.runs_created(thread_id) == 60
    await harness.assert_released(client)
