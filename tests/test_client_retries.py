"""Retry rules with an injected sleep, clocks and randomness (nothing waits for real): what is
retried, server-directed delays and their cap, backoff and jitter, idempotency keys, the
retry-count header, closing before sleeping, ambiguous run creation and the retry budget."""

from __future__ import annotations

import asyncio
import email.utils
import math
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from client_support import FakeTime, make_client, obj, reply
from hypothesis import given
from hypothesis import strategies as st

from assistants_async import AsyncAssistants
from assistants_async import _errors as e
from assistants_async._config import RetryPolicy
from assistants_async._retry import (
    RetryBudget,
    backoff_delay,
    is_retryable_status,
    parse_retry_after,
    retry_delay,
)
from assistants_async._transport import Request, Response

OK_THREAD = reply(200, obj("thread"))


def conn_error(sent: bool = True) -> e.APIConnectionError:
    return e.APIConnectionError("The server closed the connection.", request_sent=sent)


@pytest.mark.parametrize("status", [408, 409, 429, 500, 502, 503, 504, 529])
async def test_retryable_statuses_are_retried(status: int) -> None:
    client, rec, time = make_client(reply(status, {"error": {"message": "x"}}), OK_THREAD)
    thread = await client.threads.retrieve("t")
    assert thread.id == "id_1"
    assert len(rec.requests) == 2 and len(time.sleeps) == 1


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422, 418])
async def test_other_4xx_are_not_retried(status: int) -> None:
    client, rec, time = make_client(default=reply(status, {"error": {"message": "x"}}))
    with pytest.raises(e.APIStatusError):
        await client.threads.retrieve("t")
    assert len(rec.requests) == 1 and time.sleeps == []


async def test_x_should_retry_true_overrides_a_400() -> None:
    client, rec, _ = make_client(reply(400, {}, x_should_retry="true"), OK_THREAD)
    await client.threads.retrieve("t")
    assert len(rec.requests) == 2


@pytest.mark.parametrize("status", [429, 500, 503])
async def test_x_should_retry_false_overrides_a_retryable_status(status: int) -> None:
    client, rec, _ = make_client(default=reply(status, {}, x_should_retry="false"))
    with pytest.raises(e.APIStatusError):
        await client.threads.retrieve("t")
    assert len(rec.requests) == 1


def test_quota_beats_x_should_retry() -> None:
    body = {"error": {"code": "insufficient_quota"}}
    assert not is_retryable_status(429, {"x-should-retry": "true"}, body)
    assert is_retryable_status(429, {"X-Should-Retry": " TRUE "}, {"error": {"code": "other"}})


@pytest.mark.parametrize(
    "error",
    [
        e.APIConnectionError("refused", request_sent=False),
        e.APIConnectionError("reset"),
        e.APITimeoutError("read timeout"),
        e.APITimeoutError("connect timeout", request_sent=False),
    ],
)
async def test_connection_errors_are_retried(error: Exception) -> None:
    client, rec, time = make_client(error, OK_THREAD)
    await client.threads.retrieve("t")
    assert len(rec.requests) == 2 and len(time.sleeps) == 1


async def test_a_body_dropped_mid_read_is_retried() -> None:
    async def broken() -> AsyncIterator[bytes]:
        yield b'{"id": "t", "obj'
        raise conn_error()

    client, rec, _ = make_client(lambda _r: Response(200, stream=broken()), OK_THREAD)
    thread = await client.threads.retrieve("t")
    assert thread.id == "id_1" and len(rec.requests) == 2


async def test_connection_error_after_the_last_retry_is_raised() -> None:
    client, rec, time = make_client(conn_error(), max_retries=2)
    with pytest.raises(e.APIConnectionError):
        await client.threads.retrieve("t")
    assert len(rec.requests) == 3 and len(time.sleeps) == 2


