"""An adaptive concurrency limit: additive increase, multiplicative decrease (AIMD).

A rate limit halves the limit; every ``limit`` items finished without one raise it by one, up
to the maximum. Work started before a decrease carries the older epoch, so the burst of 429s
that several in-flight items meet together halves the limit once, not once per item (which
would collapse it to 1 on the first burst).
"""

from __future__ import annotations

import anyio

__all__ = ["AdaptiveLimit"]


class AdaptiveLimit:
    def __init__(self, maximum: int) -> None:
        if maximum < 1:
            raise ValueError("concurrency must be >= 1")
        self.maximum = maximum
        self.limit = maximum
        self.lowest = maximum
        self.in_flight = 0
        self.epoch = 0
        self._successes = 0
        self._waiters: list[anyio.Event] = []

    async def acquire(self) -> int:
        """Wait for a free slot; returns the epoch to pass to ``rate_limited``."""
        while self.in_flight >= self.limit:
            event = anyio.Event()
            self._waiters.append(event)
            try:
                await event.wait()
            finally:
                if event in self._waiters:
                    self._waiters.remove(event)
        self.in_flight += 1
        return self.epoch

    def release(self) -> None:
        self.in_flight -= 1
        self._wake()

    def rate_limited(self, epoch: int) -> int:
        """Halve the limit unless it was already lowered since ``epoch``; the new epoch."""
        if epoch == self.epoch:
            self.epoch += 1
            self.limit = max(1, self.limit // 2)
            self.lowest = min(self.lowest, self.limit)
            self._successes = 0
        return self.epoch

    def succeeded(self) -> None:
        if self.limit >= self.maximum:
            return
        self._successes += 1
        if self._successes >= self.limit:
            self._successes = 0
            self.limit += 1
            self._wake()

    def _wake(self) -> None:
        # Few waiters (one per idle worker); each re-checks the limit when it runs.
        for event in self._waiters:
            event.set()
        self._waiters.clear()
