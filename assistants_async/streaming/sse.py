"""An incremental decoder for ``text/event-stream`` bodies (WHATWG HTML, "event stream
interpretation"), fed with byte chunks of any size split at any position.

The decoder is pure: no I/O, no clock. ``decode(chunk)`` returns the events completed by that
chunk; ``flush()`` marks the end of the stream, where an unterminated final block is discarded
as the specification requires.

Decisions worth knowing:

- Lines end at CR, LF or CRLF only (a CRLF split across two chunks is one line end). Lines are
  split on bytes before any decoding, so a multi-byte UTF-8 character split across chunks is
  never corrupted, and U+2028 / NEL inside data never split a line.
- Strict UTF-8: the event name, ``id`` and data of every dispatched event must be valid UTF-8,
  otherwise ``StreamDecodeError``. Comments and unknown fields are ignored unread.
- ``max_event_bytes`` bounds the memory of one event (its data lines plus the unfinished line):
  crossing it raises ``EventTooLargeError`` as the bytes arrive, not once a line ends.
- ``retry`` on an event is the reconnection time sent in that event's own block (else None);
  ``SSEDecoder.retry`` and ``SSEDecoder.last_event_id`` keep the values that persist.
"""

from __future__ import annotations

import json as _json
import sys
from typing import Any, NamedTuple

from .._config import DEFAULT_LIMITS
from .._errors import EventTooLargeError, StreamDecodeError

__all__ = ["SSEDecoder", "ServerSentEvent"]

_BOM = b"\xef\xbb\xbf"
_LF = 0x0A
_CR = 0x0D


class ServerSentEvent(NamedTuple):
    """One dispatched event. ``event`` defaults to ``"message"``; ``id`` is the last event id
    in effect (it persists across events); ``retry`` is set only by the event's own block."""

    event: str = "message"
    data: str = ""
    id: str = ""
    retry: int | None = None

    def json(self) -> Any:
        """``data`` parsed as JSON (raises ``json.JSONDecodeError`` if it is not JSON)."""
        return _json.loads(self.data)


_new_tuple = tuple.__new__


def _undecodable(raw: bytes, event: bytes | None, exc: UnicodeDecodeError) -> StreamDecodeError:
    name = event.decode(errors="replace") if event else "message"
    where = "data" if exc.object is raw else "event name"
    return StreamDecodeError(
        f"event {name!r}: {where} is not valid UTF-8 ({exc.reason} at byte {exc.start})",
        event=name,
        data=raw.decode(errors="replace"),
    )