@pytest.mark.parametrize("max_retries", [0, 1, 4])
async def test_max_retries_is_respected(max_retries: int) -> None:
    client, rec, time = make_client(default=reply(503, {}), max_retries=max_retries)
    with pytest.raises(e.InternalServerError):
        await client.threads.retrieve("t")
    assert len(rec.requests) == max_retries + 1
    assert len(time.sleeps) == max_retries


# --- delays -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"retry_after_ms": "250"}, 0.25),
        ({"retry_after_ms": "250", "retry_after": "9"}, 0.25),
        ({"retry_after": "3"}, 3.0),
        ({"retry_after": "1.5"}, 1.5),
        ({"retry_after": "0"}, 0.0),
        ({"retry_after_ms": "junk", "retry_after": "2"}, 2.0),
        ({"retry_after_ms": "-5", "retry_after": "2"}, 2.0),
    ],
)
async def test_server_directed_delay_is_waited_exactly(
    headers: dict[str, str], expected: float
) -> None:
    client, _, time = make_client(reply(429, {}, **headers), OK_THREAD)
    await client.threads.retrieve("t")
    assert time.sleeps == [pytest.approx(expected)]


async def test_retry_after_as_an_http_date() -> None:
    wall = 1_700_000_000.0  # FakeTime's wall clock at the start
    when = email.utils.formatdate(wall + 7, usegmt=True)
    client, _, time = make_client(reply(503, {}, retry_after=when), OK_THREAD)
    assert time.wall == wall
    await client.threads.retrieve("t")
    assert time.sleeps == [pytest.approx(7)]


async def test_retry_after_beyond_the_cap_raises_at_once_with_retry_after() -> None:
    client, rec, time = make_client(default=reply(429, {}, retry_after="600"))
    with pytest.raises(e.RateLimitError) as info:
        await client.threads.retrieve("t")
    assert info.value.retry_after == 600
    assert len(rec.requests) == 1 and time.sleeps == []


async def test_the_cap_is_configurable() -> None:
    policy = RetryPolicy(max_retry_after=900)
    client, rec, time = make_client(
        reply(429, {}, retry_after="600"), OK_THREAD, max_retries=policy
    )
    await client.threads.retrieve("t")
    assert time.sleeps == [600]


async def test_garbage_retry_after_falls_back_to_backoff() -> None:
    client, _, time = make_client(reply(503, {}, retry_after="soon"), OK_THREAD)
    time.random_value = 0.0
    await client.threads.retrieve("t")
    assert time.sleeps == [0.5]


@pytest.mark.parametrize(
    ("random_value", "expected"),
    [(0.0, [0.5, 1.0, 2.0, 4.0, 8.0, 8.0]), (1.0, [0.375, 0.75, 1.5, 3.0, 6.0, 6.0])],
)
async def test_capped_exponential_backoff_with_jitter(
    random_value: float, expected: list[float]
) -> None:
    client, _, time = make_client(default=reply(500, {}), max_retries=6)
    time.random_value = random_value
    with pytest.raises(e.InternalServerError):
        await client.threads.retrieve("t")
    assert time.sleeps == pytest.approx(expected)


@given(
    st.integers(min_value=0, max_value=10_000),
    st.floats(min_value=0, max_value=1, exclude_max=True),
    st.floats(min_value=0, max_value=1),
)
def test_backoff_stays_within_its_jitter_band(n: int, r: float, jitter: float) -> None:
    policy = RetryPolicy(jitter=jitter)
    base = min(policy.max_delay, policy.initial_delay * 2.0 ** min(n, 62))
    delay = backoff_delay(policy, n, lambda: r)
    assert base * (1 - jitter) - 1e-9 <= delay <= base
    assert 0 < delay <= policy.max_delay


