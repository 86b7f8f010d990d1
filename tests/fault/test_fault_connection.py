"""Fault catalogue, broken connections over real sockets: refused, dropped before / after the
request was handled (FIN and RST), dropped after the headers and mid-body, stalls. GETs are
retried; a run-creating POST whose outcome is unknown is never replayed
(``AmbiguousOutcomeError``) (reliability.md 4.2 #1-#6, #40)."""

from __future__ import annotations

import asyncio
import json
import socket
from typing import Any

import aiohttp
import pytest
from fault_support import Harness, RawServer, eventually, open_sockets

from assistants_async import _errors as errors
from assistants_async._config import Timeout
from assistants_async.testing import Disconnect, Stall

RUNS = "/threads/*/runs"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("method_path", ["GET /assistants", "POST /threads/x/runs"])
async def test_connection_refused_is_retried_then_typed(harness: Harness, method_path: str) -> None:
    # Nothing was sent, so even a run creation is safe to retry.
    port = _free_port()
    client = harness.client(max_retries=2, base_url=f"http://127.0.0.1:{port}/v1")
    with pytest.raises(errors.APIConnectionError) as info:
        if method_path.startswith("GET"):
            await client.assistants.list()
        else:
            await client.threads.runs.create("x", assistant_id="a")
    exc = info.value
    assert type(exc) is errors.APIConnectionError
    assert exc.request_sent is False
    assert isinstance(exc.__cause__, aiohttp.ClientConnectorError)
    assert len(harness.sleeps.delays) == 2
    assert 0.375 <= harness.sleeps.delays[0] <= 0.5 and 0.75 <= harness.sleeps.delays[1] <= 1.0
    await client.aclose()
    assert open_sockets(port) == 0


@pytest.mark.parametrize("reset", [False, True], ids=["fin", "rst"])
@pytest.mark.parametrize("when", ["before", "after"])
async def test_get_dropped_without_response_is_retried(
    harness: Harness, reset: bool, when: Any
) -> None:
    """aiohttp itself replays an idempotent request once, at once, when the connection closes
    without a response (RFC 9112 9.3.1, meant for stale keep-alive connections); our retry
    loop (counted in X-Retry-Count, with backoff) comes on top of that."""
    client = harness.client()
    harness.server.faults.add("GET", "/assistants", Disconnect(when=when, reset=reset), times=2)
    page = await client.assistants.list()
    assert page.data == []
    attempts = harness.server.requests.matching("GET", "/assistants")
    assert [r.headers["X-Retry-Count"] for r in attempts] == ["0", "0", "1"]
    assert len(harness.sleeps.delays) == 1
    await harness.assert_released(client)


async def test_get_dropped_on_every_attempt_is_a_connection_error(harness: Harness) -> None:
    client = harness.client(max_retries=1)
    harness.server.faults.add("GET", "/assistants", Disconnect(), times=None)
    with pytest.raises(errors.APIConnectionError) as info:
        await client.assistants.list()
    assert type(info.value) is errors.APIConnectionError
    assert info.value.request_sent is True
    assert isinstance(info.value.__cause__, aiohttp.ServerDisconnectedError)
    assert harness.server.requests.count("GET", "/assistants") == 4  # (1 + 1 replay) x 2
    await harness.assert_released(client)


@pytest.mark.parametrize("reset", [False, True], ids=["fin", "rst"])
async def test_run_creation_dropped_after_commit_is_ambiguous_not_replayed(
    harness: Harness, reset: bool
) -> None:
    client = harness.client()
    thread_id, assistant_id = await harness.thread_and_assistant(client)
    harness.server.faults.add("POST", RUNS, Disconnect(when="after", reset=reset))
    with pytest.raises(errors.AmbiguousOutcomeError) as info:
        await client.threads.runs.create(thread_id, assistant_id=assistant_id)
    posts = harness.server.requests.matching("POST", RUNS)
    assert len(posts) == 1  # never replayed
    assert harness.server.runs_created(thread_id) == 1  # the server did act
    assert info.value.idempotency_key == posts[0].headers["Idempotency-Key"]
    assert isinstance(info.value.__cause__, errors.APIConnectionError)
    assert harness.sleeps.delays == []
    # the caller reconciles: exactly one run exists
    runs = await client.threads.runs.list(thread_id)
    assert len(runs.data) == 1
    await harness.assert_released(client)


