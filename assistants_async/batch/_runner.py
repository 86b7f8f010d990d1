"""``run_batch``: many conversations at bounded, rate-limit-adaptive concurrency.

Each item is one new thread and one run, polled to the end (tool calls answered by the
toolbox), and one line in the results file. The pieces, and why they are shaped so:

- Items run on at most ``concurrency`` workers behind an ``AdaptiveLimit``: a 429 that
  outlasts the client's own retries (or a run that fails with ``rate_limit_exceeded``) halves
  the number of items in flight, successes grow it back.
- Requests are retried at this level (after rate limits, 5xx and connection errors) only where
  replaying is safe. A run creation whose outcome is unknown (``AmbiguousOutcomeError``) is
  never replayed blindly: the thread belongs to the item alone, so its runs are listed and a
  run found there is adopted; only an empty thread gets a new run.
- Errors that doom every item (401, 403, ``insufficient_quota``, an unknown assistant) stop the
  batch and are raised as they are; any other error is recorded on its item and the batch
  goes on.
- Leaving early (cancellation, a fatal error, an item's timeout or error) cancels the item's
  run on the server if it is still active, so no run is left burning tokens or holding its
  thread.
"""

from __future__ import annotations

import collections
import logging
import os
import random
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import anyio

from .._config import RetryPolicy
from .._errors import (
    AmbiguousOutcomeError,
    APIConnectionError,
    AssistantsError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    InsufficientQuotaError,
    InternalServerError,
    PermissionDeniedError,
    RateLimitError,
)
from .._retry import backoff_delay
from .._types import NOT_GIVEN
from ..tools._loop import DEFAULT_MAX_TOOL_ROUNDS, run_tool_loop
from ..types import Run, TextContentBlock
from ._limiter import AdaptiveLimit
from ._models import BatchItem, BatchProgress, BatchResult, BatchSummary
from ._results import ResultsFile

if TYPE_CHECKING:
    from .._client import AsyncAssistants
    from ..tools import Toolbox
    from ..tools._toolbox import ToolOutput

__all__ = ["DEFAULT_BATCH_RETRY", "run_batch"]

log = logging.getLogger("assistants_async.batch")

T = TypeVar("T")

DEFAULT_BATCH_RETRY = RetryPolicy(max_retries=8, initial_delay=1.0, max_delay=60.0, jitter=0.5)
"""Item-level retries, on top of the client's own: patient, because a batch can wait."""

FATAL_ERRORS = (AuthenticationError, PermissionDeniedError, InsufficientQuotaError)
ACTIVE = frozenset({"queued", "in_progress", "requires_action"})  # cancellable
CANCEL_GRACE = 10.0  # seconds a shielded run cancellation may take while the batch unwinds


@dataclass
class _ItemState:
    ticket: int
    thread_id: str | None = None
    run: Run | None = None
    attempts: int = 0
    retries: int = 0
    rate_limited: int = 0


