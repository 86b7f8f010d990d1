"""What goes into a batch and what comes out: items, per-item results, progress, summary."""

from __future__ import annotations

import collections
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["BatchItem", "BatchProgress", "BatchResult", "BatchSummary", "ResultStatus"]

ResultStatus = Literal[
    "completed", "incomplete", "failed", "cancelled", "expired", "requires_action", "error"
]
"""A run's terminal status, or ``error`` when the item ended with an exception instead."""


class BatchItem(BaseModel):
    """One conversation of a batch: a new thread with ``prompt``, then one run.

    ``prompt`` is the user message's text, or a list of thread messages
    (``{"role": ..., "content": ...}``) when the conversation needs more than one. ``id`` names
    the item in the results file; it is what a resumed batch uses to skip finished work, so it
    must be unique and stable across runs of the same batch. ``metadata`` is set on the thread.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(min_length=1)
    prompt: str | list[dict[str, Any]]
    metadata: dict[str, str] | None = None

    def messages(self) -> list[dict[str, Any]]:
        if isinstance(self.prompt, str):
            return [{"role": "user", "content": self.prompt}]
        return self.prompt


class BatchResult(BaseModel):
    """One line of the results file: how one item ended.

    ``output`` is the text of the messages the (last) run wrote, or None when there are
    none; ``error`` is ``{"type", "message"}`` for an exception, or the run's ``last_error``
    when it failed. ``attempts`` counts runs started for the item (rate-limited runs are
    retried); ``rate_limited`` counts the 429s and rate-limit failures it met.
    """

    model_config = ConfigDict(frozen=True, extra="allow")

    id: str
    status: ResultStatus | str
    output: str | None = None
    thread_id: str | None = None
    run_id: str | None = None
    usage: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    attempts: int = 0
    rate_limited: int = 0
    duration: float = 0.0
    finished_at: float = Field(default_factory=time.time)

    @property
    def ok(self) -> bool:
        return self.status == "completed"


@dataclass(frozen=True)
class BatchProgress:
    """Where the batch stands, passed to ``on_progress`` after each item finishes.

    ``skipped`` items were already in the results file (a resumed batch); ``limit`` is the
    current concurrency (lowered after rate limits, raised again after successes).
    """

    total: int
    skipped: int
    finished: int
    completed: int
    in_flight: int
    limit: int
    rate_limited: int
    elapsed: float
    last: BatchResult | None = None

    @property
    def remaining(self) -> int:
        return self.total - self.skipped - self.finished


@dataclass(frozen=True)
class BatchSummary:
    """What ``run_batch`` returns: counts, timing, and the results of this invocation.

    ``results`` holds the items finished by this call, in the order they finished (the file
    also holds those of earlier, resumed calls). ``statuses`` counts them by status.
    """

    total: int
    skipped: int
    results: Sequence[BatchResult]
    rate_limited: int
    min_limit: int
    elapsed: float
    results_path: Path | None = None

    @property
    def statuses(self) -> Mapping[str, int]:
        return collections.Counter(str(result.status) for result in self.results)

    @property
    def finished(self) -> int:
        return len(self.results)

    @property
    def completed(self) -> int:
        return self.statuses.get("completed", 0)

    @property
    def failed(self) -> int:
        return self.finished - self.completed
