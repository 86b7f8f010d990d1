"""Forward a run's stream to a browser (or another service) and rebuild it on the other side.

Sending side (any framework that streams an async byte iterator)::

    stream = client.threads.runs.stream(thread_id=..., assistant_id=..., cancel_run_on_exit=True)
    return StreamingResponse(stream.to_sse(), media_type="text/event-stream")
    # or stream.to_ndjson() with media_type="application/x-ndjson"

Given a stream that was not entered, ``to_sse()``/``to_ndjson()`` enter it themselves and
close it when the body ends or the framework stops iterating (browser gone: the connection to
the API is closed, and with ``cancel_run_on_exit=True`` the run is cancelled). Do not return
``stream.to_sse()`` from inside ``async with stream:`` -- leaving the block closes the stream
before the framework sends the body; iterate it inside the block instead.

Receiving side::

    async with AssistantStream.from_ndjson(response_body_chunks) as stream:
        async for event in stream: ...          # same typed events, snapshots, callbacks

Each event is forwarded exactly as the server sent it: SSE ``event: <name>\\ndata: <json>\\n\\n``
(the server's JSON text, untouched) or NDJSON ``{"event": <name>, "data": <json>}\\n``. A
normal end is marked (SSE ``event: done``/``data: [DONE]``); a stream error is forwarded as an
``error`` event (``{"code", "message"}``) and then re-raised, so the receiver raises
``ServerStreamError`` instead of mistaking a cut-off stream for a finished one. The events are
read through the sending stream, so its snapshots and callbacks keep working.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator
from typing import TYPE_CHECKING, Literal

from .._config import DEFAULT_LIMITS
from .._errors import EventTooLargeError, ServerStreamError, StreamDecodeError, StreamError
from .._transport import Response
from .sse import ServerSentEvent

if TYPE_CHECKING:
    from .stream import EventStream, Opener

__all__ = ["NDJSONDecoder", "encode_stream", "opener_for"]

_DONE_SSE = b"event: done\ndata: [DONE]\n\n"


def opener_for(body: AsyncIterable[bytes], content_type: str) -> Opener:
    """An opener that "responds" with ``body`` (bytes forwarded by another process)."""

    async def open_() -> Response:
        return Response(200, headers={"content-type": content_type}, stream=body)

    return open_


def _sse_frame(name: str, data: str) -> bytes:
    lines = data.splitlines() or [""]
    payload = "".join(f"data: {line}\n" for line in lines)
    return f"event: {name}\n{payload}\n".encode()


def _ndjson_line(name: str, data: str) -> bytes:
    try:
        value = json.loads(data)
    except ValueError:
        value = data  # an unknown event whose data is not JSON travels as a string
    else:
        if "\n" not in data and "\r" not in data:
            # The server's own JSON text, spliced in as is: no re-serialisation cost.
            return f'{{"event": {json.dumps(name)}, "data": {data}}}\n'.encode()
    return (json.dumps({"event": name, "data": value}) + "\n").encode()


def _error_payload(exc: StreamError) -> str:
    if isinstance(exc, ServerStreamError):
        return json.dumps({"code": exc.code, "message": exc.message})
    return json.dumps({"code": type(exc).__name__, "message": exc.message})


async def encode_stream(
    stream: EventStream, fmt: Literal["sse", "ndjson"]
) -> AsyncGenerator[bytes, None]:
    """The events of ``stream`` re-encoded as SSE or NDJSON bytes (see the module doc)."""
    if stream._entered:
        async for piece in _encode(stream, fmt):
            yield piece
    else:
        async with stream:
            async for piece in _encode(stream, fmt):
                yield piece


async def _encode(stream: EventStream, fmt: Literal["sse", "ndjson"]) -> AsyncIterator[bytes]:
    frame = _sse_frame if fmt == "sse" else _ndjson_line
    try:
        async for _event in stream:
            raw = stream._last_sse
            if raw is not None:
                yield frame(raw.event, raw.data)
    except StreamError as exc:
        yield frame("error", _error_payload(exc))
        raise
    if fmt == "sse":
        yield _DONE_SSE


class NDJSONDecoder:
    """NDJSON lines ``{"event", "data"}`` -> ``ServerSentEvent``s, so the stream machinery is
    shared with SSE. Same interface as ``SSEDecoder``; one line is capped like one event."""

    def __init__(self, max_line_bytes: int = DEFAULT_LIMITS.max_event_bytes) -> None:
        self._buffer = bytearray()
        self._max = max_line_bytes

    def decode(self, chunk: bytes) -> list[ServerSentEvent]:
        self._buffer += chunk
        out: list[ServerSentEvent] = []
        start = 0
        buffer = self._buffer
        while (end := buffer.find(b"\n", start)) != -1:
            line = bytes(buffer[start:end])
            start = end + 1
            event = self._line(line)
            if event is not None:
                out.append(event)
        del buffer[:start]
        if len(buffer) > self._max:
            raise EventTooLargeError(f"an NDJSON line grew past {self._max} bytes", limit=self._max)
        return out

    def flush(self) -> list[ServerSentEvent]:
        # NDJSON's last line may lack its newline; it is complete if it parses.
        line, self._buffer = bytes(self._buffer), bytearray()
        event = self._line(line)
        return [event] if event is not None else []

    @staticmethod
    def _line(line: bytes) -> ServerSentEvent | None:
        if not line.strip():
            return None
        try:
            record = json.loads(line)
        except ValueError as exc:
            raise StreamDecodeError(
                "an NDJSON line is not valid JSON", data=line.decode("utf-8", "replace")
            ) from exc
        if not isinstance(record, dict) or not isinstance(record.get("event"), str):
            raise StreamDecodeError(
                'an NDJSON line is not {"event": ..., "data": ...}',
                data=line.decode("utf-8", "replace"),
            )
        data = record.get("data")
        text = data if isinstance(data, str) else json.dumps(data)
        return ServerSentEvent(event=record["event"], data=text)
