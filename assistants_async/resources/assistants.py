"""``client.assistants``: create, retrieve, update, list and delete assistants."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Literal

from .._client import build_path
from .._config import Timeout
from .._pagination import AsyncPaginator
from .._types import NOT_GIVEN, Body, JSONObject, Metadata, NotGiven, Query, strip_not_given
from ..types import Assistant, AssistantDeleted
from ._base import Resource, options

__all__ = ["Assistants"]


class Assistants(Resource):
    async def create(
        self,
        *,
        model: str,
        description: str | None | NotGiven = NOT_GIVEN,
        instructions: str | None | NotGiven = NOT_GIVEN,
        metadata: Metadata | None | NotGiven = NOT_GIVEN,
        name: str | None | NotGiven = NOT_GIVEN,
        reasoning_effort: str | None | NotGiven = NOT_GIVEN,
        response_format: str | JSONObject | None | NotGiven = NOT_GIVEN,
        temperature: float | None | NotGiven = NOT_GIVEN,
        tool_resources: JSONObject | None | NotGiven = NOT_GIVEN,
        tools: Iterable[JSONObject] | NotGiven = NOT_GIVEN,
        top_p: float | None | NotGiven = NOT_GIVEN,
        extra_headers: Mapping[str, str | None] | None = None,
        extra_query: Query | None = None,
        extra_body: Body | None = None,
        timeout: float | Timeout | None | NotGiven = NOT_GIVEN,
    ) -> Assistant:
        """Create an assistant (``POST /assistants``)."""
        body = strip_not_given(
            {
                "model": model,
                "description": description,
                "instructions": instructions,
                "metadata": metadata,
                "name": name,
                "reasoning_effort": reasoning_effort,
                "response_format": response_format,
                "temperature": temperature,
                "tool_resources": tool_resources,
                "tools": tools,
                "top_p": top_p,
            }
        )
        return await self._client._request(
            "POST",
            "/assistants",
            cast_to=Assistant,
            body=body,
            options=options(extra_headers, extra_query, extra_body, timeout),
        )

    async def retrieve(
        self,
        assistant_id: str,
        *,
        extra_headers: Mapping[str, str | None] | None = None,
        extra_query: Query | None = None,
        extra_body: Body | None = None,
        timeout: float | Timeout | None | NotGiven = NOT_GIVEN,
    ) -> Assistant:
        """Retrieve an assistant (``GET /assistants/{assistant_id}``)."""
        return await self._client._request(
            "GET",
            build_path("/assistants/{assistant_id}", assistant_id=assistant_id),
            cast_to=Assistant,
            options=options(extra_headers, extra_query, extra_body, timeout),
        )

    async def update(
        self,
        assistant_id: str,
        *,
        description: str | None | NotGiven = NOT_GIVEN,
        instructions: str | None | NotGiven = NOT_GIVEN,
        metadata: Metadata | None | NotGiven = NOT_GIVEN,
        model: str | NotGiven = NOT_GIVEN,
        name: str | None | NotGiven = NOT_GIVEN,
        reasoning_effort: str | None | NotGiven = NOT_GIVEN,
        response_format: str | JSONObject | None | NotGiven = NOT_GIVEN,
        temperature: float | None | NotGiven = NOT_GIVEN,
        tool_resources: JSONObject | None | NotGiven = NOT_GIVEN,
        tools: Iterable[JSONObject] | NotGiven = NOT_GIVEN,
        top_p: float | None | NotGiven = NOT_GIVEN,
        extra_headers: Mapping[str, str | None] | None = None,
        extra_query: Query | None = None,
        extra_body: Body | None = None,
        timeout: float | Timeout | None | NotGiven = NOT_GIVEN,
    ) -> Assistant:
        """Modify an assistant (``POST /assistants/{assistant_id}``)."""
        path = build_path("/assistants/{assistant_id}", assistant_id=assistant_id)
        body = strip_not_given(
            {
                "description": description,
                "instructions": instructions,
                "metadata": metadata,
                "model": model,
                "name": name,
                "reasoning_effort": reasoning_effort,
                "response_format": response_format,
                "temperature": temperature,
                "tool_resources": tool_resources,
                "tools": tools,
                "top_p": top_p,
            }
        )
        return await self._client._request(
            "POST",
            path,
            cast_to=Assistant,
            body=body,
            options=options(extra_headers, extra_query, extra_body, timeout),
        )

    def list(
        self,
        *,
        after: str | NotGiven = NOT_GIVEN,
        before: str | NotGiven = NOT_GIVEN,
        limit: int | NotGiven = NOT_GIVEN,
        order: Literal["asc", "desc"] | NotGiven = NOT_GIVEN,
        extra_headers: Mapping[str, str | None] | None = None,
        extra_query: Query | None = None,
        extra_body: Body | None = None,
        timeout: float | Timeout | None | NotGiven = NOT_GIVEN,
    ) -> AsyncPaginator[Assistant]:
        """List assistants (``GET /assistants``): await for a page, ``async for`` for all."""
        query = strip_not_given({"after": after, "before": before, "limit": limit, "order": order})
        return self._client._get_page(
            "/assistants",
            item=Assistant,
            query=query,
            options=options(extra_headers, extra_query, extra_body, timeout),
        )

    async def delete(
        self,
        assistant_id: str,
        *,
        extra_headers: Mapping[str, str | None] | None = None,
        extra_query: Query | None = None,
        extra_body: Body | None = None,
        timeout: float | Timeout | None | NotGiven = NOT_GIVEN,
    ) -> AssistantDeleted:
        """Delete an assistant (``DELETE /assistants/{assistant_id}``)."""
        return await self._client._request(
            "DELETE",
            build_path("/assistants/{assistant_id}", assistant_id=assistant_id),
            cast_to=AssistantDeleted,
            options=options(extra_headers, extra_query, extra_body, timeout),
        )
