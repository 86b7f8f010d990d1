"""Client lifetime over real sockets: the lazily created session, a borrowed session, the
ResourceWarning for a forgotten client, idempotent close, use after close, one loop per
client; and the aiohttp timeouts (connect = pool wait + connect, read-idle, total, none of the
total for streams)."""

from __future__ import annotations

import asyncio
import gc
import socket
import threading
import warnings
from typing import Any

import aiohttp
import pytest

from assistants_async import AsyncAssistants
from assistants_async._config import Limits, RetryPolicy, Timeout
from assistants_async._errors import (
    APITimeoutError,
    ClientClosedError,
    EventLoopMismatchError,
)
from assistants_async._transport import AiohttpTransport, MockTransport, Response, client_timeout
from assistants_async.testing import AssistantsServer, Stall, StallStream

KEY = "sk-lifecycle"


def transport_of(client: AsyncAssistants) -> AiohttpTransport:
    transport = client._transport
    assert isinstance(transport, AiohttpTransport)
    return transport


# -- the session ---------------------------------------------------------------------------------


def test_constructing_a_client_needs_no_loop_and_opens_nothing() -> None:
    client = AsyncAssistants(api_key=KEY, base_url="http://127.0.0.1:1/v1")
    assert transport_of(client).session is None
    assert not client.is_closed
    del client
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gc.collect()  # nothing opened: no ResourceWarning


async def test_session_is_created_lazily_on_the_running_loop(
    assistants_server: AssistantsServer,
) -> None:
    client = AsyncAssistants(api_key=KEY, base_url=assistants_server.url)
    async with client:
        assert transport_of(client).session is None  # entering sends nothing
        await client.assistants.list()
        session = transport_of(client).session
        assert session is not None and not session.closed
        assert session._loop is asyncio.get_running_loop()
        await client.assistants.list()
        assert transport_of(client).session is session  # one session for the client's life
    assert session.closed
    assert client.is_closed


async def test_injected_session_is_used_and_never_closed(
    assistants_server: AssistantsServer,
) -> None:
    async with aiohttp.ClientSession() as session:
        client = AsyncAssistants(api_key=KEY, base_url=assistants_server.url, session=session)
        await client.assistants.create(model="m")
        connector = session.connector
        assert connector is not None and len(connector._conns) == 1  # the request used it
        await client.aclose()
        assert not session.closed
        assert client.is_closed
        del client
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            gc.collect()
        # still usable by its owner
        async with session.get(f"{assistants_server.url}/assistants") as response:
            assert response.status == 200


async def test_forgotten_client_with_a_session_warns(assistants_server: AssistantsServer) -> None:
    client = AsyncAssistants(api_key=KEY, base_url=assistants_server.url)
    await client.assistants.list()
    session = transport_of(client).session
    assert session is not None
    with pytest.warns(ResourceWarning, match="Unclosed <AsyncAssistants"):
        del client
        gc.collect()
    await session.close()  # the test cleans up what the forgotten client left


async def test_forgotten_client_that_never_sent_does_not_warn(
    assistants_server: AssistantsServer,
) -> None:
    client = AsyncAssistants(api_key=KEY, base_url=assistants_server.url)
    async with client:
        pass
    client2 = AsyncAssistants(api_key=KEY, base_url=assistants_server.url)
    await client2.__aenter__()  # entered, never sent: no session exists
    del client, client2
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gc.collect()


async def test_aclose_is_idempotent_and_use_after_close_raises(
    assistants_server: AssistantsServer,
) -> None:
    client = AsyncAssistants(api_key=KEY, base_url=assistants_server.url)
    await client.assistants.list()
    await client.aclose()
    await client.aclose()
    assert client.is_closed
    before = len(assistants_server.requests)
    with pytest.raises(ClientClosedError):
        await client.assistants.list()
    with pytest.raises(ClientClosedError):
        async with client.threads.runs.stream(thread_id="t", assistant_id="a"):
            pass
    with pytest.raises(ClientClosedError):
        async with client:
            pass
    assert len(assistants_server.requests) == before  # nothing was sent


async def test_aclose_closes_pooled_connections(assistants_server: AssistantsServer) -> None:
    client = AsyncAssistants(api_key=KEY, base_url=assistants_server.url)
    await client.assistants.list()
    session = transport_of(client).session
    assert session is not None and session.connector is not None
    connector = session.connector
    assert sum(len(c) for c in connector._conns.values()) == 1  # kept alive for reuse
    await client.aclose()
    assert connector.closed