@given(st.text(max_size=60), st.text(max_size=60) | st.none())
def test_retry_after_parsing_never_crashes(raw: str, raw_ms: str | None) -> None:
    headers = {"retry-after": raw}
    if raw_ms is not None:
        headers["retry-after-ms"] = raw_ms
    value = parse_retry_after(headers, 1_700_000_000.0)
    assert value is None or (math.isfinite(value) and value >= 0)
    wait, after = retry_delay(RetryPolicy(), 0, headers, now=1_700_000_000.0, random=lambda: 0.5)
    assert wait is None or 0 <= wait <= 60


@pytest.mark.parametrize("raw", ["nan", "inf", "-1", "Wed, 21 Oct 2015 07:28:00", ""])
def test_unusable_retry_after_values(raw: str) -> None:
    assert parse_retry_after({"retry-after": raw}, 0.0) is None


def test_a_past_http_date_is_unusable() -> None:
    past = email.utils.formatdate(1_000.0, usegmt=True)
    assert parse_retry_after({"Retry-After": past}, 2_000.0) is None


# --- what every attempt carries ----------------------------------------------------------------


async def test_one_idempotency_key_across_the_attempts_of_one_post() -> None:
    client, rec, _ = make_client(
        reply(500, {}), reply(500, {}), reply(200, obj("thread.message")), max_retries=2
    )
    await client.threads.messages.create("t", role="user", content="hi")
    keys = [r.headers["Idempotency-Key"] for r in rec.requests]
    assert len(keys) == 3 and len(set(keys)) == 1 and len(keys[0]) >= 32
    assert [r.headers["X-Retry-Count"] for r in rec.requests] == ["0", "1", "2"]


async def test_different_calls_get_different_keys_and_gets_get_none() -> None:
    client, rec, _ = make_client(default=reply(200, obj("thread")))
    await client.threads.create()
    await client.threads.create()
    await client.threads.retrieve("t")
    assert rec.header("Idempotency-Key", 0) != rec.header("Idempotency-Key", 1)
    assert rec.header("Idempotency-Key", 2) is None
    assert rec.header("X-Retry-Count", 2) == "0"


async def test_a_caller_supplied_key_is_kept() -> None:
    client, rec, _ = make_client(reply(503, {}), OK_THREAD)
    await client.threads.create(extra_headers={"idempotency-key": "mine-1"})
    assert [r.headers.getall("Idempotency-Key") for r in rec.requests] == [["mine-1"]] * 2


async def test_error_responses_are_closed_before_sleeping() -> None:
    client, rec, time = make_client(reply(503, "down"), reply(429, {}, retry_after="1"), OK_THREAD)
    await client.threads.retrieve("t")
    assert time.closed_at_sleep == [True, True]
    assert all(r.is_closed for r in rec.responses)


async def test_the_body_is_sent_again_unchanged() -> None:
    client, rec, _ = make_client(reply(502, {}), reply(200, obj("assistant")))
    await client.assistants.create(model="m", name="n")
    assert rec.requests[0].content == rec.requests[1].content
    assert rec.body(1) == {"model": "m", "name": "n"}


# --- run creation: never replayed blindly --------------------------------------------------------

RunCall = Callable[[AsyncAssistants], Awaitable[Any]]
RUN_CREATING: list[tuple[str, RunCall]] = [
    ("runs.create", lambda c: c.threads.runs.create("t", assistant_id="a")),
    ("threads.create_and_run", lambda c: c.threads.create_and_run(assistant_id="a")),
    (
        "runs.submit_tool_outputs",
        lambda c: c.threads.runs.submit_tool_outputs("r", thread_id="t", tool_outputs=[]),
    ),
]


@pytest.mark.parametrize("call", [c[1] for c in RUN_CREATING], ids=[c[0] for c in RUN_CREATING])
@pytest.mark.parametrize(
    "error", [conn_error(), e.APITimeoutError("read timeout")], ids=["reset", "timeout"]
)
async def test_ambiguous_run_creation_is_not_replayed(call: RunCall, error: Exception) -> None:
    client, rec, time = make_client(error, reply(200, obj("thread.run")))
    with pytest.raises(e.AmbiguousOutcomeError) as info:
        await call(client)
    assert len(rec.requests) == 1 and time.sleeps == []
    assert info.value.idempotency_key == rec.requests[0].headers["Idempotency-Key"]
    assert isinstance(info.value.__cause__, e.APIConnectionError)
    assert "second run" in str(info.value)


