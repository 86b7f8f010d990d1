"""Retry rules: which failures to retry, how long to wait, and the client-wide retry budget.

Everything here is a pure function of its inputs (time and randomness are passed in), so the
rules are tested without waiting; the retry loop itself lives in ``_client.py``.
"""

from __future__ import annotations

import email.utils
import math
from collections.abc import Callable, Mapping

from ._config import RetryPolicy
from ._errors import _error_envelope

__all__ = [
    "RETRY_COUNT_HEADER",
    "RetryBudget",
    "backoff_delay",
    "is_retryable_status",
    "parse_retry_after",
    "retry_delay",
]

RETRY_COUNT_HEADER = "X-Retry-Count"
"""Sent on every request: 0 on the first attempt, then the number of retries taken so far."""

_RETRYABLE = frozenset({408, 409, 429})


def is_retryable_status(status_code: int, headers: Mapping[str, str], body: object) -> bool:
    """408, 409, 429 and >= 500 are retried; ``x-should-retry`` overrides the status either
    way; a 429 whose error code is ``insufficient_quota`` never is (waiting will not help)."""
    if status_code == 429 and _error_envelope(body).get("code") == "insufficient_quota":
        return False
    override = _get(headers, "x-should-retry")
    if override is not None:
        value = override.strip().lower()
        if value == "true":
            return True
        if value == "false":
            return False
    return status_code in _RETRYABLE or status_code >= 500


def parse_retry_after(headers: Mapping[str, str], now: float) -> float | None:
    """The server-directed delay in seconds: ``retry-after-ms`` first, then ``retry-after``
    (seconds or an HTTP date, relative to ``now``, a UNIX time). Garbage, negative, NaN and
    infinite values give ``None``."""
    raw_ms = _get(headers, "retry-after-ms")
    if raw_ms is not None:
        ms = _finite(raw_ms)
        if ms is not None and ms >= 0:
            return ms / 1000.0
    raw = _get(headers, "retry-after")
    if raw is None:
        return None
    seconds = _finite(raw)
    if seconds is not None:
        return seconds if seconds >= 0 else None
    try:
        when = email.utils.parsedate_to_datetime(raw.strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        return None
    delay = when.timestamp() - now
    return delay if delay >= 0 else None


def backoff_delay(policy: RetryPolicy, retries_taken: int, random: Callable[[], float]) -> float:
    """``min(max_delay, initial_delay * 2**retries_taken)`` minus up to ``jitter`` of it."""
    base = min(policy.max_delay, policy.initial_delay * 2.0 ** min(retries_taken, 62))
    return base * (1.0 - policy.jitter * random())


def retry_delay(
    policy: RetryPolicy,
    retries_taken: int,
    headers: Mapping[str, str] | None,
    *,
    now: float,
    random: Callable[[], float],
) -> tuple[float | None, float | None]:
    """``(delay, retry_after)`` before the next attempt.

    A server-directed delay up to ``policy.max_retry_after`` is waited exactly (no jitter
    added: the server asked for it). A longer one gives ``delay=None``: do not retry, raise
    with ``retry_after`` set and let the caller decide (a client that sleeps for ten minutes
    inside ``await create()`` looks hung). Without a usable header: capped exponential backoff.
    """
    retry_after = parse_retry_after(headers, now) if headers is not None else None
    if retry_after is not None:
        if retry_after > policy.max_retry_after:
            return None, retry_after
        return retry_after, retry_after
    return backoff_delay(policy, retries_taken, random), None


class RetryBudget:
    """A token bucket shared by every request of one client (AWS SDK style).

    A retry spends ``retry_cost`` tokens; a success returns ``success_refill``. When the bucket
    cannot pay for a retry the error is raised at once, so a fleet of tasks hammering a failing
    server degrades to about one attempt per task instead of ``1 + max_retries``.
    """

    def __init__(self, capacity: float | None, retry_cost: float, success_refill: float) -> None:
        self.capacity = capacity
        self.retry_cost = retry_cost
        self.success_refill = success_refill
        self.tokens = capacity if capacity is not None else math.inf

    @classmethod
    def from_policy(cls, policy: RetryPolicy) -> RetryBudget:
        return cls(policy.budget_capacity, policy.budget_retry_cost, policy.budget_success_refill)

    def try_acquire(self) -> bool:
        """Take the cost of one retry if the bucket holds it."""
        if self.capacity is None:
            return True
        if self.tokens < self.retry_cost:
            return False
        self.tokens -= self.retry_cost
        return True

    def record_success(self) -> None:
        if self.capacity is not None:
            self.tokens = min(self.capacity, self.tokens + self.success_refill)

    def __repr__(self) -> str:
        return f"<RetryBudget tokens={self.tokens:g}/{self.capacity}>"


def _get(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is not None:
        return value
    for key, val in headers.items():
        if key.lower() == name:
            return val
    return None


def _finite(text: str) -> float | None:
    try:
        value = float(text.strip())
    except ValueError:
        return None
    return value if math.isfinite(value) else None
