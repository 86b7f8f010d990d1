"""The requires_action loop: unit tests with fakes, then end to end against the loopback server
(whose default model turns `call NAME ARGS` lines into function calls and quotes the outputs),
through both the streaming continuation and the polling loop."""

from __future__ import annotations

import functools
from typing import Any, Literal

import anyio
import pytest

from assistants_async._client import AsyncAssistants
from assistants_async.streaming.handler import AsyncEventHandler
from assistants_async.streaming.stream import AssistantStream, Opener
from assistants_async.testing import AssistantsServer
from assistants_async.tools import (
    Toolbox,
    ToolCallFinished,
    ToolCallStarted,
    ToolOutput,
    ToolRoundsExceededError,
    function_tool,
    run_tool_loop,
    tool_continuation,
)
from assistants_async.types import Run

# --------------------------------------------------------------------------- unit: fakes


def make_run(
    status: str, *calls: tuple[str, str, str], action_type: str = "submit_tool_outputs"
) -> Run:
    data: dict[str, Any] = {
        "id": "run_1",
        "object": "thread.run",
        "created_at": 1,
        "thread_id": "thread_1",
        "assistant_id": "asst_1",
        "status": status,
        "model": "m",
    }
    if status == "requires_action":
        data["required_action"] = {
            "type": action_type,
            "submit_tool_outputs": {
                "tool_calls": [
                    {"id": cid, "type": "function", "function": {"name": n, "arguments": a}}
                    for cid, n, a in calls
                ]
            },
        }
    return Run.model_validate(data)


@function_tool
def echo(text: str) -> str:
    return text


class FakeServer:
    """Answers each submission with the next scripted run and records what was submitted."""

    def __init__(self, *runs: Run) -> None:
        self.runs = list(runs)
        self.submitted: list[list[ToolOutput]] = []

    async def submit_and_poll(self, run: Run, outputs: list[ToolOutput]) -> Run:
        self.submitted.append(outputs)
        return self.runs.pop(0)


async def test_polling_loop_answers_until_the_run_moves_on() -> None:
    first = make_run("requires_action", ("c1", "echo", '{"text": "a"}'))
    second = make_run("requires_action", ("c2", "echo", '{"text": "b"}'), ("c3", "nope", "{}"))
    server = FakeServer(second, make_run("completed"))
    final = await run_tool_loop(first, Toolbox([echo]), submit_and_poll=server.submit_and_poll)
    assert final.status == "completed"
    assert server.submitted == [
        [{"tool_call_id": "c1", "output": "a"}],
        [
            {"tool_call_id": "c2", "output": "b"},
            {
                "tool_call_id": "c3",
                "output": "Error: there is no tool named 'nope'. Available tools: echo.",
            },
        ],
    ]


async def test_polling_loop_leaves_other_runs_alone() -> None:
    server = FakeServer()
    for run in (
        make_run("completed"),
        make_run("failed"),
        make_run("requires_action", ("c", "echo", "{}"), action_type="some_future_action"),
    ):
        assert (
            await run_tool_loop(run, Toolbox([echo]), submit_and_poll=server.submit_and_poll) is run
        )
    assert server.submitted == []


async def test_polling_loop_stops_after_max_rounds() -> None:
    asking = make_run("requires_action", ("c", "echo", '{"text": "again"}'))
    server = FakeServer(asking, asking, asking)
    with pytest.raises(ToolRoundsExceededError) as info:
        await run_tool_loop(
            asking, Toolbox([echo]), submit_and_poll=server.submit_and_poll, max_rounds=2
        )
    assert len(server.submitted) == 2
    assert info.value.rounds == 2
    assert info.value.run.status == "requires_action"
    assert "run_1" in str(info.value) and "2 rounds" in str(info.value)
    with pytest.raises(ToolRoundsExceededError):
        await run_tool_loop(
            asking, Toolbox([echo]), submit_and_poll=server.submit_and_poll, max_rounds=0
        )
    with pytest.raises(ValueError, match="max_rounds"):
        await run_tool_loop(
            asking, Toolbox([echo]), submit_and_poll=server.submit_and_poll, max_rounds=-1
        )