async def test_async_with_returns_the_client_and_closes_on_error(
    assistants_server: AssistantsServer,
) -> None:
    with pytest.raises(KeyError):
        async with AsyncAssistants(api_key=KEY, base_url=assistants_server.url) as client:
            assert isinstance(client, AsyncAssistants)
            await client.assistants.list()
            raise KeyError("boom")
    assert client.is_closed


def test_a_client_belongs_to_the_loop_it_was_first_used_on() -> None:
    """One client across two ``asyncio.run`` calls (reliability.md row p) is refused clearly."""
    handled: list[str] = []

    def handler(request: Any) -> Response:
        handled.append(request.method)
        return Response(200, json={"object": "list", "data": [], "has_more": False})

    client = AsyncAssistants(
        api_key=KEY, base_url="http://127.0.0.1:1/v1", transport=MockTransport(handler)
    )

    async def use() -> None:
        await client.assistants.list()

    loop_a = asyncio.new_event_loop()
    loop_b = asyncio.new_event_loop()
    try:
        loop_a.run_until_complete(use())
        with pytest.raises(EventLoopMismatchError):
            loop_b.run_until_complete(use())
        assert handled == ["GET"]  # the second loop sent nothing
        loop_a.run_until_complete(client.aclose())
    finally:
        loop_a.close()
        loop_b.close()


async def test_the_aiohttp_session_refuses_a_second_loop(
    assistants_server: AssistantsServer,
) -> None:
    transport = AiohttpTransport()
    client = AsyncAssistants(api_key=KEY, base_url=assistants_server.url, transport=transport)
    await client.assistants.list()
    errors: list[BaseException] = []

    def other_thread() -> None:
        async def use() -> None:
            # a second client sharing the transport, on a second loop
            other = AsyncAssistants(
                api_key=KEY, base_url=assistants_server.url, transport=transport
            )
            await other.assistants.list()

        try:
            asyncio.run(use())
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=other_thread)
    thread.start()
    thread.join(5)
    assert len(errors) == 1 and isinstance(errors[0], EventLoopMismatchError)
    await client.aclose()
    await transport.aclose()  # borrowed by the client: its owner closes it


# -- timeouts ------------------------------------------------------------------------------------


def test_client_timeout_disables_total_for_streams_only() -> None:
    timeout = Timeout(connect=3, read=7, total=11, event=13)
    plain = client_timeout(timeout, stream=False)
    stream = client_timeout(timeout, stream=True)
    assert (plain.total, plain.connect, plain.sock_connect, plain.sock_read) == (11, 3, 3, 7)
    assert (stream.total, stream.connect, stream.sock_connect, stream.sock_read) == (
        None,
        3,
        3,
        7,
    )


def test_a_number_is_every_timeout_with_connect_capped() -> None:
    assert Timeout.coerce(30) == Timeout(connect=10.0, read=30.0, total=30.0, event=None)
    assert Timeout.coerce(2) == Timeout(connect=2.0, read=2.0, total=2.0, event=None)
    assert Timeout.coerce(None) == Timeout(connect=None, read=None, total=None, event=None)


def _client(server: AssistantsServer, timeout: Timeout, **kwargs: Any) -> AsyncAssistants:
    return AsyncAssistants(
        api_key=KEY,
        base_url=server.url,
        timeout=timeout,
        max_retries=RetryPolicy(max_retries=0),
        **kwargs,
    )


async def test_read_idle_timeout(assistants_server: AssistantsServer) -> None:
    assistants_server.faults.add("GET", "/assistants", Stall(5))
    loop = asyncio.get_running_loop()
    async with _client(assistants_server, Timeout(connect=1, read=0.15, total=5)) as client:
        started = loop.time()
        with pytest.raises(APITimeoutError) as info:
            await client.assistants.list()
        assert 0.14 <= loop.time() - started < 1.0
        assert info.value.request_sent is True


async def test_total_timeout_cuts_a_slow_non_stream_request(
    assistants_server: AssistantsServer,
) -> None:
    assistants_server.faults.add("GET", "/assistants", Stall(5))
    loop = asyncio.get_running_loop()
    async with _client(assistants_server, Timeout(connect=1, read=5, total=0.15)) as client:
        started = loop.time()
        with pytest.raises(APITimeoutError):
            await client.assistants.list()
        assert 0.14 <= loop.time() - started < 1.0


async def test_per_call_timeout_overrides_the_client(assistants_server: AssistantsServer) -> None:
    assistants_server.faults.add("GET", "/assistants", Stall(5))
    loop = asyncio.get_running_loop()
    async with _client(assistants_server, Timeout(connect=1, read=5, total=5)) as client:
        started = loop.time()
        with pytest.raises(APITimeoutError):
            await client.assistants.list(timeout=0.15)
        assert loop.time() - started < 1.0


