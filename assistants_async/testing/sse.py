"""Writes server-sent events, one write per event, shaped by the stream fault actions."""

from __future__ import annotations

import asyncio
import json
import socket
import struct
from collections.abc import Sequence
from typing import Any

from aiohttp import web

from .faults import (
    ByteByByte,
    CutStream,
    DripEvents,
    EndlessLine,
    ErrorEvent,
    InjectRaw,
    KeepAliveOnly,
    MalformedEvent,
    OversizedEvent,
    StallStream,
    StreamAction,
    StreamRecord,
    TruncatedChunk,
    UnknownEvents,
)

__all__ = ["EventWriter", "abort_connection", "client_gone", "sleep_watching"]

_POLL = 0.01


def client_gone(request: web.BaseRequest) -> bool:
    transport = request.transport
    return transport is None or transport.is_closing()


async def sleep_watching(request: web.BaseRequest, seconds: float) -> bool:
    """Sleep up to ``seconds``; return False early if the client goes away meanwhile."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while True:
        if client_gone(request):
            return False
        remaining = deadline - loop.time()
        if remaining <= 0:
            return True
        await asyncio.sleep(min(_POLL, remaining))


def abort_connection(request: web.BaseRequest, *, reset: bool) -> None:
    """Close the client's connection: a FIN, or with ``reset`` an RST (SO_LINGER 0)."""
    transport = request.transport
    if transport is None:
        return
    if reset:
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.close()


def encode(name: str, data: str) -> bytes:
    return f"event: {name}\ndata: {data}\n\n".encode()


class EventWriter:
    """Sends events on a prepared ``StreamResponse``; ``send`` returns False once it must stop
    (the client left, or a fault ended the stream)."""

    def __init__(
        self,
        request: web.BaseRequest,
        response: web.StreamResponse,
        actions: Sequence[StreamAction],
        record: StreamRecord,
    ) -> None:
        self.request = request
        self.response = response
        self.record = record
        self.byte_by_byte = any(isinstance(a, ByteByByte) for a in actions)
        self.drip = sum(a.delay for a in actions if isinstance(a, DripEvents))
        self._positioned = [a for a in actions if not isinstance(a, ByteByByte | DripEvents)]
        self.open = True  # False: stop sending (and do not finish the response cleanly)

    async def _write(self, data: bytes) -> bool:
        if not self.open:
            return False
        try:
            if self.byte_by_byte:
                for i in range(len(data)):
                    await self.response.write(data[i : i + 1])
                    self.record.bytes_written += 1
                    await asyncio.sleep(0)  # one write per byte reaches the socket alone
            else:
                await self.response.write(data)
                self.record.bytes_written += len(data)
        except (ConnectionError, RuntimeError):
            self._gone()
            return False
        if client_gone(self.request):
            self._gone()
            return False
        return True

    def _gone(self) -> None:
        self.open = False
        if self.record.disconnected_at is None:
            self.record.disconnected_at = asyncio.get_running_loop().time()

    async def _apply_due(self, *, final: bool) -> bool:
        """Apply the positioned actions due now (all remaining ones when ``final``)."""
        due = [a for a in self._positioned if final or _after(a) <= self.record.events_sent]
        for action in due:
            self._positioned.remove(action)
            if not await self._apply(action):
                return False
        return True

    async def _apply(self, action: StreamAction) -> bool:
        if isinstance(action, CutStream):
            self.open = False
            abort_connection(self.request, reset=action.reset)
            return False
        if isinstance(action, StallStream):
            if not await sleep_watching(self.request, action.seconds):
                self._gone()
                return False
            return True
        if isinstance(action, MalformedEvent):
            return await self._write(encode(action.event, action.data))
        if isinstance(action, ErrorEvent):
            await self._write(encode("error", json.dumps(action.data)))
            self.open = False
            return False
        if isinstance(action, OversizedEvent):
            return await self._write(_oversized(action.size))
        if isinstance(action, UnknownEvents):
            for name, data in action.events:
                if not await self._write(encode(name, json.dumps(data))):
                    return False
            return True
        if isinstance(action, KeepAliveOnly):
            return await self._keep_alive(action)
        if isinstance(action, InjectRaw):
            return await self._write(action.data)
        if isinstance(action, EndlessLine):
            return await self._endless(action)
        if isinstance(action, TruncatedChunk):
            transport = self.request.transport
            self.open = False
            if transport is not None:
                # bypass aiohttp's chunk framing: a 0x64 (100) byte chunk that stops at 40
                transport.write(b"64\r\n" + b"x" * 40)
                transport.close()
            return False
        return True  # ByteByByte / DripEvents are not positioned

    async def _keep_alive(self, action: KeepAliveOnly) -> bool:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + action.duration
        while loop.time() < deadline:
            if not await self._write(b": keep-alive\n\n"):
                return False
            if not await sleep_watching(self.request, min(action.interval, deadline - loop.time())):
                self._gone()
                return False
        return True

    async def _endless(self, action: EndlessLine) -> bool:
        chunk = b"x" * action.chunk_size
        if not await self._write(b"event: thread.message.delta\ndata: "):
            return False
        sent = 0
        while sent < action.max_bytes:
            if not await self._write(chunk[: action.max_bytes - sent]):
                return False
            sent += len(chunk)
        self.open = False
        abort_connection(self.request, reset=False)
        return False

    async def send(self, name: str, data: str) -> bool:
        if not await self._apply_due(final=False):
            return False
        if self.drip and not await sleep_watching(self.request, self.drip):
            self._gone()
            return False
        if not await self._write(encode(name, data)):
            return False
        self.record.events_sent += 1
        return True

    async def done(self) -> bool:
        """Apply what is still pending, then the terminal ``done`` event."""
        if not await self._apply_due(final=True):
            return False
        if not await self._write(encode("done", "[DONE]")):
            return False
        self.record.completed = True
        return True


def _after(action: Any) -> int:
    return int(getattr(action, "after_events", 0))


def _oversized(size: int) -> bytes:
    head = (
        '{"id":"msg_oversized","object":"thread.message.delta",'
        '"delta":{"content":[{"index":0,"type":"text","text":{"value":"'
    )
    tail = '"}}]}}'
    filler = "x" * max(0, size - len(head) - len(tail))
    return encode("thread.message.delta", head + filler + tail)
