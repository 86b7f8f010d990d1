"""Errors as the client raises them from responses: a class per status with the parsed
envelope and request id, capped bodies and messages, quota, redirects, invalid or oversized
2xx bodies."""

from __future__ import annotations

from typing import Any

import pytest
from client_support import make_client, obj, reply

from assistants_async import _errors as e
from assistants_async._config import Limits

ENVELOPE = {
    "error": {
        "message": "Invalid value for 'limit'.",
        "type": "invalid_request_error",
        "param": "limit",
        "code": "invalid_value",
    }
}


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, e.BadRequestError),
        (401, e.AuthenticationError),
        (403, e.PermissionDeniedError),
        (404, e.NotFoundError),
        (409, e.ConflictError),
        (422, e.UnprocessableEntityError),
        (429, e.RateLimitError),
        (500, e.InternalServerError),
        (502, e.InternalServerError),
        (503, e.InternalServerError),
        (418, e.APIStatusError),
    ],
)
async def test_status_maps_to_its_class_with_every_field(status: int, cls: type) -> None:
    client, rec, _ = make_client(
        default=reply(status, ENVELOPE, x_request_id="req_abc"), max_retries=0
    )
    with pytest.raises(e.APIStatusError) as info:
        await client.assistants.retrieve("asst_1")
    err = info.value
    assert type(err) is cls
    assert err.status_code == status
    assert err.request_id == "req_abc"
    assert (err.code, err.param, err.type) == ("invalid_value", "limit", "invalid_request_error")
    assert err.message == "Invalid value for 'limit'."
    assert err.body == ENVELOPE
    assert str(err) == f"Error code: {status} - Invalid value for 'limit'. (request_id=req_abc)"
    assert err.request is not None and err.request.method == "GET"
    assert len(rec.requests) == 1
    assert rec.responses[0].is_closed


async def test_error_response_is_closed_and_keeps_headers() -> None:
    client, rec, _ = make_client(reply(404, ENVELOPE, x_custom="1"))
    with pytest.raises(e.NotFoundError) as info:
        await client.threads.retrieve("t")
    assert info.value.headers["x-custom"] == "1"
    assert rec.responses[0].is_closed


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"error": "plain string error"}, "plain string error"),
        ({"message": "top-level message"}, "top-level message"),
        ({"detail": "fastapi style"}, '{"detail": "fastapi style"}'),
        ("not json at all", "not json at all"),
        ("", "HTTP 400 with an empty body"),
        ("[1, 2]", "[1, 2]"),
    ],
)
async def test_message_from_other_body_shapes(body: Any, message: str) -> None:
    raw = body if isinstance(body, str) else None
    client, _, _ = make_client(reply(400, raw if raw is not None else body))
    with pytest.raises(e.BadRequestError) as info:
        await client.threads.retrieve("t")
    assert info.value.message == message
    assert info.value.code is None


async def test_a_1mb_html_502_becomes_a_short_message() -> None:
    page = "<html><body>" + "Bad gateway " * 90_000 + "</body></html>"
    assert len(page) > 1_000_000
    client, rec, _ = make_client(reply(502, page, content_type="text/html"), max_retries=0)
    with pytest.raises(e.InternalServerError) as info:
        await client.threads.retrieve("t")
    err = info.value
    assert len(str(err)) < 3_000
    assert "more characters" in err.message
    assert isinstance(err.body, str) and len(err.body) <= Limits().max_error_body_bytes
    assert rec.responses[0].is_closed


async def test_error_body_cap_is_configurable() -> None:
    client, _, _ = make_client(
        reply(500, "x" * 5000), max_retries=0, limits=Limits(max_error_body_bytes=100)
    )
    with pytest.raises(e.InternalServerError) as info:
        await client.threads.retrieve("t")
    assert info.value.body == "x" * 100


async def test_insufficient_quota_is_its_own_class_and_not_retried() -> None:
    body = {"error": {"message": "You exceeded your quota", "code": "insufficient_quota"}}
    client, rec, time = make_client(default=reply(429, body, retry_after="1"))
    with pytest.raises(e.InsufficientQuotaError) as info:
        await client.threads.retrieve("t")
    assert isinstance(info.value, e.RateLimitError)
    assert info.value.code == "insufficient_quota"
    assert len(rec.requests) == 1 and time.sleeps == []