async def test_connect_timeout_covers_the_wait_for_a_pooled_connection(
    assistants_server: AssistantsServer,
) -> None:
    """With one connection allowed and held by a stalled stream, the next request times out
    on ``connect`` (nothing was sent, so even a run creation could be replayed)."""
    async with _client(
        assistants_server,
        Timeout(connect=0.15, read=5, total=5),
        limits=Limits(max_connections=1),
    ) as client:
        assistant = await client.assistants.create(model="m")
        thread = await client.threads.create(messages=[{"role": "user", "content": "hi there"}])
        assistants_server.faults.add("POST", "/threads/*/runs", StallStream(1, seconds=5))
        loop = asyncio.get_running_loop()
        async with client.threads.runs.stream(thread_id=thread.id, assistant_id=assistant.id) as s:
            await s.__aiter__().__anext__()  # the only connection is now busy
            started = loop.time()
            with pytest.raises(APITimeoutError) as info:
                await client.threads.runs.create(thread.id, assistant_id=assistant.id)
            assert 0.14 <= loop.time() - started < 1.0
            assert info.value.request_sent is False
            assert "connecting" in str(info.value)
        assert assistants_server.requests.count("POST", "/threads/*/runs") == 1


async def test_a_borrowed_session_closed_by_its_owner_is_a_typed_error(
    assistants_server: AssistantsServer,
) -> None:
    session = aiohttp.ClientSession()
    client = AsyncAssistants(api_key=KEY, base_url=assistants_server.url, session=session)
    await client.assistants.list()
    await session.close()
    with pytest.raises(ClientClosedError, match="session given to this client is closed"):
        await client.assistants.list()
    await client.aclose()


@pytest.mark.parametrize("keepalive", [True, False])
async def test_pooled_connections_have_tcp_keepalive(
    assistants_server: AssistantsServer, keepalive: bool
) -> None:
    """A half-open connection (NAT eviction, dead peer) is noticed by keepalive probes instead
    of hanging until the read timeout (reliability.md row a)."""
    transport = AiohttpTransport(tcp_keepalive=keepalive)
    client = AsyncAssistants(api_key=KEY, base_url=assistants_server.url, transport=transport)
    await client.assistants.list()
    session = transport.session
    assert session is not None and session.connector is not None
    [pooled] = [proto for protos in session.connector._conns.values() for proto, _ in protos]
    assert pooled.transport is not None
    sock = pooled.transport.get_extra_info("socket")
    assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == int(keepalive)
    if keepalive and hasattr(socket, "TCP_KEEPIDLE"):
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE) == 60
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT) == 5
    await transport.aclose()


@pytest.mark.parametrize("bad", [0, -1, float("nan"), float("inf")])
@pytest.mark.parametrize("field", ["connect", "read", "total", "event"])
def test_timeouts_must_be_positive_or_none(field: str, bad: float) -> None:
    with pytest.raises(ValueError, match=f"Timeout.{field}"):
        Timeout(**{field: bad})
    assert getattr(Timeout(**{field: None}), field) is None


def test_a_zero_number_timeout_is_refused() -> None:
    with pytest.raises(ValueError):
        AsyncAssistants(api_key=KEY, base_url="http://127.0.0.1:1/v1", timeout=0)


@pytest.mark.parametrize("field", ["max_event_bytes", "max_response_bytes", "max_error_body_bytes"])
def test_size_limits_must_be_positive(field: str) -> None:
    with pytest.raises(ValueError, match=field):
        Limits(**{field: 0})
    with pytest.raises(ValueError, match="max_connections"):
        Limits(max_connections=-1)


async def test_ids_reach_the_server_byte_for_byte() -> None:
    # Every id arrives as exactly one percent-encoded path segment, however it is spelled.
    from aiohttp import web

    seen: list[str] = []

    async def record(request: web.Request) -> web.Response:
        seen.append(request.raw_path)
        return web.json_response({"id": "x", "object": "thread", "created_at": 0, "metadata": {}})

    app = web.Application()
    app.router.add_route("GET", "/{tail:.*}", record)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        async with AsyncAssistants(api_key=KEY, base_url=f"http://127.0.0.1:{port}/v1") as client:
            for ident in ["%2E%2E", "a/../b", "x?y#z", "ü %"]:
                await client.threads.retrieve(ident)
    finally:
        await runner.cleanup()
    assert seen == [
        "/v1/threads/%252E%252E",
        "/v1/threads/a%2F..%2Fb",
        "/v1/threads/x%3Fy%23z",
        "/v1/threads/%C3%BC%20%25",
    ]
