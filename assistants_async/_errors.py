"""The exception tree. Every error the library raises on purpose is an ``AssistantsError``.

::

    AssistantsError
    ├── APIError                          anything that came from talking to a server
    │   ├── APIConnectionError            no usable response: refused, reset, DNS, TLS, dropped
    │   │   ├── APITimeoutError           connect / read-idle / total timeout
    │   │   └── AmbiguousOutcomeError     a non-replayable POST was sent, its outcome is unknown
    │   ├── APIStatusError                the server answered with a non-2xx status
    │   │   ├── BadRequestError               400
    │   │   ├── AuthenticationError           401
    │   │   ├── PermissionDeniedError         403
    │   │   ├── NotFoundError                 404
    │   │   ├── ConflictError                 409
    │   │   ├── UnprocessableEntityError      422
    │   │   ├── RateLimitError                429
    │   │   │   └── InsufficientQuotaError    429 with code "insufficient_quota" (never retried)
    │   │   └── InternalServerError           >= 500
    │   ├── APIResponseValidationError    a 2xx body that is not JSON or not the expected shape
    │   └── StreamError                   a server-sent-event stream went wrong
    │       ├── StreamIncompleteError     ended (EOF / disconnect) before a terminal run event
    │       ├── StreamIdleTimeoutError    no event for ``Timeout.event`` seconds
    │       ├── StreamDecodeError         invalid UTF-8 or JSON in an event
    │       ├── EventTooLargeError        an event grew past ``Limits.max_event_bytes``
    │       ├── ServerStreamError         the server sent ``event: error``
    │       └── UnexpectedContentTypeError  a 2xx stream response that is not text/event-stream
    ├── RunPollTimeoutError               a poll helper's overall deadline passed
    └── (misuse, also ``RuntimeError``)
        ├── StreamConsumedError           a stream iterated a second time
        ├── ClientClosedError             a request on a closed client
        └── EventLoopMismatchError        a client used from a second event loop

Messages never contain request headers, so an API key cannot leak through ``str(exc)``;
response bodies are shown truncated to ``MAX_BODY_IN_MESSAGE`` characters.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from multidict import CIMultiDict, CIMultiDictProxy

if TYPE_CHECKING:
    from ._transport import Request, Response
    from .types import Run

__all__ = [
    "MAX_BODY_IN_MESSAGE",
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AmbiguousOutcomeError",
    "AssistantsError",
    "AuthenticationError",
    "BadRequestError",
    "ClientClosedError",
    "ConflictError",
    "EventLoopMismatchError",
    "EventTooLargeError",
    "InsufficientQuotaError",
    "InternalServerError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "RunPollTimeoutError",
    "ServerStreamError",
    "StreamConsumedError",
    "StreamDecodeError",
    "StreamError",
    "StreamIdleTimeoutError",
    "StreamIncompleteError",
    "UnexpectedContentTypeError",
    "UnprocessableEntityError",
    "status_error_class",
    "truncate",
]

MAX_BODY_IN_MESSAGE = 2048


def truncate(text: str, limit: int = MAX_BODY_IN_MESSAGE) -> str:
    """Shorten ``text`` for display; an HTML 502 page must not become a 1 MB message."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... [{len(text) - limit} more characters]"


class AssistantsError(Exception):
    """Root of every exception this library raises on purpose."""


class APIError(AssistantsError):
    """An error that came from talking to a server. ``request`` is set when one was built."""

    def __init__(self, message: str, *, request: Request | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.request = request


class APIConnectionError(APIError):
    """No usable response arrived (refused, reset, dropped mid-body, DNS, TLS).

    ``request_sent`` is False only when the request provably never reached the server (the
    connection could not be opened); then any request, even a run creation, is safe to replay.
    """

    def __init__(
        self,
        message: str = "Connection error.",
        *,
        request: Request | None = None,
        request_sent: bool = True,
    ) -> None:
        super().__init__(message, request=request)
        self.request_sent = request_sent


class APITimeoutError(APIConnectionError):
    """A connect, read-idle or total timeout expired."""

    def __init__(
        self,
        message: str = "Request timed out.",
        *,
        request: Request | None = None,
        request_sent: bool = True,
    ) -> None:
        super().__init__(message, request=request, request_sent=request_sent)


class AmbiguousOutcomeError(APIConnectionError):
    """A POST that must not be replayed blindly (creating a run) was sent, and then the
    connection failed before a response arrived: the server may or may not have acted.

    ``idempotency_key`` is the key the request carried; reconcile (list the thread's runs)
    before trying again.
    """

    def __init__(
        self, message: str, *, request: Request | None = None, idempotency_key: str | None = None
    ) -> None:
        super().__init__(message, request=request)
        self.idempotency_key = idempotency_key


class APIStatusError(APIError):
    """The server answered with a non-success status.

    ``body`` is the parsed JSON body when it was JSON, else the (size-capped) text.
    ``code``, ``param`` and ``type`` come from the API's ``{"error": {...}}`` envelope.
    """

    status_code: int

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        headers: Mapping[str, str] | None = None,
        body: object = None,
        request: Request | None = None,
        response: Response | None = None,
    ) -> None:
        self.status_code = status_code
        # Case-insensitive like HTTP itself: ``err.headers["retry-after"]`` finds ``Retry-After``.
        self.headers: Mapping[str, str] = CIMultiDictProxy(CIMultiDict(headers or {}))
        # The server-directed delay in seconds (``retry-after-ms`` / ``retry-after``), when sent;
        # set for every status so a caller can honour a delay above the retry cap.
        self.retry_after: float | None = None
        self.request_id: str | None = _header(headers, "x-request-id")
        self.body = body
        self.response = response
        error = _error_envelope(body)
        self.code: str | None = _str_or_none(error.get("code"))
        self.param: str | None = _str_or_none(error.get("param"))
        self.type: str | None = _str_or_none(error.get("type"))
        super().__init__(message, request=request)

    def __str__(self) -> str:
        suffix = f" (request_id={self.request_id})" if self.request_id else ""
        return f"Error code: {self.status_code} - {self.message}{suffix}"


