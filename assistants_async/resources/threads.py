"""``client.threads``: threads, plus create-and-run with polling and streaming helpers."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Literal, overload

from .._client import build_path
from .._config import Timeout
from .._types import NOT_GIVEN, Body, JSONObject, Metadata, NotGiven, Query, strip_not_given
from ..tools._loop import DEFAULT_MAX_TOOL_ROUNDS
from ..types import Run, Thread, ThreadDeleted
from ._base import Resource, options
from .messages import Messages
from .runs import HandlerT, Runs

if TYPE_CHECKING:
    from .._client import AsyncAssistants
    from ..streaming.stream import AssistantStream, EventStream
    from ..tools import Toolbox

__all__ = ["Threads"]

_ONE = "/threads/{thread_id}"


class Threads(Resource):
    def __init__(self, client: AsyncAssistants) -> None:
        super().__init__(client)
        self.messages = Messages(client)
        self.runs = Runs(client)

    async def create(
        self,
        *,
        messages: Iterable[JSONObject] | NotGiven = NOT_GIVEN,
        metadata: Metadata | None | NotGiven = NOT_GIVEN,
        tool_resources: JSONObject | None | NotGiven = NOT_GIVEN,
        extra_headers: Mapping[str, str | None] | None = None,
        extra_query: Query | None = None,
        extra_body: Body | None = None,
        timeout: float | Timeout | None | NotGiven = NOT_GIVEN,
    ) -> Thread:
        """Create a thread (``POST /threads``)."""
        body = strip_not_given(
            {"messages": messages, "metadata": metadata, "tool_resources": tool_resources}
        )
        return await self._client._request(
            "POST",
            "/threads",
            cast_to=Thread,
            body=body,
            options=options(extra_headers, extra_query, extra_body, timeout),
        )

    async def retrieve(
        self,
        thread_id: str,
        *,
        extra_headers: Mapping[str, str | None] | None = None,
        extra_query: Query | None = None,
        extra_body: Body | None = None,
        timeout: float | Timeout | None | NotGiven = NOT_GIVEN,
    ) -> Thread:
        """Retrieve a thread (``GET /threads/{thread_id}``)."""
        return await self._client._request(
            "GET",
            build_path(_ONE, thread_id=thread_id),
            cast_to=Thread,
            options=options(extra_headers, extra_query, extra_body, timeout),
        )

    async def update(
        self,
        thread_id: str,
        *,
        metadata: Metadata | None | NotGiven = NOT_GIVEN,
        tool_resources: JSONObject | None | NotGiven = NOT_GIVEN,
        extra_headers: Mapping[str, str | None] | None = None,
        extra_query: Query | None = None,
        extra_body: Body | None = None,
        timeout: float | Timeout | None | NotGiven = NOT_GIVEN,
    ) -> Thread:
        """Modify a thread (``POST /threads/{thread_id}``)."""
        return await self._client._request(
            "POST",
            build_path(_ONE, thread_id=thread_id),
            cast_to=Thread,
            body=strip_not_given({"metadata": metadata, "tool_resources": tool_resources}),
            options=options(extra_headers, extra_query, extra_body, timeout),
        )

    async def delete(
        self,
        thread_id: str,
        *,
        extra_headers: Mapping[str, str | None] | None = None,
        extra_query: Query | None = None,
        extra_body: Body | None = None,
        timeout: float | Timeout | None | NotGiven = NOT_GIVEN,
    ) -> ThreadDeleted:
        """Delete a thread (``DELETE /threads/{thread_id}``)."""
        return await self._client._request(
            "DELETE",
            build_path(_ONE, thread_id=thread_id),
            cast_to=ThreadDeleted,
            options=options(extra_headers, extra_query, extra_body, timeout),
        )

    @overload
    async def create_and_run(
        self,
        *,
        assistant_id: str,
        instructions: str | None | NotGiven = NOT_GIVEN,
        max_completion_tokens: int | None | NotGiven = NOT_GIVEN,
        max_prompt_tokens: int | None | NotGiven = NOT_GIVEN,
        metadata: Metadata | None | NotGiven = NOT_GIVEN,
        model: str | None | NotGiven = NOT_GIVEN,
        parallel_tool_calls: bool | NotGiven = NOT_GIVEN,
        response_format: str | JSONObject | None | NotGiven = NOT_GIVEN,
        temperature: float | None | NotGiven = NOT_GIVEN,
        thread: JSONObject | NotGiven = NOT_GIVEN,
        tool_choice: str | JSONObject | None | NotGiven = NOT_GIVEN,
        tool_resources: JSONObject | None | NotGiven = NOT_GIVEN,
        tools: Iterable[JSONObject] | None | NotGiven = NOT_GIVEN,
        top_p: float | None | NotGiven = NOT_GIVEN,
        truncation_strategy: JSONObject | None | NotGiven = NOT_GIVEN,
        stream: Literal[False] | None | NotGiven = NOT_GIVEN,
        extra_headers: Mapping[str, str | None] | None = None,
        extra_query: Query | None = None,
        extra_body: Body | None = None,
        timeout: float | Timeout | None | NotGiven = NOT_GIVEN,
    ) -> Run: ...

    @overload
    async def create_and_run(
        self,
        *,
        assistant_id: str,
        instructions: str | None | NotGiven = NOT_GIVEN,
        max_completion_tokens: int | None | NotGiven = NOT_GIVEN,
        max_prompt_tokens: int | None | NotGiven = NOT_GIVEN,
        metadata: Metadata | None | NotGiven = NOT_GIVEN,
        model: str | None | NotGiven = NOT_GIVEN,
        parallel_tool_calls: bool | NotGiven = NOT_GIVEN,
        response_format: str | JSONObject | None | NotGiven = NOT_GIVEN,
        temperature: float | None | NotGiven = NOT_GIVEN,
        thread: JSONObject | NotGiven = NOT_GIVEN,
        tool_choice: str | JSONObject | None | NotGiven = NOT_GIVEN,
        tool_resources: JSONObject | None | NotGiven = NOT_GIVEN,
        tools: Iterable[JSONObject] | None | NotGiven = NOT_GIVEN,
        top_p: float | None | NotGiven = NOT_GIVEN,
        truncation_strategy: JSONObject | None | NotGiven = NOT_GIVEN,
        stream: Literal[True],
        extra_headers: Mapping[str, str | None] | None = None,
        extra_query: Query | None = None,
        extra_body: Body | None = None,
        timeout: float | Timeout | None | NotGiven = NOT_GIVEN,
    ) -> EventStream: ...

    async def create_and_run(
        self,
        *,
        assistant_id: str,
        instructions: str | None | NotGiven = NOT_GIVEN,
        max_completion_tokens: int | None | NotGiven = NOT_GIVEN,
        max_prompt_tokens: int | None | NotGiven = NOT_GIVEN,
        metadata: Metadata | None | NotGiven = NOT_GIVEN,
        model: str | None | NotGiven = NOT_GIVEN,
        parallel_tool_calls: bool | NotGiven = NOT_GIVEN,
        response_format: str | JSONObject | None | NotGiven = NOT_GIVEN,
        temperature: float | None | NotGiven = NOT_GIVEN,
        thread: JSONObject | NotGiven = NOT_GIVEN,
        tool_choice: str | JSONObject | None | NotGiven = NOT_GIVEN,
        tool_resources: JSONObject | None | NotGiven = NOT_GIVEN,
        tools: Iterable[JSONObject] | None | NotGiven = NOT_GIVEN,
        top_p: float | None | NotGiven = NOT_GIVEN,
        truncation_strategy: JSONObject | None | NotGiven = NOT_GIVEN,
        stream: bool | None | NotGiven = NOT_GIVEN,
        extra_headers: Mapping[str, str | None] | None = None,
        extra_query: Query | None = None,
        extra_body: Body | None = None,
        timeout: float | Timeout | None | NotGiven = NOT_GIVEN,
    ) -> Run | EventStream:
        """Create a thread and run it in one request (``POST /threads/runs``).

        ``stream=True`` gives an opened ``EventStream``. Never replayed when its outcome is
        unknown (``AmbiguousOutcomeError``).
        """
        body = strip_not_given(
            {
                "assistant_id": assistant_id,
                "instructions": instructions,
                "max_completion_tokens": max_completion_tokens,
                "max_prompt_tokens": max_prompt_tokens,
                "metadata": metadata,
                "model": model,
                "parallel_tool_calls": parallel_tool_calls,
                "response_format": response_format,
                "temperature": temperature,
                "thread": thread,
                "tool_choice": tool_choice,
                "tool_resources": tool_resources,
                "tools": tools,
                "top_p": top_p,
                "truncation_strategy": truncation_strategy,
            }
        )
        opts = options(extra_headers, extra_query, extra_body, timeout)
        if stream:
            return await self.runs._client_event_stream("/threads/runs", body, {}, opts)
        return await self._client._request(
            "POST", "/threads/runs", cast_to=Run, body=body, options=opts
        )

    async def create_and_run_poll(
        self,
        *,
        assistant_id: str,
        instructions: str | None | NotGiven = NOT_GIVEN,
        max_completion_tokens: int | None | NotGiven = NOT_GIVEN,
        max_prompt_tokens: int | None | NotGiven = NOT_GIVEN,
        metadata: Metadata | None | NotGiven = NOT_GIVEN,
        model: str | None | NotGiven = NOT_GIVEN,
        parallel_tool_calls: bool | NotGiven = NOT_GIVEN,
        response_format: str | JSONObject | None | NotGiven = NOT_GIVEN,
        temperature: float | None | NotGiven = NOT_GIVEN,
        thread: JSONObject | NotGiven = NOT_GIVEN,
        tool_choice: str | JSONObject | None | NotGiven = NOT_GIVEN,
        tool_resources: JSONObject | None | NotGiven = NOT_GIVEN,
        tools: Iterable[JSONObject] | None | NotGiven = NOT_GIVEN,
        top_p: float | None | NotGiven = NOT_GIVEN,
        truncation_strategy: JSONObject | None | NotGiven = NOT_GIVEN,
        poll_interval_ms: int | NotGiven = NOT_GIVEN,
        timeout: float | None = None,
        cancel_on_timeout: bool = False,
        toolbox: Toolbox | None = None,
        max_tool_rounds: int = DEFAULT_MAX_TOOL_ROUNDS,
        extra_headers: Mapping[str, str | None] | None = None,
        extra_query: Query | None = None,
        extra_body: Body | None = None,
        request_timeout: float | Timeout | None | NotGiven = NOT_GIVEN,
    ) -> Run:
        """Create a thread and run, then poll the run to a terminal state
        (``timeout`` bounds the whole wait; see ``runs.poll``)."""
        deadline = None if timeout is None else self._client._clock() + timeout
        run = await self.create_and_run(
            assistant_id=assistant_id,
            instructions=instructions,
            max_completion_tokens=max_completion_tokens,
            max_prompt_tokens=max_prompt_tokens,
            metadata=metadata,
            model=model,
            parallel_tool_calls=parallel_tool_calls,
            response_format=response_format,
            temperature=temperature,
            thread=thread,
            tool_choice=tool_choice,
            tool_resources=tool_resources,
            tools=tools,
            top_p=top_p,
            truncation_strategy=truncation_strategy,
            extra_headers=extra_headers,
            extra_query=extra_query,
            extra_body=extra_body,
            timeout=request_timeout,
        )
        opts = options(extra_headers, extra_query, None, request_timeout)
        run = await self.runs._poll(
            run.id,
            run.thread_id,
            poll_interval_ms,
            deadline,
            timeout,
            cancel_on_timeout,
            opts,
            last=run,
        )
        return await self.runs._tool_loop(
            run,
            toolbox,
            max_tool_rounds,
            poll_interval_ms,
            deadline,
            timeout,
            cancel_on_timeout,
            opts,
        )

    def create_and_run_stream(
        self,
        *,
        assistant_id: str,
        instructions: str | None | NotGiven = NOT_GIVEN,
        max_completion_tokens: int | None | NotGiven = NOT_GIVEN,
        max_prompt_tokens: int | None | NotGiven = NOT_GIVEN,
        metadata: Metadata | None | NotGiven = NOT_GIVEN,
        model: str | None | NotGiven = NOT_GIVEN,
        parallel_tool_calls: bool | NotGiven = NOT_GIVEN,
        response_format: str | JSONObject | None | NotGiven = NOT_GIVEN,
        temperature: float | None | NotGiven = NOT_GIVEN,
        thread: JSONObject | NotGiven = NOT_GIVEN,
        tool_choice: str | JSONObject | None | NotGiven = NOT_GIVEN,
        tool_resources: JSONObject | None | NotGiven = NOT_GIVEN,
        tools: Iterable[JSONObject] | None | NotGiven = NOT_GIVEN,
        top_p: float | None | NotGiven = NOT_GIVEN,
        truncation_strategy: JSONObject | None | NotGiven = NOT_GIVEN,
        event_handler: HandlerT | None = None,
        cancel_run_on_exit: bool = False,
        toolbox: Toolbox | None = None,
        max_tool_rounds: int = DEFAULT_MAX_TOOL_ROUNDS,
        extra_headers: Mapping[str, str | None] | None = None,
        extra_query: Query | None = None,
        extra_body: Body | None = None,
        timeout: float | Timeout | None | NotGiven = NOT_GIVEN,
    ) -> AssistantStream[HandlerT]:
        """Create a thread and run and stream it (``async with``)."""
        body = strip_not_given(
            {
                "assistant_id": assistant_id,
                "instructions": instructions,
                "max_completion_tokens": max_completion_tokens,
                "max_prompt_tokens": max_prompt_tokens,
                "metadata": metadata,
                "model": model,
                "parallel_tool_calls": parallel_tool_calls,
                "response_format": response_format,
                "temperature": temperature,
                "thread": thread,
                "tool_choice": tool_choice,
                "tool_resources": tool_resources,
                "tools": tools,
                "top_p": top_p,
                "truncation_strategy": truncation_strategy,
            }
        )
        return self.runs._assistant_stream(
            "/threads/runs",
            body,
            {},
            options(extra_headers, extra_query, extra_body, timeout),
            event_handler,
            "" if cancel_run_on_exit else None,
            toolbox,
            max_tool_rounds,
        )
