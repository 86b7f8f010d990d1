"""The ``requires_action`` loop: answer tool calls until the run is done, streamed or polled.

Streaming: ``tool_continuation(client, toolbox)`` is a ``Continuation`` for ``AssistantStream``.
When a response ends with ``thread.run.requires_action`` the stream calls it; it runs the
requested tools and returns the opener of the ``submit_tool_outputs`` stream, so one
``async for`` (one ``text_deltas``, one set of snapshots) spans every round.

Polling: ``run_tool_loop(run, toolbox, submit_and_poll=...)`` answers each ``requires_action``
and polls again, until the run leaves ``requires_action``.

Both stop after ``max_rounds`` submissions: a run still asking for tools then raises
``ToolRoundsExceededError`` (carrying the run, which is left as it is: cancel it or answer it
yourself). A ``requires_action`` of a type other than ``submit_tool_outputs`` is not answered:
the stream ends / the run is returned with that status.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from .._errors import AssistantsError
from ..types import Run
from ._toolbox import Toolbox, ToolOutput

if TYPE_CHECKING:
    from .._transport import Response
    from .._types import RequestOptions
    from ..streaming.stream import AssistantStream, Continuation, Opener

__all__ = [
    "DEFAULT_MAX_TOOL_ROUNDS",
    "ToolRoundsExceededError",
    "run_tool_loop",
    "submit_tool_outputs_opener",
    "tool_continuation",
]

DEFAULT_MAX_TOOL_ROUNDS = 10
"""How many times one run's tool calls are answered before the loop gives up."""


class ToolRoundsExceededError(AssistantsError):
    """The run still required tool outputs after ``max_rounds`` submissions.

    ``run`` is the run as last seen (status ``requires_action``); it was left as it is.
    """

    def __init__(self, run: Run, *, rounds: int) -> None:
        super().__init__(
            f"run {run.id} still requires tool outputs after {rounds} rounds of them "
            "(the max_rounds limit); the run was left in requires_action"
        )
        self.run = run
        self.rounds = rounds


class _StreamingClient(Protocol):
    async def _request_stream(
        self,
        method: str,
        path: str,
        *,
        body: Mapping[str, object] | None = None,
        options: RequestOptions | None = None,
    ) -> Response: ...


def _answerable(run: Run) -> bool:
    action = run.required_action
    return (
        run.status == "requires_action"
        and action is not None
        and action.type == "submit_tool_outputs"
    )


def submit_tool_outputs_opener(
    client: _StreamingClient,
    run: Run,
    tool_outputs: list[ToolOutput],
    *,
    options: RequestOptions | None = None,
) -> Opener:
    """The opener of ``POST /threads/{thread_id}/runs/{run_id}/submit_tool_outputs`` with
    ``stream: true``, for an ``AssistantStream`` to open when it continues. ``options`` are
    the per-call overrides of the original request (headers, query, timeout)."""
    from .._client import build_path

    path = build_path(
        "/threads/{thread_id}/runs/{run_id}/submit_tool_outputs",
        thread_id=run.thread_id,
        run_id=run.id,
    )
    body: dict[str, object] = {"tool_outputs": list(tool_outputs), "stream": True}
    return functools.partial(client._request_stream, "POST", path, body=body, options=options)


def tool_continuation(
    client: _StreamingClient | None,
    toolbox: Toolbox,
    *,
    max_rounds: int = DEFAULT_MAX_TOOL_ROUNDS,
    options: RequestOptions | None = None,
    submit: Callable[[Run, list[ToolOutput]], Opener] | None = None,
) -> Continuation:
    """A ``Continuation`` that answers every ``requires_action`` with ``toolbox``.

    The stream's event handler, when it has ``on_tool_start`` / ``on_tool_end`` methods, is
    told about each call (besides the toolbox's own hooks). ``options`` go with every
    ``submit_tool_outputs`` request; ``submit`` replaces the default opener
    (``submit_tool_outputs_opener(client, run, outputs, options=options)``) altogether.
    Build one continuation per stream: it counts that stream's rounds.
    """
    if max_rounds < 0:
        raise ValueError("max_rounds must be >= 0")
    if submit is None:
        if client is None:
            raise ValueError("pass a client or a submit function")
        submit = functools.partial(submit_tool_outputs_opener, client, options=options)
    open_submit = submit
    rounds = 0

    async def continuation(stream: AssistantStream[Any], run: Run) -> Opener | None:
        nonlocal rounds
        if not _answerable(run):
            return None
        if rounds >= max_rounds:
            raise ToolRoundsExceededError(run, rounds=rounds)
        handler = stream.event_handler
        outputs = await toolbox.outputs_for(run, hooks=() if handler is None else (handler,))
        rounds += 1
        return open_submit(run, outputs)

    return continuation


async def run_tool_loop(
    run: Run,
    toolbox: Toolbox,
    *,
    submit_and_poll: Callable[[Run, list[ToolOutput]], Awaitable[Run]],
    max_rounds: int = DEFAULT_MAX_TOOL_ROUNDS,
    hooks: tuple[object, ...] = (),
) -> Run:
    """Answer ``run``'s tool calls until it no longer requires them; return the last run.

    ``submit_and_poll(run, outputs)`` submits the outputs and polls the run to its next
    resting state (``runs.submit_tool_outputs_and_poll``). A run that is not in
    ``requires_action`` is returned unchanged. ``hooks`` are extra observers with optional
    ``on_tool_start`` / ``on_tool_end`` methods.
    """
    if max_rounds < 0:
        raise ValueError("max_rounds must be >= 0")
    rounds = 0
    while _answerable(run):
        if rounds >= max_rounds:
            raise ToolRoundsExceededError(run, rounds=rounds)
        outputs = await toolbox.outputs_for(run, hooks=hooks)
        run = await submit_and_poll(run, outputs)
        rounds += 1
    return run
