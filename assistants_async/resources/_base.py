"""What every resource shares: the client and the per-call options."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from .._config import Timeout
from .._types import Body, NotGiven, Query, RequestOptions

if TYPE_CHECKING:
    from .._client import AsyncAssistants

__all__ = ["Resource", "options"]


class Resource:
    def __init__(self, client: AsyncAssistants) -> None:
        self._client = client

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"


def options(
    extra_headers: Mapping[str, str | None] | None,
    extra_query: Query | None,
    extra_body: Body | None,
    timeout: float | Timeout | None | NotGiven,
) -> RequestOptions | None:
    if (
        extra_headers is None
        and extra_query is None
        and extra_body is None
        and (isinstance(timeout, NotGiven))
    ):
        return None
    return RequestOptions(extra_headers, extra_query, extra_body, timeout)
