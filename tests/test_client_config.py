"""Configuration on the wire: auth and identity headers, default/extra headers and query,
Content-Type, environment fallbacks, base URL rules, custom auth headers, Azure and token
providers (with an injected clock)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from client_support import BASE, FakeTime, Recorder, make_client, obj, reply
from hypothesis import given
from hypothesis import strategies as st

from assistants_async import AsyncAssistants
from assistants_async._client import DEFAULT_BASE_URL
from assistants_async._config import Timeout
from assistants_async._errors import AuthenticationError
from assistants_async._transport import MockTransport
from assistants_async._version import __version__


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "OPENAI_API_KEY",
        "OPENAI_BASE_URL",
        "AZURE_OPENAI_ENDPOINT",
        "AZURE_OPENAI_API_KEY",
        "OPENAI_API_VERSION",
    ):
        monkeypatch.delenv(name, raising=False)


async def test_standard_headers_on_a_get() -> None:
    client, rec, _ = make_client(reply(200, obj("assistant")), api_key="sk-abc-123456")
    await client.assistants.retrieve("asst_1")
    headers = rec.last.headers
    assert headers["Authorization"] == "Bearer sk-abc-123456"
    assert headers["OpenAI-Beta"] == "assistants=v2"
    assert headers["User-Agent"].startswith(f"assistants-async/{__version__} ")
    assert headers["Accept"] == "application/json"
    assert "Content-Type" not in headers
    assert "OpenAI-Organization" not in headers and "OpenAI-Project" not in headers
    assert "Idempotency-Key" not in headers
    assert rec.last.content is None


async def test_content_type_only_with_a_body() -> None:
    client, rec, _ = make_client(default=reply(200, obj("thread.run")))
    await client.threads.runs.cancel("run_1", thread_id="t")  # a POST without a body
    assert "Content-Type" not in rec.last.headers and rec.last.content is None
    await client.threads.runs.update("run_1", thread_id="t", metadata={})
    assert rec.last.headers["Content-Type"] == "application/json"
    assert rec.body() == {"metadata": {}}


async def test_organization_and_project_when_set() -> None:
    client, rec, _ = make_client(
        reply(200, obj("assistant")), organization="org_1", project="proj_1"
    )
    await client.assistants.retrieve("a")
    assert rec.header("OpenAI-Organization") == "org_1"
    assert rec.header("OpenAI-Project") == "proj_1"


async def test_default_headers_and_extra_headers_with_none_removing() -> None:
    client, rec, _ = make_client(
        default=reply(200, obj("assistant")),
        default_headers={"X-Team": "blue", "OpenAI-Beta": "assistants=v2,custom"},
    )
    await client.assistants.retrieve("a")
    assert rec.header("X-Team") == "blue"
    assert rec.header("OpenAI-Beta") == "assistants=v2,custom"
    await client.assistants.retrieve(
        "a", extra_headers={"X-Team": None, "x-extra": "1", "user-agent": "mine/1"}
    )
    assert rec.header("X-Team") is None
    assert rec.header("X-Extra") == "1"
    assert rec.last.headers.getall("User-Agent") == ["mine/1"]


async def test_extra_headers_can_remove_auth() -> None:
    client, rec, _ = make_client(reply(200, obj("assistant")))
    await client.assistants.retrieve("a", extra_headers={"authorization": None})
    assert "Authorization" not in rec.last.headers


async def test_default_query_and_extra_query_merge() -> None:
    client, rec, _ = make_client(
        default=reply(200, page_json()), default_query={"tenant": "t1", "drop": "me"}
    )
    await client.assistants.list(limit=3, extra_query={"drop": None, "x": True})
    assert sorted(rec.query()) == [("limit", "3"), ("tenant", "t1"), ("x", "true")]
    await client.assistants.list(extra_query={"tenant": "t2"})
    assert sorted(rec.query()) == [("drop", "me"), ("tenant", "t2")]


def page_json() -> dict[str, Any]:
    return {"object": "list", "data": [], "first_id": None, "last_id": None, "has_more": False}


async def test_extra_body_is_merged_into_the_json() -> None:
    client, rec, _ = make_client(reply(200, obj("assistant")))
    await client.assistants.create(model="m", extra_body={"model": "override", "vendor": 1})
    assert rec.body() == {"model": "override", "vendor": 1}


async def test_per_call_timeout_reaches_the_transport() -> None:
    client, rec, _ = make_client(default=reply(200, obj("assistant")), timeout=Timeout(total=30))
    await client.assistants.retrieve("a")
    assert rec.last.timeout.total == 30
    await client.assistants.retrieve("a", timeout=5)
    assert (rec.last.timeout.total, rec.last.timeout.read) == (5, 5)
    await client.assistants.retrieve("a", timeout=None)
    assert rec.last.timeout == Timeout(None, None, None, None)


# --- environment and base URL --------------------------------------------------------------


async def test_env_fallbacks_for_key_and_base_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env-0001")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://localhost:8080/v9/")
    rec = Recorder(reply(200, obj("thread")))
    client = AsyncAssistants(transport=MockTransport(rec))
    assert client.base_url == "http://localhost:8080/v9"
    await client.threads.retrieve("t")
    assert rec.last.url == "http://localhost:8080/v9/threads/t"
    assert rec.header("Authorization") == "Bearer sk-from-env-0001"


def test_explicit_arguments_beat_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "http://localhost:1/env")
    client = AsyncAssistants(api_key="k" * 10, base_url="http://127.0.0.1:2/arg")
    assert client.base_url == "http://127.0.0.1:2/arg"


def test_default_base_url() -> None:
    client = AsyncAssistants(api_key="k" * 10)
    assert client.base_url == DEFAULT_BASE_URL == "https://api.openai.com/v1"


def test_missing_key_is_an_error_naming_the_variable() -> None:
    with pytest.raises(ValueError, match="OPENAI_API_KEY"):
        AsyncAssistants()


@pytest.mark.parametrize("key", ["", "sk-abc\r\nX-Evil: 1", " sk-padded", "sk-tab\t"])
def test_unusable_keys_are_refused_without_echoing_them(key: str) -> None:
    with pytest.raises(ValueError) as info:
        AsyncAssistants(api_key=key)
    if key:
        assert key.strip() not in str(info.value)


@pytest.mark.parametrize(
    ("url", "match"),
    [
        ("ftp://host/v1", "absolute http"),
        ("/v1", "absolute http"),
        ("https://user:pw@host/v1", "credentials"),
        ("https://host/v1?x=1", "query"),
        ("http://example.com/v1", "allow_insecure_http"),
    ],
)
def test_bad_base_urls_are_refused(url: str, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        AsyncAssistants(api_key="k" * 10, base_url=url)


def test_plain_http_to_a_remote_host_needs_opting_in() -> None:
    client = AsyncAssistants(
        api_key="k" * 10, base_url="http://example.com/v1", allow_insecure_http=True
    )
    assert client.base_url == "http://example.com/v1"


def test_max_retries_forms() -> None:
    assert AsyncAssistants(api_key="k" * 10).retry_policy.max_retries == 2
    assert AsyncAssistants(api_key="k" * 10, max_retries=0).retry_policy.max_retries == 0
    with pytest.raises(ValueError):
        AsyncAssistants(api_key="k" * 10, max_retries=-1)


# --- custom auth for self-hosted servers ------------------------------------------------------


async def test_custom_auth_header_and_scheme() -> None:
    client, rec, _ = make_client(
        reply(200, obj("thread")), api_key="local-secret", auth_header="X-Api-Key", auth_scheme=None
    )
    await client.threads.retrieve("t")
    assert rec.header("X-Api-Key") == "local-secret"
    assert "Authorization" not in rec.last.headers


async def test_custom_scheme_in_authorization() -> None:
    client, rec, _ = make_client(reply(200, obj("thread")), api_key="abc12345", auth_scheme="Token")
    await client.threads.retrieve("t")
    assert rec.header("Authorization") == "Token abc12345"


async def test_no_auth_needs_no_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-should-not-be-sent")
    rec = Recorder(reply(200, obj("thread")))
    client = AsyncAssistants(base_url=BASE, auth_header=None, transport=MockTransport(rec))
    await client.threads.retrieve("t")
    assert "Authorization" not in rec.last.headers
    assert all("sk-should-not-be-sent" not in v for v in rec.last.headers.values())


# --- Azure -----------------------------------------------------------------------------------


def azure(rec: Recorder, **kwargs: Any) -> AsyncAssistants:
    kwargs.setdefault("endpoint", "https://res.openai.azure.com/")
    kwargs.setdefault("api_version", "2024-05-01-preview")
    return AsyncAssistants.azure(transport=MockTransport(rec), **kwargs)


async def test_azure_with_a_key() -> None:
    rec = Recorder(default=reply(200, page_json()))
    client = azure(rec, api_key="azure-key-1234")
    assert client.base_url == "https://res.openai.azure.com/openai"
    await client.threads.messages.list("thread_1", limit=2)
    assert rec.last.url.startswith("https://res.openai.azure.com/openai/threads/thread_1/messages?")
    assert sorted(rec.query()) == [("api-version", "2024-05-01-preview"), ("limit", "2")]
    assert rec.header("api-key") == "azure-key-1234"
    assert "Authorization" not in rec.last.headers
    assert rec.header("OpenAI-Beta") == "assistants=v2"


async def test_azure_api_version_on_every_request_including_later_pages() -> None:
    first = {**page_json(), "data": [obj("assistant", "a1")], "last_id": "a1", "has_more": True}
    rec = Recorder(reply(200, first), reply(200, page_json()))
    client = azure(rec, api_key="azure-key-1234")
    items = [a async for a in client.assistants.list()]
    assert [a.id for a in items] == ["a1"]
    assert len(rec.requests) == 2
    for i in range(2):
        assert ("api-version", "2024-05-01-preview") in rec.query(i)
    assert ("after", "a1") in rec.query(1)


def test_azure_endpoint_already_ending_in_openai() -> None:
    client = azure(Recorder(), endpoint="https://res.openai.azure.com/openai", api_key="k" * 10)
    assert client.base_url == "https://res.openai.azure.com/openai"


async def test_azure_env_fallbacks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", "https://env.openai.azure.com")
    monkeypatch.setenv("OPENAI_API_VERSION", "2025-01-01")
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", "env-azure-key-1")
    rec = Recorder(reply(200, obj("thread")))
    client = AsyncAssistants.azure(transport=MockTransport(rec))
    await client.threads.retrieve("t")
    assert rec.last.url == "https://env.openai.azure.com/openai/threads/t?api-version=2025-01-01"
    assert rec.header("api-key") == "env-azure-key-1"


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"api_version": "v", "api_key": "k"}, "AZURE_OPENAI_ENDPOINT"),
        ({"endpoint": "https://e", "api_key": "k"}, "OPENAI_API_VERSION"),
        ({"endpoint": "https://e", "api_version": "v"}, "AZURE_OPENAI_API_KEY"),
    ],
)
def test_azure_missing_settings(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        AsyncAssistants.azure(**kwargs)


def test_azure_key_and_token_provider_are_exclusive() -> None:
    async def provider() -> str:
        return "t"

    with pytest.raises(ValueError, match="either"):
        AsyncAssistants.azure(
            endpoint="https://e", api_version="v", api_key="k", token_provider=provider
        )


class Tokens:
    """A token provider that hands out tok-1, tok-2, ... valid for ``ttl`` seconds of ``time``."""

    def __init__(self, time: FakeTime | None, ttl: float | None = 3600.0) -> None:
        self.time = time
        self.ttl = ttl
        self.calls = 0

    async def __call__(self) -> str | tuple[str, float]:
        self.calls += 1
        token = f"tok-{self.calls}"
        if self.ttl is None or self.time is None:
            return token
        return token, self.time.wall + self.ttl


async def test_azure_token_provider_sends_bearer_and_refreshes_when_expired() -> None:
    rec = Recorder(default=reply(200, obj("thread")))
    time = FakeTime()
    tokens = Tokens(time, ttl=600)
    client = azure(rec, token_provider=tokens)
    client._wall_clock = time.wall_clock
    await client.threads.retrieve("t")
    await client.threads.retrieve("t")
    assert tokens.calls == 1
    assert rec.header("Authorization") == "Bearer tok-1"
    assert "api-key" not in rec.last.headers
    assert ("api-version", "2024-05-01-preview") in rec.query()
    time.wall += 600 - 61  # still valid outside the refresh margin
    await client.threads.retrieve("t")
    assert tokens.calls == 1
    time.wall += 2  # inside the margin: refreshed before it expires
    await client.threads.retrieve("t")
    assert tokens.calls == 2
    assert rec.header("Authorization") == "Bearer tok-2"


async def test_token_expiry_as_an_aware_datetime() -> None:
    time = FakeTime()
    calls = 0

    async def provider() -> tuple[str, dt.datetime]:
        nonlocal calls
        calls += 1
        expires = dt.datetime.fromtimestamp(time.wall + 3600, tz=dt.timezone.utc)
        return f"dt-{calls}", expires

    client, rec, _ = make_client(default=reply(200, obj("thread")), token_provider=provider)
    client._wall_clock = time.wall_clock
    await client.threads.retrieve("t")
    time.wall += 3000
    await client.threads.retrieve("t")
    assert calls == 1
    time.wall += 600
    await client.threads.retrieve("t")
    assert calls == 2 and rec.header("Authorization") == "Bearer dt-2"


async def test_token_refreshed_once_after_a_401() -> None:
    time = FakeTime()
    tokens = Tokens(time)
    unauthorized = reply(401, {"error": {"message": "expired token", "code": "invalid_token"}})
    rec = Recorder(unauthorized, reply(200, obj("thread")))
    client = azure(rec, token_provider=tokens)
    client._wall_clock = time.wall_clock
    client._sleep = time.sleep
    thread = await client.threads.retrieve("t")
    assert thread.id == "id_1"
    assert [r.headers["Authorization"] for r in rec.requests] == ["Bearer tok-1", "Bearer tok-2"]
    assert time.sleeps == []


async def test_a_second_401_is_raised() -> None:
    tokens = Tokens(None, ttl=None)
    rec = Recorder(default=reply(401, {"error": {"message": "no"}}))
    client = azure(rec, token_provider=tokens)
    with pytest.raises(AuthenticationError):
        await client.threads.retrieve("t")
    assert len(rec.requests) == 2


async def test_static_key_is_not_retried_on_401() -> None:
    client, rec, _ = make_client(default=reply(401, {"error": {"message": "bad key"}}))
    with pytest.raises(AuthenticationError):
        await client.threads.retrieve("t")
    assert len(rec.requests) == 1


async def test_concurrent_requests_share_one_refresh() -> None:
    import asyncio

    time = FakeTime()
    tokens = Tokens(time)
    client, rec, _ = make_client(default=reply(200, obj("thread")), token_provider=tokens)
    client._wall_clock = time.wall_clock
    await asyncio.gather(*(client.threads.retrieve("t") for _ in range(10)))
    assert tokens.calls == 1 and len(rec.requests) == 10


async def test_token_with_a_newline_is_refused() -> None:
    async def provider() -> str:
        return "tok\r\nX-Injected: yes"

    client, rec, _ = make_client(default=reply(200, obj("thread")), token_provider=provider)
    with pytest.raises(ValueError, match="control character") as info:
        await client.threads.retrieve("t")
    assert "X-Injected" not in str(info.value)
    assert rec.requests == []


def test_an_empty_key_variable_counts_as_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "")
    with pytest.raises(ValueError, match="no API key"):
        AsyncAssistants()


def test_api_key_and_token_provider_are_exclusive() -> None:
    async def provider() -> str:
        return "token-123456"

    with pytest.raises(ValueError, match="either"):
        AsyncAssistants(api_key="k" * 10, token_provider=provider)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"organization": "org\r\nX-Evil: 1"},
        {"project": "p\n"},
        {"default_headers": {"X-Secret": "s3cr3t-value\r\nX-Evil: 1"}},
    ],
)
def test_header_values_with_control_characters_are_refused(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="control character") as info:
        AsyncAssistants(api_key="k" * 10, **kwargs)
    assert "X-Evil" not in str(info.value) and "s3cr3t" not in str(info.value)


@given(
    st.dictionaries(
        st.text(min_size=1, max_size=12),
        st.text(max_size=12) | st.lists(st.text(max_size=6), min_size=1, max_size=3),
        max_size=5,
    )
)
def test_query_values_round_trip(query: dict[str, str | list[str]]) -> None:
    client = AsyncAssistants(api_key="k" * 10, base_url=BASE)
    url = client._url("/threads", query, None)
    parsed = parse_qsl(urlsplit(url).query, keep_blank_values=True)
    expected = [
        (key, item)
        for key, value in query.items()
        for item in (value if isinstance(value, list) else [value])
    ]
    assert parsed == expected
    assert urlsplit(url).path == "/v1/threads"


def test_base_url_is_percent_encoded_once() -> None:
    # The transport sends URLs as built, so the base must already be in wire form.
    client = AsyncAssistants(api_key="k" * 10, base_url="https://exämple.com/ä pi/v1/")
    assert client.base_url == "https://xn--exmple-cua.com/%C3%A4%20pi/v1"
    again = AsyncAssistants(api_key="k" * 10, base_url=client.base_url)
    assert again.base_url == client.base_url
