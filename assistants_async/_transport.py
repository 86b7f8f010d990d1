"""The transport seam: the client builds a ``Request``, a ``Transport`` returns a ``Response``.

``AiohttpTransport`` is the default; ``MockTransport(handler)`` answers from a function, so unit
tests need no sockets. A response body is an async iterator of byte chunks that is read at most
once; ``aclose()`` releases the connection and is safe to call more than once.
"""

from __future__ import annotations

import inspect
import json as jsonlib
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from multidict import CIMultiDict, CIMultiDictProxy

from ._config import DEFAULT_TIMEOUT, Timeout

__all__ = ["MockTransport", "Request", "Response", "Transport"]


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
