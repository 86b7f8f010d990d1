"""Fault catalogue, status codes over real sockets: 429/503 with retry-after(-ms) then success,
retries exhausted, HTML 502 pages, quota errors, server-directed delays above the cap,
``x-should-retry``, and 2xx bodies that are not what they claim (reliability.md 4.2 #7-#17)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from fault_support import API_KEY, Harness

from assistants_async import AsyncAssistants
from assistants_async import _errors as errors
from assistants_async._config import RetryPolicy, Timeout
from assistants_async.testing import CutStream, Disconnect, ErrorEvent, Respond, Stall

ONE_ASSISTANT = "/assistants/*"


async def test_429_retry_after_seconds_then_success(harness: Harness) -> None:
    client = harness.client()
    assistant = await client.assistants.create(model="m")
    harness.server.reset()
    harness.server.faults.add("GET", ONE_ASSISTANT, Respond(429, retry_after=1))
    got = await client.assistants.retrieve(assistant.id)
    assert got.id == assistant.id
    assert harness.sleeps.delays == [1.0]  # exactly the server's delay, no jitter added
    attempts = harness.server.requests.matching("GET", ONE_ASSISTANT)
    assert [r.status for r in attempts] == [429, 200]
    assert [r.headers["X-Retry-Count"] for r in attempts] == ["0", "1"]
    await harness.assert_released(client)


async def test_retry_after_ms_wins_over_retry_after(harness: Harness) -> None:
    client = harness.client()
    assistant = await client.assistants.create(model="m")
    harness.server.faults.add(
        "GET", ONE_ASSISTANT, Respond(503, retry_after_ms=150, retry_after=30)
    )
    await client.assistants.retrieve(assistant.id)
    assert harness.sleeps.delays == [0.15]
    await harness.assert_released(client)


async def test_503_on_run_creation_is_replayed_and_creates_one_run(harness: Harness) -> None:
    # A 5xx *response* proves the server did not start the run, so replaying is safe.
    client = harness.client()
    thread_id, assistant_id = await harness.thread_and_assistant(client)
    harness.server.faults.add("POST", "/threads/*/runs", Respond(503, retry_after_ms=10), times=2)
    run = await client.threads.runs.create(thread_id, assistant_id=assistant_id)
    assert run.thread_id == thread_id
    posts = harness.server.requests.matching("POST", "/threads/*/runs")
    assert [r.status for r in posts] == [503, 503, 200]
    keys = {r.headers["Idempotency-Key"] for r in posts}
    assert len(keys) == 1 and keys != {""}  # one key kept across the attempts
    assert harness.server.runs_created(thread_id) == 1
    await harness.assert_released(client)


async def test_retries_exhausted_raise_the_typed_error_with_request_id(harness: Harness) -> None:
    client = harness.client(max_retries=2)
    harness.server.faults.add("GET", "/assistants", Respond(500), times=None)
    with pytest.raises(errors.InternalServerError) as info:
        await client.assistants.list()
    exc = info.value
    assert exc.status_code == 500
    assert exc.request_id is not None and exc.request_id.startswith("req_")
    assert exc.type == "server_error"
    assert "Injected fault" in str(exc)
    assert harness.server.requests.count("GET", "/assistants") == 3
    assert len(harness.sleeps.delays) == 2
    assert all(0 < d <= 8.0 for d in harness.sleeps.delays)
    assert API_KEY not in str(exc) + repr(exc)
    await harness.assert_released(client)


async def test_html_502_page_becomes_a_short_typed_error(harness: Harness) -> None:
    client = harness.client(max_retries=1)
    harness.server.faults.add("GET", "/assistants", Respond(502, html_size=1_000_000), times=None)
    with pytest.raises(errors.InternalServerError) as info:
        await client.assistants.list()
    exc = info.value
    assert exc.status_code == 502
    assert len(str(exc)) < 2_300  # the 1 MB page is cut to MAX_BODY_IN_MESSAGE
    assert str(exc).startswith("Error code: 502 - <html>")
    assert isinstance(exc.body, str) and len(exc.body) <= client.limits.max_error_body_bytes
    assert harness.server.requests.count("GET", "/assistants") == 2  # 5xx: retried
    await harness.assert_released(client)


async def test_insufficient_quota_is_never_retried(harness: Harness) -> None:
    client = harness.client()
    envelope = {
        "error": {
            "message": "You exceeded your current quota.",
            "type": "insufficient_quota",
            "param": None,
            "code": "insufficient_quota",
        }
    }
    harness.server.faults.add("GET", "/assistants", Respond(429, json=envelope, retry_after=1))
    with pytest.raises(errors.InsufficientQuotaError) as info:
        await client.assistants.list()
    assert info.value.code == "insufficient_quota"
    assert harness.server.requests.count("GET", "/assistants") == 1
    assert harness.sleeps.delays == []
    await harness.assert_released(client)


async def test_retry_after_above_the_cap_is_raised_not_slept(harness: Harness) -> None:
    client = harness.client()
    harness.server.faults.add("GET", "/assistants", Respond(429, retry_after=600))
    with pytest.raises(errors.RateLimitError) as info:
        await client.assistants.list()
    assert info.value.retry_after == 600
    assert harness.sleeps.delays == []
    assert harness.server.requests.count("GET", "/assistants") == 1
    await harness.assert_released(client)


@pytest.mark.parametrize(
    ("status", "should_retry", "attempts"),
    [(500, False, 1), (400, True, 3), (404, None, 1), (409, None, 3)],
)
async def test_x_should_retry_overrides_the_status_rule(
    harness: Harness, status: int, should_retry: bool | None, attempts: int
) -> None:
    client = harness.client(max_retries=2)
    harness.server.faults.add(
        "GET", "/assistants", Respond(status, should_retry=should_retry), times=None
    )
    with pytest.raises(errors.APIStatusError) as info:
        await client.assistants.list()
    assert info.value.status_code == status
    assert harness.server.requests.count("GET", "/assistants") == attempts
    await harness.assert_released(client)


async def test_200_with_invalid_json_is_a_validation_error_not_retried(harness: Harness) -> None:
    client = harness.client()
    harness.server.faults.add(
        "GET",
        "/assistants",
        Respond(200, text='{"object": "list", "data": [', content_type="application/json"),
    )
    with pytest.raises(errors.APIResponseValidationError) as info:
        await client.assistants.list()
    assert info.value.status_code == 200
    assert info.value.body is not None and info.value.body.startswith('{"object"')
    assert harness.server.requests.count("GET", "/assistants") == 1
    await harness.assert_released(client)


async def test_200_missing_required_fields_is_a_validation_error(harness: Harness) -> None:
    client = harness.client()
    harness.server.faults.add("GET", ONE_ASSISTANT, Respond(200, json={"id": "asst_1"}))
    with pytest.raises(errors.APIResponseValidationError) as info:
        await client.assistants.retrieve("asst_1")
    assert "Assistant" in str(info.value)
    await harness.assert_released(client)


async def test_200_with_unknown_fields_keeps_them(harness: Harness) -> None:
    client = harness.client()
    created = await client.assistants.create(model="m")
    payload = {**created.model_dump(mode="json"), "brand_new_field": {"x": 1}}
    harness.server.faults.add("GET", ONE_ASSISTANT, Respond(200, json=payload))
    got = await client.assistants.retrieve(created.id)
    assert got.model_extra is not None
    assert got.model_extra["brand_new_field"] == {"x": 1}
    await harness.assert_released(client)


async def test_redirect_is_refused_and_not_followed(harness: Harness) -> None:
    client = harness.client()
    harness.server.faults.add(
        "GET",
        "/assistants",
        Respond(307, headers={"Location": "http://127.0.0.1:9/v1/assistants"}, text=""),
    )
    with pytest.raises(errors.APIStatusError) as info:
        await client.assistants.list()
    assert info.value.status_code == 307
    assert "Redirect refused" in str(info.value)
    assert harness.server.requests.count("GET", "/assistants") == 1
    await harness.assert_released(client)


def _texts(exc: BaseException) -> list[str]:
    """str/repr of the exception, its request/response and every cause/context in its chain."""
    out: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        out += [str(current), repr(current), repr(current.args)]
        for name in ("request", "response", "body", "headers"):
            out.append(repr(getattr(current, name, None)))
        current = current.__cause__ or current.__context__
    return out


@pytest.mark.parametrize(
    "fault",
    [
        ("GET", "/assistants", Respond(500)),
        ("GET", "/assistants", Respond(401)),
        ("GET", "/assistants", Disconnect(reset=True)),
        ("GET", "/assistants", Stall(5)),
        ("POST", "/threads/*/runs", Disconnect(when="after")),
        ("POST", "/threads/*/runs", CutStream(after_events=2)),
        ("POST", "/threads/*/runs", ErrorEvent(after_events=2)),
        ("POST", "/threads/*/runs", Respond(200, html_size=5000)),
    ],
    ids=lambda f: f"{f[0]}-{type(f[2]).__name__}",
)
async def test_the_api_key_never_appears_in_errors_or_logs(
    harness: Harness, caplog: pytest.LogCaptureFixture, fault: Any
) -> None:
    caplog.set_level(logging.DEBUG)
    client = harness.client(max_retries=1, timeout=Timeout(connect=1, read=0.1, total=5))
    thread_id, assistant_id = await harness.thread_and_assistant(client)
    method, path, action = fault
    harness.server.faults.add(method, path, action, times=None)
    with pytest.raises(errors.AssistantsError) as info:
        if method == "GET":
            await client.assistants.list()
        else:
            async with client.threads.runs.stream(
                thread_id=thread_id, assistant_id=assistant_id
            ) as s:
                async for _ in s:
                    pass
    texts = _texts(info.value) + [r.getMessage() for r in caplog.records] + [repr(client)]
    assert caplog.records  # the retry loop did log something
    assert not [t for t in texts if API_KEY in t]
    await harness.assert_released(client)


async def test_a_429_storm_is_bounded_by_the_retry_budget(harness: Harness) -> None:
    """40 concurrent calls against a server answering 429: the client-wide budget stops
    retrying once spent, so attempts stay far below 40 x (1 + max_retries) (row m)."""
    client = AsyncAssistants(
        api_key=API_KEY,
        base_url=harness.server.url,
        max_retries=RetryPolicy(max_retries=3, budget_capacity=50, budget_retry_cost=5),
    )
    client._sleep = harness.sleeps
    harness.clients.append(client)
    harness.server.faults.add("GET", ONE_ASSISTANT, Respond(429, retry_after_ms=1), times=None)
    results = await asyncio.gather(
        *(client.assistants.retrieve(f"asst_{i}") for i in range(40)), return_exceptions=True
    )
    assert all(isinstance(r, errors.RateLimitError) for r in results), {type(r) for r in results}
    attempts = harness.server.requests.count("GET", "/assistants/*")
    assert attempts == 40 + 10  # the 50-token bucket pays for exactly 10 retries
    assert len(harness.sleeps.delays) == 10
    await harness.assert_released(client)
