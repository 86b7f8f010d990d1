"""Poll until a terminal state, with the clock and the sleep injected (tests never wait).

The interval is, in order: the caller's ``poll_interval_ms``; else the server's
``openai-poll-after-ms`` header, read on *every* poll (the official SDK reads it once and then
keeps that value); else one second. An overall ``timeout`` bounds the whole wait, which the
official SDK lacks (its ``timeout`` applies to each HTTP call).
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Mapping
from typing import TypeVar

__all__ = [
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
) -> tuple[T, bool]:
    """Call ``fetch`` until ``is_terminal(value)``; return ``(value, timed_out)``.

    ``fetch`` returns the value and the server's suggested delay (or None). ``interval``, when
    given, overrides the suggestion. ``deadline`` is a time on ``clock``: the last sleep is
    shortened to end at the deadline, one final fetch follows, and if that value is still not
    terminal the result is ``(value, True)``.
    """
    while True:
        value, suggested = await fetch()
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