@pytest.mark.parametrize("call", [c[1] for c in RUN_CREATING], ids=[c[0] for c in RUN_CREATING])
async def test_run_creation_that_never_left_is_replayed(call: RunCall) -> None:
    client, rec, _ = make_client(conn_error(sent=False), reply(200, obj("thread.run")))
    await call(client)
    assert len(rec.requests) == 2


@pytest.mark.parametrize("call", [c[1] for c in RUN_CREATING], ids=[c[0] for c in RUN_CREATING])
async def test_run_creation_answered_with_a_5xx_is_retried(call: RunCall) -> None:
    client, rec, _ = make_client(reply(503, {}), reply(200, obj("thread.run")))
    await call(client)
    assert len(rec.requests) == 2


async def test_ambiguous_stream_run_creation_is_not_replayed() -> None:
    client, rec, _ = make_client(conn_error(), reply(200, ""))
    with pytest.raises(e.AmbiguousOutcomeError):
        await client._request_stream("POST", "/threads/t/runs", body={"stream": True})
    assert len(rec.requests) == 1


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.threads.messages.create("t", role="user", content="x"),
        lambda c: c.threads.create(),
        lambda c: c.threads.runs.cancel("r", thread_id="t"),
        lambda c: c.assistants.create(model="m"),
    ],
    ids=["messages.create", "threads.create", "runs.cancel", "assistants.create"],
)
async def test_other_posts_are_replayed_after_an_ambiguous_failure(call: RunCall) -> None:
    client, rec, _ = make_client(conn_error(), _any_ok)
    await call(client)
    assert len(rec.requests) == 2
    assert rec.requests[0].headers["Idempotency-Key"] == rec.requests[1].headers["Idempotency-Key"]


def _any_ok(request: Request) -> Response:
    path = request.url.split("/v1", 1)[1]
    if path.startswith("/threads/t/messages"):
        return Response(200, json=obj("thread.message"))
    if path.startswith("/threads/t/runs"):
        return Response(200, json=obj("thread.run"))
    if path.startswith("/assistants"):
        return Response(200, json=obj("assistant"))
    return Response(200, json=obj("thread"))


# --- streams --------------------------------------------------------------------------------------


async def test_stream_open_is_retried_and_the_body_is_left_unread() -> None:
    client, rec, time = make_client(
        reply(503, {}), lambda _r: Response(200, content=b"event: x\ndata: {}\n\n")
    )
    response = await client._request_stream("GET", "/threads/t/runs/r")
    assert response.status_code == 200 and not response.is_closed
    assert rec.header("Accept") == "text/event-stream"
    assert rec.header("Accept-Encoding") == "identity"
    assert rec.last.stream is True
    assert b"".join([c async for c in response.aiter_bytes()]) == b"event: x\ndata: {}\n\n"
    assert len(time.sleeps) == 1
    await response.aclose()


async def test_stream_error_status_is_raised_typed_and_closed() -> None:
    client, rec, _ = make_client(reply(404, {"error": {"message": "no thread"}}))
    with pytest.raises(e.NotFoundError, match="no thread"):
        await client._request_stream("POST", "/threads/t/runs", body={"stream": True})
    assert rec.responses[0].is_closed


# --- the client-wide budget ---------------------------------------------------------------------


async def test_retry_budget_stops_a_retry_storm() -> None:
    policy = RetryPolicy(max_retries=3, budget_capacity=20, budget_retry_cost=5)
    client, rec, _ = make_client(default=reply(503, {}), max_retries=policy)
    for _ in range(10):
        with pytest.raises(e.InternalServerError):
            await client.threads.retrieve("t")
    # 20 tokens pay for four retries in all; the other calls fail after one attempt.
    assert len(rec.requests) == 10 + 4
    assert client.retry_budget.tokens == 0