class SSEDecoder:
    """Turn byte chunks into ``ServerSentEvent``s. One decoder per stream.

    ``max_event_bytes`` defaults to ``Limits().max_event_bytes`` (16 MiB); ``None`` disables
    the cap.
    """

    __slots__ = (
        "_after_cr",
        "_block_retry",
        "_bom_checked",
        "_data",
        "_event",
        "_head",
        "_last_id",
        "_limit",
        "_max",
        "_parts",
        "_pending",
        "_retry",
        "_size",
    )

    def __init__(self, *, max_event_bytes: int | None = DEFAULT_LIMITS.max_event_bytes) -> None:
        if max_event_bytes is not None and max_event_bytes <= 0:
            raise ValueError("max_event_bytes must be positive or None")
        self._max = max_event_bytes
        self._limit = sys.maxsize if max_event_bytes is None else max_event_bytes
        self._last_id = ""
        self._retry: int | None = None
        self._reset()

    def _reset(self) -> None:
        # Unfinished line: a list of parts so a big line arriving in many chunks is joined once.
        self._parts: list[bytes] = []
        self._pending = 0
        # The current block: data lines (bytes, decoded at dispatch), their total size, the
        # event-type buffer and a retry field seen in this block.
        self._data: list[bytes] = []
        self._size = 0
        self._event: bytes | None = None
        self._block_retry: int | None = None
        self._after_cr = False  # the last chunk ended with CR: a leading LF is its partner
        self._bom_checked = False
        self._head = b""

    @property
    def last_event_id(self) -> str:
        """The last event id buffer (what a reconnecting client sends as ``Last-Event-ID``)."""
        return self._last_id

    @property
    def retry(self) -> int | None:
        """The latest reconnection time in milliseconds the server asked for, if any."""
        return self._retry

    def decode(self, chunk: bytes) -> list[ServerSentEvent]:
        """Feed the next chunk; return the events it completed (often none or one)."""
        if not self._bom_checked:
            chunk = self._strip_bom(chunk)
        elif not self._parts and not self._data and not self._after_cr and self._event is None:
            # Fast path: a chunk holding exactly one "event: x\ndata: y\n\n" block, the usual
            # shape of a live stream read as it arrives (C-level byte searches only).
            kind_end = chunk.find(b"\n")
            data_end = len(chunk) - 2
            if (
                chunk.startswith(b"event: ")
                and chunk.startswith(b"data: ", kind_end + 1)
                and chunk.find(b"\n", kind_end + 7) == data_end
                and chunk[-1] == _LF
                and b"\r" not in chunk
                and data_end <= self._limit
            ):
                kind = chunk[7:kind_end]
                raw = chunk[kind_end + 7 : data_end]
                try:
                    fields = (kind.decode() if kind else "message", raw.decode())
                except UnicodeDecodeError as exc:
                    raise _undecodable(raw, kind, exc) from exc
                return [_new_tuple(ServerSentEvent, (*fields, self._last_id, None))]
        if not chunk:
            return []
        if self._after_cr:
            self._after_cr = False
            if chunk[0] == _LF:
                chunk = chunk[1:]
                if not chunk:
                    return []
        # Only the bytes after the last line end can be unfinished; search for CR only there.
        end = chunk.rfind(b"\n")
        cr = chunk.rfind(b"\r", end + 1)
        if cr > end:
            end = cr
        if end < 0:
            self._parts.append(chunk)
            self._pending += len(chunk)
            if self._pending + self._size > self._limit:
                self._too_large()
            return []
        stop = end + 1
        size = len(chunk)
        if self._parts:
            self._parts.append(chunk[:stop])
            block = b"".join(self._parts)
            self._parts = []
            self._pending = 0
        else:
            block = chunk if stop == size else chunk[:stop]
        events = self._lines(block.splitlines())
        if stop == size:
            self._after_cr = chunk[end] == _CR
        else:
            self._parts.append(chunk[stop:])
            self._pending = size - stop
            if self._pending + self._size > self._limit:
                self._too_large()
        return events

    def flush(self) -> list[ServerSentEvent]:
        """End of stream. An unterminated final block is discarded (WHATWG), so this returns
        an empty list; it exists so callers need not know that. The decoder is then ready
        for a new connection of the same source: ``last_event_id`` and ``retry`` are kept."""
        self._reset()
        return []

    def _strip_bom(self, chunk: bytes) -> bytes:
        head = self._head + chunk if self._head else chunk
        if len(head) < len(_BOM) and _BOM.startswith(head):
            self._head = head  # could still be the start of a BOM: wait for more bytes
            return b""
        self._bom_checked = True
        self._head = b""
        return head[len(_BOM) :] if head.startswith(_BOM) else head

    def _lines(self, lines: list[bytes]) -> list[ServerSentEvent]:
        # Hot loop: block state lives in locals and is written back once.
        events: list[ServerSentEvent] = []
        data = self._data
        size = self._size
        event = self._event
        limit = self._limit
        try:
            for line in lines:
                if not line:  # blank line: dispatch the block
                    if data:
                        raw = data[0] if len(data) == 1 else b"\n".join(data)
                        try:
                            text = raw.decode()
                            kind = event.decode() if event else "message"
                        except UnicodeDecodeError as exc:
                            raise _undecodable(raw, event, exc) from exc
                        # tuple.__new__ skips NamedTuple's Python-level __new__ (hot path).
                        fields = (kind, text, self._last_id, self._block_retry)
                        events.append(_new_tuple(ServerSentEvent, fields))
                        data = []
                        size = 0
                    event = None
                    if self._block_retry is not None:
                        self._block_retry = None
                    continue
                name, _, value = line.partition(b":")
                if value[:1] == b" ":
                    value = value[1:]
                if name == b"data":
                    data.append(value)
                    size += len(value) + 1
                    if size > limit:
                        self._too_large()
                elif name == b"event":
                    event = value
                elif name == b"id":
                    if b"\0" not in value:
                        self._last_id = self._text(value, "id")
                elif name == b"retry":
                    # bytes.isdigit() is ASCII-only, exactly the spec's "only ASCII digits".
                    if value.isdigit():
                        self._retry = self._block_retry = int(value)
                # An empty name is a comment (the line started with ":"); others are unknown.
        finally:
            self._data = data
            self._size = size
            self._event = event
        return events

    def _text(self, value: bytes, field: str) -> str:
        try:
            return value.decode()
        except UnicodeDecodeError as exc:
            raise StreamDecodeError(
                f"the {field} field is not valid UTF-8 ({exc.reason} at byte {exc.start})",
                data=value.decode(errors="replace"),
            ) from exc

    def _too_large(self) -> None:
        limit = self._max
        assert limit is not None
        self._reset()  # free the buffered bytes now; the stream is unusable anyway
        raise EventTooLargeError(
            f"an event grew past max_event_bytes={limit}; the stream was abandoned", limit=limit
        )
