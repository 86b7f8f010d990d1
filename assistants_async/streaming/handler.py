"""Callbacks for an ``AssistantStream``: subclass ``AsyncEventHandler``, override the ``on_*``
methods you need, pass an instance as ``event_handler=``.

The names and arguments are the official openai-python ones (``on_text_delta(delta,
snapshot)``...), all ``async`` and awaited inline (a slow callback slows the stream). The
lifecycles are the correct ones, where the official SDK (3.54) is wrong:

- a tool call is ``created`` once and ``done`` exactly once -- when the next call of its step
  starts, when its step ends, or when the run stops (``requires_action`` included, where a
  function-call step is still in progress), whichever comes first -- also when a later step
  reuses tool-call index 0 (the official SDK treats that as a continuation, and fires
  ``done`` twice for the last call);
- text and message state belong to one message: a new message never fires ``on_text_done``
  for the previous message's text;
- ``on_run_step_done`` and ``final_run_steps()`` carry the server's terminal step (status,
  ``completed_at``, ``usage``);
- ``event: error`` raises ``ServerStreamError`` (after ``on_exception``).

Inside any callback ``self.run_id`` / ``self.thread_id`` name the run and thread of the event
being handled (for tool calls: of the step that holds the call), and ``self.current_run``,
``self.current_event``, ``self.current_message_snapshot``, ``self.current_run_step_snapshot``
mirror the stream's properties. A handler serves one stream at a time; once that stream is
finished it may be given to another (the tool loop's rounds share one stream, hence one
handler).

Snapshots are only built for the callbacks you override, so a handler that overrides
``on_text_delta`` alone costs one text-block materialisation per delta, and one that
overrides nothing costs nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..tools import ToolCallFinished, ToolCallStarted
    from ..types.events import AssistantStreamEvent
    from ..types.message import ImageFile, Message, Text
    from ..types.message_delta import MessageDeltaEvent, TextDelta
    from ..types.run import Run
    from ..types.run_step import RunStep
    from ..types.run_step_delta import RunStepDeltaEvent
    from .accumulate import MessageSnapshot, RunAccumulator, RunStepSnapshot
    from .stream import AssistantStream

__all__ = ["AsyncEventHandler"]


class AsyncEventHandler:
    """Base class with a no-op for every callback. Override the ones you need."""

    _stream: AssistantStream[Any] | None = None
    # (run_id, thread_id) of the step whose callback is running, else None.
    _step_context: tuple[str | None, str | None] | None = None

    # -- context available inside callbacks -------------------------------------------------
    @property
    def current_event(self) -> AssistantStreamEvent | None:
        return self._stream.current_event if self._stream is not None else None

    @property
    def current_run(self) -> Run | None:
        return self._stream.current_run if self._stream is not None else None

    @property
    def current_message_snapshot(self) -> Message | None:
        return self._stream.current_message_snapshot if self._stream is not None else None

    @property
    def current_run_step_snapshot(self) -> RunStep | None:
        return self._stream.current_run_step_snapshot if self._stream is not None else None

    @property
    def run_id(self) -> str | None:
        """The run of the event being handled (a tool call's: the run of its step)."""
        if self._step_context is not None:
            return self._step_context[0]
        run = self.current_run
        return run.id if run is not None else None

    @property
    def thread_id(self) -> str | None:
        """The thread of the event being handled."""
        if self._step_context is not None:
            return self._step_context[1]
        run = self.current_run
        return run.thread_id if run is not None else None

    # -- callbacks ----------------------------------------------------------------------------
    async def on_event(self, event: AssistantStreamEvent) -> None:
        """Every event, before the more specific callbacks."""

    async def on_run_step_created(self, run_step: RunStep) -> None: ...

    async def on_run_step_delta(self, delta: Any, snapshot: RunStep) -> None:
        """``delta`` is the ``RunStepDelta``; ``snapshot`` the step so far."""

    async def on_run_step_done(self, run_step: RunStep) -> None:
        """The server's terminal step (completed, failed, cancelled or expired)."""

    async def on_tool_call_created(self, tool_call: Any) -> None: ...

    async def on_tool_call_delta(self, delta: Any, snapshot: Any) -> None:
        """``delta`` is the ``ToolCallDelta``; ``snapshot`` the tool call so far."""

    async def on_tool_call_done(self, tool_call: Any) -> None:
        """Once per tool call: the server's version if its step ended, else the call as
        streamed so far (e.g. at ``requires_action``)."""

    async def on_message_created(self, message: Message) -> None: ...

    async def on_message_delta(self, delta: Any, snapshot: Message) -> None:
        """``delta`` is the ``MessageDelta``; ``snapshot`` the message so far."""

    async def on_message_done(self, message: Message) -> None:
        """The server's final message (completed or incomplete)."""

    async def on_text_created(self, text: Text) -> None: ...

    async def on_text_delta(self, delta: TextDelta, snapshot: Text) -> None: ...

    async def on_text_done(self, text: Text) -> None: ...

    async def on_image_file_done(self, image_file: ImageFile) -> None: ...

    async def on_end(self) -> None:
        """The stream is over (normally or not); always called once."""

    async def on_exception(self, exception: BaseException) -> None:
        """The stream failed with ``exception`` (it is raised to the consumer afterwards)."""

    async def on_timeout(self) -> None:
        """The event idle timeout expired (``on_exception`` follows)."""

    # -- the tool loop (``toolbox=``) ---------------------------------------------------------
    # Not openai-python callbacks: called by the tool loop when a stream was opened with
    # ``toolbox=``, around each local tool function it runs between two rounds of the stream.

    async def on_tool_start(self, info: ToolCallStarted) -> None:
        """A tool function is about to run: ``info.name``, ``call_id``, ``arguments`` (the
        JSON text), ``run_id``, ``thread_id``."""

    async def on_tool_end(self, info: ToolCallFinished) -> None:
        """A tool function has its output (whatever the outcome): ``info.output``,
        ``status`` (``"ok"``, ``"error"``, ``"timeout"``, ``"invalid_arguments"``,
        ``"unknown_tool"``), ``duration`` in seconds, ``error`` (the message sent to the model
        when not ok), ``exception`` (what the tool raised), plus the ``on_tool_start``
        fields. The outputs of a round are submitted once every call of it has ended."""


_RUN_STOPS = frozenset(
    {
        "thread.run.requires_action",
        "thread.run.completed",
        "thread.run.incomplete",
        "thread.run.failed",
        "thread.run.cancelled",
        "thread.run.expired",
    }
)


def _overrides(handler: AsyncEventHandler, name: str) -> bool:
    return getattr(type(handler), name) is not getattr(AsyncEventHandler, name)


class HandlerDispatcher:
    """Drives one handler from one stream's events, with per-message and per-step state.

    ``dispatch(event, touched)`` runs after the accumulator applied ``event``; ``touched`` is
    what the accumulator returned (``(index, created)`` per content part or tool call).
    """

    def __init__(self, handler: AsyncEventHandler, accumulator: RunAccumulator) -> None:
        self.handler = handler
        self.acc = accumulator
        self._wants = {
            name: _overrides(handler, name)
            for name in (
                "on_event",
                "on_run_step_created",
                "on_run_step_delta",
                "on_run_step_done",
                "on_tool_call_created",
                "on_tool_call_delta",
                "on_tool_call_done",
                "on_message_created",
                "on_message_delta",
                "on_message_done",
                "on_text_created",
                "on_text_delta",
                "on_text_done",
                "on_image_file_done",
            )
        }
        # Per message: the content index whose text/image is open. Per step: the open tool
        # call index. Keyed by id so that state never leaks from one message/step to the next.
        self._open_block: dict[str, int] = {}
        self._done_blocks: set[tuple[str, int]] = set()
        self._open_call: dict[str, int] = {}
        # dict as an ordered set: the order in which calls were created.
        self._created_calls: dict[tuple[str, int], None] = {}
        self._done_calls: set[tuple[str, int]] = set()

    async def dispatch(self, event: Any, touched: list[tuple[int, bool]]) -> None:
        h = self.handler
        wants = self._wants
        if wants["on_event"]:
            await h.on_event(event)
        name: str = event.event
        if name == "thread.message.delta":
            await self._message_delta(event.data, touched)
        elif name == "thread.run.step.delta":
            await self._step_delta(event.data, touched)
        elif name.startswith("thread.message."):
            await self._message_event(name, event.data)
        elif name.startswith("thread.run.step."):
            await self._step_event(name, event.data)
        elif name in _RUN_STOPS:
            await self._close_open_calls()

    # -- messages -------------------------------------------------------------------------
    async def _message_event(self, name: str, message: Message) -> None:
        h = self.handler
        if name == "thread.message.created":
            if self._wants["on_message_created"]:
                await h.on_message_created(message)
        elif name in ("thread.message.completed", "thread.message.incomplete"):
            open_index = self._open_block.pop(message.id, None)
            if open_index is not None:
                await self._block_done(self.acc.messages[message.id], open_index)
            if self._wants["on_message_done"]:
                await h.on_message_done(message)

    async def _message_delta(
        self, data: MessageDeltaEvent, touched: list[tuple[int, bool]]
    ) -> None:
        h = self.handler
        wants = self._wants
        snap = self.acc.messages[data.id]
        if wants["on_message_delta"]:
            await h.on_message_delta(data.delta, snap.model())
        parts = data.delta.content or ()
        for (index, created), part in zip(touched, parts, strict=False):
            open_index = self._open_block.get(data.id)
            if open_index is not None and open_index != index:
                await self._block_done(snap, open_index)
            self._open_block[data.id] = index
            kind = snap.block_type(index)
            if created and kind == "text" and wants["on_text_created"]:
                await h.on_text_created(snap.content_block(index).text)
            text_delta = getattr(part, "text", None)
            if kind == "text" and text_delta is not None and wants["on_text_delta"]:
                await h.on_text_delta(text_delta, snap.content_block(index).text)

    async def _block_done(self, snap: MessageSnapshot, index: int) -> None:
        key = (snap.id, index)
        if key in self._done_blocks:
            return  # a block the server went back to is not "done" a second time
        self._done_blocks.add(key)
        kind = snap.block_type(index)
        if kind == "text" and self._wants["on_text_done"]:
            await self.handler.on_text_done(snap.content_block(index).text)
        elif kind == "image_file" and self._wants["on_image_file_done"]:
            await self.handler.on_image_file_done(snap.content_block(index).image_file)

    # -- run steps ------------------------------------------------------------------------
    async def _step_event(self, name: str, step: RunStep) -> None:
        h = self.handler
        ref = (step.run_id, step.thread_id)
        if name == "thread.run.step.created":
            if self._wants["on_run_step_created"]:
                await self._with_step(ref, h.on_run_step_created(step))
            return
        if name == "thread.run.step.in_progress":
            return
        # A terminal step event: each call not closed yet is done now, once, with the server's
        # version of it; a call that never streamed (file_search) gets its created first.
        self._open_call.pop(step.id, None)
        calls = getattr(step.step_details, "tool_calls", None) or []
        for index, call in enumerate(calls):
            key = (step.id, index)
            if key not in self._created_calls:
                self._created_calls[key] = None
                if self._wants["on_tool_call_created"]:
                    await self._with_step(ref, h.on_tool_call_created(call))
            if key not in self._done_calls:
                self._done_calls.add(key)
                if self._wants["on_tool_call_done"]:
                    await self._with_step(ref, h.on_tool_call_done(call))
        if self._wants["on_run_step_done"]:
            await self._with_step(ref, h.on_run_step_done(step))

    async def _step_delta(self, data: RunStepDeltaEvent, touched: list[tuple[int, bool]]) -> None:
        h = self.handler
        wants = self._wants
        snap = self.acc.run_steps[data.id]
        ref = snap.ids()
        if wants["on_run_step_delta"]:
            await self._with_step(ref, h.on_run_step_delta(data.delta, snap.model()))
        details = data.delta.step_details
        calls = getattr(details, "tool_calls", None) or ()
        for (index, created), call_delta in zip(touched, calls, strict=False):
            open_index = self._open_call.get(data.id)
            if open_index is not None and open_index != index:
                await self._call_done(snap, open_index)
            self._open_call[data.id] = index
            key = (data.id, index)
            if created or key not in self._created_calls:
                self._created_calls[key] = None
                self._done_calls.discard(key)
                if wants["on_tool_call_created"]:
                    await self._with_step(ref, h.on_tool_call_created(snap.tool_call(index)))
            elif wants["on_tool_call_delta"]:
                snapshot = snap.tool_call(index)
                await self._with_step(ref, h.on_tool_call_delta(call_delta, snapshot))

    async def _close_open_calls(self) -> None:
        """The run stopped (``requires_action`` included, where function-call steps are still
        in progress): every call not done yet is done now, once, as streamed so far."""
        for step_id, index in list(self._created_calls):
            snap = self.acc.run_steps.get(step_id)
            if snap is not None:
                await self._call_done(snap, index)
        self._open_call.clear()

    async def _call_done(self, snap: RunStepSnapshot, index: int) -> None:
        key = (snap.id, index)
        if key in self._done_calls:
            return
        self._done_calls.add(key)
        if self._wants["on_tool_call_done"]:
            call = snap.tool_call(index)
            await self._with_step(snap.ids(), self.handler.on_tool_call_done(call))

    async def _with_step(self, ref: tuple[str | None, str | None], call: Any) -> None:
        """Await ``call`` with ``handler.run_id``/``thread_id`` naming ``ref``."""
        h = self.handler
        h._step_context = ref
        try:
            await call
        finally:
            h._step_context = None