class BadRequestError(APIStatusError):
    status_code = 400


class AuthenticationError(APIStatusError):
    status_code = 401


class PermissionDeniedError(APIStatusError):
    status_code = 403


class NotFoundError(APIStatusError):
    status_code = 404


class ConflictError(APIStatusError):
    status_code = 409


class UnprocessableEntityError(APIStatusError):
    status_code = 422


class RateLimitError(APIStatusError):
    """429."""

    status_code = 429


class InsufficientQuotaError(RateLimitError):
    """429 whose error code is ``insufficient_quota``: waiting will not help, so never retried."""


class InternalServerError(APIStatusError):
    pass


_STATUS_CLASSES: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


def status_error_class(status_code: int, body: object = None) -> type[APIStatusError]:
    """The most specific ``APIStatusError`` subclass for a status (and, for 429, its body)."""
    if status_code == 429 and _error_envelope(body).get("code") == "insufficient_quota":
        return InsufficientQuotaError
    if status_code >= 500:
        return InternalServerError
    return _STATUS_CLASSES.get(status_code, APIStatusError)


class APIResponseValidationError(APIError):
    """A successful response whose body was not JSON or not the shape the model expects."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        body: str | None = None,
        request: Request | None = None,
    ) -> None:
        super().__init__(message, request=request)
        self.status_code = status_code
        self.body = body


class StreamError(APIError):
    """A server-sent-event stream went wrong after it started."""

    def __init__(self, message: str, *, request: Request | None = None) -> None:
        super().__init__(message, request=request)


class StreamIncompleteError(StreamError):
    """The stream ended before a terminal run event: the answer so far is partial."""


class StreamIdleTimeoutError(StreamError):
    """No event arrived for ``timeout`` seconds (keep-alive comments do not count)."""

    def __init__(self, message: str, *, timeout: float, request: Request | None = None):
        super().__init__(message, request=request)
        self.timeout = timeout


class StreamDecodeError(StreamError):
    """An event's bytes were not valid UTF-8, or its data was not valid JSON for its type."""

    def __init__(
        self,
        message: str,
        *,
        event: str | None = None,
        data: str | None = None,
        request: Request | None = None,
    ) -> None:
        super().__init__(message, request=request)
        self.event = event
        self.data = truncate(data, 512) if data is not None else None


class EventTooLargeError(StreamError):
    """One event grew past the configured cap; the connection is closed instead of growing."""

    def __init__(self, message: str, *, limit: int, request: Request | None = None):
        super().__init__(message, request=request)
        self.limit = limit


class ServerStreamError(StreamError):
    """The server sent ``event: error``. Events before it were delivered first."""

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        data: object = None,
        request: Request | None = None,
    ) -> None:
        super().__init__(message, request=request)
        self.code = code
        self.data = data

    def __str__(self) -> str:
        return f"{self.message} (code={self.code})" if self.code else self.message


class UnexpectedContentTypeError(StreamError):
    """A stream request got a 2xx answer that is not ``text/event-stream``."""

    def __init__(
        self,
        message: str,
        *,
        content_type: str | None,
        body: object = None,
        request: Request | None = None,
    ) -> None:
        super().__init__(message, request=request)
        self.content_type = content_type
        self.body = body


class RunPollTimeoutError(AssistantsError):
    """A poll helper's overall ``timeout`` passed before the run reached a terminal state."""

    def __init__(self, message: str, *, run: Run | None = None, cancelled: bool = False):
        super().__init__(message)
        self.run = run
        self.cancelled = cancelled


class StreamConsumedError(AssistantsError, RuntimeError):
    """A stream can be iterated once; this one already was."""


class ClientClosedError(AssistantsError, RuntimeError):
    """The client was closed; create a new one."""


class EventLoopMismatchError(AssistantsError, RuntimeError):
    """A client is bound to the event loop it was first used on; it was used from another.

    Create one client per loop (per ``asyncio.run`` call).
    """


def _error_envelope(body: object) -> Mapping[str, Any]:
    if isinstance(body, Mapping):
        inner = body.get("error")
        if isinstance(inner, Mapping):
            return inner
        return body
    return {}


def _str_or_none(value: object) -> str | None:
    return None if value is None else str(value)


def _header(headers: Mapping[str, str] | None, name: str) -> str | None:
    if not headers:
        return None
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None