async def test_run_creation_dropped_before_handling_is_still_ambiguous(harness: Harness) -> None:
    # The client cannot tell "before" from "after": both look like a dropped connection.
    client = harness.client()
    thread_id, assistant_id = await harness.thread_and_assistant(client)
    harness.server.faults.add("POST", "/threads/runs", Disconnect(when="before"))
    with pytest.raises(errors.AmbiguousOutcomeError):
        await client.threads.create_and_run(assistant_id=assistant_id)
    assert harness.server.requests.count("POST", "/threads/runs") == 1
    assert harness.server.runs_created() == 0
    await harness.assert_released(client)


async def test_submit_tool_outputs_dropped_is_ambiguous(harness: Harness) -> None:
    client = harness.client()
    thread_id, assistant_id = await harness.thread_and_assistant(client, "call f {}")
    run = await client.threads.runs.create_and_poll(thread_id=thread_id, assistant_id=assistant_id)
    assert run.status == "requires_action" and run.required_action is not None
    call = run.required_action.submit_tool_outputs.tool_calls[0]
    harness.server.faults.add("POST", "/threads/*/runs/*/submit_tool_outputs", Disconnect("after"))
    with pytest.raises(errors.AmbiguousOutcomeError):
        await client.threads.runs.submit_tool_outputs(
            run.id, thread_id=thread_id, tool_outputs=[{"tool_call_id": call.id, "output": "x"}]
        )
    assert harness.server.requests.count("POST", "/threads/*/runs/*/submit_tool_outputs") == 1
    await harness.assert_released(client)


async def test_other_posts_are_replayed_with_the_same_idempotency_key(harness: Harness) -> None:
    # Only run-creating POSTs are held back; a thread create is replayed (documented: a server
    # that ignores Idempotency-Key may then hold two threads).
    client = harness.client()
    harness.server.faults.add("POST", "/threads", Disconnect(when="before"))
    thread = await client.threads.create()
    posts = harness.server.requests.matching("POST", "/threads")
    assert len(posts) == 2
    assert posts[0].headers["Idempotency-Key"] == posts[1].headers["Idempotency-Key"]
    assert [p.headers["X-Retry-Count"] for p in posts] == ["0", "1"]
    assert (await client.threads.retrieve(thread.id)).id == thread.id
    await harness.assert_released(client)


async def test_get_stalled_before_headers_times_out_per_attempt_and_is_retried(
    harness: Harness,
) -> None:
    client = harness.client(max_retries=1, timeout=Timeout(connect=1, read=0.15, total=5))
    harness.server.faults.add("GET", "/assistants", Stall(5), times=None)
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(errors.APITimeoutError) as info:
        await client.assistants.list()
    elapsed = loop.time() - started
    assert 0.29 <= elapsed < 1.0  # two attempts of ~0.15 s each
    assert "waiting for the response" in str(info.value)
    assert harness.server.requests.count("GET", "/assistants") == 2
    await harness.assert_released(client)


async def test_get_stalled_after_headers_times_out_reading_the_body(harness: Harness) -> None:
    client = harness.client(max_retries=0, timeout=Timeout(connect=1, read=0.15, total=5))
    harness.server.faults.add("GET", "/assistants", Stall(5, headers_first=True))
    with pytest.raises(errors.APITimeoutError) as info:
        await client.assistants.list()
    assert "reading the response body" in str(info.value)
    await harness.assert_released(client)


