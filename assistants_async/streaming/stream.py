"""``AssistantStream`` (typed events + snapshots + callbacks) and ``EventStream`` (typed events
only), both async context managers over one streaming HTTP response.

::

    async with client.threads.runs.stream(thread_id=..., assistant_id=...) as stream:
        async for text in stream.text_deltas:
            print(text, end="")
        messages = await stream.final_messages()

Guarantees:

- ``__aenter__`` sends the request; leaving the block -- normally, by ``break``, by an
  exception or by task cancellation -- closes the connection at once. ``CancelledError``
  always propagates.
- A 2xx response that is not ``text/event-stream`` raises ``UnexpectedContentTypeError`` built
  from its (capped) body.
- ``event: error`` raises ``ServerStreamError`` after every event before it was delivered; a
  body that ends before a terminal run event (completed, failed, cancelled, expired,
  incomplete, requires_action) raises ``StreamIncompleteError`` after what arrived; a
  connection lost mid-body raises ``StreamIncompleteError`` (cause kept), or
  ``StreamIdleTimeoutError`` for a socket read timeout.
- ``event_timeout``: no *event* for that many seconds raises ``StreamIdleTimeoutError``;
  keep-alive comments do not reset the timer.
- A stream is iterated once (``async for``, ``text_deltas`` and ``until_done`` share one
  cursor); starting a second ``async for`` raises ``StreamConsumedError``.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator, Awaitable, Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, Generic, Protocol

import aiohttp
import anyio
from typing_extensions import TypeVar

from .._config import DEFAULT_LIMITS
from .._errors import (
    APIConnectionError,
    APITimeoutError,
    StreamConsumedError,
    StreamError,
    StreamIdleTimeoutError,
    StreamIncompleteError,
    UnexpectedContentTypeError,
    truncate,
)
from .._transport import Request, Response
from ..types.events import ThreadMessageDelta
from ..types.message import Message
from ..types.run import Run
from ..types.run_step import RunStep
from .accumulate import RunAccumulator
from .events import parse_event
from .handler import AsyncEventHandler, HandlerDispatcher
from .sse import ServerSentEvent, SSEDecoder

if TYPE_CHECKING:
    from ..types.events import AssistantStreamEvent

__all__ = [
    "CANCEL_RUN_TIMEOUT",
    "TERMINAL_RUN_EVENTS",
    "AssistantStream",
    "Continuation",
    "EventStream",
    "HandlerT",
    "Opener",
]

logger = logging.getLogger("assistants_async")

Opener = Callable[[], Awaitable[Response]]
"""Sends the stream request and returns the response with its body unread."""

CANCEL_RUN_TIMEOUT: Final = 5.0
"""Seconds allowed for the cancel-run call made when a ``cancel_run_on_exit`` stream is left
early; it is shielded from the cancellation that caused the exit."""

TERMINAL_RUN_EVENTS: Final = frozenset(
    {
        "thread.run.completed",
        "thread.run.failed",
        "thread.run.cancelled",
        "thread.run.expired",
        "thread.run.incomplete",
        "thread.run.requires_action",
    }
)
"""Run events after which a stream may end."""

_FINAL_RUN_STATUSES: Final = frozenset(
    {"completed", "failed", "cancelled", "expired", "incomplete"}
)

HandlerT = TypeVar("HandlerT", bound=AsyncEventHandler, default=AsyncEventHandler)
"""The stream's handler type; ``AsyncEventHandler`` when no ``event_handler`` is given."""


class Decoder(Protocol):
    """Bytes in, wire events out (``SSEDecoder``, or the NDJSON decoder of ``proxy``)."""

    def decode(self, chunk: bytes) -> list[ServerSentEvent]: ...

    def flush(self) -> list[ServerSentEvent]: ...


