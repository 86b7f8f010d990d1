"""AsyncEventHandler callbacks: names, arguments, and the lifecycles openai-python gets wrong
(peers.md B.1 bugs 1-5 each have a regression test here)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from assistants_async import _errors as errors
from assistants_async._client import AsyncAssistants
from assistants_async._transport import Response
from assistants_async.streaming.accumulate import MessageSnapshot, RunStepSnapshot
from assistants_async.streaming.handler import AsyncEventHandler
from assistants_async.streaming.stream import AssistantStream


def sse(name: str, data: Any) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data)}\n\n".encode()


def run(status: str = "in_progress") -> dict[str, Any]:
    return {
        "id": "run_1",
        "object": "thread.run",
        "created_at": 1,
        "thread_id": "thread_1",
        "assistant_id": "asst_1",
        "status": status,
        "model": "m",
    }


def message(mid: str, status: str = "in_progress", content: list[Any] | None = None) -> bytes:
    name = "thread.message.created" if status == "in_progress" else "thread.message.completed"
    return sse(
        name,
        {
            "id": mid,
            "object": "thread.message",
            "created_at": 2,
            "thread_id": "thread_1",
            "run_id": "run_1",
            "role": "assistant",
            "status": status,
            "content": content or [],
        },
    )


def text_block(value: str) -> dict[str, Any]:
    return {"type": "text", "text": {"value": value, "annotations": []}}


def mdelta(mid: str, index: int, value: str) -> bytes:
    return sse(
        "thread.message.delta",
        {
            "id": mid,
            "object": "thread.message.delta",
            "delta": {"content": [{"index": index, "type": "text", "text": {"value": value}}]},
        },
    )


def step(sid: str, status: str, calls: list[Any] | None = None) -> bytes:
    event = {"in_progress": "thread.run.step.created"}.get(status, f"thread.run.step.{status}")
    return sse(
        event,
        {
            "id": sid,
            "object": "thread.run.step",
            "created_at": 3,
            "assistant_id": "asst_1",
            "thread_id": "thread_1",
            "run_id": "run_1",
            "type": "tool_calls",
            "status": status,
            "step_details": {"type": "tool_calls", "tool_calls": calls or []},
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}
            if status == "completed"
            else None,
        },
    )


def call_delta(sid: str, index: int, *, call_id: str | None = None, args: str = "") -> bytes:
    call: dict[str, Any] = {"index": index, "type": "function", "function": {"arguments": args}}
    if call_id is not None:
        call["id"] = call_id
        call["function"]["name"] = "fn_" + call_id
    return sse(
        "thread.run.step.delta",
        {
            "id": sid,
            "object": "thread.run.step.delta",
            "delta": {"step_details": {"type": "tool_calls", "tool_calls": [call]}},
        },
    )


def full_call(call_id: str, args: str) -> dict[str, Any]:
    return {
        "id": call_id,
        "type": "function",
        "function": {"name": "fn_" + call_id, "arguments": args, "output": None},
    }


DONE = b"event: done\ndata: [DONE]\n\n"


class Recorder(AsyncEventHandler):
    def __init__(self) -> None:
        self.log: list[tuple[Any, ...]] = []

    async def on_event(self, event: Any) -> None:
        self.log.append(("event", event.event))

    async def on_run_step_created(self, run_step: Any) -> None:
        self.log.append(("step_created", run_step.id))

    async def on_run_step_delta(self, delta: Any, snapshot: Any) -> None:
        self.log.append(("step_delta", snapshot.id))

    async def on_run_step_done(self, run_step: Any) -> None:
        self.log.append(("step_done", run_step.id, run_step.status))

    async def on_tool_call_created(self, tool_call: Any) -> None:
        self.log.append(("call_created", tool_call.id, self.run_id, self.thread_id))

    async def on_tool_call_delta(self, delta: Any, snapshot: Any) -> None:
        self.log.append(("call_delta", snapshot.id, snapshot.function.arguments))

    async def on_tool_call_done(self, tool_call: Any) -> None:
        self.log.append(("call_done", tool_call.id, tool_call.function.arguments))

    async def on_message_created(self, message: Any) -> None:
        self.log.append(("message_created", message.id))

    async def on_message_delta(self, delta: Any, snapshot: Any) -> None:
        self.log.append(("message_delta", snapshot.id))

    async def on_message_done(self, message: Any) -> None:
        self.log.append(("message_done", message.id, message.status))

    async def on_text_created(self, text: Any) -> None:
        self.log.append(("text_created", text.value))

    async def on_text_delta(self, delta: Any, snapshot: Any) -> None:
        self.log.append(("text_delta", delta.value, snapshot.value))

    async def on_text_done(self, text: Any) -> None:
        self.log.append(("text_done", text.value))

    async def on_image_file_done(self, image_file: Any) -> None:
        self.log.append(("image_done", image_file.file_id))

    async def on_end(self) -> None:
        self.log.append(("end",))

    async def on_exception(self, exception: BaseException) -> None:
        self.log.append(("exception", type(exception).__name__))

    async def on_timeout(self) -> None:
        self.log.append(("timeout",))

    def only(self, *kinds: str) -> list[tuple[Any, ...]]:
        return [entry for entry in self.log if entry[0] in kinds]


def opener(chunks: list[bytes], *, stall: bool = False) -> Any:
    async def body() -> AsyncIterator[bytes]:
        for chunk in chunks:
            yield chunk
        if stall:
            await asyncio.Event().wait()

    async def open_() -> Response:
        return Response(200, headers={"content-type": "text/event-stream"}, stream=body())

    return open_


async def play(chunks: list[bytes], handler: AsyncEventHandler | None = None) -> Any:
    handler = handler if handler is not None else Recorder()
    async with AssistantStream(opener(chunks), event_handler=handler) as stream:
        await stream.until_done()
    return handler, stream


async def test_bug1_new_step_reusing_tool_call_index_zero_fires_created() -> None:
    handler, _ = await play(
        [
            sse("thread.run.created", run()),
            step("step_A", "in_progress"),
            call_delta("step_A", 0, call_id="call_A", args=""),
            call_delta("step_A", 0, args="{}"),
            step("step_A", "completed", [full_call("call_A", "{}")]),
            step("step_B", "in_progress"),
            call_delta("step_B", 0, call_id="call_B", args=""),
            call_delta("step_B", 0, args="{}"),
            step("step_B", "completed", [full_call("call_B", "{}")]),
            sse("thread.run.completed", run("completed")),
        ]
    )
    assert handler.only("call_created", "call_delta", "call_done") == [
        ("call_created", "call_A", "run_1", "thread_1"),
        ("call_delta", "call_A", "{}"),
        ("call_done", "call_A", "{}"),
        ("call_created", "call_B", "run_1", "thread_1"),
        ("call_delta", "call_B", "{}"),
        ("call_done", "call_B", "{}"),
    ]


async def test_bug2_tool_call_done_fires_once_per_call() -> None:
    handler, _ = await play(
        [
            sse("thread.run.created", run()),
            step("step_A", "in_progress"),
            call_delta("step_A", 0, call_id="call_1", args='{"a":'),
            call_delta("step_A", 0, args="1}"),
            call_delta("step_A", 1, call_id="call_2", args="{}"),
            step(
                "step_A", "completed", [full_call("call_1", '{"a":1}'), full_call("call_2", "{}")]
            ),
            sse("thread.run.requires_action", run("requires_action")),
        ]
    )
    assert handler.only("call_done") == [
        ("call_done", "call_1", '{"a":1}'),  # when index 1 started
        ("call_done", "call_2", "{}"),  # at the step's terminal event; not again at requires_action
    ]


async def test_bug3_text_state_does_not_leak_into_the_next_message() -> None:
    handler, _ = await play(
        [
            sse("thread.run.created", run()),
            message("m1"),
            mdelta("m1", 0, "First"),
            mdelta("m1", 1, "Second"),
            message("m1", "completed", [text_block("First"), text_block("Second")]),
            message("m2"),
            mdelta("m2", 0, "Third"),
            message("m2", "completed", [text_block("Third")]),
            sse("thread.run.completed", run("completed")),
        ]
    )
    assert handler.only("text_created", "text_done", "message_done") == [
        ("text_created", "First"),
        ("text_done", "First"),
        ("text_created", "Second"),
        ("text_done", "Second"),
        ("message_done", "m1", "completed"),
        ("text_created", "Third"),  # no stray text_done("Second") before it
        ("text_done", "Third"),
        ("message_done", "m2", "completed"),
    ]


async def test_bug4_final_run_steps_carry_the_terminal_status() -> None:
    handler, stream = await play(
        [
            sse("thread.run.created", run()),
            step("step_A", "in_progress"),
            call_delta("step_A", 0, call_id="call_1", args="{}"),
            step("step_A", "completed", [full_call("call_1", "{}")]),
            sse("thread.run.completed", run("completed")),
        ]
    )
    [final] = await stream.final_run_steps()
    assert final.status == "completed"
    assert final.usage is not None and final.usage.total_tokens == 2
    assert handler.only("step_done") == [("step_done", "step_A", "completed")]


async def test_bug5_error_event_raises_and_reaches_on_exception() -> None:
    handler = Recorder()
    with pytest.raises(errors.ServerStreamError):
        await play(
            [
                sse("thread.run.created", run()),
                sse("error", {"code": "server_error", "message": "boom"}),
                sse("thread.run.completed", run("completed")),
            ],
            handler,
        )
    assert handler.log[-2:] == [("exception", "ServerStreamError"), ("end",)]
    assert ("event", "thread.run.completed") not in handler.log


async def test_text_callbacks_get_delta_and_cumulative_snapshot() -> None:
    handler, _ = await play(
        [
            sse("thread.run.created", run()),
            message("m1"),
            mdelta("m1", 0, "Hel"),
            mdelta("m1", 0, "lo"),
            message("m1", "completed", [text_block("Hello")]),
            sse("thread.run.completed", run("completed")),
        ]
    )
    assert handler.only("message_created", "text_created", "text_delta", "message_delta") == [
        ("message_created", "m1"),
        ("message_delta", "m1"),
        ("text_created", "Hel"),
        ("text_delta", "Hel", "Hel"),  # as in openai-python: a text's first delta fires both
        ("message_delta", "m1"),
        ("text_delta", "lo", "Hello"),
    ]
    assert handler.log[-1] == ("end",)
    assert handler.log.count(("end",)) == 1


async def test_on_event_sees_every_event_first() -> None:
    chunks = [sse("thread.run.created", run()), sse("thread.run.completed", run("completed"))]
    handler, _ = await play(chunks)
    assert handler.only("event") == [
        ("event", "thread.run.created"),
        ("event", "thread.run.completed"),
    ]


async def test_image_file_done_when_the_next_block_starts() -> None:
    image = sse(
        "thread.message.delta",
        {
            "id": "m1",
            "object": "thread.message.delta",
            "delta": {
                "content": [{"index": 0, "type": "image_file", "image_file": {"file_id": "img"}}]
            },
        },
    )
    handler, _ = await play(
        [
            sse("thread.run.created", run()),
            message("m1"),
            image,
            mdelta("m1", 1, "caption"),
            sse("thread.run.completed", run("completed")),
        ]
    )
    assert handler.only("image_done", "text_created") == [
        ("image_done", "img"),
        ("text_created", "caption"),
    ]


async def test_call_that_never_streamed_gets_created_and_done_at_step_end() -> None:
    handler, _ = await play(
        [
            sse("thread.run.created", run()),
            step("step_A", "in_progress"),
            step("step_A", "completed", [full_call("call_X", "{}")]),
            sse("thread.run.completed", run("completed")),
        ]
    )
    assert handler.only("call_created", "call_done") == [
        ("call_created", "call_X", "run_1", "thread_1"),
        ("call_done", "call_X", "{}"),
    ]


async def test_idle_timeout_calls_on_timeout_then_on_exception_then_on_end() -> None:
    handler = Recorder()
    with pytest.raises(errors.StreamIdleTimeoutError):
        async with AssistantStream(
            opener([sse("thread.run.created", run())], stall=True),
            event_handler=handler,
            event_timeout=0.05,
        ) as stream:
            await stream.until_done()
    assert handler.log[-3:] == [("timeout",), ("exception", "StreamIdleTimeoutError"), ("end",)]


async def test_incomplete_stream_reaches_on_exception() -> None:
    handler = Recorder()
    with pytest.raises(errors.StreamIncompleteError):
        await play([sse("thread.run.created", run())], handler)
    assert handler.log[-2:] == [("exception", "StreamIncompleteError"), ("end",)]


async def test_run_and_thread_ids_are_available_in_callbacks() -> None:
    class Ids(AsyncEventHandler):
        seen: list[tuple[str | None, str | None]] = []

        async def on_text_delta(self, delta: Any, snapshot: Any) -> None:
            self.seen.append((self.run_id, self.thread_id))
            assert self.current_run is not None
            assert self.current_message_snapshot is not None
            assert self.current_event is not None

    handler, _ = await play(
        [
            sse("thread.run.created", run()),
            message("m1"),
            mdelta("m1", 0, "a"),
            mdelta("m1", 0, "b"),
            sse("thread.run.completed", run("completed")),
        ],
        Ids(),
    )
    assert handler.seen == [("run_1", "thread_1")] * 2


async def test_unoverridden_callbacks_build_no_snapshots(monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[str] = []
    for cls, names in (
        (MessageSnapshot, ("model", "content_block")),
        (RunStepSnapshot, ("model", "tool_call")),
    ):
        for name in names:
            original = getattr(cls, name)

            def spy(self: Any, *args: Any, _o: Any = original, _n: str = name) -> Any:
                built.append(_n)
                return _o(self, *args)

            monkeypatch.setattr(cls, name, spy)

    class OnlyEnd(AsyncEventHandler):
        ended = False

        async def on_end(self) -> None:
            self.ended = True

    handler, _ = await play(
        [
            sse("thread.run.created", run()),
            message("m1"),
            mdelta("m1", 0, "a"),
            step("step_A", "in_progress"),
            call_delta("step_A", 0, call_id="c", args="{}"),
            sse("thread.run.completed", run("completed")),
        ],
        OnlyEnd(),
    )
    assert handler.ended
    assert built == []


async def test_a_handler_serves_one_live_stream_at_a_time() -> None:
    handler = Recorder()
    chunks = [sse("thread.run.created", run()), sse("thread.run.completed", run("completed"))]
    async with AssistantStream(opener(chunks), event_handler=handler) as first:
        with pytest.raises(RuntimeError, match="another stream"):
            AssistantStream(opener(chunks), event_handler=handler)
        await first.until_done()
    await play(chunks, handler)  # reusable once the first stream has ended
    assert handler.log.count(("end",)) == 2


async def test_handler_over_a_recorded_stream(shared_dir: Path) -> None:
    raw = (
        shared_dir / "recorded-streams" / "simple-openai_threads_runs_create_stream_1.sse"
    ).read_bytes()
    handler, stream = await play([raw])
    deltas = [entry[1] for entry in handler.only("text_delta")]
    [message_done] = handler.only("message_done")
    [final] = await stream.final_messages()
    assert "".join(deltas) == final.content[0].text.value
    assert handler.only("text_done") == [("text_done", final.content[0].text.value)]
    assert message_done[2] == "completed"
    assert handler.only("step_done")[0][2] == "completed"


async def test_opener_failure_reaches_the_handler_which_stays_reusable() -> None:
    async def failing() -> Response:
        raise errors.APIConnectionError("refused")

    handler = Recorder()
    with pytest.raises(errors.APIConnectionError):
        async with AssistantStream(failing, event_handler=handler):
            pass
    assert handler.log == [("exception", "APIConnectionError"), ("end",)]
    await play(
        [sse("thread.run.created", run()), sse("thread.run.completed", run("completed"))], handler
    )


async def test_an_exception_in_a_callback_closes_the_stream_and_propagates() -> None:
    closed: list[bool] = []

    class Boom(Recorder):
        async def on_message_created(self, message: Any) -> None:
            raise LookupError("callback bug")

    async def body() -> AsyncIterator[bytes]:
        yield sse("thread.run.created", run())
        yield message("m1")
        await asyncio.Event().wait()

    async def on_close() -> None:
        closed.append(True)

    async def open_() -> Response:
        return Response(
            200, headers={"content-type": "text/event-stream"}, stream=body(), on_close=on_close
        )

    handler = Boom()
    with pytest.raises(LookupError):
        async with AssistantStream(open_, event_handler=handler) as stream:
            await stream.until_done()
    assert closed == [True]
    assert handler.log[-2:] == [("exception", "LookupError"), ("end",)]


async def test_tool_calls_are_done_at_requires_action_and_not_again_later() -> None:
    # Function-call steps stay in_progress while the run waits for outputs: done must fire at
    # requires_action (the user submits outputs then), and not again when the step completes.
    handler = Recorder()
    first = [
        sse("thread.run.created", run()),
        step("step_A", "in_progress"),
        call_delta("step_A", 0, call_id="call_1", args="{}"),
        call_delta("step_A", 1, call_id="call_2", args='{"b"'),
        call_delta("step_A", 1, args=":2}"),
        sse("thread.run.requires_action", run("requires_action")),
        DONE,
    ]
    second = [
        step("step_A", "completed", [full_call("call_1", "{}"), full_call("call_2", '{"b":2}')]),
        sse("thread.run.completed", run("completed")),
        DONE,
    ]
    rounds = iter([opener(second)])

    async def continuation(stream: Any, current: Any) -> Any:
        handler.log.append(("continuation", current.status))
        return next(rounds, None)

    async with AssistantStream(
        opener(first), event_handler=handler, continuation=continuation
    ) as stream:
        await stream.until_done()
    assert handler.only("call_done", "continuation", "step_done") == [
        ("call_done", "call_1", "{}"),
        ("call_done", "call_2", '{"b":2}'),
        ("continuation", "requires_action"),
        ("step_done", "step_A", "completed"),
    ]


async def test_text_done_fires_once_per_block_even_if_the_server_goes_back() -> None:
    handler, _ = await play(
        [
            sse("thread.run.created", run()),
            message("m1"),
            mdelta("m1", 0, "a"),
            mdelta("m1", 1, "b"),
            mdelta("m1", 0, "c"),
            message("m1", "completed", [text_block("ac"), text_block("b")]),
            sse("thread.run.completed", run("completed")),
        ]
    )
    assert handler.only("text_done") == [("text_done", "a"), ("text_done", "b")]


# -- the tool loop's callbacks (toolbox=) ------------------------------------------------------


async def test_handler_hears_each_tool_call_of_the_tool_loop(
    assistants_client: AsyncAssistants,
) -> None:
    from assistants_async.tools import Toolbox, ToolCallFinished, ToolCallStarted, function_tool

    now = [100.0]  # a fake clock the tools move: durations are exact, nothing sleeps

    @function_tool
    async def get_weather(city: str) -> str:
        now[0] += 0.5
        return f"sunny in {city}"

    @function_tool
    async def boom() -> str:
        now[0] += 0.25
        raise ValueError("no forecast")

    class Recorder(AsyncEventHandler):
        def __init__(self) -> None:
            self.log: list[ToolCallStarted | ToolCallFinished] = []

        async def on_tool_start(self, info: ToolCallStarted) -> None:
            self.log.append(info)

        async def on_tool_end(self, info: ToolCallFinished) -> None:
            self.log.append(info)

    # One call at a time, so each duration is that tool's own step of the fake clock.
    toolbox = Toolbox([get_weather, boom], max_concurrency=1, clock=lambda: now[0])
    assistant = await assistants_client.assistants.create(model="m", tools=toolbox.definitions())
    thread = await assistants_client.threads.create(
        messages=[{"role": "user", "content": 'call get_weather {"city": "Oslo"}\ncall boom {}'}]
    )
    handler = Recorder()
    async with assistants_client.threads.runs.stream(
        thread_id=thread.id, assistant_id=assistant.id, toolbox=toolbox, event_handler=handler
    ) as stream:
        run = await stream.final_run()
        steps = await stream.final_run_steps()
    assert run.status == "completed"
    [calls_step] = [s for s in steps if s.step_details.type == "tool_calls"]
    ids = {c.function.name: c.id for c in calls_step.step_details.tool_calls}  # type: ignore[union-attr]
    assert set(ids) == {"get_weather", "boom"}

    starts = [i for i in handler.log if isinstance(i, ToolCallStarted)]
    ends = [i for i in handler.log if isinstance(i, ToolCallFinished)]
    assert sorted((i.name, i.call_id, i.run_id, i.thread_id) for i in starts) == sorted(
        (name, call_id, run.id, thread.id) for name, call_id in ids.items()
    )
    by_name = {i.name: i for i in ends}
    assert set(by_name) == {"get_weather", "boom"} and len(ends) == 2
    ok, failed = by_name["get_weather"], by_name["boom"]
    assert (ok.call_id, ok.run_id, ok.status, ok.error) == (ids["get_weather"], run.id, "ok", None)
    assert ok.output == "sunny in Oslo" and ok.duration == 0.5
    assert (failed.call_id, failed.run_id, failed.status) == (ids["boom"], run.id, "error")
    assert failed.error is not None and "no forecast" in failed.error
    assert isinstance(failed.exception, ValueError) and failed.duration == 0.25
    # Each call is started before it ends.
    for name in ids:
        kinds = [type(i) for i in handler.log if i.name == name]
        assert kinds == [ToolCallStarted, ToolCallFinished]


async def test_default_tool_callbacks_are_no_ops() -> None:
    from assistants_async.tools import ToolCallFinished, ToolCallStarted

    handler = AsyncEventHandler()
    assert await handler.on_tool_start(ToolCallStarted("f", "call_1", "{}", "run_1", "t")) is None
    finished = ToolCallFinished("f", "call_1", "{}", "run_1", "t", "out", "ok", 0.1)
    assert await handler.on_tool_end(finished) is None
