"""Poll until a terminal state, with the clock and the sleep injected (tests never wait).

The interval is, in order: the caller's ``poll_interval_ms``; else the server's
``openai-poll-after-ms`` header, read on *every* poll (the official SDK reads it once and then
keeps that value); else one second. An overall ``timeout`` bounds the whole wait, which the
official SDK lacks (its ``timeout`` applies to each HTTP call). The deadline also bounds each
poll request (plus ``DEADLINE_GRACE``): a stalled or retrying GET cannot hold the caller for
the request's own read timeout (600 s by default) past the deadline.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Mapping
from typing import TypeVar

import anyio

__all__ = [
    "DEADLINE_GRACE",
    "DEFAULT_POLL_INTERVAL",
    "POLL_AFTER_HEADER",
    "TERMINAL_RUN_STATUSES",
    "poll_after_seconds",
    "poll_until",
]

T = TypeVar("T")

TERMINAL_RUN_STATUSES = frozenset(
    {"requires_action", "cancelled", "completed", "failed", "expired", "incomplete"}
)
"""Statuses a run does not leave by itself (``requires_action`` waits for tool outputs)."""

POLL_AFTER_HEADER = "openai-poll-after-ms"
DEFAULT_POLL_INTERVAL = 1.0
DEADLINE_GRACE = 1.0
"""Seconds a poll request may run past the deadline (the final look at the deadline needs a
little time of its own) before it is abandoned."""


def poll_after_seconds(headers: Mapping[str, str]) -> float | None:
    """The server's suggested wait before the next poll, in seconds (None when absent/bad)."""
    raw = headers.get(POLL_AFTER_HEADER)
    if raw is None:
        return None
    try:
        value = float(raw.strip())
    except ValueError:
        return None
    if not math.isfinite(value) or value < 0:
        return None
    return value / 1000.0


async def poll_until(
    fetch: Callable[[], Awaitable[tuple[T, float | None]]],
    is_terminal: Callable[[T], bool],
    *,
    interval: float | None,
    deadline: float | None,
    sleep: Callable[[float], Awaitable[object]],
    clock: Callable[[], float],
    default_interval: float = DEFAULT_POLL_INTERVAL,
    grace: float | None = None,
) -> tuple[T | None, bool]:
    """Call ``fetch`` until ``is_terminal(value)``; return ``(value, timed_out)``.

    ``fetch`` returns the value and the server's suggested delay (or None). ``interval``, when
    given, overrides the suggestion. ``deadline`` is a time on ``clock``: the last sleep is
    shortened to end at the deadline, one final fetch follows, and if that value is still not
    terminal the result is ``(value, True)``. A fetch still running ``grace`` seconds (default
    ``DEADLINE_GRACE``) after the deadline is abandoned: the result is then ``(last value seen
    or None, True)``.
    """
    if grace is None:
        grace = DEADLINE_GRACE
    value: T | None = None
    while True:
        if deadline is None:
            value, suggested = await fetch()
        else:
            budget = max(0.0, deadline - clock()) + grace
            fetched: tuple[T, float | None] | None = None
            with anyio.move_on_after(budget):
                fetched = await fetch()
            if fetched is None:
                return value, True
            value, suggested = fetched
        if is_terminal(value):
            return value, False
        if interval is not None:
            delay = interval
        elif suggested is not None:
            delay = suggested
        else:
            delay = default_interval
        if deadline is not None:
            remaining = deadline - clock()
            if remaining <= 0:
                return value, True
            delay = min(delay, remaining)
        await sleep(delay)