async def test_get_stalled_after_headers_then_recovers_on_retry(harness: Harness) -> None:
    client = harness.client(max_retries=1, timeout=Timeout(connect=1, read=0.15, total=5))
    harness.server.faults.add("GET", "/assistants", Stall(5, headers_first=True))
    page = await client.assistants.list()
    assert page.data == []
    assert harness.server.requests.count("GET", "/assistants") == 2
    await harness.assert_released(client)


@pytest.mark.parametrize("when", ["before", "after"])
async def test_run_creation_timeout_is_never_replayed(harness: Harness, when: Any) -> None:
    client = harness.client(max_retries=2, timeout=Timeout(connect=1, read=0.15, total=5))
    thread_id, assistant_id = await harness.thread_and_assistant(client)
    harness.server.faults.add("POST", RUNS, Stall(5, when=when))
    with pytest.raises(errors.AmbiguousOutcomeError) as info:
        await client.threads.runs.create(thread_id, assistant_id=assistant_id)
    assert isinstance(info.value.__cause__, errors.APITimeoutError)
    assert harness.server.requests.count("POST", RUNS) == 1
    assert harness.server.runs_created(thread_id) == (1 if when == "after" else 0)
    await harness.assert_released(client)


# -- protocol abuse from a raw asyncio server ----------------------------------------------------


async def _headers_then(writer: asyncio.StreamWriter, body: bytes, length: int) -> None:
    writer.write(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
        + f"Content-Length: {length}\r\n\r\n".encode()
        + body
    )
    await writer.drain()


@pytest.mark.parametrize("shape", ["headers-only", "mid-body", "mid-chunk"], ids=lambda s: str(s))
async def test_get_cut_after_headers_or_mid_body_is_retried(
    harness: Harness, raw_server: Any, shape: str
) -> None:
    good = b'{"object":"list","data":[],"first_id":null,"last_id":null,"has_more":false}'

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if raw.connections > 1:
            await _headers_then(writer, good, len(good))
            return
        if shape == "headers-only":
            await _headers_then(writer, b"", len(good))
        elif shape == "mid-body":
            await _headers_then(writer, good[:20], len(good))
        else:
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                b"Transfer-Encoding: chunked\r\n\r\n64\r\n" + good[:40]
            )
            await writer.drain()

    raw: RawServer = await raw_server(handler)
    client = harness.client(base_url=raw.url)
    page = await client.assistants.list()
    assert page.data == [] and page.has_more is False
    assert raw.connections == 2
    assert len(harness.sleeps.delays) == 1
    await client.aclose()
    assert await eventually(lambda: open_sockets(raw.port) == 0)


async def test_body_cut_mid_way_on_every_attempt_is_a_connection_error(
    harness: Harness, raw_server: Any
) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _headers_then(writer, b'{"object":"li', 500)

    raw: RawServer = await raw_server(handler)
    client = harness.client(max_retries=1, base_url=raw.url)
    with pytest.raises(errors.APIConnectionError) as info:
        await client.assistants.list()
    assert isinstance(info.value.__cause__, aiohttp.ClientPayloadError)
    assert raw.connections == 2
    await client.aclose()
    assert await eventually(lambda: open_sockets(raw.port) == 0)


async def test_run_creation_cut_mid_body_is_ambiguous(harness: Harness, raw_server: Any) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _headers_then(writer, b'{"id":"run_1","obj', 400)

    raw: RawServer = await raw_server(handler)
    client = harness.client(max_retries=2, base_url=raw.url)
    with pytest.raises(errors.AmbiguousOutcomeError):
        await client.threads.runs.create("thread_1", assistant_id="asst_1")
    assert raw.connections == 1
    await client.aclose()
    assert await eventually(lambda: open_sockets(raw.port) == 0)


