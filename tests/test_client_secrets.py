"""A sentinel API key never shows up in reprs, DEBUG logs, exception text or tracebacks, on
success, retry and error paths; a server that echoes the key back gets it redacted."""

from __future__ import annotations

import json
import traceback
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from client_support import SENTINEL_KEY, Recorder, make_client, obj, reply

from assistants_async import AsyncAssistants
from assistants_async import _errors as e
from assistants_async._auth import REDACTED, SecretHeaderValue, redact
from assistants_async._config import Limits
from assistants_async._transport import MockTransport


def exposed(exc: BaseException) -> str:
    """Everything an exception shows: str, repr, args, body and the formatted traceback
    with its causes."""
    parts = [str(exc), repr(exc), repr(exc.args), "".join(traceback.format_exception(exc))]
    for name in ("message", "body", "headers", "request", "response"):
        parts.append(repr(getattr(exc, name, None)))
    return "\n".join(parts)


def logged(caplog: pytest.LogCaptureFixture) -> str:
    return "\n".join(f"{r.getMessage()} {r.args!r} {r.exc_text}" for r in caplog.records)


@pytest.fixture
def sentinel_client() -> Callable[..., Any]:
    def build(*script: Any, **kwargs: Any) -> Any:
        return make_client(*script, api_key=SENTINEL_KEY, **kwargs)

    return build


def test_key_not_in_any_repr(sentinel_client: Callable[..., Any]) -> None:
    client, _, _ = sentinel_client()
    for thing in (client, client._auth, client.threads, client.threads.runs, client.retry_budget):
        assert SENTINEL_KEY not in repr(thing)
        assert SENTINEL_KEY not in str(thing)


async def test_key_not_in_request_or_header_reprs(sentinel_client: Callable[..., Any]) -> None:
    client, rec, _ = sentinel_client(reply(200, obj("thread")))
    await client.threads.retrieve("t")
    request = rec.last
    assert request.headers["Authorization"] == f"Bearer {SENTINEL_KEY}"  # it is sent...
    assert isinstance(request.headers["Authorization"], SecretHeaderValue)
    for text in (repr(request), repr(request.headers), repr(dict(request.headers))):
        assert SENTINEL_KEY not in text  # ...but never shown


async def test_debug_logs_on_success_retry_and_error(
    sentinel_client: Callable[..., Any], caplog: pytest.LogCaptureFixture
) -> None:
    client, _, _ = sentinel_client(
        reply(503, {"error": {"message": "busy"}}),
        e.APIConnectionError("reset", request_sent=False),
        reply(200, obj("thread")),
    )
    with caplog.at_level("DEBUG"):
        await client.threads.retrieve("t")
        client2, _, _ = sentinel_client(reply(400, {"error": {"message": "bad"}}))
        with pytest.raises(e.BadRequestError):
            await client2.threads.retrieve("t")
    text = logged(caplog)
    assert "status=503" in text and "APIConnectionError" in text and "status=400" in text
    assert SENTINEL_KEY not in text
    assert SENTINEL_KEY not in caplog.text


ECHOES: list[tuple[str, Any]] = [
    ("message", {"error": {"message": f"Incorrect API key provided: {SENTINEL_KEY}."}}),
    ("param", {"error": {"message": "bad", "param": SENTINEL_KEY, "code": SENTINEL_KEY}}),
    ("html", f"<html>Unauthorized: Bearer {SENTINEL_KEY}</html>"),
    ("nested", {"detail": [{"input": {"headers": {"authorization": f"Bearer {SENTINEL_KEY}"}}}]}),
]


@pytest.mark.parametrize("body", [b for _, b in ECHOES], ids=[n for n, _ in ECHOES])
@pytest.mark.parametrize("status", [401, 400, 500])
async def test_an_echoed_key_is_redacted_from_errors(
    sentinel_client: Callable[..., Any], body: Any, status: int
) -> None:
    client, _, _ = sentinel_client(reply(status, body), max_retries=0)
    with pytest.raises(e.APIStatusError) as info:
        await client.threads.retrieve("t")
    text = exposed(info.value)
    assert SENTINEL_KEY not in text
    assert REDACTED in text