class FakeStream:
    def __init__(self, event_handler: object = None) -> None:
        self.event_handler = event_handler


async def test_continuation_returns_the_submit_opener_and_counts_rounds() -> None:
    submitted: list[tuple[str, list[ToolOutput]]] = []

    def submit(run: Run, outputs: list[ToolOutput]) -> Opener:
        submitted.append((run.id, outputs))

        async def opener() -> Any:
            raise AssertionError("not opened in this test")

        return opener

    class Handler:
        def __init__(self) -> None:
            self.seen: list[object] = []

        async def on_tool_start(self, info: ToolCallStarted) -> None:
            self.seen.append(info)

        async def on_tool_end(self, info: ToolCallFinished) -> None:
            self.seen.append(info)

    handler = Handler()
    cont = tool_continuation(None, Toolbox([echo]), submit=submit, max_rounds=1)
    run = make_run("requires_action", ("c1", "echo", '{"text": "x"}'))
    stream: Any = FakeStream(handler)
    assert await cont(stream, run) is not None
    assert submitted == [("run_1", [{"tool_call_id": "c1", "output": "x"}])]
    assert [type(x) for x in handler.seen] == [ToolCallStarted, ToolCallFinished]
    assert await cont(stream, make_run("completed")) is None
    with pytest.raises(ToolRoundsExceededError):
        await cont(stream, run)
    with pytest.raises(ValueError, match="client or a submit"):
        tool_continuation(None, Toolbox())


# --------------------------------------------------------------------------- end to end

Mode = Literal["stream", "poll"]
MODES: list[Mode] = ["stream", "poll"]


async def drive(
    client: AsyncAssistants,
    toolbox: Toolbox,
    user_text: str,
    mode: Mode,
    *,
    max_rounds: int = 10,
    event_handler: AsyncEventHandler | None = None,
) -> tuple[Run, str]:
    """Create an assistant with the toolbox's tools and a thread, run it with the tool loop;
    return the final run and the text of the last assistant message."""
    assistant = await client.assistants.create(model="loopback", tools=toolbox.definitions())
    thread = await client.threads.create(messages=[{"role": "user", "content": user_text}])
    if mode == "stream":
        stream: AssistantStream[AsyncEventHandler] = AssistantStream(
            functools.partial(
                client._request_stream,
                "POST",
                f"/threads/{thread.id}/runs",
                body={"assistant_id": assistant.id, "stream": True},
            ),
            event_handler=event_handler,
            continuation=tool_continuation(client, toolbox, max_rounds=max_rounds),
        )
        async with stream:
            run = await stream.final_run()
            messages = await stream.final_messages()
        text = messages[-1].content[0].text.value if messages else ""  # type: ignore[union-attr]
        return run, text
    runs = client.threads.runs
    run = await runs.create_and_poll(thread_id=thread.id, assistant_id=assistant.id)
    run = await run_tool_loop(
        run,
        toolbox,
        max_rounds=max_rounds,
        submit_and_poll=lambda r, outputs: runs.submit_tool_outputs_and_poll(
            tool_outputs=[dict(o) for o in outputs], run_id=r.id, thread_id=r.thread_id
        ),
    )
    page = await client.threads.messages.list(thread.id, order="desc", limit=1)
    text = page.data[0].content[0].text.value  # type: ignore[union-attr]
    return run, text


@function_tool
async def get_weather(city: str, unit: Literal["c", "f"] = "c") -> str:
    """Current weather for a city."""
    return f"sunny, 21 {unit} in {city}"


@pytest.mark.parametrize("mode", MODES)
async def test_single_call(
    assistants_client: AsyncAssistants, assistants_server: AssistantsServer, mode: Mode
) -> None:
    run, text = await drive(
        assistants_client, Toolbox([get_weather]), 'call get_weather {"city": "Paris"}', mode
    )
    assert run.status == "completed"
    assert text == "get_weather returned: sunny, 21 c in Paris"
    submissions = assistants_server.requests.matching(
        "POST", "/threads/*/runs/*/submit_tool_outputs"
    )
    assert len(submissions) == 1
    body = submissions[0].json()
    assert body["tool_outputs"] == [
        {"tool_call_id": body["tool_outputs"][0]["tool_call_id"], "output": "sunny, 21 c in Paris"}
    ]
    assert body.get("stream", False) is (mode == "stream")


