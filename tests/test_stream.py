"""AssistantStream / EventStream over in-memory responses: closing, errors, timeouts, the
cancel-run option and continuations."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from assistants_async import _errors as errors
from assistants_async._config import Timeout
from assistants_async._transport import Request, Response
from assistants_async.streaming import stream as stream_module
from assistants_async.streaming.stream import AssistantStream, EventStream
from assistants_async.testing import (
    CutStream,
    ErrorEvent,
    KeepAliveOnly,
    ScriptedModel,
    StallStream,
    Text,
)
from assistants_async.types.events import UnknownEvent


def sse(name: str, data: Any) -> bytes:
    text = data if isinstance(data, str) else json.dumps(data)
    return f"event: {name}\ndata: {text}\n\n".encode()


def run(status: str = "in_progress", run_id: str = "run_1") -> dict[str, Any]:
    return {
        "id": run_id,
        "object": "thread.run",
        "created_at": 1,
        "thread_id": "thread_1",
        "assistant_id": "asst_1",
        "status": status,
        "model": "m",
    }


def message(mid: str = "msg_1", status: str = "in_progress", value: str = "") -> dict[str, Any]:
    content = [{"type": "text", "text": {"value": value, "annotations": []}}] if value else []
    return {
        "id": mid,
        "object": "thread.message",
        "created_at": 2,
        "thread_id": "thread_1",
        "run_id": "run_1",
        "role": "assistant",
        "status": status,
        "content": content,
    }


def delta(value: str, mid: str = "msg_1", index: int = 0) -> bytes:
    return sse(
        "thread.message.delta",
        {
            "id": mid,
            "object": "thread.message.delta",
            "delta": {"content": [{"index": index, "type": "text", "text": {"value": value}}]},
        },
    )


HELLO = [
    sse("thread.run.created", run("queued")),
    sse("thread.run.in_progress", run()),
    sse("thread.message.created", message()),
    delta("Hel"),
    delta("lo"),
    sse("thread.message.completed", message(status="completed", value="Hello")),
    sse("thread.run.completed", run("completed")),
    b"event: done\ndata: [DONE]\n\n",
]


class Wire:
    """One scripted response body; records whether (and when) it was closed."""

    def __init__(
        self,
        chunks: list[bytes],
        *,
        then: str | BaseException | None = None,
        content_type: str = "text/event-stream",
        status: int = 200,
        keepalive_every: float = 0.02,
    ) -> None:
        self.chunks = chunks
        self.then = then
        self.content_type = content_type
        self.status = status
        self.keepalive_every = keepalive_every
        self.closed = False
        self.sent = 0
        self.opened = 0

    async def _body(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            self.sent += 1
            yield chunk
        if self.then == "stall":
            await asyncio.Event().wait()
        elif self.then == "keepalive":
            while True:
                yield b": keep-alive\n\n"
                await asyncio.sleep(self.keepalive_every)
        elif isinstance(self.then, BaseException):
            raise self.then

    async def _on_close(self) -> None:
        self.closed = True

    def response(self) -> Response:
        self.opened += 1
        return Response(
            self.status,
            headers={"content-type": self.content_type},
            stream=self._body(),
            on_close=self._on_close,
            request=Request("POST", "http://127.0.0.1/v1/threads/thread_1/runs"),
        )

    async def open(self) -> Response:
        return self.response()


async def test_events_are_typed_and_the_response_closes_at_the_end() -> None:
    wire = Wire(HELLO)
    async with AssistantStream(wire.open) as stream:
        names = [event.event async for event in stream]
        assert wire.closed  # closed as soon as the body ended, before leaving the block
    assert names == [
        "thread.run.created",
        "thread.run.in_progress",
        "thread.message.created",
        "thread.message.delta",
        "thread.message.delta",
        "thread.message.completed",
        "thread.run.completed",
    ]
    assert (await stream.final_run()).status == "completed"
    [msg] = await stream.final_messages()
    assert msg.content[0].text.value == "Hello"
    assert await stream.final_run_steps() == []


async def test_nothing_is_read_after_done() -> None:
    wire = Wire([*HELLO, b"event: thread.run.created\ndata: {not json\n\n"])
    async with AssistantStream(wire.open) as stream:
        await stream.until_done()
    assert wire.sent == len(HELLO)


async def test_text_deltas_and_current_snapshots() -> None:
    wire = Wire(HELLO)
    async with AssistantStream(wire.open) as stream:
        seen = []
        async for text in stream.text_deltas:
            seen.append((text, stream.current_message_snapshot))
        assert [t for t, _ in seen] == ["Hel", "lo"]
        assert seen[0][1] is not None and seen[0][1].content[0].text.value == "Hel"
        assert stream.current_event is not None
        assert stream.current_event.event == "thread.run.completed"
        assert stream.current_run is not None and stream.current_run.status == "completed"
        assert stream.current_run_step_snapshot is None


async def test_second_iteration_raises_stream_consumed() -> None:
    async with AssistantStream(Wire(HELLO).open) as stream:
        async for _ in stream:
            pass
        with pytest.raises(errors.StreamConsumedError):
            async for _ in stream:
                pass
        with pytest.raises(errors.StreamConsumedError):
            stream.text_deltas  # noqa: B018


async def test_break_closes_the_connection_when_the_block_is_left() -> None:
    wire = Wire(HELLO[:3], then="stall")
    async with AssistantStream(wire.open) as stream:
        async for event in stream:
            if event.event == "thread.run.in_progress":
                break
        assert not wire.closed
    assert wire.closed


async def test_close_from_another_task_while_a_read_is_pending() -> None:
    wire = Wire(HELLO[:2], then="stall")
    async with AssistantStream(wire.open) as stream:
        seen: list[str] = []
        got_two = asyncio.Event()

        async def consume() -> None:
            async for event in stream:
                seen.append(event.event)
                if len(seen) == 2:
                    got_two.set()

        task = asyncio.create_task(consume())
        await got_two.wait()  # by then the reader waits inside the body generator
        await stream.close()
        assert wire.closed
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert seen == ["thread.run.created", "thread.run.in_progress"]


async def test_exception_in_block_closes_and_propagates() -> None:
    wire = Wire(HELLO[:3], then="stall")
    with pytest.raises(ZeroDivisionError):
        async with AssistantStream(wire.open) as stream:
            async for _ in stream:
                1 / 0  # noqa: B018
    assert wire.closed


async def test_task_cancellation_closes_and_propagates() -> None:
    wire = Wire(HELLO[:2], then="stall")
    got_two = asyncio.Event()

    async def consume() -> None:
        async with AssistantStream(wire.open) as stream:
            count = 0
            async for _ in stream:
                count += 1
                if count == 2:
                    got_two.set()

    task = asyncio.create_task(consume())
    await got_two.wait()
    await asyncio.sleep(0)  # let the consumer block on the stalled body
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert wire.closed


async def test_non_event_stream_response_raises_typed_error_from_body() -> None:
    body = {"error": {"message": "Run is not streamable", "code": "nope"}}
    wire = Wire([json.dumps(body).encode()], content_type="application/json")
    with pytest.raises(errors.UnexpectedContentTypeError) as info:
        async with AssistantStream(wire.open):
            pass
    assert info.value.content_type == "application/json"
    assert info.value.body == body
    assert "Run is not streamable" in str(info.value)
    assert wire.closed


async def test_html_body_is_truncated_in_the_message() -> None:
    wire = Wire([b"<html>" + b"x" * 5000 + b"</html>"], content_type="text/html")
    with pytest.raises(errors.UnexpectedContentTypeError) as info:
        async with EventStream(wire.open):
            pass
    assert len(str(info.value)) < 1000
    assert wire.closed


async def test_server_error_event_raises_after_earlier_events() -> None:
    wire = Wire([*HELLO[:3], sse("error", {"code": "server_error", "message": "boom"}), *HELLO[3:]])
    seen = []
    with pytest.raises(errors.ServerStreamError) as info:
        async with AssistantStream(wire.open) as stream:
            async for event in stream:
                seen.append(event.event)
    assert seen == ["thread.run.created", "thread.run.in_progress", "thread.message.created"]
    assert info.value.code == "server_error"
    assert wire.closed


async def test_eof_before_a_terminal_run_event_is_incomplete() -> None:
    wire = Wire(HELLO[:4])
    seen = []
    with pytest.raises(errors.StreamIncompleteError):
        async with AssistantStream(wire.open) as stream:
            async for event in stream:
                seen.append(event.event)
    assert len(seen) == 4
    assert wire.closed


async def test_eof_after_requires_action_is_a_normal_end() -> None:
    wire = Wire([sse("thread.run.requires_action", run("requires_action"))])
    async with AssistantStream(wire.open) as stream:
        assert (await stream.final_run()).status == "requires_action"
        assert await stream.final_messages() == []


@pytest.mark.parametrize(
    "error",
    [
        errors.APIConnectionError("reset"),
        aiohttp.ClientPayloadError("Response payload is not completed"),
        ConnectionResetError("reset by peer"),
    ],
)
async def test_transport_error_mid_body_is_stream_incomplete(error: BaseException) -> None:
    wire = Wire(HELLO[:3], then=error)
    seen = 0
    with pytest.raises(errors.StreamIncompleteError) as info:
        async with AssistantStream(wire.open) as stream:
            async for _ in stream:
                seen += 1
    assert seen == 3
    assert info.value.__cause__ is error
    assert wire.closed


@pytest.mark.parametrize("error", [errors.APITimeoutError(), TimeoutError()])
async def test_socket_read_timeout_mid_body_is_idle_timeout(error: BaseException) -> None:
    wire = Wire(HELLO[:3], then=error)
    with pytest.raises(errors.StreamIdleTimeoutError) as info:
        async with AssistantStream(wire.open) as stream:
            await stream.until_done()
    assert info.value.__cause__ is error
    assert info.value.request is not None  # the request travels with the error
    assert wire.closed


async def test_transport_error_after_the_terminal_event_ends_normally() -> None:
    wire = Wire(HELLO[:-1], then=errors.APIConnectionError("reset"))
    async with AssistantStream(wire.open) as stream:
        assert (await stream.final_run()).status == "completed"


async def test_bad_json_in_a_known_event_is_a_decode_error() -> None:
    wire = Wire([HELLO[0], b"event: thread.message.delta\ndata: {not json\n\n"])
    with pytest.raises(errors.StreamDecodeError) as info:
        async with AssistantStream(wire.open) as stream:
            await stream.until_done()
    assert info.value.event == "thread.message.delta"
    assert wire.closed


async def test_oversized_event_is_refused() -> None:
    big = sse("thread.message.delta", {"pad": "x" * 5000})
    wire = Wire([HELLO[0], big])
    with pytest.raises(errors.EventTooLargeError):
        async with AssistantStream(wire.open, max_event_bytes=1024) as stream:
            await stream.until_done()
    assert wire.closed


async def test_unknown_events_pass_through() -> None:
    wire = Wire([HELLO[0], sse("thread.run.step.teleported", {"x": 1}), *HELLO[1:]])
    async with AssistantStream(wire.open) as stream:
        events = [event async for event in stream]
    unknown = [e for e in events if isinstance(e, UnknownEvent)]
    assert [(e.event, e.data) for e in unknown] == [("thread.run.step.teleported", {"x": 1})]
    assert (await stream.final_run()).status == "completed"


async def test_final_run_without_any_run_event_raises() -> None:
    wire = Wire([b"event: done\ndata: [DONE]\n\n"])
    with pytest.raises(errors.StreamIncompleteError):
        async with AssistantStream(wire.open) as stream:
            await stream.final_run()
    # and with a terminal event but no run object? not possible: terminal events are run events


# -- idle timeout -----


async def test_stalled_stream_hits_the_event_timeout() -> None:
    wire = Wire(HELLO[:2], then="stall")
    loop = asyncio.get_running_loop()
    seen = 0
    with pytest.raises(errors.StreamIdleTimeoutError) as info:
        async with AssistantStream(wire.open, event_timeout=0.1) as stream:
            async for _ in stream:
                seen += 1
                started = loop.time()
    assert seen == 2
    assert 0.09 <= loop.time() - started < 1.0
    assert info.value.timeout == 0.1
    assert wire.closed


async def test_keepalive_comments_do_not_reset_the_event_timeout() -> None:
    wire = Wire(HELLO[:2], then="keepalive", keepalive_every=0.02)
    loop = asyncio.get_running_loop()
    with pytest.raises(errors.StreamIdleTimeoutError):
        async with AssistantStream(wire.open, event_timeout=0.15) as stream:
            async for _ in stream:
                started = loop.time()
    assert 0.14 <= loop.time() - started < 1.0
    assert wire.closed


async def test_events_reset_the_event_timeout() -> None:
    async def slow(wire: Wire) -> AsyncIterator[bytes]:
        for chunk in HELLO:
            await asyncio.sleep(0.04)  # the server's pace, not synchronisation
            yield chunk

    wire = Wire([])
    wire._body = lambda: slow(wire)  # type: ignore[method-assign]
    async with AssistantStream(wire.open, event_timeout=0.2) as stream:
        # 8 events x 0.04 s = 0.32 s in total, longer than the timeout: only the gaps count
        assert (await stream.final_run()).status == "completed"


async def test_event_stream_has_the_same_timeout() -> None:
    wire = Wire(HELLO[:1], then="stall")
    with pytest.raises(errors.StreamIdleTimeoutError):
        async with EventStream(wire.open, event_timeout=0.05) as events:
            async for _ in events:
                pass
    assert wire.closed


# -- cancel the run on exit -----


class CancelRecorder:
    def __init__(self, *, hang: bool = False, fail: bool = False) -> None:
        self.calls: list[tuple[str, str]] = []
        self.hang = hang
        self.fail = fail

    async def __call__(self, run_id: str, thread_id: str) -> object:
        self.calls.append((run_id, thread_id))
        if self.hang:
            await asyncio.Event().wait()
        if self.fail:
            raise errors.APIConnectionError("cancel failed")
        return None


async def test_cancel_run_on_exception_exit() -> None:
    cancel = CancelRecorder()
    wire = Wire(HELLO[:3], then="stall")
    with pytest.raises(KeyError):
        async with AssistantStream(wire.open, cancel_run=cancel) as stream:
            async for event in stream:
                if event.event == "thread.message.created":
                    raise KeyError("user code failed")
    assert cancel.calls == [("run_1", "thread_1")]
    assert wire.closed


async def test_cancel_run_on_early_break() -> None:
    cancel = CancelRecorder()
    async with AssistantStream(Wire(HELLO[:3], then="stall").open, cancel_run=cancel) as stream:
        async for _ in stream:
            break
    assert cancel.calls == [("run_1", "thread_1")]


async def test_no_cancel_after_the_run_finished() -> None:
    cancel = CancelRecorder()
    async with AssistantStream(Wire(HELLO).open, cancel_run=cancel) as stream:
        await stream.until_done()
    assert cancel.calls == []


async def test_no_cancel_when_leaving_at_requires_action() -> None:
    cancel = CancelRecorder()
    chunks = [sse("thread.run.requires_action", run("requires_action"))]
    async with AssistantStream(Wire(chunks, then="stall").open, cancel_run=cancel) as stream:
        async for event in stream:
            if event.event == "thread.run.requires_action":
                break  # the manual tool-calling pattern: submit outputs after the block
    assert cancel.calls == []


async def test_cancel_run_on_task_cancellation_is_shielded() -> None:
    cancel = CancelRecorder()
    wire = Wire(HELLO[:2], then="stall")
    ready = asyncio.Event()

    async def consume() -> None:
        async with AssistantStream(wire.open, cancel_run=cancel) as stream:
            async for _ in stream:
                if stream.current_run is not None and stream.current_run.status == "in_progress":
                    ready.set()

    task = asyncio.create_task(consume())
    await ready.wait()
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert cancel.calls == [("run_1", "thread_1")]
    assert wire.closed


async def test_cancel_run_is_bounded_and_never_masks_the_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(stream_module, "CANCEL_RUN_TIMEOUT", 0.05)
    for cancel in (CancelRecorder(hang=True), CancelRecorder(fail=True)):
        with pytest.raises(KeyError):
            async with AssistantStream(Wire(HELLO[:2], then="stall").open, cancel_run=cancel) as s:
                async for _ in s:
                    if s.current_run is not None and s.current_run.status == "in_progress":
                        raise KeyError("boom")
        assert cancel.calls == [("run_1", "thread_1")]


# -- continuation (tool loop seam) -----


def tool_round() -> list[bytes]:
    return [
        sse("thread.run.created", run("queued")),
        sse("thread.message.created", message("msg_0")),
        delta("Let me check. ", mid="msg_0"),
        sse("thread.message.completed", message("msg_0", "completed", "Let me check. ")),
        sse("thread.run.requires_action", run("requires_action")),
        b"event: done\ndata: [DONE]\n\n",
    ]


async def test_continuation_chains_rounds_into_one_stream() -> None:
    first, second = Wire(tool_round()), Wire(HELLO[1:])
    calls: list[str] = []

    async def continuation(stream: AssistantStream[Any], current: Any) -> Any:
        calls.append(current.status)
        assert first.closed  # the first response is released before the next one opens
        return second.open if len(calls) == 1 else None

    async with AssistantStream(first.open, continuation=continuation) as stream:
        texts = [t async for t in stream.text_deltas]
        messages = await stream.final_messages()
        final = await stream.final_run()
    assert calls == ["requires_action"]
    assert texts == ["Let me check. ", "Hel", "lo"]
    assert [m.id for m in messages] == ["msg_0", "msg_1"]
    assert final.status == "completed"
    assert second.closed


async def test_continuation_returning_none_ends_the_stream() -> None:
    async def continuation(stream: AssistantStream[Any], current: Any) -> Any:
        return None

    async with AssistantStream(Wire(tool_round()).open, continuation=continuation) as stream:
        assert (await stream.final_run()).status == "requires_action"


# -- EventStream -----


async def test_event_stream_yields_typed_events_and_closes() -> None:
    wire = Wire(HELLO)
    async with EventStream(wire.open) as events:
        names = [event.event async for event in events]
        with pytest.raises(errors.StreamConsumedError):
            events.__aiter__()
    assert names[-1] == "thread.run.completed"
    assert wire.closed


async def test_event_stream_close_is_idempotent_and_stops_iteration() -> None:
    wire = Wire(HELLO[:2], then="stall")
    async with EventStream(wire.open) as events:
        await events.close()
        await events.close()
        assert [e async for e in events] == []
    assert wire.closed


async def test_a_slow_consumer_is_not_an_idle_server() -> None:
    wire = Wire(HELLO)  # every byte is available at once
    async with AssistantStream(wire.open, event_timeout=0.05) as stream:
        async for _ in stream:
            await asyncio.sleep(0.07)  # the consumer's own work, longer than the timeout
    assert (await stream.final_run()).status == "completed"


async def test_opener_failure_propagates_and_nothing_is_left_open() -> None:
    async def failing() -> Response:
        raise errors.APIConnectionError("refused")

    with pytest.raises(errors.APIConnectionError):
        async with AssistantStream(failing):
            pass


async def test_entering_an_opened_stream_again_does_not_resend_the_request() -> None:
    wire = Wire(HELLO)
    events = EventStream(wire.open)
    await events.__aenter__()  # what create(..., stream=True) does before returning it
    async with events as same:
        assert same is events
        assert [e.event async for e in same][-1] == "thread.run.completed"
    assert wire.opened == 1
    stream = AssistantStream(Wire(HELLO).open)
    async with stream, stream:
        pass


# -- end to end over real sockets (the loopback server) --------------------------------------------

LONG_TEXT = ScriptedModel(Text("The quick brown fox jumps over the lazy dog. " * 4), chunk_size=5)


async def _thread_and_assistant(client: Any) -> tuple[str, str]:
    assistant = await client.assistants.create(model="loopback")
    thread = await client.threads.create(messages=[{"role": "user", "content": "hi"}])
    return thread.id, assistant.id


@pytest.mark.assistants_server(model=LONG_TEXT)
async def test_e2e_text_deltas_rebuild_the_final_message(assistants_client: Any) -> None:
    thread_id, assistant_id = await _thread_and_assistant(assistants_client)
    async with assistants_client.threads.runs.stream(
        thread_id=thread_id, assistant_id=assistant_id
    ) as stream:
        text = "".join([t async for t in stream.text_deltas])
        [message] = await stream.final_messages()
        steps = await stream.final_run_steps()
        run = await stream.final_run()
    assert (
        text == message.content[0].text.value == "The quick brown fox jumps over the lazy dog. " * 4
    )
    assert run.status == "completed"
    assert [s.status for s in steps] == ["completed"]
    server_copy = await assistants_client.threads.messages.retrieve(message.id, thread_id=thread_id)
    assert server_copy.content == message.content


@pytest.mark.assistants_server(model=LONG_TEXT)
async def test_e2e_cut_stream_is_incomplete_and_the_run_is_not_recreated(
    assistants_server: Any, assistants_client: Any
) -> None:
    thread_id, assistant_id = await _thread_and_assistant(assistants_client)
    assistants_server.faults.add("POST", "/threads/*/runs", CutStream(after_events=3))
    seen = 0
    with pytest.raises(errors.StreamIncompleteError):
        async with assistants_client.threads.runs.stream(
            thread_id=thread_id, assistant_id=assistant_id
        ) as stream:
            async for _ in stream:
                seen += 1
    assert seen == 3
    assert assistants_server.requests.count("POST", "/threads/*/runs") == 1


@pytest.mark.assistants_server(model=LONG_TEXT)
async def test_e2e_error_event_raises_after_the_events_before_it(
    assistants_server: Any, assistants_client: Any
) -> None:
    thread_id, assistant_id = await _thread_and_assistant(assistants_client)
    assistants_server.faults.add("POST", "/threads/*/runs", ErrorEvent(after_events=4))
    seen = 0
    with pytest.raises(errors.ServerStreamError) as info:
        async with assistants_client.threads.runs.stream(
            thread_id=thread_id, assistant_id=assistant_id
        ) as stream:
            async for _ in stream:
                seen += 1
    assert seen == 4
    assert info.value.code == "server_error"


@pytest.mark.assistants_server(model=LONG_TEXT)
async def test_e2e_keepalives_do_not_hide_an_idle_stream(
    assistants_server: Any, assistants_client: Any
) -> None:
    thread_id, assistant_id = await _thread_and_assistant(assistants_client)
    assistants_server.faults.add(
        "POST", "/threads/*/runs", KeepAliveOnly(after_events=2, interval=0.02, duration=5.0)
    )
    loop = asyncio.get_running_loop()
    with pytest.raises(errors.StreamIdleTimeoutError):
        async with assistants_client.threads.runs.stream(
            thread_id=thread_id, assistant_id=assistant_id, timeout=Timeout(event=0.2)
        ) as stream:
            async for _ in stream:
                started = loop.time()
    assert 0.18 <= loop.time() - started < 2.0


@pytest.mark.assistants_server(model=LONG_TEXT)
async def test_e2e_cancel_run_on_exit_cancels_on_the_server(
    assistants_server: Any, assistants_client: Any
) -> None:
    thread_id, assistant_id = await _thread_and_assistant(assistants_client)
    assistants_server.faults.add("POST", "/threads/*/runs", StallStream(after_events=3, seconds=5))
    async with assistants_client.threads.runs.stream(
        thread_id=thread_id, assistant_id=assistant_id, cancel_run_on_exit=True
    ) as stream:
        async for _ in stream:
            if stream.current_run is not None and stream.current_run.status == "in_progress":
                break
        run_id = stream.current_run.id
    run = await assistants_client.threads.runs.retrieve(run_id, thread_id=thread_id)
    assert run.status in ("cancelling", "cancelled")


async def test_openai_python_names_are_aliases() -> None:
    async with AssistantStream(Wire(HELLO).open) as stream:
        assert await stream.get_final_run() == await stream.final_run()
        assert await stream.get_final_messages() == await stream.final_messages()
        assert await stream.get_final_run_steps() == []
