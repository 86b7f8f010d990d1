"""Polling rules with MockTransport and an injected clock/sleep (nothing waits for real):
``openai-poll-after-ms`` read on every poll, ``poll_interval_ms``, the overall ``timeout`` (with
and without cancelling), the create/submit/create-and-run helpers, and the header parser."""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from assistants_async import AsyncAssistants
from assistants_async import _polling as polling
from assistants_async._errors import BadRequestError, NotFoundError, RunPollTimeoutError
from assistants_async._polling import (
    TERMINAL_RUN_STATUSES,
    poll_after_seconds,
    poll_until,
)
from assistants_async._transport import MockTransport, Request, Response

TERMINAL = sorted(TERMINAL_RUN_STATUSES)


def run_json(status: str, *, run_id: str = "run_1", thread_id: str = "thread_1") -> dict[str, Any]:
    return {
        "id": run_id,
        "object": "thread.run",
        "created_at": 1,
        "thread_id": thread_id,
        "assistant_id": "asst_1",
        "status": status,
        "model": "m",
        "instructions": "",
        "tools": [],
    }


class FakeTime:
    """A clock that moves only when the client sleeps (or a handler advances it)."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 6))
        self.now += seconds


class RunServer:
    """Answers run endpoints from a script of ``(status, poll_after_ms)`` for successive GETs."""

    def __init__(self, script: list[tuple[str, int | str | None]], time: FakeTime) -> None:
        self.script = list(script)
        self.time = time
        self.requests: list[Request] = []
        self.create_cost = 0.0  # seconds a POST takes on the fake clock
        self.thread_id = "thread_1"

    def __call__(self, request: Request) -> Response:
        self.requests.append(request)
        path = request.url.split("/v1", 1)[1].split("?", 1)[0]
        if request.method == "POST":
            self.time.now += self.create_cost
            status = "cancelling" if path.endswith("/cancel") else "queued"
            return Response(
                200,
                json=run_json(status, thread_id=self.thread_id),
                headers={"openai-poll-after-ms": "1"},
            )
        if not self.script:
            raise AssertionError(f"unexpected poll {path}")
        status, after = self.script.pop(0)
        headers = {} if after is None else {"openai-poll-after-ms": str(after)}
        return Response(200, json=run_json(status, thread_id=self.thread_id), headers=headers)

    def paths(self) -> list[str]:
        return [f"{r.method} {r.url.split('/v1', 1)[1]}" for r in self.requests]


def make(
    script: list[tuple[str, int | str | None]],
) -> tuple[AsyncAssistants, RunServer, FakeTime]:
    time = FakeTime()
    server = RunServer(script, time)
    client = AsyncAssistants(
        api_key="k", base_url="http://127.0.0.1:1/v1", transport=MockTransport(server)
    )
    client._sleep = time.sleep
    client._clock = time.clock
    return client, server, time


async def test_poll_after_header_is_read_on_every_poll() -> None:
    client, server, time = make(
        [
            ("queued", 50),
            ("in_progress", 120),
            ("in_progress", None),  # no header: the 1 s default
            ("in_progress", "garbage"),  # unusable: the default again
            ("in_progress", 7),
            ("completed", 3000),
        ]
    )
    run = await client.threads.runs.poll("run_1", "thread_1")
    assert run.status == "completed"
    assert time.sleeps == [0.05, 0.12, 1.0, 1.0, 0.007]
    assert server.paths() == ["GET /threads/thread_1/runs/run_1"] * 6


async def test_poll_interval_ms_overrides_the_header() -> None:
    client, _, time = make([("queued", 50), ("in_progress", 9000), ("completed", None)])
    run = await client.threads.runs.poll("run_1", thread_id="thread_1", poll_interval_ms=250)
    assert run.status == "completed"
    assert time.sleeps == [0.25, 0.25]


@pytest.mark.parametrize("status", TERMINAL)
async def test_each_terminal_status_ends_polling_at_once(status: str) -> None:
    client, server, time = make([("in_progress", 10), (status, 10)])
    run = await client.threads.runs.poll("run_1", "thread_1")
    assert run.status == status
    assert time.sleeps == [0.01]
    assert len(server.requests) == 2


async def test_cancelling_is_not_terminal() -> None:
    client, _, time = make([("cancelling", 10), ("cancelling", 20), ("cancelled", None)])
    run = await client.threads.runs.poll("run_1", "thread_1")
    assert run.status == "cancelled"
    assert time.sleeps == [0.01, 0.02]


async def test_timeout_raises_with_the_last_run_and_does_not_cancel() -> None:
    client, server, time = make([("in_progress", 1000)] * 10)
    with pytest.raises(RunPollTimeoutError) as info:
        await client.threads.runs.poll("run_1", "thread_1", timeout=2.5)
    # the last sleep is shortened to end at the deadline, then one final poll
    assert time.sleeps == [1.0, 1.0, 0.5]
    assert time.now == pytest.approx(1002.5)
    assert info.value.run is not None and info.value.run.status == "in_progress"
    assert info.value.cancelled is False
    assert "run_1" in str(info.value) and "2.5" in str(info.value)
    assert all(r.method == "GET" for r in server.requests)
    assert len(server.requests) == 4


async def test_timeout_with_cancel_on_timeout_cancels_the_run() -> None:
    client, server, _ = make([("in_progress", 1000)] * 10)
    with pytest.raises(RunPollTimeoutError) as info:
        await client.threads.runs.poll("run_1", "thread_1", timeout=1.5, cancel_on_timeout=True)
    assert info.value.cancelled is True
    assert info.value.run is not None and info.value.run.status == "cancelling"
    assert server.paths()[-1] == "POST /threads/thread_1/runs/run_1/cancel"
    assert "cancellation was requested" in str(info.value)


async def test_a_run_that_turns_terminal_on_the_final_poll_is_returned() -> None:
    client, _, time = make([("in_progress", 1000), ("in_progress", 1000), ("completed", None)])
    run = await client.threads.runs.poll("run_1", "thread_1", timeout=1.5)
    assert run.status == "completed"
    assert time.sleeps == [1.0, 0.5]


async def test_poll_errors_propagate() -> None:
    def handler(request: Request) -> Response:
        return Response(404, json={"error": {"message": "No run found with id 'run_x'."}})

    client = AsyncAssistants(
        api_key="k", base_url="http://127.0.0.1:1/v1", transport=MockTransport(handler)
    )
    with pytest.raises(NotFoundError, match="run_x"):
        await client.threads.runs.poll("run_x", "thread_1")


async def test_create_and_poll_counts_the_create_against_the_timeout() -> None:
    client, server, time = make([("queued", 1000)] * 10)
    server.create_cost = 1.0  # the POST itself takes 1 s of the 2 s budget
    with pytest.raises(RunPollTimeoutError):
        await client.threads.runs.create_and_poll(
            thread_id="thread_1",
            assistant_id="asst_1",
            instructions="be brief",
            timeout=2.0,
        )
    assert time.sleeps == [1.0]
    first = server.requests[0]
    assert first.method == "POST" and first.content is not None
    assert json.loads(first.content) == {"assistant_id": "asst_1", "instructions": "be brief"}
    assert server.paths()[1:] == ["GET /threads/thread_1/runs/run_1"] * 2


async def test_create_and_poll_returns_the_terminal_run() -> None:
    client, server, time = make([("in_progress", 30), ("requires_action", None)])
    run = await client.threads.runs.create_and_poll(
        thread_id="thread_1", assistant_id="asst_1", poll_interval_ms=5
    )
    assert run.status == "requires_action"
    assert time.sleeps == [0.005]
    assert server.paths()[0] == "POST /threads/thread_1/runs"


async def test_submit_tool_outputs_and_poll() -> None:
    client, server, time = make([("in_progress", 40), ("completed", None)])
    outputs = [{"tool_call_id": "call_1", "output": "sunny"}]
    run = await client.threads.runs.submit_tool_outputs_and_poll(
        tool_outputs=outputs, run_id="run_1", thread_id="thread_1"
    )
    assert run.status == "completed"
    post = server.requests[0]
    assert server.paths()[0] == "POST /threads/thread_1/runs/run_1/submit_tool_outputs"
    assert post.content is not None and json.loads(post.content) == {"tool_outputs": outputs}
    assert time.sleeps == [0.04]


async def test_create_and_run_poll_polls_the_new_thread() -> None:
    client, server, time = make([("queued", 15), ("in_progress", 25), ("failed", None)])
    server.thread_id = "thread_new"
    run = await client.threads.create_and_run_poll(
        assistant_id="asst_1", thread={"messages": [{"role": "user", "content": "hi"}]}
    )
    assert run.status == "failed"
    assert server.paths() == ["POST /threads/runs"] + ["GET /threads/thread_new/runs/run_1"] * 3
    assert time.sleeps == [0.015, 0.025]


async def test_create_and_run_poll_timeout() -> None:
    client, _, _ = make([("queued", 500)] * 10)
    with pytest.raises(RunPollTimeoutError) as info:
        await client.threads.create_and_run_poll(assistant_id="asst_1", timeout=0.9)
    assert info.value.run is not None and info.value.run.thread_id == "thread_1"


async def test_request_timeout_is_per_call_and_timeout_is_overall() -> None:
    seen: list[Any] = []
    client, server, _ = make([("completed", None)])
    inner: Callable[[Request], Response] = server

    def spy(request: Request) -> Response:
        seen.append(request.timeout)
        return inner(request)

    client._transport = MockTransport(spy)
    await client.threads.runs.poll("run_1", "thread_1", request_timeout=3.0, timeout=100)
    assert seen[0].total == 3.0


# -- the pure pieces -------------------------------------------------------------------------------


@given(st.integers(min_value=0, max_value=10**9))
def test_poll_after_header_is_milliseconds(ms: int) -> None:
    assert poll_after_seconds({"openai-poll-after-ms": str(ms)}) == ms / 1000


@given(st.text())
def test_poll_after_header_never_raises(raw: str) -> None:
    value = poll_after_seconds({"openai-poll-after-ms": raw})
    assert value is None or (math.isfinite(value) and value >= 0)


@pytest.mark.parametrize("raw", ["-5", "nan", "inf", "-inf", "", "1e400", "abc"])
def test_poll_after_header_rejects_unusable_values(raw: str) -> None:
    assert poll_after_seconds({"openai-poll-after-ms": raw}) is None


def test_poll_after_header_absent() -> None:
    assert poll_after_seconds({}) is None


@given(
    st.lists(st.integers(min_value=0, max_value=5000), min_size=1, max_size=20),
    st.floats(min_value=0.001, max_value=30),
)
async def test_poll_until_never_sleeps_past_the_deadline(
    suggestions: list[int], timeout: float
) -> None:
    time = FakeTime()
    start = time.now
    queue = list(suggestions)

    async def fetch() -> tuple[str, float | None]:
        return ("in_progress", queue.pop(0) / 1000 if queue else None)

    value, timed_out = await poll_until(
        fetch,
        lambda status: False,
        interval=None,
        deadline=start + timeout,
        sleep=time.sleep,
        clock=time.clock,
    )
    assert timed_out and value == "in_progress"
    assert time.now == pytest.approx(start + timeout)
    assert all(s >= 0 for s in time.sleeps)


async def test_cancel_refused_because_the_run_just_ended_returns_that_run() -> None:
    client, server, _ = make([("in_progress", 1000), ("in_progress", 1000), ("completed", None)])
    inner = server

    def handler(request: Request) -> Response:
        if request.url.endswith("/cancel"):
            inner.requests.append(request)
            return Response(
                400, json={"error": {"message": "Cannot cancel run with status 'completed'."}}
            )
        return inner(request)

    client._transport = MockTransport(handler)
    run = await client.threads.runs.poll("run_1", "thread_1", timeout=1.0, cancel_on_timeout=True)
    assert run.status == "completed"
    assert server.paths()[-2:] == [
        "POST /threads/thread_1/runs/run_1/cancel",
        "GET /threads/thread_1/runs/run_1",
    ]


async def test_cancel_refused_for_another_reason_propagates() -> None:
    client, server, _ = make([("in_progress", 1000)] * 5)
    inner = server

    def handler(request: Request) -> Response:
        if request.url.endswith("/cancel"):
            return Response(400, json={"error": {"message": "nope"}})
        return inner(request)

    client._transport = MockTransport(handler)
    with pytest.raises(BadRequestError, match="nope"):
        await client.threads.runs.poll("run_1", "thread_1", timeout=1.0, cancel_on_timeout=True)


async def test_a_stalled_poll_request_is_abandoned_at_the_deadline(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The overall timeout bounds the poll requests too (plus a grace), not only the sleeps."""
    monkeypatch.setattr(polling, "DEADLINE_GRACE", 0.02)
    time = FakeTime()
    hang = asyncio.Event()
    polls = 0

    async def handler(request: Request) -> Response:
        nonlocal polls
        if request.method == "POST":
            return Response(200, json=run_json("queued"))
        polls += 1
        if polls == 2:
            await hang.wait()  # a GET that never answers
        return Response(200, json=run_json("in_progress"), headers={"openai-poll-after-ms": "10"})

    client = AsyncAssistants(
        api_key="k", base_url="http://127.0.0.1:1/v1", transport=MockTransport(handler)
    )
    client._sleep = time.sleep
    client._clock = time.clock
    with pytest.raises(RunPollTimeoutError) as info:
        await asyncio.wait_for(
            client.threads.runs.create_and_poll(
                thread_id="thread_1", assistant_id="a", timeout=0.05
            ),
            5,
        )
    assert info.value.run is not None and info.value.run.status == "in_progress"
    assert polls == 2


async def test_deadline_passing_before_any_poll_reports_the_created_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(polling, "DEADLINE_GRACE", 0.02)
    hang = asyncio.Event()

    async def handler(request: Request) -> Response:
        if request.method == "POST":
            return Response(200, json=run_json("queued"))
        await hang.wait()
        raise AssertionError("unreachable")

    client = AsyncAssistants(
        api_key="k", base_url="http://127.0.0.1:1/v1", transport=MockTransport(handler)
    )
    with pytest.raises(RunPollTimeoutError) as info:
        await client.threads.create_and_run_poll(assistant_id="a", timeout=0.01)
    assert info.value.run is not None and info.value.run.status == "queued"
    assert "run_1" in str(info.value)
