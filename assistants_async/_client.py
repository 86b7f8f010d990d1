"""``AsyncAssistants``: configuration, credentials, headers, lifetime, the retry loop, error
mapping and response validation. Endpoints live in ``resources/``."""

from __future__ import annotations

import asyncio
import enum
import ipaddress
import json
import logging
import os
import platform
import random as random_module
import time
import uuid
import warnings
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote, urlsplit

import aiohttp
import yarl
from multidict import CIMultiDict, CIMultiDictProxy
from pydantic import BaseModel, ValidationError

from ._auth import Auth, StaticKeyAuth, TokenProvider, TokenProviderAuth, redact
from ._config import (
    DEFAULT_LIMITS,
    DEFAULT_RETRY_POLICY,
    DEFAULT_TIMEOUT,
    Limits,
    RetryPolicy,
    Timeout,
)
from ._errors import (
    AmbiguousOutcomeError,
    APIConnectionError,
    APIResponseValidationError,
    APIStatusError,
    ClientClosedError,
    EventLoopMismatchError,
    status_error_class,
    truncate,
)
from ._pagination import AsyncCursorPage, AsyncPaginator, page_of
from ._retry import (
    RETRY_COUNT_HEADER,
    RetryBudget,
    backoff_delay,
    is_retryable_status,
    parse_retry_after,
    retry_delay,
)
from ._transport import AiohttpTransport, Request, Response, Transport
from ._types import NotGiven, Query, RequestOptions
from ._version import __version__

if TYPE_CHECKING:
    from .resources.assistants import Assistants
    from .resources.threads import Threads

__all__ = ["DEFAULT_BASE_URL", "AsyncAssistants", "build_path"]

log = logging.getLogger("assistants_async")

M = TypeVar("M", bound=BaseModel)

DEFAULT_BASE_URL = "https://api.openai.com/v1"
IDEMPOTENCY_HEADER = "Idempotency-Key"
USER_AGENT = (
    f"assistants-async/{__version__} Python/{platform.python_version()} "
    f"aiohttp/{aiohttp.__version__}"
)


class _State(enum.Enum):
    UNOPENED = 1
    OPENED = 2
    CLOSED = 3


def build_path(template: str, **params: object) -> str:
    """Fill ``{name}`` placeholders with percent-encoded ids, refusing empty ones.

    Every character but unreserved ones is encoded (``quote(safe="")``), so an id such as
    ``../x`` or ``a?b`` stays one segment. ``.`` and ``..`` are refused: yarl (under aiohttp)
    decodes ``%2E`` and then removes dot segments, so no encoding could keep them in place.
    All-dot ids (``...``) are encoded as ``%2E``.
    """
    encoded: dict[str, str] = {}
    for name, value in params.items():
        if not isinstance(value, str) or not value:
            raise ValueError(f"Expected a non-empty value for `{name}` but received {value!r}")
        if value in (".", ".."):
            raise ValueError(f"`{name}` cannot be the dot segment {value!r}")
        segment = quote(value, safe="")
        if set(segment) == {"."}:
            segment = segment.replace(".", "%2E")
        encoded[name] = segment
    return template.format(**encoded)


def _is_run_creating(method: str, path: str) -> bool:
    """POSTs that start a run: replaying one whose outcome is unknown may start a second run."""
    if method != "POST":
        return False
    parts = path.strip("/").split("/")
    return (
        parts == ["threads", "runs"]
        or (len(parts) == 3 and parts[0] == "threads" and parts[2] == "runs")
        or (len(parts) == 5 and parts[0] == "threads" and parts[4] == "submit_tool_outputs")
    )