@pytest.mark.parametrize("mode", MODES)
async def test_parallel_calls_run_concurrently(
    assistants_client: AsyncAssistants, mode: Mode
) -> None:
    a_started, b_started = anyio.Event(), anyio.Event()

    @function_tool
    async def left() -> str:
        a_started.set()
        await b_started.wait()
        return "L"

    @function_tool
    async def right() -> str:
        b_started.set()
        await a_started.wait()
        return "R"

    toolbox = Toolbox([left, right, get_weather], timeout=10)
    with anyio.fail_after(20):
        run, text = await drive(
            assistants_client,
            toolbox,
            'call left {}\ncall right {}\ncall get_weather {"city": "Oslo", "unit": "f"}',
            mode,
        )
    assert run.status == "completed"
    assert text.splitlines() == [
        "left returned: L",
        "right returned: R",
        "get_weather returned: sunny, 21 f in Oslo",
    ]


@pytest.mark.parametrize("mode", MODES)
async def test_several_rounds(
    assistants_client: AsyncAssistants, assistants_server: AssistantsServer, mode: Mode
) -> None:
    @function_tool
    def plan(step: int) -> str:
        # An output with a `call` line makes the loopback model start another round.
        return f'call plan {{"step": {step + 1}}}' if step < 3 else "all 3 steps done"

    run, text = await drive(assistants_client, Toolbox([plan]), 'call plan {"step": 1}', mode)
    assert run.status == "completed"
    assert text == "plan returned: all 3 steps done"
    assert assistants_server.requests.count("POST", "/threads/*/runs/*/submit_tool_outputs") == 3


@pytest.mark.parametrize("mode", MODES)
async def test_failures_become_outputs_the_model_reads(
    assistants_client: AsyncAssistants, mode: Mode
) -> None:
    never = anyio.Event()

    @function_tool
    async def boom(x: int) -> str:
        raise ValueError(f"cannot handle {x}")

    @function_tool(timeout=0.05)
    async def slow() -> str:
        await never.wait()
        return "unreachable"

    lines = [
        'call boom {"x": 3}',
        "call slow {}",
        "call get_weather {not json",
        'call get_weather {"town": "Rome"}',
        "call missing {}",
        'call get_weather {"city": "Rome"}',
    ]
    run, text = await drive(
        assistants_client, Toolbox([boom, slow, get_weather]), "\n".join(lines), mode
    )
    assert run.status == "completed"
    out = text.splitlines()
    assert out[0] == "boom returned: Error: tool 'boom' raised ValueError: cannot handle 3"
    assert out[1] == "slow returned: Error: tool 'slow' timed out after 0.05 s."
    assert out[2].startswith(
        "get_weather returned: Error: invalid arguments for tool 'get_weather': not valid JSON"
    )
    assert out[3] == (
        "get_weather returned: Error: invalid arguments for tool 'get_weather': "
        "city: Field required; town: Extra inputs are not permitted. "
        "Fix them and call the tool again."
    )
    assert (
        out[4] == "missing returned: Error: there is no tool named 'missing'. "
        "Available tools: boom, slow, get_weather."
    )
    assert out[5] == "get_weather returned: sunny, 21 c in Rome"


@pytest.mark.parametrize("mode", MODES)
async def test_max_rounds_raises_and_leaves_the_run(
    assistants_client: AsyncAssistants, assistants_server: AssistantsServer, mode: Mode
) -> None:
    @function_tool
    def forever() -> str:
        return "call forever {}"

    with pytest.raises(ToolRoundsExceededError) as info:
        await drive(assistants_client, Toolbox([forever]), "call forever {}", mode, max_rounds=2)
    assert info.value.rounds == 2
    assert info.value.run.status == "requires_action"
    assert assistants_server.requests.count("POST", "/threads/*/runs/*/submit_tool_outputs") == 2
    run = await assistants_client.threads.runs.retrieve(
        info.value.run.id, thread_id=info.value.run.thread_id
    )
    assert run.status == "requires_action"


