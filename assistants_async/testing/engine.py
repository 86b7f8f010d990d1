"""Plays a model's actions out as a run: state changes in the store plus stream events.

One asyncio task per run *segment* (from creation, or from a tool-output submission, until the
run waits for tool outputs or ends). Streamed responses attach a queue to the run before the
segment starts and receive every event; non-streamed runs progress the same way unobserved, so
polling sees ``queued`` / ``in_progress`` and then a terminal state. Cancellation is cooperative:
the cancel endpoint sets ``cancelling`` and the segment notices at its next checkpoint.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from .actions import (
    Action,
    CodeInterpreter,
    Delay,
    Fail,
    FileCitation,
    FileSearch,
    FunctionCalls,
    Incomplete,
    Refusal,
    Text,
    ToolOutput,
    TurnContext,
    message_text,
)
from .model import Model
from .store import JSON, RunRecord, Store, ThreadRecord

__all__ = ["RunEngine", "Sleep", "encode_event", "tokens"]

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]


def encode_event(name: str, data: Any) -> tuple[str, str]:
    return name, json.dumps(data, ensure_ascii=False, separators=(",", ":"))


class _Cancelled(Exception):
    """The run was asked to cancel; unwinds the segment to the cancel bookkeeping."""


class _Ended(Exception):
    """The run reached a terminal state inside an action (fail / incomplete)."""


def tokens(text: str) -> int:
    # a rough, deterministic stand-in for a tokenizer: ~4 characters per token
    return max(1, (len(text) + 3) // 4)


class RunEngine:
    def __init__(
        self,
        store: Store,
        model: Model,
        *,
        step_delay: float,
        run_expiry: float,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.store = store
        self.model = model
        self.step_delay = step_delay
        self.run_expiry = run_expiry
        self.sleep = sleep
        self._tasks: set[asyncio.Task[None]] = set()

    # -- public entry points (called by the HTTP handlers) -----------------------------------

    def start(self, run: RunRecord, tool_outputs: Sequence[ToolOutput] | None = None) -> None:
        run.task = self._spawn(self._segment(run, tool_outputs))

    def request_cancel(self, run: RunRecord) -> None:
        """Move an active run to ``cancelling``; it ends ``cancelled`` shortly after."""
        run.obj["status"] = "cancelling"
        self.emit(run, "thread.run.cancelling", run.obj)
        self.cancel_expiry(run)
        if run.task is None or run.task.done():
            run.task = self._spawn(self._cancel_later(run))

    def cancel_expiry(self, run: RunRecord) -> None:
        if run.expiry is not None:
            run.expiry.cancel()
            run.expiry = None

    def discard(self, run: RunRecord) -> None:
        """Stop everything about ``run`` (its thread is being deleted)."""
        self.cancel_expiry(run)
        if run.task is not None:
            run.task.cancel()
        self._close_listeners(run)

    async def aclose(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for run in self.store.all_runs():
            self._close_listeners(run)

    # -- events -------------------------------------------------------------------------------

    def emit(self, run: RunRecord, name: str, data: Any) -> None:
        if run.listeners:
            event = encode_event(name, data)
            for queue in run.listeners:
                queue.put_nowait(event)

    def _close_listeners(self, run: RunRecord) -> None:
        for queue in run.listeners:
            queue.put_nowait(None)
        run.listeners.clear()

    # -- segments -----------------------------------------------------------------------------

    def _spawn(self, coro: Any) -> asyncio.Task[None]:
        task: asyncio.Task[None] = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _tick(self, run: RunRecord, delay: float | None = None) -> None:
        await self.sleep(self.step_delay if delay is None else delay)
        if run.status == "cancelling":
            raise _Cancelled

    async def _segment(self, run: RunRecord, tool_outputs: Sequence[ToolOutput] | None) -> None:
        thread = self.store.thread(run.obj["thread_id"])
        try:
            if tool_outputs is None:
                self.emit(run, "thread.run.created", run.obj)
            else:
                step = run.steps[run.pending_step_id] if run.pending_step_id else None
                run.pending_step_id = None
                if step is not None:
                    self.emit(run, "thread.run.step.completed", step)
            self.emit(run, "thread.run.queued", run.obj)
            await self._tick(run)
            run.obj["status"] = "in_progress"
            if run.obj["started_at"] is None:
                run.obj["started_at"] = self.store.now()
            self.emit(run, "thread.run.in_progress", run.obj)
            context = self._context(thread, run, tool_outputs)
            try:
                actions = list(await self.model.respond(context))
            except Exception as exc:  # a broken model fails the run, like a server error would
                log.exception("loopback model raised")
                actions = [Fail(f"The model raised {type(exc).__name__}: {exc}")]
            await self._play(thread, run, actions, context)
        except _Cancelled:
            self._finish_cancel(thread, run)
        except _Ended:
            pass
        finally:
            if run.status != "cancelling":
                self._close_listeners(run)

    async def _cancel_later(self, run: RunRecord) -> None:
        await self.sleep(self.step_delay)
        if run.status == "cancelling":
            self._finish_cancel(self.store.thread(run.obj["thread_id"]), run)
        self._close_listeners(run)

    async def _play(
        self, thread: ThreadRecord, run: RunRecord, actions: list[Action], context: TurnContext
    ) -> None:
        prompt_tokens = tokens(
            run.obj["instructions"] + "".join(message_text(m) for m in context.messages)
        )
        for action in actions:
            await self._tick(run)
            if isinstance(action, Text | Refusal | Incomplete):
                await self._message(thread, run, action, prompt_tokens)
                if isinstance(action, Incomplete):
                    self._end(run, "incomplete", incomplete_details={"reason": action.reason})
                    raise _Ended
            elif isinstance(action, FunctionCalls):
                await self._function_calls(run, action)
                return
            elif isinstance(action, CodeInterpreter):
                await self._code_interpreter(run, action, prompt_tokens)
            elif isinstance(action, FileSearch):
                await self._file_search(run, action, prompt_tokens)
            elif isinstance(action, Fail):
                self._end(
                    run, "failed", last_error={"code": action.code, "message": action.message}
                )
                raise _Ended
            elif isinstance(action, Delay):
                await self._tick(run, action.seconds)
        await self._tick(run)
        self._end(run, "completed")

    def _context(
        self, thread: ThreadRecord, run: RunRecord, tool_outputs: Sequence[ToolOutput] | None
    ) -> TurnContext:
        if tool_outputs is not None:
            run.rounds += 1
        return TurnContext(
            assistant=self.store.assistants.get(run.obj["assistant_id"], {}),
            run=run.obj,
            messages=list(thread.messages.values()),
            tool_outputs=tool_outputs,
            round=run.rounds,
        )

    # -- terminal states ----------------------------------------------------------------------

    def add_usage(self, run: RunRecord, step: JSON, prompt: int, completion: int) -> None:
        usage = {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
        }
        step["usage"] = usage
        total = run.obj["usage"] or {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}
        run.obj["usage"] = {key: total[key] + usage[key] for key in usage}

    def _end(self, run: RunRecord, status: str, **fields: Any) -> None:
        now = self.store.now()
        run.obj.update(fields)
        run.obj["status"] = status
        run.obj["expires_at"] = None
        if status == "completed":
            run.obj["completed_at"] = now
        elif status == "failed":
            run.obj["failed_at"] = now
        elif status == "incomplete":
            run.obj["completed_at"] = now
        if run.obj["usage"] is None:
            run.obj["usage"] = {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}
        self.emit(run, f"thread.run.{status}", run.obj)

    def _finish_cancel(self, thread: ThreadRecord, run: RunRecord) -> None:
        now = self.store.now()
        for message in thread.messages.values():
            if message["run_id"] == run.id and message["status"] == "in_progress":
                message.update(
                    status="incomplete",
                    incomplete_details={"reason": "run_cancelled"},
                    incomplete_at=now,
                )
                self.emit(run, "thread.message.incomplete", message)
        for step in run.steps.values():
            if step["status"] == "in_progress":
                step.update(status="cancelled", cancelled_at=now, expires_at=None)
                self.emit(run, "thread.run.step.cancelled", step)
        run.pending_calls = []
        run.pending_step_id = None
        run.obj.update(status="cancelled", cancelled_at=now, expires_at=None, required_action=None)
        self.emit(run, "thread.run.cancelled", run.obj)
        self._close_listeners(run)

    async def _expire_later(self, run: RunRecord) -> None:
        await self.sleep(self.run_expiry)
        if run.status != "requires_action":
            return
        now = self.store.now()
        for step in run.steps.values():
            if step["status"] == "in_progress":
                step.update(status="expired", expired_at=now, expires_at=None)
        run.pending_calls = []
        run.pending_step_id = None
        run.obj.update(status="expired", required_action=None, expires_at=None)
        run.expiry = None

    # -- actions ------------------------------------------------------------------------------

    def _chunks(
        self, text: str, keep_whole: Sequence[tuple[int, int]] = ()
    ) -> list[tuple[int, str]]:
        """``text`` as (offset, piece) chunks; the ``keep_whole`` spans stay in one piece."""
        size = self.model.chunk_size
        cuts: list[tuple[int, str]] = []
        position = 0
        for start, end in sorted(keep_whole):
            while position < start:
                stop = min(start, position + size)
                cuts.append((position, text[position:stop]))
                position = stop
            if end > position:
                cuts.append((position, text[position:end]))
                position = end
        while position < len(text):
            stop = position + size
            cuts.append((position, text[position:stop]))
            position = stop
        return cuts

    async def _delta_pause(self, run: RunRecord) -> None:
        await self._tick(run, self.model.chunk_delay)

    async def _message(
        self, thread: ThreadRecord, run: RunRecord, action: Text | Refusal | Incomplete, prompt: int
    ) -> None:
        message = self.store.add_assistant_message(thread, run)
        step = self.store.add_step(
            run,
            "message_creation",
            {"type": "message_creation", "message_creation": {"message_id": message["id"]}},
        )
        self.emit(run, "thread.run.step.created", step)
        self.emit(run, "thread.run.step.in_progress", step)
        self.emit(run, "thread.message.created", message)
        self.emit(run, "thread.message.in_progress", message)
        if isinstance(action, Refusal):
            part: JSON = {"type": "refusal", "refusal": ""}
            message["content"].append(part)
            for _, piece in self._chunks(action.refusal):
                await self._delta_pause(run)
                part["refusal"] += piece
                delta = {"index": 0, "type": "refusal", "refusal": piece}
                self._message_delta(run, message, delta)
            generated = action.refusal
        else:
            generated = action.text
            annotations = action.annotations if isinstance(action, Text) else ()
            await self._stream_text(run, message, generated, annotations)
        now = self.store.now()
        if isinstance(action, Incomplete):
            message.update(
                status="incomplete", incomplete_details={"reason": "max_tokens"}, incomplete_at=now
            )
            self.emit(run, "thread.message.incomplete", message)
        else:
            message.update(status="completed", completed_at=now)
            self.emit(run, "thread.message.completed", message)
        step.update(status="completed", completed_at=now, expires_at=None)
        self.add_usage(run, step, prompt, tokens(generated))
        self.emit(run, "thread.run.step.completed", step)

    async def _stream_text(
        self,
        run: RunRecord,
        message: JSON,
        text: str,
        annotations: Sequence[Any],
    ) -> None:
        part: JSON = {"type": "text", "text": {"value": "", "annotations": []}}
        message["content"].append(part)
        spans = {(a.start, a.end): a for a in annotations}
        first = True
        for offset, piece in self._chunks(text, list(spans)):
            await self._delta_pause(run)
            part["text"]["value"] += piece
            text_delta: JSON = {"value": piece}
            if first:
                text_delta["annotations"] = []
                first = False
            annotation = spans.get((offset, offset + len(piece)))
            if annotation is not None:
                full = _annotation(annotation, piece)
                part["text"]["annotations"].append(full)
                index = len(part["text"]["annotations"]) - 1
                text_delta["annotations"] = [{"index": index, **full}]
            self._message_delta(run, message, {"index": 0, "type": "text", "text": text_delta})

    def _message_delta(self, run: RunRecord, message: JSON, content: JSON) -> None:
        self.emit(
            run,
            "thread.message.delta",
            {
                "id": message["id"],
                "object": "thread.message.delta",
                "delta": {"content": [content]},
            },
        )

    def _tool_step(self, run: RunRecord) -> JSON:
        step = self.store.add_step(run, "tool_calls", {"type": "tool_calls", "tool_calls": []})
        self.emit(run, "thread.run.step.created", step)
        self.emit(run, "thread.run.step.in_progress", step)
        return step

    def _step_delta(self, run: RunRecord, step: JSON, tool_call: JSON) -> None:
        self.emit(
            run,
            "thread.run.step.delta",
            {
                "id": step["id"],
                "object": "thread.run.step.delta",
                "delta": {"step_details": {"type": "tool_calls", "tool_calls": [tool_call]}},
            },
        )

    async def _function_calls(self, run: RunRecord, action: FunctionCalls) -> None:
        step = self._tool_step(run)
        calls: list[JSON] = []
        for index, call in enumerate(action.calls):
            call_id = self.store.new_id("call")
            stored: JSON = {
                "id": call_id,
                "type": "function",
                "function": {"name": call.name, "arguments": "", "output": None},
            }
            step["step_details"]["tool_calls"].append(stored)
            await self._delta_pause(run)
            self._step_delta(run, step, {"index": index, **json.loads(json.dumps(stored))})
            for _, piece in self._chunks(call.arguments):
                await self._delta_pause(run)
                stored["function"]["arguments"] += piece
                self._step_delta(
                    run,
                    step,
                    {"index": index, "type": "function", "function": {"arguments": piece}},
                )
            calls.append(
                {
                    "id": call_id,
                    "type": "function",
                    "function": {"name": call.name, "arguments": call.arguments},
                }
            )
        await self._tick(run)
        run.pending_calls = calls
        run.pending_step_id = step["id"]
        run.obj.update(
            status="requires_action",
            required_action={
                "type": "submit_tool_outputs",
                "submit_tool_outputs": {"tool_calls": calls},
            },
        )
        self.emit(run, "thread.run.requires_action", run.obj)
        run.expiry = self._spawn(self._expire_later(run))

    async def _code_interpreter(self, run: RunRecord, action: CodeInterpreter, prompt: int) -> None:
        step = self._tool_step(run)
        stored: JSON = {
            "id": self.store.new_id("call"),
            "type": "code_interpreter",
            "code_interpreter": {"input": "", "outputs": []},
        }
        step["step_details"]["tool_calls"].append(stored)
        await self._delta_pause(run)
        self._step_delta(run, step, {"index": 0, **json.loads(json.dumps(stored))})
        for _, piece in self._chunks(action.input):
            await self._delta_pause(run)
            stored["code_interpreter"]["input"] += piece
            self._step_delta(
                run,
                step,
                {"index": 0, "type": "code_interpreter", "code_interpreter": {"input": piece}},
            )
        outputs: list[JSON] = []
        if action.logs is not None:
            outputs.append({"type": "logs", "logs": action.logs})
        outputs.extend(
            {"type": "image", "image": {"file_id": fid}} for fid in action.image_file_ids
        )
        if outputs:
            await self._tick(run)
            stored["code_interpreter"]["outputs"] = outputs
            indexed = [{"index": i, **out} for i, out in enumerate(outputs)]
            self._step_delta(
                run,
                step,
                {"index": 0, "type": "code_interpreter", "code_interpreter": {"outputs": indexed}},
            )
        step.update(status="completed", completed_at=self.store.now(), expires_at=None)
        self.add_usage(run, step, prompt, tokens(action.input))
        self.emit(run, "thread.run.step.completed", step)

    async def _file_search(self, run: RunRecord, action: FileSearch, prompt: int) -> None:
        step = self._tool_step(run)
        ranking = {"ranker": "default_2024_08_21", "score_threshold": 0.0}
        stored: JSON = {
            "id": self.store.new_id("call"),
            "type": "file_search",
            "file_search": {"ranking_options": ranking, "results": []},
        }
        step["step_details"]["tool_calls"].append(stored)
        await self._delta_pause(run)
        self._step_delta(run, step, {"index": 0, **json.loads(json.dumps(stored))})
        results: list[JSON] = []
        for result in action.results:
            item: JSON = {
                "file_id": result.file_id,
                "file_name": result.file_name,
                "score": result.score,
            }
            if result.content is not None:
                item["content"] = [{"type": "text", "text": result.content}]
            results.append(item)
        await self._tick(run)
        stored["file_search"]["results"] = results
        step.update(status="completed", completed_at=self.store.now(), expires_at=None)
        self.add_usage(run, step, prompt, 1)
        self.emit(run, "thread.run.step.completed", step)


def _annotation(annotation: Any, span: str) -> JSON:
    if isinstance(annotation, FileCitation):
        return {
            "type": "file_citation",
            "text": span,
            "start_index": annotation.start,
            "end_index": annotation.end,
            "file_citation": {"file_id": annotation.file_id},
        }
    return {
        "type": "file_path",
        "text": span,
        "start_index": annotation.start,
        "end_index": annotation.end,
        "file_path": {"file_id": annotation.file_id},
    }
