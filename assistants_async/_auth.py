"""Credentials: a static key in a configurable header, or tokens from an async provider.

A key is validated (no CR/LF or other control characters, which would let it smuggle headers)
without ever being echoed, and it is kept out of every ``repr``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Protocol, TypeAlias

__all__ = [
    "MIN_REDACTED_LENGTH",
    "REDACTED",
    "Auth",
    "SecretHeaderValue",
    "StaticKeyAuth",
    "TokenProvider",
    "TokenProviderAuth",
    "redact",
    "validate_secret",
]

TokenProvider: TypeAlias = Callable[
    [], Awaitable["str | tuple[str, float] | tuple[str, dt.datetime]"]
]
"""An async callable returning a bearer token, or ``(token, expires_at)`` where ``expires_at``
is a UNIX timestamp or an aware ``datetime``."""

REFRESH_MARGIN = 60.0
"""A cached token is refreshed this many seconds before it expires."""

REDACTED = "[redacted]"
MIN_REDACTED_LENGTH = 8
"""Shorter secrets are not redacted from server text: replacing every ``k`` in an error
message would mangle it, and such a key protects nothing anyway."""


class SecretHeaderValue(str):
    """A header value holding a credential: sent as-is, shown as ``'[redacted]'`` by ``repr``,
    so dumping request headers (a debugger, an error reporter capturing locals) hides it."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"'{REDACTED}'"


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every occurrence of each secret (and its JSON-escaped form) replaced."""
    for secret in secrets:
        if len(secret) < MIN_REDACTED_LENGTH:
            continue
        text = text.replace(secret, REDACTED)
        escaped = json.dumps(secret)[1:-1]
        if escaped != secret:
            text = text.replace(escaped, REDACTED)
    return text


def validate_secret(value: str, what: str) -> str:
    """Refuse values that would break (or inject into) an HTTP header; never echo them."""
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a string")
    if not value:
        raise ValueError(f"{what} is empty")
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
        raise ValueError(
            f"{what} contains a control character (CR, LF, ...); check how it was loaded"
        )
    if value != value.strip():
        raise ValueError(f"{what} has leading or trailing whitespace; check how it was loaded")
    return value


def _header_value(scheme: str | None, secret: str) -> SecretHeaderValue:
    return SecretHeaderValue(f"{scheme} {secret}" if scheme else secret)


class Auth(Protocol):
    """What the client needs from credentials."""

    can_refresh: bool

    async def headers(self, *, force_refresh: bool = False) -> dict[str, str]: ...

    def secrets(self) -> tuple[str, ...]:
        """The credentials in use, to be redacted from text a server sends back."""
        ...


class StaticKeyAuth:
    """``<header>: [<scheme> ]<key>``, e.g. ``Authorization: Bearer sk-...`` or ``api-key: ...``.

    ``header=None`` sends no credentials (a local server without auth).
    """

    can_refresh = False

    def __init__(self, key: str | None, *, header: str | None, scheme: str | None) -> None:
        self._key = validate_secret(key, "api_key") if key is not None else None
        self._header = header
        self._scheme = scheme

    async def headers(self, *, force_refresh: bool = False) -> dict[str, str]:
        if self._header is None or self._key is None:
            return {}
        return {self._header: _header_value(self._scheme, self._key)}

    def secrets(self) -> tuple[str, ...]:
        return () if self._key is None else (self._key,)

    def __repr__(self) -> str:
        return f"<StaticKeyAuth header={self._header!r}>"


class TokenProviderAuth:
    """``Authorization: Bearer <token>`` from an async provider (Entra ID and the like).

    A token that comes with an expiry is cached and refreshed ``REFRESH_MARGIN`` seconds
    before it expires; a bare token carries no expiry, so the provider is asked on every
    request (providers such as azure-identity's cache on their side). Concurrent requests
    share one refresh. A 401 forces one refresh and one retry.
    """

    can_refresh = True

    def __init__(
        self,
        provider: TokenProvider,
        *,
        header: str = "Authorization",
        scheme: str | None = "Bearer",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._provider = provider
        self._header = header
        self._scheme = scheme
        self._clock = clock
        self._token: str | None = None
        self._previous: str | None = None  # still redacted: a request may have carried it
        self._expires_at: float | None = None
        self._lock: asyncio.Lock | None = None

    def _fresh(self) -> str | None:
        if self._token is None or self._expires_at is None:
            return None
        if self._clock() >= self._expires_at - REFRESH_MARGIN:
            return None
        return self._token

    async def token(self, *, force_refresh: bool = False) -> str:
        cached = None if force_refresh else self._fresh()
        if cached is not None:
            return cached
        if self._lock is None:
            self._lock = asyncio.Lock()
        stale = self._token
        async with self._lock:
            # Another task may have refreshed while this one waited for the lock.
            cached = self._fresh()
            if cached is not None and (not force_refresh or cached != stale):
                return cached
            result = await self._provider()
            if isinstance(result, tuple):
                token, expires = result
                self._expires_at = (
                    expires.timestamp() if isinstance(expires, dt.datetime) else float(expires)
                )
            else:
                token, self._expires_at = result, None
            token = validate_secret(token, "token from token_provider")
            if token != self._token:
                self._previous = self._token
            self._token = token
            return token

    async def headers(self, *, force_refresh: bool = False) -> dict[str, str]:
        token = await self.token(force_refresh=force_refresh)
        return {self._header: _header_value(self._scheme, token)}

    def secrets(self) -> tuple[str, ...]:
        return tuple(t for t in (self._token, self._previous) if t is not None)

    def __repr__(self) -> str:
        return f"<TokenProviderAuth header={self._header!r}>"