def _normalise_base_url(url: str, *, allow_insecure_http: bool) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("base_url must be an absolute http(s) URL")
    if parts.username is not None or parts.password is not None:
        raise ValueError("base_url must not contain credentials (user:password@)")
    if parts.query or parts.fragment:
        raise ValueError("base_url must not contain a query or fragment; use default_query")
    if parts.scheme == "http" and not allow_insecure_http and not _is_loopback(parts.hostname):
        raise ValueError(
            "base_url uses plain http to a non-loopback host; pass allow_insecure_http=True "
            "if that is intended (the API key would travel unencrypted)"
        )
    # Percent-encoded once here (IDNA host, UTF-8 path), so the transport can send every
    # URL built from it byte for byte.
    return str(yarl.URL(url)).rstrip("/")


def _check_header_values(headers: Mapping[str, str]) -> None:
    """Refuse CR/LF and other control characters up front, naming the header but never
    echoing the value (it may be a credential)."""
    for name, value in headers.items():
        if not isinstance(value, str):
            raise TypeError(f"the value of header {name!r} must be a string")
        if any((ord(ch) < 0x20 and ch != "\t") or ord(ch) == 0x7F for ch in value):
            raise ValueError(f"the value of header {name!r} contains a control character")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _json_default(value: object) -> object:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", exclude_unset=True)
    if isinstance(value, Iterable) and not isinstance(value, (str, bytes, Mapping)):
        return list(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _encode_query(query: Mapping[str, object]) -> str:
    pairs: list[str] = []
    for key, value in query.items():
        values = value if isinstance(value, (list, tuple)) else [value]
        for item in values:
            if item is None or isinstance(item, NotGiven):
                continue
            text = ("true" if item else "false") if isinstance(item, bool) else str(item)
            pairs.append(f"{quote(key, safe='[]')}={quote(text, safe='')}")
    return "&".join(pairs)


class AsyncAssistants:
    """An asyncio client for the Assistants v2 protocol (OpenAI, Azure, compatible servers).

    Use it as ``async with AsyncAssistants() as client:`` or call ``await client.aclose()``.
    The HTTP session is created lazily on the running event loop; a client belongs to that
    loop. An injected ``session`` or ``transport`` is used, never closed.
    """

    assistants: Assistants
    threads: Threads

    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        organization: str | None = None,
        project: str | None = None,
        default_headers: Mapping[str, str] | None = None,
        default_query: Query | None = None,
        timeout: float | Timeout | None = DEFAULT_TIMEOUT,
        max_retries: int | RetryPolicy | None = None,
        limits: Limits = DEFAULT_LIMITS,
        auth_header: str | None = "Authorization",
        auth_scheme: str | None = "Bearer",
        token_provider: TokenProvider | None = None,
        session: aiohttp.ClientSession | None = None,
        transport: Transport | None = None,
        allow_insecure_http: bool = False,
    ) -> None:
        if base_url is None:
            base_url = os.environ.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL
        self.base_url = _normalise_base_url(base_url, allow_insecure_http=allow_insecure_http)
        self._auth: Auth
        if token_provider is not None and api_key is not None:
            raise ValueError("pass either api_key or token_provider, not both")
        if token_provider is not None:
            self._auth = TokenProviderAuth(
                token_provider,
                header=auth_header or "Authorization",
                scheme=auth_scheme,
                # Late-bound, so a clock injected after construction (tests) is used too.
                clock=lambda: self._wall_clock(),
            )
        else:
            if api_key is None and auth_header is not None:
                # An empty variable (``OPENAI_API_KEY=``) counts as unset.
                api_key = os.environ.get("OPENAI_API_KEY") or None
                if api_key is None:
                    raise ValueError(
                        "no API key: pass api_key=... or set OPENAI_API_KEY "
                        "(auth_header=None for a server without authentication)"
                    )
            self._auth = StaticKeyAuth(api_key, header=auth_header, scheme=auth_scheme)
        self.organization = organization
        self.project = project
        self.default_headers: dict[str, str] = dict(default_headers or {})
        _check_header_values(
            {"OpenAI-Organization": organization or "", "OpenAI-Project": project or ""}
        )
        _check_header_values(self.default_headers)
        self.default_query: dict[str, object] = dict(default_query or {})
        self.timeout = Timeout.coerce(timeout)
        if max_retries is None:
            self.retry_policy = DEFAULT_RETRY_POLICY
        elif isinstance(max_retries, RetryPolicy):
            self.retry_policy = max_retries
        else:
            self.retry_policy = RetryPolicy(max_retries=max_retries)
        self.limits = limits
        self.retry_budget = RetryBudget.from_policy(self.retry_policy)
        if transport is not None and session is not None:
            raise ValueError("pass either session or transport, not both")
        self._owns_transport = transport is None and session is None
        self._transport: Transport = (
            transport if transport is not None else AiohttpTransport(session, limits=limits)
        )
        self._state = _State.UNOPENED
        self._loop: asyncio.AbstractEventLoop | None = None
        # Set by aclose(): wakes requests sleeping in a retry backoff.
        self._closing: asyncio.Event | None = None
        # Injection points for tests: time and randomness never come from globals directly.
        self._sleep: Callable[[float], Awaitable[object]] = asyncio.sleep
        self._clock: Callable[[], float] = time.monotonic
        self._wall_clock: Callable[[], float] = time.time
        self._random: Callable[[], float] = random_module.random

        from .resources.assistants import Assistants
        from .resources.threads import Threads

        self.assistants = Assistants(self)
        self.threads = Threads(self)

    @classmethod
    def azure(
        cls,
        *,
        endpoint: str | None = None,
        api_version: str | None = None,
        api_key: str | None = None,
        token_provider: TokenProvider | None = None,
        **kwargs: Any,
    ) -> AsyncAssistants:
        """A client for Azure OpenAI Assistants.

        Base URL ``{endpoint}/openai``; ``api-version`` on every request; the key goes in the
        ``api-key`` header, or ``Authorization: Bearer <token>`` comes from the async
        ``token_provider`` (refreshed before it expires, and once more after a 401).
        Environment fallbacks: ``AZURE_OPENAI_ENDPOINT``, ``OPENAI_API_VERSION``,
        ``AZURE_OPENAI_API_KEY``.
        """
        endpoint = endpoint or os.environ.get("AZURE_OPENAI_ENDPOINT")
        if not endpoint:
            raise ValueError("no Azure endpoint: pass endpoint=... or set AZURE_OPENAI_ENDPOINT")
        api_version = api_version or os.environ.get("OPENAI_API_VERSION")
        if not api_version:
            raise ValueError("no api_version: pass api_version=... or set OPENAI_API_VERSION")
        if api_key is not None and token_provider is not None:
            raise ValueError("pass either api_key or token_provider, not both")
        if api_key is None and token_provider is None:
            api_key = os.environ.get("AZURE_OPENAI_API_KEY")
            if api_key is None:
                raise ValueError(
                    "no credentials: pass api_key=..., token_provider=... "
                    "or set AZURE_OPENAI_API_KEY"
                )
        base = endpoint.rstrip("/")
        base_url = base if base.endswith("/openai") else f"{base}/openai"
        query = {"api-version": api_version, **dict(kwargs.pop("default_query", None) or {})}
        if token_provider is not None:
            return cls(
                base_url=base_url, token_provider=token_provider, default_query=query, **kwargs
            )
        return cls(
            base_url=base_url,
            api_key=api_key,
            auth_header="api-key",
            auth_scheme=None,
            default_query=query,
            **kwargs,
        )

    # --- lifetime -------------------------------------------------------------------------

    @property
    def is_closed(self) -> bool:
        return self._state is _State.CLOSED

    def _ensure_open(self) -> None:
        if self._state is _State.CLOSED:
            raise ClientClosedError("the client is closed; create a new one")
        loop = asyncio.get_running_loop()
        if self._loop is None:
            self._loop = loop
        elif loop is not self._loop:
            raise EventLoopMismatchError(
                "this client was first used on another event loop; create one client per loop"
            )
        self._state = _State.OPENED

    async def __aenter__(self) -> AsyncAssistants:
        self._ensure_open()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the HTTP session if this client created it. Safe to call twice."""
        if self._state is _State.CLOSED:
            return
        self._state = _State.CLOSED
        if self._closing is not None:
            self._closing.set()
        if self._owns_transport:
            await self._transport.aclose()

    def __del__(self) -> None:
        transport = getattr(self, "_transport", None)
        if (
            getattr(self, "_owns_transport", False)
            and getattr(self, "_state", _State.CLOSED) is not _State.CLOSED
            and isinstance(transport, AiohttpTransport)
            and transport.has_open_session
        ):
            warnings.warn(
                f"Unclosed {self!r}; use `async with AsyncAssistants()` or `await client.aclose()`",
                ResourceWarning,
                stacklevel=1,
                source=self,
            )

    def __repr__(self) -> str:
        return f"<AsyncAssistants base_url={self.base_url!r} state={self._state.name.lower()}>"

    # --- building requests ---------------------------------------------------------------

    def _url(self, path: str, query: Query | None, options: RequestOptions | None) -> str:
        merged: dict[str, object] = dict(self.default_query)
        if query:
            merged.update(query)
        if options is not None and options.extra_query:
            merged.update(options.extra_query)
        encoded = _encode_query(merged)
        url = f"{self.base_url}/{path.lstrip('/')}"
        return f"{url}?{encoded}" if encoded else url

    async def _headers(
        self,
        *,
        has_body: bool,
        stream: bool,
        options: RequestOptions | None,
        force_refresh: bool,
    ) -> CIMultiDict[str]:
        headers: CIMultiDict[str] = CIMultiDict()
        headers["Accept"] = "text/event-stream" if stream else "application/json"
        if stream:
            # Compressed event streams can be held back by a proxy until the end.
            headers["Accept-Encoding"] = "identity"
            headers["Cache-Control"] = "no-store"
        headers["User-Agent"] = USER_AGENT
        headers["OpenAI-Beta"] = "assistants=v2"
        if self.organization:
            headers["OpenAI-Organization"] = self.organization
        if self.project:
            headers["OpenAI-Project"] = self.project
        headers.update(await self._auth.headers(force_refresh=force_refresh))
        headers.update(self.default_headers)
        if has_body:
            headers["Content-Type"] = "application/json"
        if options is not None and options.extra_headers:
            for name, value in options.extra_headers.items():
                headers.popall(name, None)
                if value is not None:
                    headers[name] = value
        return headers

    def _timeout(self, options: RequestOptions | None) -> Timeout:
        if options is None or isinstance(options.timeout, NotGiven):
            return self.timeout
        return Timeout.coerce(options.timeout)

    # --- the retry loop --------------------------------------------------------------------

    async def _send(
        self,
        method: str,
        path: str,
        *,
        body: Mapping[str, object] | None,
        query: Query | None,
        options: RequestOptions | None,
        stream: bool,
    ) -> tuple[Response, bytes | None]:
        """Send with retries. For a non-stream request the body is read (capped) inside the
        loop, so a connection dropped mid-body is retried like one dropped before it."""
        self._ensure_open()
        if options is not None and options.extra_body:
            body = {**(body or {}), **options.extra_body}
        content = (
            json.dumps(body, default=_json_default, separators=(",", ":")).encode()
            if body is not None
            else None
        )
        url = self._url(path, query, options)
        timeout = self._timeout(options)
        replayable = not _is_run_creating(method, path)
        idempotency_key: str | None = None
        if options is not None and options.extra_headers:
            for name, value in options.extra_headers.items():
                if name.lower() == IDEMPOTENCY_HEADER.lower() and value:
                    idempotency_key = value
        if idempotency_key is None and method == "POST":
            idempotency_key = str(uuid.uuid4())
        policy = self.retry_policy
        retries_taken = 0
        refreshed_auth = False
        log_path = url.split("?", 1)[0][len(self.base_url) :]
        while True:
            if self._state is _State.CLOSED:
                raise ClientClosedError("the client was closed while a request was retrying")
            headers = await self._headers(
                has_body=content is not None,
                stream=stream,
                options=options,
                force_refresh=False,
            )
            if idempotency_key is not None:
                headers[IDEMPOTENCY_HEADER] = idempotency_key
            headers[RETRY_COUNT_HEADER] = str(retries_taken)
            request = Request(method, url, headers, content, timeout, stream)
            started = self._clock()
            data: bytes | None = None
            try:
                response = await self._transport.send(request)
                if 200 <= response.status_code < 300 and not stream:
                    data = await self._read_capped(response, request)
            except APIConnectionError as exc:
                log.debug(
                    "%s %s failed: %s attempt=%d elapsed=%.3fs",
                    method,
                    log_path,
                    type(exc).__name__,
                    retries_taken + 1,
                    self._clock() - started,
                )
                if exc.request_sent and not replayable:
                    raise AmbiguousOutcomeError(
                        f"{exc.message} The request may have reached the server, and replaying "
                        "it could start a second run; list the thread's runs before retrying.",
                        request=request,
                        idempotency_key=idempotency_key,
                    ) from exc
                if retries_taken < policy.max_retries and self.retry_budget.try_acquire():
                    delay = backoff_delay(policy, retries_taken, self._random)
                    log.info(
                        "retrying %s %s in %.2fs after %s",
                        method,
                        log_path,
                        delay,
                        type(exc).__name__,
                    )
                    await self._backoff(delay)
                    retries_taken += 1
                    continue
                raise
            status = response.status_code
            log.debug(
                "%s %s status=%d request_id=%s attempt=%d elapsed=%.3fs",
                method,
                log_path,
                status,
                response.headers.get("x-request-id"),
                retries_taken + 1,
                self._clock() - started,
            )
            if 200 <= status < 300:
                self.retry_budget.record_success()
                return response, data
            error = await self._status_error(response, request)
            if status == 401 and self._auth.can_refresh and not refreshed_auth:
                refreshed_auth = True
                await self._auth.headers(force_refresh=True)
                continue
            if retries_taken < policy.max_retries and is_retryable_status(
                status, response.headers, error.body
            ):
                wait, _ = retry_delay(
                    policy,
                    retries_taken,
                    response.headers,
                    now=self._wall_clock(),
                    random=self._random,
                )
                if wait is not None and self.retry_budget.try_acquire():
                    log.info(
                        "retrying %s %s in %.2fs after status %d", method, log_path, wait, status
                    )
                    await self._backoff(wait)
                    retries_taken += 1
                    continue
            raise error

    async def _backoff(self, delay: float) -> None:
        """Sleep before a retry; ``aclose()`` cuts the sleep short with ``ClientClosedError``
        (a closed client must not keep a task waiting out a 60 s ``retry-after``)."""
        if self._closing is None:
            self._closing = asyncio.Event()
        sleeper = asyncio.ensure_future(self._sleep(delay))
        closer = asyncio.ensure_future(self._closing.wait())
        try:
            await asyncio.wait((sleeper, closer), return_when=asyncio.FIRST_COMPLETED)
        finally:
            sleeper.cancel()
            closer.cancel()
        if sleeper.done() and not sleeper.cancelled():
            sleeper.result()  # re-raises what a (custom) sleep raised
        if self._state is _State.CLOSED:
            raise ClientClosedError("the client was closed while a request was waiting to retry")

    async def _read_capped(self, response: Response, request: Request) -> bytes:
        limit = self.limits.max_response_bytes
        data = await response.aread(limit=limit + 1)
        if len(data) > limit:
            raise APIResponseValidationError(
                f"The response body is larger than Limits.max_response_bytes ({limit} bytes).",
                status_code=response.status_code,
                body=truncate(self._redact(data[:4096].decode("utf-8", "replace"))),
                request=request,
            )
        return data

    def _redact(self, text: str) -> str:
        """Server text with our credentials cut out (a server may echo the key it got)."""
        return redact(text, self._auth.secrets())

    async def _status_error(self, response: Response, request: Request) -> APIStatusError:
        """The typed error for a non-2xx response; its (capped) body is read and it is closed."""
        try:
            raw = await response.aread(limit=self.limits.max_error_body_bytes)
        except APIConnectionError:
            raw = b""
        text = self._redact(raw.decode("utf-8", errors="replace"))
        body: object = text
        try:
            body = json.loads(text)
        except ValueError:
            pass
        status = response.status_code
        message: str | None = None
        if isinstance(body, Mapping):
            envelope = body.get("error")
            if isinstance(envelope, Mapping) and isinstance(envelope.get("message"), str):
                message = envelope["message"]
            elif isinstance(envelope, str):
                message = envelope
            elif isinstance(body.get("message"), str):
                message = body["message"]
        if message is None:
            message = text.strip() or f"HTTP {status} with an empty body"
        if 300 <= status < 400:
            message = f"Redirect refused (status {status}); point base_url at the final URL."
        cls = status_error_class(status, body)
        error = cls(
            truncate(message),
            status_code=status,
            headers=response.headers,
            body=body,
            request=request,
            response=response,
        )
        error.retry_after = parse_retry_after(response.headers, self._wall_clock())
        return error

    # --- entry points used by resources -----------------------------------------------------

    async def _request_with_headers(
        self,
        method: str,
        path: str,
        *,
        cast_to: type[M],
        body: Mapping[str, object] | None = None,
        query: Query | None = None,
        options: RequestOptions | None = None,
    ) -> tuple[M, CIMultiDictProxy[str]]:
        response, data = await self._send(
            method, path, body=body, query=query, options=options, stream=False
        )
        assert data is not None
        try:
            model = cast_to.model_validate_json(data)
        except ValidationError as exc:
            first = exc.errors()[0] if exc.error_count() else {"msg": "invalid"}
            where = ".".join(str(p) for p in first.get("loc", ())) or "body"
            raise APIResponseValidationError(
                f"The response is not a valid {cast_to.__name__} ({where}: {first['msg']}).",
                status_code=response.status_code,
                body=truncate(self._redact(data.decode("utf-8", "replace"))),
                request=response.request,
            ) from None
        return model, response.headers

    async def _request(
        self,
        method: str,
        path: str,
        *,
        cast_to: type[M],
        body: Mapping[str, object] | None = None,
        query: Query | None = None,
        options: RequestOptions | None = None,
    ) -> M:
        model, _ = await self._request_with_headers(
            method, path, cast_to=cast_to, body=body, query=query, options=options
        )
        return model

    async def _request_stream(
        self,
        method: str,
        path: str,
        *,
        body: Mapping[str, object] | None = None,
        query: Query | None = None,
        options: RequestOptions | None = None,
    ) -> Response:
        """Open a server-sent-event stream: a 2xx ``Response`` whose body is not read yet.

        Stream timeouts apply (no total, ``Timeout.read`` as socket idle). Retries happen only
        before a body is handed out; a run-creating POST is never replayed blindly. A non-2xx
        status raises the typed ``APIStatusError``. The content type is not checked here.
        """
        response, _ = await self._send(
            method, path, body=body, query=query, options=options, stream=True
        )
        return response

    def _get_page(
        self,
        path: str,
        *,
        item: type[M],
        query: Mapping[str, object],
        options: RequestOptions | None = None,
    ) -> AsyncPaginator[M]:
        page_type = page_of(item)

        async def fetch(after: str | None) -> AsyncCursorPage[M]:
            page_query = dict(query)
            if after is not None:
                page_query["after"] = after
            page: AsyncCursorPage[M] = await self._request(
                "GET", path, cast_to=page_type, query=page_query, options=options
            )
            page._fetch = fetch
            return page

        return AsyncPaginator(fetch)