async def run_batch(
    client: AsyncAssistants,
    items: Iterable[BatchItem | Mapping[str, Any]],
    *,
    assistant_id: str,
    results: str | os.PathLike[str] | None = None,
    concurrency: int = 8,
    toolbox: Toolbox | None = None,
    max_tool_rounds: int = DEFAULT_MAX_TOOL_ROUNDS,
    run_options: Mapping[str, Any] | None = None,
    item_timeout: float | None = None,
    retry: RetryPolicy = DEFAULT_BATCH_RETRY,
    retry_failed: bool = False,
    delete_threads: bool = False,
    cancel_runs_on_exit: bool = True,
    on_progress: Callable[[BatchProgress], object] | None = None,
    sleep: Callable[[float], Awaitable[object]] = anyio.sleep,
) -> BatchSummary:
    """Run every item (a new thread and one run each) and return a summary.

    ``results`` is a JSONL file that gets one ``BatchResult`` line per item as it finishes.
    When it already exists the batch resumes: items with a line are skipped (with
    ``retry_failed=True``, only those whose last line says ``completed``). ``concurrency`` is
    the most items in flight; rate limits lower it for a while. ``toolbox`` answers tool
    calls; ``run_options`` are extra keyword arguments for ``runs.create`` (``model``,
    ``instructions``, ``tools``, ...). ``item_timeout`` bounds one item, retries included;
    when it passes the run is cancelled and the item recorded as an error.

    ``on_progress`` is called (in the event loop: keep it quick) once at the start and after
    every item. ``sleep`` waits between item-level retries (tests inject their own).
    Cancelling the call cancels the items in flight and, with ``cancel_runs_on_exit``, their
    runs; the results file then holds exactly the items that finished.
    """
    batch = _Batch(
        client,
        _coerce(items),
        assistant_id=assistant_id,
        results_file=None if results is None else ResultsFile(results),
        limit=AdaptiveLimit(concurrency),
        toolbox=toolbox,
        max_tool_rounds=max_tool_rounds,
        run_options=dict(run_options or {}),
        item_timeout=item_timeout,
        retry=retry,
        delete_threads=delete_threads,
        cancel_runs_on_exit=cancel_runs_on_exit,
        on_progress=on_progress,
        sleep=sleep,
    )
    return await batch.run(retry_failed=retry_failed)


def _coerce(items: Iterable[BatchItem | Mapping[str, Any]]) -> list[BatchItem]:
    batch: list[BatchItem] = []
    seen: set[str] = set()
    for raw in items:
        item = raw if isinstance(raw, BatchItem) else BatchItem.model_validate(raw)
        if item.id in seen:
            raise ValueError(f"duplicate batch item id {item.id!r} (ids name results)")
        seen.add(item.id)
        batch.append(item)
    return batch


