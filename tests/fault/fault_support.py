"""Harness for the fault tier (no tests here): the client against the loopback server (and a raw
asyncio server for protocol abuse) over real sockets on 127.0.0.1.

Every test gets probes that fail it when a connection is left checked out of the pool, a socket
to the server is still open after the client closed, or anything "Unclosed ..." is reported.
Backoff sleeps are recorded and skipped (``client._sleep``), so retries cost no wall time;
timeouts are real but kept to a few hundred milliseconds.
"""

from __future__ import annotations

import asyncio
import gc
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import psutil
import pytest

from assistants_async import AsyncAssistants
from assistants_async._config import Limits, RetryPolicy, Timeout
from assistants_async._transport import AiohttpTransport
from assistants_async.testing import AssistantsServer, DefaultModel

API_KEY = "sk-fault-SENTINEL-9f3c"

# Fast defaults for the tier; tests override per call where a timeout is the point.
FAST_TIMEOUT = Timeout(connect=1.0, read=1.0, total=5.0, event=2.0)
REPLY = "The quick brown fox jumps over the lazy dog."


class SleepRecorder:
    """Stands in for ``asyncio.sleep`` in the client: records the delay, yields once."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        await asyncio.sleep(0)


def acquired(client: AsyncAssistants) -> int:
    """Connections checked out of the client's aiohttp pool right now."""
    transport = client._transport
    assert isinstance(transport, AiohttpTransport)
    session = transport.session
    if session is None or session.closed:
        return 0
    connector = session.connector
    assert connector is not None
    return len(connector._acquired)


def open_sockets(port: int) -> int:
    """Sockets this process still holds towards ``port``, in any state: an ESTABLISHED one is
    open or pooled, a CLOSE_WAIT one was closed by the server but not yet by us. (A socket we
    closed has no file descriptor any more, so psutil does not list it.)"""
    return sum(
        1
        for conn in psutil.Process().net_connections("tcp")
        if conn.raddr and conn.raddr.port == port
    )


async def eventually(condition: Callable[[], bool], timeout: float = 1.0) -> bool:
    """Wait (bounded) for a condition that another task or the kernel makes true."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() >= deadline:
            return False
        await asyncio.sleep(0.005)
    return True


@dataclass
class Harness:
    server: AssistantsServer
    sleeps: SleepRecorder
    clients: list[AsyncAssistants] = field(default_factory=list)

    @property
    def port(self) -> int:
        return int(self.server.url.split(":")[2].split("/")[0])

    def client(
        self,
        *,
        max_retries: int = 2,
        timeout: Timeout = FAST_TIMEOUT,
        limits: Limits | None = None,
        base_url: str | None = None,
    ) -> AsyncAssistants:
        client = AsyncAssistants(
            api_key=API_KEY,
            base_url=base_url or self.server.url,
            max_retries=RetryPolicy(max_retries=max_retries, budget_capacity=None),
            timeout=timeout,
            limits=limits or Limits(),
        )
        client._sleep = self.sleeps
        self.clients.append(client)
        return client

    async def thread_and_assistant(
        self, client: AsyncAssistants, text: str = REPLY
    ) -> tuple[str, str]:
        """A thread holding one user message; the default model echoes it as ``Echo: ...``."""
        assistant = await client.assistants.create(model="loopback")
        thread = await client.threads.create(messages=[{"role": "user", "content": text}])
        return thread.id, assistant.id

    async def assert_released(self, client: AsyncAssistants) -> None:
        """Nothing checked out of the pool; after closing, no socket to the server is left."""
        assert await eventually(lambda: acquired(client) == 0), "a connection is still acquired"
        await client.aclose()
        assert await eventually(lambda: open_sockets(self.port) == 0), "a socket is still open"


@pytest.fixture
async def harness(request: pytest.FixtureRequest) -> AsyncIterator[Harness]:
    loop = asyncio.get_running_loop()
    reported: list[dict[str, Any]] = []
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _loop, context: reported.append(context))
    options: dict[str, Any] = {
        "model": DefaultModel(chunk_size=6),
        "step_delay": 0.001,
        "poll_after_ms": 5,
    }
    marker = request.node.get_closest_marker("assistants_server")
    if marker is not None:
        options.update(marker.kwargs)
    try:
        async with AssistantsServer(**options) as server:
            h = Harness(server, SleepRecorder())
            yield h
            for client in h.clients:
                await client.aclose()
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            gc.collect()
        await asyncio.sleep(0)
        unclosed = [c for c in reported if "nclosed" in str(c.get("message", ""))]
        assert not unclosed, unclosed
        assert not reported, reported
    finally:
        loop.set_exception_handler(previous)


RawHandler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@dataclass
class RawServer:
    """A raw TCP server on 127.0.0.1 answering with whatever bytes a test scripts."""

    handler: RawHandler
    connections: int = 0
    server: asyncio.Server | None = None
    requests: list[bytes] = field(default_factory=list)  # each request's head and body
    closed: int = 0  # connections the server has closed

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}/v1"

    @property
    def port(self) -> int:
        assert self.server is not None
        return int(self.server.sockets[0].getsockname()[1])

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            self.requests.append(await read_request(reader))
            await self.handler(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()
            try:
                await writer.wait_closed()
            except ConnectionError:
                pass
            self.closed += 1


async def read_request(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    return head + (await reader.readexactly(length) if length else b"")


@pytest.fixture
async def raw_server() -> AsyncIterator[Callable[[RawHandler], Awaitable[RawServer]]]:
    servers: list[RawServer] = []

    async def start(handler: RawHandler) -> RawServer:
        raw = RawServer(handler)
        raw.server = await asyncio.start_server(raw._serve, "127.0.0.1", 0)
        servers.append(raw)
        return raw

    try:
        yield start
    finally:
        for raw in servers:
            assert raw.server is not None
            raw.server.close()
            await raw.server.wait_closed()