async def test_successes_refill_the_budget() -> None:
    policy = RetryPolicy(budget_capacity=5, budget_retry_cost=5, budget_success_refill=1)
    client, rec, _ = make_client(reply(503, {}), OK_THREAD, max_retries=policy)
    await client.threads.retrieve("t")  # spends the only retry
    assert client.retry_budget.tokens == 1
    for _ in range(4):
        await client.threads.retrieve("t")
    assert client.retry_budget.tokens == 5


async def test_budget_also_limits_connection_retries() -> None:
    policy = RetryPolicy(max_retries=5, budget_capacity=10, budget_retry_cost=5)
    client, rec, _ = make_client(conn_error(sent=False), max_retries=policy)
    with pytest.raises(e.APIConnectionError):
        await client.threads.retrieve("t")
    assert len(rec.requests) == 3


def test_budget_without_capacity_never_runs_out() -> None:
    budget = RetryBudget(None, 5, 1)
    assert all(budget.try_acquire() for _ in range(1_000))
    assert repr(budget).startswith("<RetryBudget")


# --- closing and logging ------------------------------------------------------------------------


async def test_closing_the_client_during_a_backoff_stops_the_retries() -> None:
    client, rec, time = make_client(default=reply(503, {}))

    async def close_while_sleeping(seconds: float) -> None:
        time.sleeps.append(seconds)
        await client.aclose()

    client._sleep = close_while_sleeping
    with pytest.raises(e.ClientClosedError):
        await client.threads.retrieve("t")
    assert len(rec.requests) == 1


async def test_aclose_wakes_a_request_sleeping_in_backoff_at_once() -> None:
    client, rec, _ = make_client(default=reply(429, {}, retry_after="60"))
    sleeping = asyncio.Event()

    async def long_sleep(seconds: float) -> None:
        sleeping.set()
        await asyncio.Event().wait()  # would sleep forever unless cut short

    client._sleep = long_sleep
    task = asyncio.create_task(client.threads.retrieve("t"))
    await sleeping.wait()
    await client.aclose()
    with pytest.raises(e.ClientClosedError, match="waiting to retry"):
        await asyncio.wait_for(task, timeout=5)
    assert len(rec.requests) == 1


async def test_cancelling_a_request_in_backoff_cancels_cleanly() -> None:
    client, _, _ = make_client(default=reply(503, {}))
    sleeping = asyncio.Event()

    async def long_sleep(seconds: float) -> None:
        sleeping.set()
        await asyncio.Event().wait()

    client._sleep = long_sleep
    task = asyncio.create_task(client.threads.retrieve("t"))
    await sleeping.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not client.is_closed


async def test_an_error_from_the_sleep_function_propagates() -> None:
    client, _, _ = make_client(default=reply(503, {}))

    async def broken_sleep(seconds: float) -> None:
        raise RuntimeError("sleep broke")

    client._sleep = broken_sleep
    with pytest.raises(RuntimeError, match="sleep broke"):
        await client.threads.retrieve("t")


async def test_retries_are_logged_without_query_or_secrets(
    caplog: pytest.LogCaptureFixture,
) -> None:
    client, _, _ = make_client(reply(503, {}), OK_THREAD, default_query={"token": "q-secret"})
    with caplog.at_level("DEBUG", logger="assistants_async"):
        await client.threads.retrieve("t")
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "retrying GET /threads/t in" in text and "status 503" in text
    assert "q-secret" not in text


def test_fake_time_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    # Guard for the tests above: a client built by make_client never touches real time.
    client, _, time = make_client()
    assert client._sleep == time.sleep and client._random == time.random
    assert isinstance(time, FakeTime)
