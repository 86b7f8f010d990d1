"""Fault injection and the request log of the loopback server.

Tests say "for the next N requests matching METHOD + path, do X"::

    server.faults.add("POST", "/threads/*/runs", Respond(429, retry_after=2))
    server.faults.add("GET", "/threads/*/runs/*", Respond(500), times=3)
    server.faults.add("POST", "/threads/*/runs", Disconnect(when="after", reset=True))
    server.faults.add("POST", "/threads/*/runs", CutStream(after_events=3))
    server.faults.add("POST", "/threads/runs", DripEvents(0.2), StallStream(2, seconds=5))

Paths are matched relative to the API prefix (``/v1``): ``*`` matches one path segment, ``**``
any number of them; a compiled ``re.Pattern`` is matched against the whole relative path.
Several actions in one rule combine (one HTTP-level action, any number of stream actions).
Request-level actions apply to any request; stream actions only shape ``text/event-stream``
responses and are ignored (but still consumed) for JSON ones.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "ByteByByte",
    "CutStream",
    "Disconnect",
    "DripEvents",
    "EndlessLine",
    "ErrorEvent",
    "FaultAction",
    "FaultRegistry",
    "FaultRule",
    "InjectRaw",
    "KeepAliveOnly",
    "MalformedEvent",
    "OversizedEvent",
    "RecordedRequest",
    "RequestLog",
    "Respond",
    "Stall",
    "StallStream",
    "StreamAction",
    "StreamRecord",
    "TruncatedChunk",
    "UnknownEvents",
]

# -- request-level actions ---------------------------------------------------------------------


@dataclass(frozen=True)
class Respond:
    """Answer with ``status`` instead of handling the request.

    ``json`` (default: an error envelope matching the status) or ``text`` is the body;
    ``html_size`` sends a ``text/html`` page of that many bytes instead.
    """

    status: int
    json: Any = None
    text: str | None = None
    html_size: int | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    retry_after: str | float | None = None
    retry_after_ms: str | float | None = None
    should_retry: bool | None = None  # x-should-retry header
    content_type: str | None = None


@dataclass(frozen=True)
class Disconnect:
    """Close the connection without a response.

    ``when="before"``: the request is read but not handled; ``"after"``: it is handled (a run
    is created, ...) and the response is lost. ``reset=True`` sends an RST instead of a FIN.
    """

    when: Literal["before", "after"] = "before"
    reset: bool = False


@dataclass(frozen=True)
class Stall:
    """Wait ``seconds`` (watching for the client to go away), then carry on normally.

    ``when="after"`` handles the request first (state changes happen) and stalls before
    answering; ``headers_first`` sends the response status and headers, then stalls.
    """

    seconds: float
    when: Literal["before", "after"] = "before"
    headers_first: bool = False


# -- stream-level actions ------------------------------------------------------------------------


@dataclass(frozen=True)
class CutStream:
    """Close the connection after ``after_events`` events (no terminal event, no ``done``)."""

    after_events: int
    reset: bool = False


@dataclass(frozen=True)
class StallStream:
    """After ``after_events`` events, send nothing for ``seconds``; then carry on."""

    after_events: int
    seconds: float


@dataclass(frozen=True)
class MalformedEvent:
    """Insert an event with undecodable data after ``after_events`` events."""

    after_events: int
    event: str = "thread.message.delta"
    data: str = "{not json"


@dataclass(frozen=True)
class ErrorEvent:
    """Send ``event: error`` after ``after_events`` events and end the stream."""

    after_events: int
    data: Any = field(default_factory=lambda: {"code": "server_error", "message": "boom"})


@dataclass(frozen=True)
class OversizedEvent:
    """Insert one valid-JSON message delta whose ``data:`` line is ``size`` bytes."""

    after_events: int
    size: int


@dataclass(frozen=True)
class EndlessLine:
    """After ``after_events`` events, write one ``data:`` line that never ends.

    Writes ``chunk_size`` bytes at a time until ``max_bytes`` have gone out or the client
    disconnects; ``StreamRecord.bytes_written`` tells how far it got.
    """

    after_events: int = 0
    chunk_size: int = 64 * 1024
    max_bytes: int = 100 * 1024 * 1024


@dataclass(frozen=True)
class UnknownEvents:
    """Insert events with names the client does not know, after ``after_events`` events."""

    after_events: int
    events: Sequence[tuple[str, Any]] = (
        ("thread.run.step.teleported", {"id": "step_x", "object": "thread.run.step"}),
        ("ping", {}),
    )


@dataclass(frozen=True)
class KeepAliveOnly:
    """After ``after_events`` events, only ``: keep-alive`` comments every ``interval``
    seconds for ``duration`` seconds; then carry on."""

    after_events: int
    interval: float = 0.5
    duration: float = 10.0


@dataclass(frozen=True)
class DripEvents:
    """Wait ``delay`` seconds before every event."""

    delay: float


@dataclass(frozen=True)
class ByteByByte:
    """Write the stream one byte per write (draining after each)."""


@dataclass(frozen=True)
class InjectRaw:
    """Write these raw bytes after ``after_events`` events (CR-only endings, BOM, ...)."""

    after_events: int
    data: bytes


@dataclass(frozen=True)
class TruncatedChunk:
    """After ``after_events`` events, announce a 100-byte chunk, send 40 bytes, close."""

    after_events: int


FaultAction = Respond | Disconnect | Stall
StreamAction = (
    CutStream
    | StallStream
    | MalformedEvent
    | ErrorEvent
    | OversizedEvent
    | EndlessLine
    | UnknownEvents
    | KeepAliveOnly
    | DripEvents
    | ByteByByte
    | InjectRaw
    | TruncatedChunk
)


@dataclass
class FaultRule:
    method: str
    path: str | re.Pattern[str]
    actions: tuple[FaultAction | StreamAction, ...]
    times: int | None = 1  # None: every matching request
    hits: int = 0

    def __post_init__(self) -> None:
        if isinstance(self.path, re.Pattern):
            self._pattern = self.path
        else:
            pattern = re.escape(self.path.rstrip("/") or "/")
            pattern = pattern.replace(r"\*\*", ".*").replace(r"\*", "[^/]+")
            self._pattern = re.compile(pattern)

    @property
    def exhausted(self) -> bool:
        return self.times is not None and self.hits >= self.times

    def matches(self, method: str, path: str) -> bool:
        if self.exhausted:
            return False
        if self.method != "*" and self.method.upper() != method.upper():
            return False
        return self._pattern.fullmatch(path.rstrip("/") or "/") is not None

    @property
    def request_action(self) -> FaultAction | None:
        for action in self.actions:
            if isinstance(action, Respond | Disconnect | Stall):
                return action
        return None

    @property
    def stream_actions(self) -> list[StreamAction]:
        return [a for a in self.actions if not isinstance(a, Respond | Disconnect | Stall)]


class FaultRegistry:
    """The rules of one server, first match wins; a matched rule counts one hit."""

    def __init__(self) -> None:
        self.rules: list[FaultRule] = []

    def add(
        self,
        method: str,
        path: str | re.Pattern[str],
        *actions: FaultAction | StreamAction,
        times: int | None = 1,
    ) -> FaultRule:
        if not actions:
            raise ValueError("give at least one action")
        if sum(isinstance(a, Respond | Disconnect | Stall) for a in actions) > 1:
            raise ValueError("at most one of Respond / Disconnect / Stall per rule")
        rule = FaultRule(method, path, tuple(actions), times)
        self.rules.append(rule)
        return rule

    def clear(self) -> None:
        self.rules.clear()

    def take(self, method: str, path: str) -> FaultRule | None:
        for rule in self.rules:
            if rule.matches(method, path):
                rule.hits += 1
                return rule
        return None


# -- request log -------------------------------------------------------------------------------


@dataclass
class StreamRecord:
    """What happened to one streamed response."""

    events_sent: int = 0
    bytes_written: int = 0
    completed: bool = False  # ``done`` was written
    disconnected_at: float | None = None  # loop time the client was seen gone


@dataclass
class RecordedRequest:
    method: str
    path: str  # relative to the API prefix, e.g. /threads/thread_x/runs
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    time: float  # event-loop time of arrival
    peer_port: int | None
    status: int | None = None  # status sent (None: no response, e.g. a disconnect fault)
    stream: StreamRecord | None = None

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


class RequestLog:
    """Every request the server saw, in arrival order (iterable, indexable, sized)."""

    def __init__(self) -> None:
        self.entries: list[RecordedRequest] = []

    def append(self, entry: RecordedRequest) -> None:
        self.entries.append(entry)

    def clear(self) -> None:
        self.entries.clear()

    def __iter__(self) -> Iterator[RecordedRequest]:
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    def __getitem__(self, index: int) -> RecordedRequest:
        return self.entries[index]

    def matching(
        self, method: str = "*", path: str | re.Pattern[str] = "**"
    ) -> list[RecordedRequest]:
        """Requests whose method and relative path match (same patterns as fault rules)."""
        rule = FaultRule(method, path, (), times=None)
        return [r for r in self.entries if rule.matches(r.method, r.path)]

    def count(self, method: str = "*", path: str | re.Pattern[str] = "**") -> int:
        return len(self.matching(method, path))
