"""The transport seam: the client builds a ``Request``, a ``Transport`` returns a ``Response``.

``AiohttpTransport`` is the default; ``MockTransport(handler)`` answers from a function, so unit
tests need no sockets. A response body is an async iterator of byte chunks that is read at most
once; ``aclose()`` releases the connection and is safe to call more than once.
"""

from __future__ import annotations

import asyncio
import inspect
import json as jsonlib
import socket
import ssl as ssl_module
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import aiohttp
import yarl
from multidict import CIMultiDict, CIMultiDictProxy

from ._config import DEFAULT_LIMITS, DEFAULT_TIMEOUT, Limits, Timeout
from ._errors import (
    APIConnectionError,
    APITimeoutError,
    ClientClosedError,
    EventLoopMismatchError,
)

__all__ = [
    "AiohttpTransport",
    "MockTransport",
    "Request",
    "Response",
    "Transport",
    "client_timeout",
    "keepalive_socket",
]


@dataclass(slots=True)
class Request:
    """One HTTP request as the client sends it. ``url`` is absolute, query included."""

    method: str
    url: str
    headers: CIMultiDict[str] = field(default_factory=CIMultiDict)
    content: bytes | None = None
    timeout: Timeout = DEFAULT_TIMEOUT
    stream: bool = False

    def __repr__(self) -> str:
        # Headers carry credentials; they stay out of every repr.
        return f"<Request {self.method} {self.url.split('?', 1)[0]}>"


