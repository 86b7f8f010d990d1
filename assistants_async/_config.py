"""Frozen configuration values: timeouts, retry policy and size limits."""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = [
    "DEFAULT_LIMITS",
    "DEFAULT_RETRY_POLICY",
    "DEFAULT_TIMEOUT",
    "Limits",
    "RetryPolicy",
    "Timeout",
]


@dataclass(frozen=True, slots=True)
class Timeout:
    """Timeouts in seconds; ``None`` disables one.

    - ``connect``: establishing the connection (pool wait included).
    - ``read``: the longest silence between two reads of the socket (aiohttp's ``sock_read``).
    - ``total``: a whole non-streaming request. Never applied to streams, which may
      legitimately last for many minutes (aiohttp's default 300 s total kills them).
    - ``event``: for streams, the longest wait between two *events*; SSE comments and
      keep-alives do not reset it, so a proxy pinging an idle connection cannot hide a hang.
    """

    connect: float | None = 10.0
    read: float | None = 600.0
    total: float | None = 600.0
    event: float | None = None

    def __post_init__(self) -> None:
        for name in ("connect", "read", "total", "event"):
            value = getattr(self, name)
            if value is not None and not (0 < value < math.inf):
                raise ValueError(f"Timeout.{name} must be a positive number of seconds or None")

    @classmethod
    def coerce(cls, value: float | Timeout | None) -> Timeout:
        """A number means "this many seconds for the whole request and every read"."""
        if value is None:
            return cls(connect=None, read=None, total=None, event=None)
        if isinstance(value, Timeout):
            return value
        return cls(connect=min(float(value), 10.0), read=float(value), total=float(value))


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """When and how long to wait before retrying.

    Backoff is ``min(max_delay, initial_delay * 2**n)`` reduced by up to ``jitter`` (a
    fraction). A server-directed delay (``retry-after-ms`` / ``retry-after``) is honoured up to
    ``max_retry_after`` seconds; a longer one is not waited for: the error is raised with
    ``retry_after`` set, so the caller decides.

    The client also keeps one retry *budget* (a token bucket shared by all its requests):
    the bucket starts with ``budget_capacity`` tokens, each retry takes ``budget_retry_cost``
    and each success gives back ``budget_success_refill`` (up to the capacity). With the
    defaults a burst may retry 20 times; after that about one request in five may be
    retried until successes refill the bucket, so a batch job against a failing server backs
    off instead of multiplying its load. ``budget_capacity=None`` disables the budget.
    """

    max_retries: int = 2
    initial_delay: float = 0.5
    max_delay: float = 8.0
    jitter: float = 0.25
    max_retry_after: float = 60.0
    budget_capacity: float | None = 100.0
    budget_retry_cost: float = 5.0
    budget_success_refill: float = 1.0

    def __post_init__(self) -> None:
        if self.max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        if not 0.0 <= self.jitter <= 1.0:
            raise ValueError("jitter must be between 0 and 1")


@dataclass(frozen=True, slots=True)
class Limits:
    """Size caps and the connection pool size.

    Crossing a byte cap raises a typed error and closes the connection. ``max_connections``
    bounds the default transport's pool (aiohttp ``TCPConnector(limit=...)``); requests beyond
    it wait for a free connection, and that wait counts against ``Timeout.connect``.
    """

    max_event_bytes: int = 16 * 1024 * 1024
    max_response_bytes: int = 32 * 1024 * 1024
    max_error_body_bytes: int = 64 * 1024
    max_connections: int = 100

    def __post_init__(self) -> None:
        for name in ("max_event_bytes", "max_response_bytes", "max_error_body_bytes"):
            if getattr(self, name) < 1:
                raise ValueError(f"Limits.{name} must be at least 1")
        if self.max_connections < 0:
            raise ValueError("Limits.max_connections must be >= 0 (0: no limit)")


DEFAULT_TIMEOUT = Timeout()
DEFAULT_RETRY_POLICY = RetryPolicy()
DEFAULT_LIMITS = Limits()