async def test_an_echoed_key_is_redacted_from_validation_errors(
    sentinel_client: Callable[..., Any],
) -> None:
    client, _, _ = sentinel_client(
        reply(200, {"unexpected": SENTINEL_KEY}),
        reply(200, {"id": "t", "object": "thread", "created_at": 1, "k": SENTINEL_KEY * 100}),
    )
    with pytest.raises(e.APIResponseValidationError) as info:
        await client.threads.retrieve("t")
    assert SENTINEL_KEY not in exposed(info.value)
    client.limits = Limits(max_response_bytes=200)
    with pytest.raises(e.APIResponseValidationError, match="max_response_bytes") as info:
        await client.threads.retrieve("t")
    assert SENTINEL_KEY not in exposed(info.value)


@pytest.mark.parametrize(
    "error",
    [
        e.APIConnectionError("reset"),
        e.APITimeoutError("read timeout"),
        e.APIConnectionError("refused", request_sent=False),
    ],
)
async def test_connection_and_ambiguous_errors(
    sentinel_client: Callable[..., Any], error: Exception, caplog: pytest.LogCaptureFixture
) -> None:
    calls: list[Callable[[AsyncAssistants], Awaitable[Any]]] = [
        lambda c: c.threads.retrieve("t"),
        lambda c: c.threads.runs.create("t", assistant_id="a"),
    ]
    for call in calls:
        client, _, _ = sentinel_client(error, max_retries=1)
        with caplog.at_level("DEBUG"), pytest.raises(e.APIConnectionError) as info:
            await call(client)
        assert SENTINEL_KEY not in exposed(info.value)
    assert SENTINEL_KEY not in logged(caplog)


async def test_token_provider_tokens_are_redacted_too() -> None:
    token = "eyJ0eXAiOiJKV1QiLCJhbGciOi-sentinel-token"

    async def provider() -> str:
        return token

    rec = Recorder(reply(401, {"error": {"message": f"token {token} expired"}}))
    client = AsyncAssistants(
        base_url="http://127.0.0.1:9/v1", token_provider=provider, transport=MockTransport(rec)
    )
    with pytest.raises(e.AuthenticationError) as info:
        await client.threads.retrieve("t")
    assert token not in exposed(info.value)
    assert len(rec.requests) == 2  # one refresh after the 401, then raised
    assert token not in repr(rec.last.headers)


async def test_azure_api_key_header_is_hidden_and_redacted() -> None:
    rec = Recorder(reply(403, {"error": {"message": f"key {SENTINEL_KEY} lacks access"}}))
    client = AsyncAssistants.azure(
        endpoint="https://r.openai.azure.com",
        api_version="2024-05-01-preview",
        api_key=SENTINEL_KEY,
        transport=MockTransport(rec),
    )
    with pytest.raises(e.PermissionDeniedError) as info:
        await client.threads.retrieve("t")
    assert rec.last.headers["api-key"] == SENTINEL_KEY
    assert SENTINEL_KEY not in repr(rec.last.headers)
    assert SENTINEL_KEY not in exposed(info.value)
    assert SENTINEL_KEY not in repr(client)


@pytest.mark.parametrize(
    ("secret", "text"),
    [
        ('sk-"quoted"-123', json.dumps({"m": 'sk-"quoted"-123'})),
        ("sk-back\\slash-1", json.dumps({"m": "sk-back\\slash-1"})),
        ("sk-ünicode-1234", json.dumps({"m": "sk-ünicode-1234"})),
        ("sk-plain-12345", "x sk-plain-12345 y sk-plain-12345"),
    ],
)
def test_redact_covers_raw_and_json_escaped_forms(secret: str, text: str) -> None:
    out = redact(text, [secret])
    assert secret not in out and json.dumps(secret)[1:-1] not in out
    assert REDACTED in out


def test_short_secrets_are_not_redacted() -> None:
    # A key as short as "k" (a local test server) would otherwise mangle every message.
    assert redact("keep this text", ["k"]) == "keep this text"