class EventStream:
    """Typed events of one streaming response, nothing more (``create(..., stream=True)``).

    ``async with EventStream(opener) as events: async for event in events: ...``
    """

    def __init__(
        self,
        opener: Opener,
        *,
        event_timeout: float | None = None,
        max_event_bytes: int = DEFAULT_LIMITS.max_event_bytes,
        decoder_factory: Callable[[], Decoder] | None = None,
    ) -> None:
        self._opener = opener
        self._event_timeout = event_timeout
        self._max_event_bytes = max_event_bytes
        self._decoder_factory = decoder_factory
        self._response: Response | None = None
        self._chunks: AsyncIterator[bytes] | None = None
        self._decoder: Decoder | None = None
        self._pending: list[ServerSentEvent] = []
        self._pending_pos = 0
        self._eof = False
        self._deadline = float("inf")
        self._iterating = False
        self._exhausted = False
        self._closed = False
        self._last_sse: ServerSentEvent | None = None
        self._current_event: AssistantStreamEvent | None = None
        self._terminal_seen = False
        self._entered = False

    # -- lifecycle ------------------------------------------------------------------------
    async def __aenter__(self) -> EventStream:
        # Idempotent: `create(..., stream=True)` hands out an already opened stream, and
        # `async with` on it must not send the request (create the run) a second time.
        if not self._entered:
            self._entered = True
            await self._open(self._opener)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the connection now (idempotent). Iteration after this ends."""
        self._closed = True
        await self._close_response()

    async def _close_response(self) -> None:
        response, self._response = self._response, None
        chunks, self._chunks = self._chunks, None
        if response is not None:
            # Shielded: a cancelled task must still give the connection back.
            with anyio.CancelScope(shield=True):
                await response.aclose()
                # Finish the body iterator now rather than leaving it to the event loop's
                # async-generator finaliser (which may run after the loop is gone). It may be
                # suspended in another task (close() from outside): then that task finishes it.
                aclose = getattr(chunks, "aclose", None)
                if aclose is not None:
                    try:
                        await aclose()
                    except RuntimeError:
                        pass

    async def _open(self, opener: Opener) -> None:
        response = await opener()
        try:
            if response.content_type != "text/event-stream":
                raise await _content_type_error(response)
        except BaseException:
            with anyio.CancelScope(shield=True):
                await response.aclose()
            raise
        self._response = response
        self._chunks = response.aiter_bytes().__aiter__()
        factory = self._decoder_factory
        self._decoder = (
            factory() if factory is not None else SSEDecoder(max_event_bytes=self._max_event_bytes)
        )
        self._pending = []
        self._pending_pos = 0
        self._eof = False
        self._terminal_seen = False

    # -- reading --------------------------------------------------------------------------
    @property
    def current_event(self) -> AssistantStreamEvent | None:
        """The event most recently delivered."""
        return self._current_event

    def __aiter__(self) -> AsyncIterator[AssistantStreamEvent]:
        self._claim_iteration()
        return self._events()

    def _claim_iteration(self) -> None:
        if self._iterating:
            raise StreamConsumedError("this stream was already iterated; a stream is read once")
        self._iterating = True

    async def _events(self) -> AsyncIterator[AssistantStreamEvent]:
        while True:
            event = await self._next_event()
            if event is None:
                return
            yield event

    async def _next_event(self) -> AssistantStreamEvent | None:
        """The next typed event of the response (None at its end); closes on any error."""
        if self._exhausted or self._closed:
            return None
        if self._event_timeout is not None:
            # The clock starts when the consumer asks for an event: a slow consumer is not an
            # idle server, and keep-alive comments met while waiting do not restart it.
            self._deadline = anyio.current_time() + self._event_timeout
        try:
            while True:
                # Events already decoded from the last chunk are taken without an await.
                pending, pos = self._pending, self._pending_pos
                if pos < len(pending):
                    sse: ServerSentEvent | None = pending[pos]
                    self._pending_pos = pos + 1
                else:
                    sse = await self._next_sse()
                if sse is None:
                    return await self._on_response_end()
                event = parse_event(sse)
                if event is None:  # done / [DONE]
                    self._eof = True
                    return await self._on_response_end()
                self._last_sse = sse
                self._current_event = event
                if event.event in TERMINAL_RUN_EVENTS:
                    self._terminal_seen = True
                return event
        except BaseException:
            self._exhausted = True
            await self._close_response()
            raise

    async def _on_response_end(self) -> AssistantStreamEvent | None:
        request = self._request()
        await self._close_response()
        if not self._terminal_seen:
            raise StreamIncompleteError(
                "the stream ended before a terminal run event; what arrived is partial",
                request=request,
            )
        self._exhausted = True
        return None

    async def _next_sse(self) -> ServerSentEvent | None:
        """The next wire event: from the queue of decoded ones, else read the body (one
        coroutine: this runs once per network chunk)."""
        while True:
            if self._pending_pos < len(self._pending):
                sse = self._pending[self._pending_pos]
                self._pending_pos += 1
                return sse
            decoder, chunks = self._decoder, self._chunks
            if self._eof or decoder is None:
                return None
            chunk: bytes | None = None
            if chunks is not None:
                try:
                    if self._event_timeout is None:
                        chunk = await chunks.__anext__()
                    else:
                        with anyio.CancelScope(deadline=self._deadline) as scope:
                            chunk = await chunks.__anext__()
                        if scope.cancelled_caught:
                            raise StreamIdleTimeoutError(
                                f"no event for {self._event_timeout} s (event_timeout)",
                                timeout=self._event_timeout,
                                request=self._request(),
                            )
                except StopAsyncIteration:
                    chunk = None
                except StreamError:
                    raise
                except Exception as exc:
                    if not self._read_failed(exc):
                        raise
                    chunk = None  # the run had already ended: treat as the end of the body
            if chunk is None:
                self._eof = True
                self._pending = decoder.flush() if chunks is not None else []
            else:
                self._pending = decoder.decode(chunk)
            self._pending_pos = 0

    def _read_failed(self, exc: Exception) -> bool:
        """Raise the stream error for a body read failure; True to treat it as the end of
        the body instead (after a terminal run event a lost or idle connection only hides
        the ``done`` marker: nothing is missing); False for an error that is not a read
        failure (re-raised as is)."""
        if isinstance(exc, (APITimeoutError, TimeoutError, asyncio.TimeoutError)):
            # The transport's socket-read timeout (aiohttp sock_read), mapped or raw.
            if self._terminal_seen:
                return True
            request = (exc.request if isinstance(exc, APITimeoutError) else None) or self._request()
            timeout = getattr(getattr(request, "timeout", None), "read", None)
            raise StreamIdleTimeoutError(
                f"the connection was idle too long mid-stream ({type(exc).__name__})",
                timeout=float(timeout or 0.0),
                request=request,
            ) from exc
        if isinstance(exc, (APIConnectionError, OSError, aiohttp.ClientError)):
            if self._terminal_seen:
                return True
            raise StreamIncompleteError(
                f"the connection was lost mid-stream ({type(exc).__name__}); what arrived "
                "is partial",
                request=self._request(),
            ) from exc
        return False

    # -- proxying -------------------------------------------------------------------------
    @property
    def current_raw_event(self) -> ServerSentEvent | None:
        """The wire form (name, JSON text) of the event most recently delivered."""
        return self._last_sse

    def to_sse(self) -> AsyncGenerator[bytes, None]:
        """The events re-encoded as ``text/event-stream`` bytes, for a streaming response
        (see ``assistants_async.streaming.proxy``)."""
        from .proxy import encode_stream

        return encode_stream(self, "sse")

    def to_ndjson(self) -> AsyncGenerator[bytes, None]:
        """The events as NDJSON lines ``{"event": ..., "data": ...}``."""
        from .proxy import encode_stream

        return encode_stream(self, "ndjson")

    def _request(self) -> Request | None:
        response = self._response
        return response.request if response is not None else None


async def _content_type_error(response: Response) -> UnexpectedContentTypeError:
    raw = await response.aread(limit=DEFAULT_LIMITS.max_error_body_bytes)
    text = raw.decode("utf-8", errors="replace")
    body: object = text
    detail = truncate(text.strip(), 512)
    try:
        body = json.loads(text)
    except ValueError:
        pass
    else:
        error = body.get("error") if isinstance(body, dict) else None
        if isinstance(error, dict) and error.get("message"):
            detail = truncate(str(error["message"]), 512)
    content_type = response.headers.get("content-type")
    return UnexpectedContentTypeError(
        f"expected a text/event-stream response, got {content_type or 'no content type'!r}"
        + (f": {detail}" if detail else ""),
        content_type=content_type,
        body=body,
        request=response.request,
    )


Continuation = Callable[["AssistantStream[Any]", Run], Awaitable["Opener | None"]]
"""Called after a response ended with ``thread.run.requires_action``; returning an ``Opener``
continues the same stream with the next response (the tool loop)."""


class AssistantStream(EventStream, Generic[HandlerT]):
    """A run's event stream with snapshots, helpers and optional callbacks.

    Use it as ``async with``; iterate it (``async for event in stream``) or read
    ``text_deltas``; then ``await final_run()`` / ``final_messages()`` / ``final_run_steps()``
    (which first read the rest of the stream).
    """

    def __init__(
        self,
        opener: Opener,
        *,
        event_handler: HandlerT | None = None,
        event_timeout: float | None = None,
        max_event_bytes: int = DEFAULT_LIMITS.max_event_bytes,
        cancel_run: Callable[[str, str], Awaitable[object]] | None = None,
        continuation: Continuation | None = None,
        decoder_factory: Callable[[], Decoder] | None = None,
    ) -> None:
        super().__init__(
            opener,
            event_timeout=event_timeout,
            max_event_bytes=max_event_bytes,
            decoder_factory=decoder_factory,
        )
        self._handler = event_handler
        self._cancel_run = cancel_run
        self._continuation = continuation
        self._acc = RunAccumulator()
        self._dispatcher = (
            HandlerDispatcher(event_handler, self._acc) if event_handler is not None else None
        )
        self._ended = False
        if event_handler is not None:
            bound = event_handler._stream
            if bound is not None and bound is not self and not bound._ended:
                raise RuntimeError(
                    "this event handler is in use by another stream that has not ended"
                )
            event_handler._stream = self

    @classmethod
    def from_sse(
        cls,
        body: AsyncIterable[bytes],
        *,
        event_handler: HandlerT | None = None,
        event_timeout: float | None = None,
        max_event_bytes: int = DEFAULT_LIMITS.max_event_bytes,
    ) -> AssistantStream[HandlerT]:
        """Rebuild a stream from SSE bytes another process forwarded (``to_sse()``); use it
        as ``async with``. ``body`` is any async iterable of byte chunks."""
        from .proxy import opener_for

        return cls(
            opener_for(body, "text/event-stream"),
            event_handler=event_handler,
            event_timeout=event_timeout,
            max_event_bytes=max_event_bytes,
        )

    @classmethod
    def from_ndjson(
        cls,
        body: AsyncIterable[bytes],
        *,
        event_handler: HandlerT | None = None,
        event_timeout: float | None = None,
        max_event_bytes: int = DEFAULT_LIMITS.max_event_bytes,
    ) -> AssistantStream[HandlerT]:
        """Rebuild a stream from NDJSON bytes another process forwarded (``to_ndjson()``);
        one line is capped like one event."""
        from .proxy import NDJSONDecoder, opener_for

        return cls(
            opener_for(body, "text/event-stream"),
            event_handler=event_handler,
            event_timeout=event_timeout,
            decoder_factory=lambda: NDJSONDecoder(max_event_bytes),
        )

    async def __aenter__(self) -> AssistantStream[HandlerT]:
        if self._entered:
            return self
        self._entered = True
        try:
            await self._open(self._opener)
        except BaseException as exc:
            await self._notify_exception(exc)
            await self._end()
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        early = not self._exhausted
        await self.close()
        await self._maybe_cancel_run(failed=exc is not None, early=early)
        await self._end()

    async def _maybe_cancel_run(self, *, failed: bool, early: bool) -> None:
        cancel = self._cancel_run
        run = self._acc.run
        if cancel is None or run is None or run.status in _FINAL_RUN_STATUSES:
            return
        # Leaving normally at requires_action is how manual tool calling works: keep the run.
        if run.status == "cancelling" or not (
            failed or (early and run.status != "requires_action")
        ):
            return
        with anyio.CancelScope(shield=True), anyio.move_on_after(CANCEL_RUN_TIMEOUT):
            try:
                await cancel(run.id, run.thread_id)
            except Exception as exc:  # never mask why the block was left
                logger.warning("cancelling run %s on stream exit failed: %r", run.id, exc)

    async def _end(self) -> None:
        if self._ended:
            return
        self._ended = True
        if self._handler is not None:
            await self._handler.on_end()

    # -- iteration ------------------------------------------------------------------------
    async def _next_event(self) -> AssistantStreamEvent | None:
        # One coroutine per event on the hot path: the loop is inlined, not delegated.
        try:
            while True:
                event = await super()._next_event()
                if event is None:
                    run = self._acc.run
                    if (
                        self._continuation is not None
                        and run is not None
                        and run.status == "requires_action"
                        and not self._closed
                        and self._exhausted
                    ):
                        opener = await self._continuation(self, run)
                        if opener is not None:
                            self._exhausted = False
                            await self._open(opener)
                            continue
                    await self._end()
                    return None
                touched = self._acc.accumulate(event)
                if self._dispatcher is not None:
                    await self._dispatcher.dispatch(event, touched)
                return event
        except BaseException as exc:
            self._exhausted = True
            await self._close_response()
            await self._notify_exception(exc)
            raise

    async def _notify_exception(self, exc: BaseException) -> None:
        handler = self._handler
        if handler is None or not isinstance(exc, Exception):
            return
        if isinstance(exc, StreamIdleTimeoutError):
            await handler.on_timeout()
        await handler.on_exception(exc)

    @property
    def text_deltas(self) -> AsyncIterator[str]:
        """The text fragments of ``thread.message.delta`` text blocks, as they arrive."""
        self._claim_iteration()
        return self._text_deltas()

    async def _text_deltas(self) -> AsyncIterator[str]:
        while True:
            event = await self._next_event()
            if event is None:
                return
            if not isinstance(event, ThreadMessageDelta):
                continue
            for part in event.data.delta.content or ():
                text = getattr(part, "text", None)
                value = getattr(text, "value", None) if part.type == "text" else None
                if value:
                    yield value

    async def until_done(self) -> None:
        """Read (and dispatch) the rest of the stream."""
        while await self._next_event() is not None:
            pass

    # -- snapshots ------------------------------------------------------------------------
    @property
    def event_handler(self) -> HandlerT | None:
        return self._handler

    @property
    def current_run(self) -> Run | None:
        """The latest run object the stream carried."""
        return self._acc.run

    @property
    def current_message_snapshot(self) -> Message | None:
        """The message most recently touched, as accumulated so far."""
        mid = self._acc.current_message_id
        return self._acc.messages[mid].model() if mid in self._acc.messages else None

    @property
    def current_run_step_snapshot(self) -> RunStep | None:
        """The run step most recently touched, as accumulated so far."""
        sid = self._acc.current_step_id
        return self._acc.run_steps[sid].model() if sid in self._acc.run_steps else None

    async def final_run(self) -> Run:
        """The run as the last run event left it (reads the rest of the stream first)."""
        await self.until_done()
        if self._acc.run is None:
            raise RuntimeError("the stream carried no run object (no thread.run.* event)")
        return self._acc.run

    async def final_messages(self) -> list[Message]:
        """Every message of the stream, in order (an empty list if there was none)."""
        await self.until_done()
        return self._acc.final_messages()

    async def final_run_steps(self) -> list[RunStep]:
        """Every run step of the stream, in order, with its terminal status (maybe empty)."""
        await self.until_done()
        return self._acc.final_run_steps()

    # openai-python's names, so that code moved over keeps working.
    async def get_final_run(self) -> Run:
        """Same as ``final_run()``."""
        return await self.final_run()

    async def get_final_messages(self) -> list[Message]:
        """Same as ``final_messages()`` (an empty list, where openai-python raises)."""
        return await self.final_messages()

    async def get_final_run_steps(self) -> list[RunStep]:
        """Same as ``final_run_steps()`` (an empty list, where openai-python raises)."""
        return await self.final_run_steps()
