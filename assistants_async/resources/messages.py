"""``client.threads.messages``: the messages of a thread."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Literal

from .._client import build_path
from .._config import Timeout
from .._pagination import AsyncPaginator
from .._types import NOT_GIVEN, Body, JSONObject, Metadata, NotGiven, Query, strip_not_given
from ..types import Message, MessageDeleted
from ._base import Resource, options

__all__ = ["Messages"]

_ONE = "/threads/{thread_id}/messages/{message_id}"


class Messages(Resource):
    async def create(
        self,
        thread_id: str,
        *,
        content: str | Iterable[JSONObject],
        role: Literal["user", "assistant"],
        attachments: Iterable[JSONObject] | None | NotGiven = NOT_GIVEN,
        metadata: Metadata | None | NotGiven = NOT_GIVEN,
        extra_headers: Mapping[str, str | None] | None = None,
        extra_query: Query | None = None,
        extra_body: Body | None = None,
        timeout: float | Timeout | None | NotGiven = NOT_GIVEN,
    ) -> Message:
        """Add a message to a thread (``POST /threads/{thread_id}/messages``)."""
        path = build_path("/threads/{thread_id}/messages", thread_id=thread_id)
        body = strip_not_given(
            {"content": content, "role": role, "attachments": attachments, "metadata": metadata}
        )
        return await self._client._request(
            "POST",
            path,
            cast_to=Message,
            body=body,
            options=options(extra_headers, extra_query, extra_body, timeout),
        )

    async def retrieve(
        self,
        message_id: str,
        *,
        thread_id: str,
        extra_headers: Mapping[str, str | None] | None = None,
        extra_query: Query | None = None,
        extra_body: Body | None = None,
        timeout: float | Timeout | None | NotGiven = NOT_GIVEN,
    ) -> Message:
        """Retrieve a message (``GET /threads/{thread_id}/messages/{message_id}``)."""
        return await self._client._request(
            "GET",
            build_path(_ONE, thread_id=thread_id, message_id=message_id),
            cast_to=Message,
            options=options(extra_headers, extra_query, extra_body, timeout),
        )

    async def update(
        self,
        message_id: str,
        *,
        thread_id: str,
        metadata: Metadata | None | NotGiven = NOT_GIVEN,
        extra_headers: Mapping[str, str | None] | None = None,
        extra_query: Query | None = None,
        extra_body: Body | None = None,
        timeout: float | Timeout | None | NotGiven = NOT_GIVEN,
    ) -> Message:
        """Modify a message's metadata (``POST /threads/{thread_id}/messages/{message_id}``)."""
        return await self._client._request(
            "POST",
            build_path(_ONE, thread_id=thread_id, message_id=message_id),
            cast_to=Message,
            body=strip_not_given({"metadata": metadata}),
            options=options(extra_headers, extra_query, extra_body, timeout),
        )

    def list(
        self,
        thread_id: str,
        *,
        after: str | NotGiven = NOT_GIVEN,
        before: str | NotGiven = NOT_GIVEN,
        limit: int | NotGiven = NOT_GIVEN,
        order: Literal["asc", "desc"] | NotGiven = NOT_GIVEN,
        run_id: str | NotGiven = NOT_GIVEN,
        extra_headers: Mapping[str, str | None] | None = None,
        extra_query: Query | None = None,
        extra_body: Body | None = None,
        timeout: float | Timeout | None | NotGiven = NOT_GIVEN,
    ) -> AsyncPaginator[Message]:
        """List a thread's messages (``GET /threads/{thread_id}/messages``)."""
        path = build_path("/threads/{thread_id}/messages", thread_id=thread_id)
        query = strip_not_given(
            {"after": after, "before": before, "limit": limit, "order": order, "run_id": run_id}
        )
        return self._client._get_page(
            path,
            item=Message,
            query=query,
            options=options(extra_headers, extra_query, extra_body, timeout),
        )

    async def delete(
        self,
        message_id: str,
        *,
        thread_id: str,
        extra_headers: Mapping[str, str | None] | None = None,
        extra_query: Query | None = None,
        extra_body: Body | None = None,
        timeout: float | Timeout | None | NotGiven = NOT_GIVEN,
    ) -> MessageDeleted:
        """Delete a message (``DELETE /threads/{thread_id}/messages/{message_id}``)."""
        return await self._client._request(
            "DELETE",
            build_path(_ONE, thread_id=thread_id, message_id=message_id),
            cast_to=MessageDeleted,
            options=options(extra_headers, extra_query, extra_body, timeout),
        )