@pytest.mark.parametrize("second", ["GET", "POST run"])
async def test_keep_alive_connection_closed_by_the_server_while_idle(
    harness: Harness, raw_server: Any, second: str
) -> None:
    """The server answers, then closes the kept-alive connection while it sits in the pool
    (reliability.md #6). The next request - even a run creation, which is never replayed -
    goes out on a fresh connection instead of failing on the dead one."""
    listing = b'{"object":"list","data":[],"first_id":null,"last_id":null,"has_more":false}'
    run = json.dumps(
        {
            "id": "run_1",
            "object": "thread.run",
            "created_at": 1,
            "thread_id": "thread_1",
            "assistant_id": "asst_1",
            "status": "queued",
            "model": "m",
            "instructions": "",
            "tools": [],
        }
    ).encode()

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        body = run if raw.requests[-1].startswith(b"POST") else listing
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: keep-alive\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        await writer.drain()
        # returning closes the connection: a FIN right after the answer

    raw: RawServer = await raw_server(handler)
    client = harness.client(base_url=raw.url)
    await client.assistants.list()
    # wait until the server has closed its side (the pooled connection is now dead) and the
    # client has seen the FIN: "sits in the pool" means the close happened before the next
    # request, not in the same instant (a request racing the FIN is the case below, which
    # a client cannot tell from a server that acted and then dropped the connection).
    assert await eventually(lambda: raw.closed == 1)
    assert await eventually(lambda: open_sockets(raw.port) == 0)
    if second == "GET":
        assert (await client.assistants.list()).data == []
    else:
        created = await client.threads.runs.create("thread_1", assistant_id="asst_1")
        assert created.id == "run_1"
    assert raw.connections == 2 and len(raw.requests) == 2
    # The dead connection was dropped from the pool: a fresh one, no retry, no backoff.
    assert harness.sleeps.delays == []
    assert sum(r.startswith(second.split()[0].encode()) for r in raw.requests) == 1 + (
        second == "GET"
    )
    await client.aclose()
    assert await eventually(lambda: open_sockets(raw.port) == 0)


async def test_tcp_connect_timeout_is_retried_even_for_run_creation(harness: Harness) -> None:
    """A listener whose accept backlog is full drops SYNs, so connect() hangs: a real connect
    timeout on loopback. Nothing was sent, so a run creation may be retried."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    try:
        for _ in range(3):
            filler = socket.socket()
            filler.setblocking(False)
            try:
                filler.connect(("127.0.0.1", port))
            except BlockingIOError:
                pass
            fillers.append(filler)
        client = harness.client(
            max_retries=1,
            timeout=Timeout(connect=0.15, read=5, total=5),
            base_url=f"http://127.0.0.1:{port}/v1",
        )
        loop = asyncio.get_running_loop()
        started = loop.time()
        with pytest.raises(errors.APITimeoutError) as info:
            await client.threads.runs.create("thread_1", assistant_id="asst_1")
        assert type(info.value) is errors.APITimeoutError  # not AmbiguousOutcomeError
        assert info.value.request_sent is False
        assert "connecting" in str(info.value)
        assert len(harness.sleeps.delays) == 1  # retried once
        assert 0.29 <= loop.time() - started < 1.5
        await client.aclose()
    finally:
        for filler in fillers:
            filler.close()
        listener.close()


def test_a_failed_request_write_counts_as_not_sent() -> None:
    """aiohttp's error when writing the request (headers go out with the body) failed."""
    from assistants_async._transport import Request, _map_error

    exc = aiohttp.ClientOSError(None, "Can not write request body for http://h/v1/threads/t/runs")
    mapped = _map_error(exc, Request("POST", "http://h/v1/threads/t/runs"), before_response=True)
    assert mapped is not None and mapped.request_sent is False
    other = aiohttp.ClientOSError(104, "Connection reset by peer")
    mapped = _map_error(other, Request("POST", "http://h/v1/x"), before_response=True)
    assert mapped is not None and mapped.request_sent is True
