"""Credentials: a static key in a configurable header, or tokens from an async provider.

A key is validated (no CR/LF or other control characters, which would let it smuggle headers)
without ever being echoed, and it is kept out of every ``repr``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Awaitable, Callable
from typing import Protocol, TypeAlias

__all__ = ["Auth", "StaticKeyAuth", "TokenProvider", "TokenProviderAuth", "validate_secret"]

TokenProvider: TypeAlias = Callable[
    [], Awaitable["str | tuple[str, float] | tuple[str, dt.datetime]"]
]
"""An async callable returning a bearer token, or ``(token, expires_at)`` where ``expires_at``
is a UNIX timestamp or an aware ``datetime``."""

REFRESH_MARGIN = 60.0
"""A cached token is refreshed this many seconds before it expires."""


def validate_secret(value: str, what: str) -> str:
    """Refuse values that would break (or inject into) an HTTP header; never echo them."""
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a string")
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
        raise ValueError(
            f"{what} contains a control character (CR, LF, ...); check how it was loaded"
        )
    if value != value.strip():
        raise ValueError(f"{what} has leading or trailing whitespace; check how it was loaded")
    return value


def _header_value(scheme: str | None, secret: str) -> str:
    return f"{scheme} {secret}" if scheme else secret


class Auth(Protocol):
    """What the client needs from credentials."""

    can_refresh: bool

    async def headers(self, *, force_refresh: bool = False) -> dict[str, str]: ...


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
            self._token = validate_secret(token, "token from token_provider")
            return self._token

    async def headers(self, *, force_refresh: bool = False) -> dict[str, str]:
        token = await self.token(force_refresh=force_refresh)
        return {self._header: _header_value(self._scheme, token)}

    def __repr__(self) -> str:
        return f"<TokenProviderAuth header={self._header!r}>"