async def test_rate_limit_error_carries_retry_after() -> None:
    client, _, _ = make_client(reply(429, ENVELOPE, retry_after_ms="1500"), max_retries=0)
    with pytest.raises(e.RateLimitError) as info:
        await client.threads.retrieve("t")
    assert info.value.retry_after == 1.5


@pytest.mark.parametrize("status", [301, 302, 307, 308])
async def test_redirects_are_refused_with_a_clear_message(status: int) -> None:
    client, rec, time = make_client(
        default=reply(status, "", location="https://elsewhere.example/v1")
    )
    with pytest.raises(e.APIStatusError) as info:
        await client.threads.retrieve("t")
    assert info.value.status_code == status
    assert "Redirect refused" in str(info.value) and "base_url" in str(info.value)
    assert len(rec.requests) == 1 and time.sleeps == []


@pytest.mark.parametrize(
    ("content", "where"),
    [
        (b"<html>oops</html>", "Invalid JSON"),
        (b"", "Invalid JSON"),
        (b"[]", "Input should be"),
        (b'{"object": "thread"}', "id"),
        (b'{"id": "t", "object": "thread", "created_at": "yesterday"}', "created_at"),
    ],
)
async def test_a_2xx_that_is_not_the_expected_shape(content: bytes, where: str) -> None:
    client, rec, _ = make_client(reply(200, content))
    with pytest.raises(e.APIResponseValidationError) as info:
        await client.threads.retrieve("t")
    err = info.value
    assert "Thread" in err.message and where in err.message
    assert err.status_code == 200
    assert err.body == content.decode()
    assert len(rec.requests) == 1  # a wrong shape is not retried


async def test_validation_error_body_is_truncated() -> None:
    junk = b"{" + b"x" * 100_000
    client, _, _ = make_client(reply(200, junk))
    with pytest.raises(e.APIResponseValidationError) as info:
        await client.threads.retrieve("t")
    assert info.value.body is not None and len(info.value.body) < 3_000


async def test_oversized_response_is_refused() -> None:
    big = {**obj("thread"), "metadata": {"k": "v" * 5_000}}
    client, rec, _ = make_client(reply(200, big), limits=Limits(max_response_bytes=1_000))
    with pytest.raises(e.APIResponseValidationError, match="max_response_bytes") as info:
        await client.threads.retrieve("t")
    assert info.value.body is not None and len(info.value.body) < 5_000
    assert rec.responses[0].is_closed


async def test_a_response_just_under_the_cap_is_accepted() -> None:
    import json

    body = json.dumps(obj("thread")).encode()
    client, _, _ = make_client(reply(200, body), limits=Limits(max_response_bytes=len(body)))
    thread = await client.threads.retrieve("t")
    assert thread.id == "id_1"


async def test_unknown_fields_are_kept() -> None:
    client, _, _ = make_client(reply(200, {**obj("thread"), "brand_new": 1}))
    thread = await client.threads.retrieve("t")
    assert thread.model_extra == {"brand_new": 1}


async def test_error_headers_are_case_insensitive() -> None:
    client, _, _ = make_client(reply(404, ENVELOPE, Retry_After="7"), max_retries=0)
    with pytest.raises(e.NotFoundError) as info:
        await client.threads.retrieve("t")
    assert info.value.headers["retry-after"] == info.value.headers["RETRY-AFTER"] == "7"


async def test_a_delay_above_the_cap_is_reported_on_any_status() -> None:
    # 600 s is above RetryPolicy.max_retry_after: raised at once, with the delay for the caller.
    client, rec, time = make_client(default=reply(503, ENVELOPE, retry_after="600"))
    with pytest.raises(e.InternalServerError) as info:
        await client.threads.retrieve("t")
    assert info.value.retry_after == 600.0
    assert len(rec.requests) == 1 and time.sleeps == []