class ToolWatcher(AsyncEventHandler):
    """A stream handler implementing the optional tool hooks."""

    def __init__(self) -> None:
        super().__init__()
        self.log: list[str] = []
        self.infos: list[ToolCallStarted | ToolCallFinished] = []

    async def on_tool_call_created(self, tool_call: Any) -> None:
        self.log.append(f"created:{tool_call.id}")

    async def on_tool_start(self, info: ToolCallStarted) -> None:
        self.log.append(f"start:{info.call_id}")
        self.infos.append(info)

    async def on_tool_end(self, info: ToolCallFinished) -> None:
        self.log.append(f"end:{info.call_id}:{info.status}")
        self.infos.append(info)


async def test_stream_handler_hooks_and_one_stream_across_rounds(
    assistants_client: AsyncAssistants,
) -> None:
    toolbox = Toolbox([get_weather])
    assistant = await assistants_client.assistants.create(
        model="loopback", tools=toolbox.definitions()
    )
    thread = await assistants_client.threads.create(
        messages=[{"role": "user", "content": 'call get_weather {"city": "Lima"}\ncall nope {}'}]
    )
    watcher = ToolWatcher()
    stream = AssistantStream(
        functools.partial(
            assistants_client._request_stream,
            "POST",
            f"/threads/{thread.id}/runs",
            body={"assistant_id": assistant.id, "stream": True},
        ),
        event_handler=watcher,
        continuation=tool_continuation(assistants_client, toolbox),
    )
    names: list[str] = []
    async with stream:
        async for event in stream:
            names.append(event.event)
        run = await stream.final_run()
        steps = await stream.final_run_steps()
    # One iteration saw the first response up to requires_action, then the continuation.
    assert names.index("thread.run.requires_action") < names.index("thread.run.completed")
    assert names[-1] == "thread.run.completed"
    assert run.status == "completed"
    started = [i for i in watcher.infos if isinstance(i, ToolCallStarted)]
    finished = [i for i in watcher.infos if isinstance(i, ToolCallFinished)]
    assert {i.run_id for i in watcher.infos} == {run.id}
    assert {i.thread_id for i in watcher.infos} == {thread.id}
    assert [i.name for i in started] == ["get_weather", "nope"]
    assert sorted((i.name, i.status) for i in finished) == [
        ("get_weather", "ok"),
        ("nope", "unknown_tool"),
    ]
    # Each call was announced by the stream before the tool ran.
    for info in started:
        assert watcher.log.index(f"created:{info.call_id}") < watcher.log.index(
            f"start:{info.call_id}"
        )
    # The tool_calls step was completed by the server with the outputs we sent.
    tool_step = next(s for s in steps if s.step_details.type == "tool_calls")
    outputs = [c.function.output for c in tool_step.step_details.tool_calls]  # type: ignore[union-attr]
    assert outputs[0] == "sunny, 21 c in Lima"
    assert str(outputs[1]).startswith("Error: there is no tool named 'nope'")


async def test_cancelling_the_consumer_cancels_running_tools(
    assistants_client: AsyncAssistants,
) -> None:
    started = anyio.Event()
    cancelled: list[bool] = []

    @function_tool
    async def wait_forever() -> str:
        started.set()
        try:
            await anyio.Event().wait()
        except anyio.get_cancelled_exc_class():
            cancelled.append(True)
            raise
        return "unreachable"

    toolbox = Toolbox([wait_forever], timeout=None)
    finished: list[Run] = []

    async def consume() -> None:
        run, _ = await drive(assistants_client, toolbox, "call wait_forever {}", "stream")
        finished.append(run)

    async with anyio.create_task_group() as tg:
        tg.start_soon(consume)
        with anyio.fail_after(10):
            await started.wait()
        tg.cancel_scope.cancel()
    assert cancelled == [True]
    assert finished == []
