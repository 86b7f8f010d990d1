from __future__ import annotations

import pytest

from assistants_async import _errors as e


@pytest.mark.parametrize(
    ("status", "body", "cls"),
    [
        (400, None, e.BadRequestError),
        (401, None, e.AuthenticationError),
        (403, None, e.PermissionDeniedError),
        (404, None, e.NotFoundError),
        (409, None, e.ConflictError),
        (422, None, e.UnprocessableEntityError),
        (429, {"error": {"code": "rate_limit_exceeded"}}, e.RateLimitError),
        (429, {"error": {"code": "insufficient_quota"}}, e.InsufficientQuotaError),
        (500, None, e.InternalServerError),
        (503, None, e.InternalServerError),
        (418, None, e.APIStatusError),
    ],
)
def test_status_error_class(status: int, body: object, cls: type) -> None:
    assert e.status_error_class(status, body) is cls


def test_status_error_parses_envelope_and_request_id() -> None:
    body = {"error": {"message": "no", "type": "invalid_request_error", "param": "x", "code": "c"}}
    err = e.BadRequestError("no", status_code=400, headers={"X-Request-Id": "req_1"}, body=body)
    assert (err.code, err.param, err.type, err.request_id) == (
        "c",
        "x",
        "invalid_request_error",
        "req_1",
    )
    assert str(err) == "Error code: 400 - no (request_id=req_1)"


def test_truncate_caps_long_bodies() -> None:
    out = e.truncate("x" * 10_000, 100)
    assert out.startswith("x" * 100) and "9900 more characters" in out and len(out) < 200
