"""``client.threads.runs.steps``: the steps a run took."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Literal

from .._client import build_path
from .._config import Timeout
from .._pagination import AsyncPaginator
from .._types import NOT_GIVEN, Body, NotGiven, Query, RunStepInclude, strip_not_given
from ..types import RunStep
from ._base import Resource, options

__all__ = ["Steps", "include_values"]


def include_values(include: Iterable[RunStepInclude] | NotGiven) -> list[str] | NotGiven:
    # A bare string is one value, not an iterable of one-letter values.
    if isinstance(include, NotGiven):
        return include
    return [include] if isinstance(include, str) else list(include)


class Steps(Resource):
    async def retrieve(
        self,
        step_id: str,
        *,
        thread_id: str,
        run_id: str,
        include: Iterable[RunStepInclude] | NotGiven = NOT_GIVEN,
        extra_headers: Mapping[str, str | None] | None = None,
        extra_query: Query | None = None,
        extra_body: Body | None = None,
        timeout: float | Timeout | None | NotGiven = NOT_GIVEN,
    ) -> RunStep:
        """Retrieve a run step (``GET /threads/{thread_id}/runs/{run_id}/steps/{step_id}``);
        ``include`` is sent as ``include[]`` query parameters."""
        path = build_path(
            "/threads/{thread_id}/runs/{run_id}/steps/{step_id}",
            thread_id=thread_id,
            run_id=run_id,
            step_id=step_id,
        )
        query = strip_not_given({"include[]": include_values(include)})
        return await self._client._request(
            "GET",
            path,
            cast_to=RunStep,
            query=query,
            options=options(extra_headers, extra_query, extra_body, timeout),
        )

    def list(
        self,
        run_id: str,
        *,
        thread_id: str,
        after: str | NotGiven = NOT_GIVEN,
        before: str | NotGiven = NOT_GIVEN,
        include: Iterable[RunStepInclude] | NotGiven = NOT_GIVEN,
        limit: int | NotGiven = NOT_GIVEN,
        order: Literal["asc", "desc"] | NotGiven = NOT_GIVEN,
        extra_headers: Mapping[str, str | None] | None = None,
        extra_query: Query | None = None,
        extra_body: Body | None = None,
        timeout: float | Timeout | None | NotGiven = NOT_GIVEN,
    ) -> AsyncPaginator[RunStep]:
        """List a run's steps (``GET /threads/{thread_id}/runs/{run_id}/steps``)."""
        path = build_path(
            "/threads/{thread_id}/runs/{run_id}/steps", thread_id=thread_id, run_id=run_id
        )
        query = strip_not_given(
            {
                "after": after,
                "before": before,
                "include[]": include_values(include),
                "limit": limit,
                "order": order,
            }
        )
        return self._client._get_page(
            path,
            item=RunStep,
            query=query,
            options=options(extra_headers, extra_query, extra_body, timeout),
        )