@dataclass
class _Batch:
    client: AsyncAssistants
    items: list[BatchItem]
    assistant_id: str
    results_file: ResultsFile | None
    limit: AdaptiveLimit
    toolbox: Toolbox | None
    max_tool_rounds: int
    run_options: dict[str, Any]
    item_timeout: float | None
    retry: RetryPolicy
    delete_threads: bool
    cancel_runs_on_exit: bool
    on_progress: Callable[[BatchProgress], object] | None
    sleep: Callable[[float], Awaitable[object]]
    finished: list[BatchResult] = field(default_factory=list)
    completed: int = 0  # of finished, kept for progress reports (a count per item is O(n))
    rate_limited: int = 0
    skipped: int = 0
    started: float = field(default_factory=time.monotonic)
    fatal: Exception | None = None

    async def run(self, *, retry_failed: bool) -> BatchSummary:
        done = self.results_file.load() if self.results_file is not None else {}
        todo = collections.deque(
            item
            for item in self.items
            if item.id not in done or (retry_failed and not done[item.id].ok)
        )
        self.skipped = len(self.items) - len(todo)
        # One request up front rather than one identical 404 per item.
        await self.client.assistants.retrieve(self.assistant_id)
        self._progress(None)
        try:
            async with anyio.create_task_group() as tg:
                for _ in range(min(self.limit.maximum, len(todo))):
                    tg.start_soon(self._worker, todo, tg.cancel_scope)
        finally:
            if self.results_file is not None:
                self.results_file.close()
        if self.fatal is not None:
            raise self.fatal
        return BatchSummary(
            total=len(self.items),
            skipped=self.skipped,
            results=tuple(self.finished),
            rate_limited=self.rate_limited,
            min_limit=self.limit.lowest,
            elapsed=time.monotonic() - self.started,
            results_path=None if self.results_file is None else self.results_file.path,
        )

    async def _worker(self, todo: collections.deque[BatchItem], scope: anyio.CancelScope) -> None:
        while todo:
            ticket = await self.limit.acquire()
            try:
                if not todo:
                    return
                item = todo.popleft()
                result = await self._run_item(item, _ItemState(ticket))
                self._record(result)
            except Exception as exc:  # fatal (or on_progress raised): stop the whole batch
                if self.fatal is None:
                    self.fatal = exc  # raised bare after the task group, not as a group
                scope.cancel()
                return
            finally:
                self.limit.release()

    def _record(self, result: BatchResult) -> None:
        if self.results_file is not None:
            self.results_file.append(result)
        self.finished.append(result)
        self.completed += result.ok
        if result.rate_limited == 0:
            self.limit.succeeded()
        self._progress(result)

    def _progress(self, last: BatchResult | None) -> None:
        if self.on_progress is None:
            return
        self.on_progress(
            BatchProgress(
                total=len(self.items),
                skipped=self.skipped,
                finished=len(self.finished),
                completed=self.completed,
                in_flight=self.limit.in_flight,
                limit=self.limit.limit,
                rate_limited=self.rate_limited,
                elapsed=time.monotonic() - self.started,
                last=last,
            )
        )

    # -- one item -------------------------------------------------------------------------

    async def _run_item(self, item: BatchItem, state: _ItemState) -> BatchResult:
        started = time.monotonic()
        error: dict[str, Any] | None = None  # set when an exception (or the timeout) ended it
        output: str | None = None
        settled = False  # False while an exception is propagating out of the batch
        try:
            with anyio.move_on_after(self.item_timeout) as scope:
                run = await self._drive(item, state)
                output = await self._output(run, state)
            if scope.cancelled_caught:
                error = {
                    "type": "TimeoutError",
                    "message": f"the item did not finish within {self.item_timeout} s",
                }
            settled = True
        except FATAL_ERRORS:
            raise
        except AssistantsError as exc:
            error = {"type": type(exc).__name__, "message": str(exc)}
            settled = True
        finally:
            await self._cleanup(state, settled=settled)
        last = state.run
        status = "error" if error is not None or last is None else last.status
        usage = None if last is None or last.usage is None else last.usage.model_dump(mode="json")
        if error is None and last is not None and last.last_error is not None:
            error = last.last_error.model_dump(mode="json")
        return BatchResult(
            id=item.id,
            status=status,
            output=output,
            thread_id=state.thread_id,
            run_id=None if last is None else last.id,
            usage=usage,
            error=error,
            attempts=state.attempts,
            rate_limited=state.rate_limited,
            duration=time.monotonic() - started,
        )

    async def _drive(self, item: BatchItem, state: _ItemState) -> Run:
        threads = self.client.threads
        thread = await self._retrying(
            state,
            lambda: threads.create(
                messages=item.messages(),
                metadata=NOT_GIVEN if item.metadata is None else item.metadata,
            ),
        )
        state.thread_id = thread.id
        while True:
            state.attempts += 1
            created = await self._create_run(thread.id, state)
            state.run = await self._settle(created, state)
            last_error = state.run.last_error
            rate_limited = last_error is not None and last_error.code == "rate_limit_exceeded"
            if state.run.status != "failed" or not rate_limited:
                return state.run
            # The real API failed runs this way under load: a new run on the same thread
            # (which still holds the prompt) is the retry.
            self._rate_limited(state)
            if state.retries >= self.retry.max_retries:
                return state.run
            await self._back_off(state)

    async def _create_run(self, thread_id: str, state: _ItemState) -> Run:
        runs = self.client.threads.runs
        options = self.run_options
        while True:
            try:
                return await self._retrying(
                    state, lambda: runs.create(thread_id, assistant_id=self.assistant_id, **options)
                )
            except AmbiguousOutcomeError:
                if state.retries >= self.retry.max_retries:
                    raise
                # The thread belongs to this item alone, so a run on it that the item has not
                # seen is the one whose response was lost: adopt it instead of starting another.
                page = await self._retrying(
                    state, lambda: runs.list(thread_id, limit=1, order="desc")
                )
                seen = None if state.run is None else state.run.id
                if page.data and page.data[0].id != seen:
                    return page.data[0]
                await self._back_off(state)

    async def _settle(self, run: Run, state: _ItemState) -> Run:
        runs = self.client.threads.runs
        run = await self._poll(run, state)
        if self.toolbox is None:
            return run

        async def submit_and_poll(current: Run, outputs: list[ToolOutput]) -> Run:
            submitted = await self._retrying(
                state,
                lambda: runs.submit_tool_outputs(
                    current.id, thread_id=current.thread_id, tool_outputs=outputs
                ),
            )
            return await self._poll(submitted, state)

        return await run_tool_loop(
            run, self.toolbox, submit_and_poll=submit_and_poll, max_rounds=self.max_tool_rounds
        )

    async def _poll(self, run: Run, state: _ItemState) -> Run:
        state.run = run
        state.run = await self._retrying(
            state, lambda: self.client.threads.runs.poll(run.id, run.thread_id)
        )
        return state.run

    async def _output(self, run: Run, state: _ItemState) -> str | None:
        if run.status not in ("completed", "incomplete"):
            return None

        async def texts() -> list[str]:
            pages = self.client.threads.messages.list(run.thread_id, run_id=run.id, order="asc")
            return [
                block.text.value
                async for message in pages
                for block in message.content
                if isinstance(block, TextContentBlock)
            ]

        found = await self._retrying(state, texts)
        return "\n\n".join(found) if found else None

    async def _retrying(self, state: _ItemState, call: Callable[[], Awaitable[T]]) -> T:
        """``call()``, retried after rate limits, 5xx and connection errors (never after an
        ``AmbiguousOutcomeError``: the request may have acted) up to ``retry.max_retries``."""
        while True:
            try:
                return await call()
            except (InsufficientQuotaError, AmbiguousOutcomeError):
                raise
            except RateLimitError as exc:
                self._rate_limited(state)
                if state.retries >= self.retry.max_retries:
                    raise
                await self._back_off(state, retry_after=exc.retry_after)
            except (APIConnectionError, InternalServerError):
                if state.retries >= self.retry.max_retries:
                    raise
                await self._back_off(state)

    def _rate_limited(self, state: _ItemState) -> None:
        state.rate_limited += 1
        self.rate_limited += 1
        state.ticket = self.limit.rate_limited(state.ticket)

    async def _back_off(self, state: _ItemState, *, retry_after: float | None = None) -> None:
        delay = backoff_delay(self.retry, state.retries, random.random)
        if retry_after is not None:  # the server knows best, within reason
            delay = min(retry_after, self.retry.max_retry_after)
        state.retries += 1
        log.info("batch item backing off %.2fs (retry %d)", delay, state.retries)
        await self.sleep(delay)

    async def _cleanup(self, state: _ItemState, *, settled: bool) -> None:
        """Cancel the item's run if it is still active (when the batch itself is being torn
        down, only with ``cancel_runs_on_exit``), then delete its thread if asked."""
        run = state.run
        if run is not None and run.status in ACTIVE and (settled or self.cancel_runs_on_exit):
            # Shielded: this must still happen while the batch is being cancelled.
            with anyio.CancelScope(shield=True), anyio.move_on_after(CANCEL_GRACE):
                try:  # state.run keeps the status the item ended with
                    await self.client.threads.runs.cancel(run.id, thread_id=run.thread_id)
                except (BadRequestError, ConflictError) as exc:
                    # it ended on the server before the cancel arrived
                    log.info("run %s not cancelled: %s", run.id, exc)
                except AssistantsError as exc:
                    log.warning("could not cancel run %s: %s", run.id, exc)
        if self.delete_threads and settled and state.thread_id is not None:
            try:
                await self.client.threads.delete(state.thread_id)
            except AssistantsError as exc:
                log.warning("could not delete thread %s: %s", state.thread_id, exc)