class Response:
    """A response whose body has not been read yet."""

    def __init__(
        self,
        status_code: int,
        *,
        headers: Mapping[str, str] | None = None,
        stream: AsyncIterable[bytes] | None = None,
        content: bytes | None = None,
        json: Any = None,
        request: Request | None = None,
        on_close: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        hdrs: CIMultiDict[str] = CIMultiDict(headers or {})
        if json is not None:
            content = jsonlib.dumps(json).encode()
            hdrs.setdefault("content-type", "application/json")
        self.status_code = status_code
        self.headers: CIMultiDictProxy[str] = CIMultiDictProxy(hdrs)
        self.request = request
        self._stream: AsyncIterable[bytes] = (
            stream if stream is not None else _single_chunk(content or b"")
        )
        self._on_close = on_close
        self._consumed = False
        self.is_closed = False

    @property
    def content_type(self) -> str:
        """The media type alone, lower-cased: ``text/event-stream``, ``application/json``..."""
        return self.headers.get("content-type", "").split(";", 1)[0].strip().lower()

    async def aiter_bytes(self) -> AsyncIterator[bytes]:
        """Yield body chunks as they arrive, in whatever sizes the network gives."""
        if self._consumed:
            raise RuntimeError("the response body was already read")
        self._consumed = True
        async for chunk in self._stream:
            if chunk:
                yield chunk

    async def aread(self, limit: int | None = None) -> bytes:
        """Read the whole body (stopping after ``limit`` bytes when given), then close."""
        parts: list[bytes] = []
        size = 0
        try:
            async for chunk in self.aiter_bytes():
                parts.append(chunk)
                size += len(chunk)
                if limit is not None and size >= limit:
                    break
        finally:
            await self.aclose()
        body = b"".join(parts)
        return body if limit is None else body[:limit]

    async def aclose(self) -> None:
        if self.is_closed:
            return
        self.is_closed = True
        if self._on_close is not None:
            await self._on_close()

    def __repr__(self) -> str:
        return f"<Response [{self.status_code}]>"


async def _single_chunk(body: bytes) -> AsyncIterator[bytes]:
    yield body


@runtime_checkable
class Transport(Protocol):
    """What the client needs from HTTP: send a request, get a response with a lazy body."""

    async def send(self, request: Request) -> Response: ...

    async def aclose(self) -> None: ...


Handler = Callable[[Request], "Response | Awaitable[Response]"]


class MockTransport:
    """Answers every request by calling ``handler(request)`` (sync or async). For tests."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler

    async def send(self, request: Request) -> Response:
        result = self.handler(request)
        response = await result if inspect.isawaitable(result) else result
        assert isinstance(response, Response), "MockTransport handlers must return a Response"
        response.request = request
        return response

    async def aclose(self) -> None:
        return None


# --- the default transport -------------------------------------------------------------------

# TCP keepalive probes after 60 s of silence, every 60 s, 5 of them (anthropic's values): a
# half-open connection (NAT eviction, dead peer) is noticed in ~6 min instead of never.
_KEEPALIVE_OPTIONS = (("TCP_KEEPIDLE", 60), ("TCP_KEEPINTVL", 60), ("TCP_KEEPCNT", 5))


def keepalive_socket(addr_info: tuple[Any, ...]) -> socket.socket:
    """A socket factory for ``aiohttp.TCPConnector`` that turns on TCP keepalive."""
    family, type_, proto = addr_info[0], addr_info[1], addr_info[2]
    sock = socket.socket(family=family, type=type_, proto=proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        for name, value in _KEEPALIVE_OPTIONS:
            option = getattr(socket, name, None)
            if option is not None:
                sock.setsockopt(socket.IPPROTO_TCP, option, value)
    except OSError:  # pragma: no cover - platforms without these options still work
        pass
    return sock


def client_timeout(timeout: Timeout, *, stream: bool) -> aiohttp.ClientTimeout:
    """The aiohttp timeout for one request.

    ``connect`` bounds the pool wait plus the TCP/TLS connect; ``read`` is the socket idle
    limit; ``total`` applies to non-streaming requests only, because aiohttp's total timeout
    would cut a healthy long stream.
    """
    return aiohttp.ClientTimeout(
        total=None if stream else timeout.total,
        connect=timeout.connect,
        sock_connect=timeout.connect,
        sock_read=timeout.read,
    )


class AiohttpTransport:
    """Sends requests with an ``aiohttp.ClientSession``.

    Pass ``session`` to borrow one (it is used, never closed); otherwise a session is created
    lazily on the running event loop at the first request and closed by ``aclose()``. Redirects
    are never followed: a 3xx comes back as a response (the client turns it into an error), so
    credentials cannot be forwarded to another host.
    """

    def __init__(
        self,
        session: aiohttp.ClientSession | None = None,
        *,
        limits: Limits = DEFAULT_LIMITS,
        ssl: ssl_module.SSLContext | bool = True,
        trust_env: bool = False,
        tcp_keepalive: bool = True,
    ) -> None:
        self._session = session
        self._owns_session = session is None
        self._limits = limits
        self._ssl = ssl
        self._trust_env = trust_env
        self._tcp_keepalive = tcp_keepalive
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False
        # Bodies handed out and not closed yet: aclose() must wake their readers itself.
        self._open_bodies: set[_AiohttpBody] = set()

    @property
    def owns_session(self) -> bool:
        return self._owns_session

    @property
    def session(self) -> aiohttp.ClientSession | None:
        """The session in use, once there is one."""
        return self._session

    @property
    def has_open_session(self) -> bool:
        """True when this transport created a session that is not closed yet."""
        return self._owns_session and self._session is not None and not self._session.closed

    def _get_session(self) -> aiohttp.ClientSession:
        if self._closed:
            raise ClientClosedError("the transport is closed")
        loop = asyncio.get_running_loop()
        if self._session is None:
            connector = aiohttp.TCPConnector(
                limit=self._limits.max_connections,
                ssl=self._ssl,
                socket_factory=keepalive_socket if self._tcp_keepalive else None,
            )
            self._session = aiohttp.ClientSession(
                connector=connector, trust_env=self._trust_env, raise_for_status=False
            )
            self._loop = loop
        elif self._session.closed:
            # A borrowed session its owner closed: say so in our terms, not aiohttp's
            # bare RuntimeError("Session is closed").
            raise ClientClosedError("the aiohttp session given to this client is closed")
        elif self._loop is None:
            self._loop = loop
        if loop is not self._loop:
            raise EventLoopMismatchError(
                "this client was first used on another event loop; create one client per loop"
            )
        return self._session

    async def send(self, request: Request) -> Response:
        session = self._get_session()
        try:
            raw = await session.request(
                request.method,
                # encoded=True: sent as built; a str would be re-quoted by yarl, which decodes
                # %2E and then drops dot segments from the path.
                yarl.URL(request.url, encoded=True),
                headers=request.headers,
                data=request.content,
                allow_redirects=False,
                timeout=client_timeout(request.timeout, stream=request.stream),
            )
        except BaseException as exc:
            if self._closed and isinstance(exc, Exception):
                # aclose() cut this request off: not a network failure to retry. Whatever
                # aiohttp raised says nothing more (3.12.0 even trips an assert when its own
                # stale-connection resend finds the connector gone).
                raise ClientClosedError(
                    "the client was closed while this request was sent"
                ) from None
            mapped = _map_error(exc, request, before_response=True)
            if mapped is None:
                raise
            raise mapped from _safe_cause(exc)
        body = _AiohttpBody(raw, request, self._open_bodies)
        return Response(
            raw.status,
            headers=raw.headers,
            stream=body,
            request=request,
            on_close=body.close,
        )

    async def aclose(self) -> None:
        """Close the session if we created it. Responses still being read (a stream in another
        task) fail at once with ``ClientClosedError``: aiohttp's connector close drops their
        payload without waking the reader, which would otherwise wait for ``Timeout.read``."""
        self._closed = True
        for body in list(self._open_bodies):
            body.abort(
                ClientClosedError("the client was closed while this response was being read")
            )
        if self._owns_session and self._session is not None and not self._session.closed:
            await self._session.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else ("open" if self._session else "unopened")
        owner = "owned" if self._owns_session else "borrowed"
        return f"<AiohttpTransport {state} {owner} session>"


class _AiohttpBody:
    """The body of an aiohttp response as an async iterable of chunks, with errors mapped."""

    def __init__(
        self, raw: aiohttp.ClientResponse, request: Request, registry: set[_AiohttpBody]
    ) -> None:
        self._raw = raw
        self._request = request
        self._finished = False
        self._registry = registry
        registry.add(self)

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._raw.content.iter_any():
                yield chunk
        except BaseException as exc:
            mapped = _map_error(exc, self._request, before_response=False)
            if mapped is None:
                raise
            raise mapped from _safe_cause(exc)
        self._finished = True

    async def close(self) -> None:
        # A fully read body goes back to the pool; a half-read one must not be reused.
        self._registry.discard(self)
        if self._finished:
            self._raw.release()
        else:
            self._raw.close()

    def abort(self, exc: BaseException) -> None:
        """Fail a reader that may be waiting in another task, and drop the connection."""
        self._registry.discard(self)
        self._raw.content.set_exception(exc)
        self._raw.close()


# aiohttp's ClientOSError text when writing the request (headers go out with the body) failed.
_BODY_NOT_WRITTEN = "Can not write request body"


def _map_error(
    exc: BaseException, request: Request, *, before_response: bool
) -> APIConnectionError | None:
    """The library error for an aiohttp / timeout failure, or None to let it propagate."""
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        # Raised while waiting for the pool or connecting: nothing was sent.
        return APITimeoutError("Timed out while connecting.", request=request, request_sent=False)
    if isinstance(exc, (aiohttp.ServerTimeoutError, asyncio.TimeoutError)):
        where = "waiting for the response" if before_response else "reading the response body"
        return APITimeoutError(f"Timed out {where}.", request=request)
    if isinstance(exc, aiohttp.ClientConnectorError):
        return APIConnectionError(
            f"Could not connect to the server ({type(exc).__name__}).",
            request=request,
            request_sent=False,
        )
    if isinstance(exc, aiohttp.ClientOSError) and _BODY_NOT_WRITTEN in str(exc):
        # aiohttp failed while writing the request (typically a pooled keep-alive connection
        # the server had just closed): the server never got a complete request, so it cannot
        # have acted on it, and even a run creation may be replayed.
        return APIConnectionError(
            "The connection broke while the request was being sent.",
            request=request,
            request_sent=False,
        )
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return APIConnectionError("The server closed the connection.", request=request)
    if isinstance(exc, aiohttp.ClientPayloadError):
        return APIConnectionError(
            "The connection broke while the response body was being read.", request=request
        )
    if isinstance(exc, aiohttp.ClientError):
        return APIConnectionError(f"Connection error ({type(exc).__name__}).", request=request)
    if isinstance(exc, OSError):
        return APIConnectionError(f"Connection error ({type(exc).__name__}).", request=request)
    return None


def _safe_cause(exc: BaseException) -> BaseException | None:
    # aiohttp's ClientResponseError carries the request headers (the API key) in its repr:
    # such an exception is never chained.
    if isinstance(exc, aiohttp.ClientResponseError):
        return None
    return exc
