"""``client.threads.runs``: runs, with polling and streaming helpers."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Literal, overload

from typing_extensions import TypeVar

from .._client import build_path
from .._config import Timeout
from .._errors import BadRequestError, ConflictError, RunPollTimeoutError
from .._pagination import AsyncPaginator
from .._polling import TERMINAL_RUN_STATUSES, poll_after_seconds, poll_until
from .._types import (
    NOT_GIVEN,
    Body,
    JSONObject,
    Metadata,
    NotGiven,
    Query,
    RequestOptions,
    RunStepInclude,
    strip_not_given,
)
from ..streaming.handler import AsyncEventHandler
from ..tools._loop import DEFAULT_MAX_TOOL_ROUNDS
from ..types import Run
from ._base import Resource, options
from .steps import Steps, include_values

if TYPE_CHECKING:
    from .._client import AsyncAssistants
    from ..streaming.stream import AssistantStream, EventStream
    from ..tools import Toolbox, ToolOutput

__all__ = ["Runs"]

HandlerT = TypeVar("HandlerT", bound=AsyncEventHandler, default=AsyncEventHandler)

_ONE = "/threads/{thread_id}/runs/{run_id}"


def _request_timeout(opts: RequestOptions | None) -> float | Timeout | None | NotGiven:
    return NOT_GIVEN if opts is None else opts.timeout


def _include_query(include: Iterable[RunStepInclude] | NotGiven) -> dict[str, object]:
    return strip_not_given({"include[]": include_values(include)})


class Runs(Resource):
    def __init__(self, client: AsyncAssistants) -> None:
        super().__init__(client)
        self.steps = Steps(client)

    @overload
    async def create(
        self,
        thread_id: str,
        *,
        assistant_id: str,
        include: Iterable[RunStepInclude] | NotGiven = NOT_GIVEN,
        additional_instructions: str | None | NotGiven = NOT_GIVEN,
        additional_messages: Iterable[JSONObject] | None | NotGiven = NOT_GIVEN,
        instructions: str | None | NotGiven = NOT_GIVEN,
        max_completion_tokens: int | None | NotGiven = NOT_GIVEN,
        max_prompt_tokens: int | None | NotGiven = NOT_GIVEN,
        metadata: Metadata | None | NotGiven = NOT_GIVEN,
        model: str | None | NotGiven = NOT_GIVEN,
        parallel_tool_calls: bool | NotGiven = NOT_GIVEN,
        reasoning_effort: str | None | NotGiven = NOT_GIVEN,
        response_format: str | JSONObject | None | NotGiven = NOT_GIVEN,
        temperature: float | None | NotGiven = NOT_GIVEN,
        tool_choice: str | JSONObject | None | NotGiven = NOT_GIVEN,
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
    async def create(
        self,
        thread_id: str,
        *,
        assistant_id: str,
        include: Iterable[RunStepInclude] | NotGiven = NOT_GIVEN,
        additional_instructions: str | None | NotGiven = NOT_GIVEN,
        additional_messages: Iterable[JSONObject] | None | NotGiven = NOT_GIVEN,
        instructions: str | None | NotGiven = NOT_GIVEN,
        max_completion_tokens: int | None | NotGiven = NOT_GIVEN,
        max_prompt_tokens: int | None | NotGiven = NOT_GIVEN,
        metadata: Metadata | None | NotGiven = NOT_GIVEN,
        model: str | None | NotGiven = NOT_GIVEN,
        parallel_tool_calls: bool | NotGiven = NOT_GIVEN,
        reasoning_effort: str | None | NotGiven = NOT_GIVEN,
        response_format: str | JSONObject | None | NotGiven = NOT_GIVEN,
        temperature: float | None | NotGiven = NOT_GIVEN,
        tool_choice: str | JSONObject | None | NotGiven = NOT_GIVEN,
        tools: Iterable[JSONObject] | None | NotGiven = NOT_GIVEN,
        top_p: float | None | NotGiven = NOT_GIVEN,
        truncation_strategy: JSONObject | None | NotGiven = NOT_GIVEN,
        stream: Literal[True],
        extra_headers: Mapping[str, str | None] | None = None,
        extra_query: Query | None = None,
        extra_body: Body | None = None,
        timeout: float | Timeout | None | NotGiven = NOT_GIVEN,
    ) -> EventStream: ...

    async def create(
        self,
        thread_id: str,
        *,
        assistant_id: str,
        include: Iterable[RunStepInclude] | NotGiven = NOT_GIVEN,
        additional_instructions: str | None | NotGiven = NOT_GIVEN,
        additional_messages: Iterable[JSONObject] | None | NotGiven = NOT_GIVEN,
        instructions: str | None | NotGiven = NOT_GIVEN,
        max_completion_tokens: int | None | NotGiven = NOT_GIVEN,
        max_prompt_tokens: int | None | NotGiven = NOT_GIVEN,
        metadata: Metadata | None | NotGiven = NOT_GIVEN,
        model: str | None | NotGiven = NOT_GIVEN,
        parallel_tool_calls: bool | NotGiven = NOT_GIVEN,
        reasoning_effort: str | None | NotGiven = NOT_GIVEN,
        response_format: str | JSONObject | None | NotGiven = NOT_GIVEN,
        temperature: float | None | NotGiven = NOT_GIVEN,
        tool_choice: str | JSONObject | None | NotGiven = NOT_GIVEN,
        tools: Iterable[JSONObject] | None | NotGiven = NOT_GIVEN,
        top_p: float | None | NotGiven = NOT_GIVEN,
        truncation_strategy: JSONObject | None | NotGiven = NOT_GIVEN,
        stream: bool | None | NotGiven = NOT_GIVEN,
        extra_headers: Mapping[str, str | None] | None = None,
        extra_query: Query | None = None,
        extra_body: Body | None = None,
        timeout: float | Timeout | None | NotGiven = NOT_GIVEN,
    ) -> Run | EventStream:
        """Create a run (``POST /threads/{thread_id}/runs``).

        With ``stream=True`` the result is an opened ``EventStream`` of typed events (use
        ``stream()`` for snapshots and helpers). A create whose outcome is unknown (the
        connection failed after the request was sent) is not replayed: it raises
        ``AmbiguousOutcomeError``.
        """
        path = build_path("/threads/{thread_id}/runs", thread_id=thread_id)
        body = strip_not_given(
            {
                "assistant_id": assistant_id,
                "additional_instructions": additional_instructions,
                "additional_messages": additional_messages,
                "instructions": instructions,
                "max_completion_tokens": max_completion_tokens,
                "max_prompt_tokens": max_prompt_tokens,
                "metadata": metadata,
                "model": model,
                "parallel_tool_calls": parallel_tool_calls,
                "reasoning_effort": reasoning_effort,
                "response_format": response_format,
                "temperature": temperature,
                "tool_choice": tool_choice,
                "tools": tools,
                "top_p": top_p,
                "truncation_strategy": truncation_strategy,
            }
        )
        opts = options(extra_headers, extra_query, extra_body, timeout)
        if stream:
            return await self._client_event_stream(path, body, _include_query(include), opts)
        return await self._client._request(
            "POST", path, cast_to=Run, body=body, query=_include_query(include), options=opts
        )

    async def _client_event_stream(
        self,
        path: str,
        body: dict[str, object],
        query: dict[str, object],
        opts: RequestOptions | None,
    ) -> EventStream:
        from ..streaming.stream import EventStream

        client = self._client
        events = EventStream(
            functools.partial(
                client._request_stream,
                "POST",
                path,
                body={**body, "stream": True},
                query=query,
                options=opts,
            ),
            event_timeout=client._timeout(opts).event,
            max_event_bytes=client.limits.max_event_bytes,
        )
        await events.__aenter__()
        return events

    async def retrieve(
        self,
        run_id: str,
        *,
        thread_id: str,
        extra_headers: Mapping[str, str | None] | None = None,
        extra_query: Query | None = None,
        extra_body: Body | None = None,
        timeout: float | Timeout | None | NotGiven = NOT_GIVEN,
    ) -> Run:
        """Retrieve a run (``GET /threads/{thread_id}/runs/{run_id}``)."""
        return await self._client._request(
            "GET",
            build_path(_ONE, thread_id=thread_id, run_id=run_id),
            cast_to=Run,
            options=options(extra_headers, extra_query, extra_body, timeout),
        )

    async def update(
        self,
        run_id: str,
        *,
        thread_id: str,
        metadata: Metadata | None | NotGiven = NOT_GIVEN,
        extra_headers: Mapping[str, str | None] | None = None,
        extra_query: Query | None = None,
        extra_body: Body | None = None,
        timeout: float | Timeout | None | NotGiven = NOT_GIVEN,
    ) -> Run:
        """Modify a run's metadata (``POST /threads/{thread_id}/runs/{run_id}``)."""
        return await self._client._request(
            "POST",
            build_path(_ONE, thread_id=thread_id, run_id=run_id),
            cast_to=Run,
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
        extra_headers: Mapping[str, str | None] | None = None,
        extra_query: Query | None = None,
        extra_body: Body | None = None,
        timeout: float | Timeout | None | NotGiven = NOT_GIVEN,
    ) -> AsyncPaginator[Run]:
        """List a thread's runs (``GET /threads/{thread_id}/runs``)."""
        query = strip_not_given({"after": after, "before": before, "limit": limit, "order": order})
        return self._client._get_page(
            build_path("/threads/{thread_id}/runs", thread_id=thread_id),
            item=Run,
            query=query,
            options=options(extra_headers, extra_query, extra_body, timeout),
        )

    async def cancel(
        self,
        run_id: str,
        *,
        thread_id: str,
        extra_headers: Mapping[str, str | None] | None = None,
        extra_query: Query | None = None,
        extra_body: Body | None = None,
        timeout: float | Timeout | None | NotGiven = NOT_GIVEN,
    ) -> Run:
        """Cancel a run (``POST /threads/{thread_id}/runs/{run_id}/cancel``)."""
        return await self._client._request(
            "POST",
            build_path(_ONE + "/cancel", thread_id=thread_id, run_id=run_id),
            cast_to=Run,
            options=options(extra_headers, extra_query, extra_body, timeout),
        )

    @overload
    async def submit_tool_outputs(
        self,
        run_id: str,
        *,
        thread_id: str,
        tool_outputs: Iterable[JSONObject],
        stream: Literal[False] | None | NotGiven = NOT_GIVEN,
        extra_headers: Mapping[str, str | None] | None = None,
        extra_query: Query | None = None,
        extra_body: Body | None = None,
        timeout: float | Timeout | None | NotGiven = NOT_GIVEN,
    ) -> Run: ...

    @overload
    async def submit_tool_outputs(
        self,
        run_id: str,
        *,
        thread_id: str,
        tool_outputs: Iterable[JSONObject],
        stream: Literal[True],
        extra_headers: Mapping[str, str | None] | None = None,
        extra_query: Query | None = None,
        extra_body: Body | None = None,
        timeout: float | Timeout | None | NotGiven = NOT_GIVEN,
    ) -> EventStream: ...

    async def submit_tool_outputs(
        self,
        run_id: str,
        *,
        thread_id: str,
        tool_outputs: Iterable[JSONObject],
        stream: bool | None | NotGiven = NOT_GIVEN,
        extra_headers: Mapping[str, str | None] | None = None,
        extra_query: Query | None = None,
        extra_body: Body | None = None,
        timeout: float | Timeout | None | NotGiven = NOT_GIVEN,
    ) -> Run | EventStream:
        """Answer a ``requires_action`` run
        (``POST /threads/{thread_id}/runs/{run_id}/submit_tool_outputs``).

        Like run creation, it is not replayed when its outcome is unknown.
        """
        path = build_path(_ONE + "/submit_tool_outputs", thread_id=thread_id, run_id=run_id)
        body: dict[str, object] = {"tool_outputs": list(tool_outputs)}
        opts = options(extra_headers, extra_query, extra_body, timeout)
        if stream:
            return await self._client_event_stream(path, body, {}, opts)
        return await self._client._request("POST", path, cast_to=Run, body=body, options=opts)

    # --- polling helpers -------------------------------------------------------------------

    async def poll(
        self,
        run_id: str,
        thread_id: str,
        *,
        poll_interval_ms: int | NotGiven = NOT_GIVEN,
        timeout: float | None = None,
        cancel_on_timeout: bool = False,
        extra_headers: Mapping[str, str | None] | None = None,
        extra_query: Query | None = None,
        extra_body: Body | None = None,
        request_timeout: float | Timeout | None | NotGiven = NOT_GIVEN,
    ) -> Run:
        """Retrieve the run until it is terminal (``requires_action``, ``cancelled``,
        ``completed``, ``failed``, ``expired``, ``incomplete``) and return it.

        The wait between polls is ``poll_interval_ms`` if given, else the server's
        ``openai-poll-after-ms`` header (read on every poll), else 1 s. ``timeout`` bounds the
        whole wait in seconds (unlike the official SDK, where it is per HTTP call; use
        ``request_timeout`` for that): when it passes, ``RunPollTimeoutError`` is raised with
        the last run seen, after cancelling the run if ``cancel_on_timeout``.
        """
        opts = options(extra_headers, extra_query, extra_body, request_timeout)
        deadline = None if timeout is None else self._client._clock() + timeout
        return await self._poll(
            run_id, thread_id, poll_interval_ms, deadline, timeout, cancel_on_timeout, opts
        )

    async def _poll(
        self,
        run_id: str,
        thread_id: str,
        poll_interval_ms: int | NotGiven,
        deadline: float | None,
        timeout: float | None,
        cancel_on_timeout: bool,
        opts: RequestOptions | None,
        *,
        last: Run | None = None,
    ) -> Run:
        """Poll to a terminal state; ``last`` is the run as last seen (e.g. from its creation),
        reported if the deadline passes before any poll answers."""
        client = self._client
        path = build_path(_ONE, thread_id=thread_id, run_id=run_id)

        async def fetch() -> tuple[Run, float | None]:
            fetched, headers = await client._request_with_headers(
                "GET", path, cast_to=Run, options=opts
            )
            return fetched, poll_after_seconds(headers)

        def is_terminal(polled: Run | None) -> bool:
            return polled is not None and polled.status in TERMINAL_RUN_STATUSES

        polled, timed_out = await poll_until(
            fetch,
            is_terminal,
            interval=None if isinstance(poll_interval_ms, NotGiven) else poll_interval_ms / 1000,
            deadline=deadline,
            sleep=client._sleep,
            clock=client._clock,
        )
        run = polled if polled is not None else last
        if not timed_out:
            assert run is not None
            return run
        cancelled = False
        if cancel_on_timeout:
            try:
                run = await self.cancel(run_id, thread_id=thread_id, timeout=_request_timeout(opts))
                cancelled = True
            except (BadRequestError, ConflictError):
                # Refused because the run ended between the last poll and the cancel: that
                # terminal run is the answer, not a timeout.
                current = await self.retrieve(
                    run_id, thread_id=thread_id, timeout=_request_timeout(opts)
                )
                if current.status in TERMINAL_RUN_STATUSES:
                    return current
                raise
        status = repr(run.status) if run is not None else "unanswered (the poll request stalled)"
        raise RunPollTimeoutError(
            f"run {run_id} was still {status} after {timeout} s"
            + ("; cancellation was requested" if cancelled else ""),
            run=run,
            cancelled=cancelled,
        )

    async def create_and_poll(
        self,
        *,
        assistant_id: str,
        include: Iterable[RunStepInclude] | NotGiven = NOT_GIVEN,
        additional_instructions: str | None | NotGiven = NOT_GIVEN,
        additional_messages: Iterable[JSONObject] | None | NotGiven = NOT_GIVEN,
        instructions: str | None | NotGiven = NOT_GIVEN,
        max_completion_tokens: int | None | NotGiven = NOT_GIVEN,
        max_prompt_tokens: int | None | NotGiven = NOT_GIVEN,
        metadata: Metadata | None | NotGiven = NOT_GIVEN,
        model: str | None | NotGiven = NOT_GIVEN,
        parallel_tool_calls: bool | NotGiven = NOT_GIVEN,
        reasoning_effort: str | None | NotGiven = NOT_GIVEN,
        response_format: str | JSONObject | None | NotGiven = NOT_GIVEN,
        temperature: float | None | NotGiven = NOT_GIVEN,
        tool_choice: str | JSONObject | None | NotGiven = NOT_GIVEN,
        tools: Iterable[JSONObject] | None | NotGiven = NOT_GIVEN,
        top_p: float | None | NotGiven = NOT_GIVEN,
        truncation_strategy: JSONObject | None | NotGiven = NOT_GIVEN,
        poll_interval_ms: int | NotGiven = NOT_GIVEN,
        thread_id: str,
        timeout: float | None = None,
        cancel_on_timeout: bool = False,
        toolbox: Toolbox | None = None,
        max_tool_rounds: int = DEFAULT_MAX_TOOL_ROUNDS,
        extra_headers: Mapping[str, str | None] | None = None,
        extra_query: Query | None = None,
        extra_body: Body | None = None,
        request_timeout: float | Timeout | None | NotGiven = NOT_GIVEN,
    ) -> Run:
        """Create a run and poll it to a terminal state (see ``poll`` for ``timeout``)."""
        deadline = None if timeout is None else self._client._clock() + timeout
        run = await self.create(
            thread_id,
            assistant_id=assistant_id,
            include=include,
            additional_instructions=additional_instructions,
            additional_messages=additional_messages,
            instructions=instructions,
            max_completion_tokens=max_completion_tokens,
            max_prompt_tokens=max_prompt_tokens,
            metadata=metadata,
            model=model,
            parallel_tool_calls=parallel_tool_calls,
            reasoning_effort=reasoning_effort,
            response_format=response_format,
            temperature=temperature,
            tool_choice=tool_choice,
            tools=tools,
            top_p=top_p,
            truncation_strategy=truncation_strategy,
            extra_headers=extra_headers,
            extra_query=extra_query,
            extra_body=extra_body,
            timeout=request_timeout,
        )
        opts = options(extra_headers, extra_query, None, request_timeout)
        run = await self._poll(
            run.id,
            thread_id,
            poll_interval_ms,
            deadline,
            timeout,
            cancel_on_timeout,
            opts,
            last=run,
        )
        return await self._tool_loop(
            run,
            toolbox,
            max_tool_rounds,
            poll_interval_ms,
            deadline,
            timeout,
            cancel_on_timeout,
            opts,
        )

    async def _tool_loop(
        self,
        run: Run,
        toolbox: Toolbox | None,
        max_rounds: int,
        poll_interval_ms: int | NotGiven,
        deadline: float | None,
        timeout: float | None,
        cancel_on_timeout: bool,
        opts: RequestOptions | None,
    ) -> Run:
        """Answer ``requires_action`` with ``toolbox`` until the run moves on (one deadline)."""
        if toolbox is None:
            return run
        from ..tools import run_tool_loop

        async def submit_and_poll(current: Run, outputs: list[ToolOutput]) -> Run:
            path = build_path(
                _ONE + "/submit_tool_outputs", thread_id=current.thread_id, run_id=current.id
            )
            body: dict[str, object] = {"tool_outputs": list(outputs)}
            submitted = await self._client._request(
                "POST", path, cast_to=Run, body=body, options=opts
            )
            return await self._poll(
                submitted.id,
                current.thread_id,
                poll_interval_ms,
                deadline,
                timeout,
                cancel_on_timeout,
                opts,
                last=submitted,
            )

        return await run_tool_loop(
            run, toolbox, submit_and_poll=submit_and_poll, max_rounds=max_rounds
        )

    async def submit_tool_outputs_and_poll(
        self,
        *,
        tool_outputs: Iterable[JSONObject],
        run_id: str,
        thread_id: str,
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
        """Submit tool outputs, then poll the run to a terminal state."""
        deadline = None if timeout is None else self._client._clock() + timeout
        run = await self.submit_tool_outputs(
            run_id,
            thread_id=thread_id,
            tool_outputs=tool_outputs,
            extra_headers=extra_headers,
            extra_query=extra_query,
            extra_body=extra_body,
            timeout=request_timeout,
        )
        opts = options(extra_headers, extra_query, None, request_timeout)
        run = await self._poll(
            run.id,
            thread_id,
            poll_interval_ms,
            deadline,
            timeout,
            cancel_on_timeout,
            opts,
            last=run,
        )
        return await self._tool_loop(
            run,
            toolbox,
            max_tool_rounds,
            poll_interval_ms,
            deadline,
            timeout,
            cancel_on_timeout,
            opts,
        )

    # --- streaming helpers -----------------------------------------------------------------

    def stream(
        self,
        *,
        assistant_id: str,
        include: Iterable[RunStepInclude] | NotGiven = NOT_GIVEN,
        additional_instructions: str | None | NotGiven = NOT_GIVEN,
        additional_messages: Iterable[JSONObject] | None | NotGiven = NOT_GIVEN,
        instructions: str | None | NotGiven = NOT_GIVEN,
        max_completion_tokens: int | None | NotGiven = NOT_GIVEN,
        max_prompt_tokens: int | None | NotGiven = NOT_GIVEN,
        metadata: Metadata | None | NotGiven = NOT_GIVEN,
        model: str | None | NotGiven = NOT_GIVEN,
        parallel_tool_calls: bool | NotGiven = NOT_GIVEN,
        reasoning_effort: str | None | NotGiven = NOT_GIVEN,
        response_format: str | JSONObject | None | NotGiven = NOT_GIVEN,
        temperature: float | None | NotGiven = NOT_GIVEN,
        tool_choice: str | JSONObject | None | NotGiven = NOT_GIVEN,
        tools: Iterable[JSONObject] | None | NotGiven = NOT_GIVEN,
        top_p: float | None | NotGiven = NOT_GIVEN,
        truncation_strategy: JSONObject | None | NotGiven = NOT_GIVEN,
        thread_id: str,
        event_handler: HandlerT | None = None,
        cancel_run_on_exit: bool = False,
        toolbox: Toolbox | None = None,
        max_tool_rounds: int = DEFAULT_MAX_TOOL_ROUNDS,
        extra_headers: Mapping[str, str | None] | None = None,
        extra_query: Query | None = None,
        extra_body: Body | None = None,
        timeout: float | Timeout | None | NotGiven = NOT_GIVEN,
    ) -> AssistantStream[HandlerT]:
        """Create a run and stream it: ``async with client.threads.runs.stream(...) as s:``.

        The request is sent when the block is entered. ``cancel_run_on_exit=True`` also
        cancels the run on the server when the block is left early or by an exception.
        """
        path = build_path("/threads/{thread_id}/runs", thread_id=thread_id)
        body = strip_not_given(
            {
                "assistant_id": assistant_id,
                "additional_instructions": additional_instructions,
                "additional_messages": additional_messages,
                "instructions": instructions,
                "max_completion_tokens": max_completion_tokens,
                "max_prompt_tokens": max_prompt_tokens,
                "metadata": metadata,
                "model": model,
                "parallel_tool_calls": parallel_tool_calls,
                "reasoning_effort": reasoning_effort,
                "response_format": response_format,
                "temperature": temperature,
                "tool_choice": tool_choice,
                "tools": tools,
                "top_p": top_p,
                "truncation_strategy": truncation_strategy,
            }
        )
        return self._assistant_stream(
            path,
            body,
            _include_query(include),
            options(extra_headers, extra_query, extra_body, timeout),
            event_handler,
            thread_id if cancel_run_on_exit else None,
            toolbox,
            max_tool_rounds,
        )

    def submit_tool_outputs_stream(
        self,
        *,
        tool_outputs: Iterable[JSONObject],
        run_id: str,
        thread_id: str,
        event_handler: HandlerT | None = None,
        cancel_run_on_exit: bool = False,
        toolbox: Toolbox | None = None,
        max_tool_rounds: int = DEFAULT_MAX_TOOL_ROUNDS,
        extra_headers: Mapping[str, str | None] | None = None,
        extra_query: Query | None = None,
        extra_body: Body | None = None,
        timeout: float | Timeout | None | NotGiven = NOT_GIVEN,
    ) -> AssistantStream[HandlerT]:
        """Submit tool outputs and stream the rest of the run (``async with``)."""
        path = build_path(_ONE + "/submit_tool_outputs", thread_id=thread_id, run_id=run_id)
        return self._assistant_stream(
            path,
            {"tool_outputs": list(tool_outputs)},
            {},
            options(extra_headers, extra_query, extra_body, timeout),
            event_handler,
            thread_id if cancel_run_on_exit else None,
            toolbox,
            max_tool_rounds,
        )

    def _assistant_stream(
        self,
        path: str,
        body: Mapping[str, object],
        query: Mapping[str, object],
        opts: RequestOptions | None,
        event_handler: HandlerT | None,
        cancel_thread: str | None,
        toolbox: Toolbox | None = None,
        max_tool_rounds: int = DEFAULT_MAX_TOOL_ROUNDS,
    ) -> AssistantStream[HandlerT]:
        from ..streaming.stream import AssistantStream
        from ..tools import tool_continuation

        client = self._client
        return AssistantStream(
            functools.partial(
                client._request_stream,
                "POST",
                path,
                body={**body, "stream": True},
                query=query,
                options=opts,
            ),
            event_handler=event_handler,
            event_timeout=client._timeout(opts).event,
            max_event_bytes=client.limits.max_event_bytes,
            cancel_run=(lambda run_id, thread_id: self.cancel(run_id, thread_id=thread_id))
            if cancel_thread is not None
            else None,
            continuation=None
            if toolbox is None
            else tool_continuation(client, toolbox, max_rounds=max_tool_rounds, options=opts),
        )
