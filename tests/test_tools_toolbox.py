"""Toolbox execution: concurrency, limits, timeouts, errors as outputs, ordering, hooks,
cancellation. No network; no sleeps used for synchronisation."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from typing import Any, Literal

import anyio
import anyio.lowlevel
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assistants_async.tools import (
    Tool,
    Toolbox,
    ToolCallFinished,
    ToolCallStarted,
    function_tool,
)
from assistants_async.types import RequiredActionFunctionToolCall, Run


def call(call_id: str, name: str, arguments: object = "{}") -> dict[str, Any]:
    args = arguments if isinstance(arguments, str) else json.dumps(arguments)
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": args}}


def requires_action_run(*calls: dict[str, Any]) -> Run:
    return Run.model_validate(
        {
            "id": "run_1",
            "object": "thread.run",
            "created_at": 1,
            "thread_id": "thread_1",
            "assistant_id": "asst_1",
            "status": "requires_action",
            "model": "m",
            "required_action": {
                "type": "submit_tool_outputs",
                "submit_tool_outputs": {"tool_calls": list(calls)},
            },
        }
    )


class FakeClock:
    """Advances by one second per reading, so durations are exact."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


@function_tool
def echo(text: str) -> str:
    return text


# --------------------------------------------------------------------------- the set


def test_definitions_and_membership() -> None:
    def plain(x: int) -> int:
        """Plain function, wrapped on add."""
        return x

    box = Toolbox([echo, plain])
    assert len(box) == 2
    assert box.names == ["echo", "plain"]
    assert "plain" in box and "nope" not in box
    assert isinstance(box["plain"], Tool)
    assert box.get("nope") is None
    assert [t.name for t in box] == ["echo", "plain"]
    assert box.definitions() == [echo.definition(), box["plain"].definition()]
    assert box.definitions()[1]["function"]["description"] == "Plain function, wrapped on add."
    assert repr(box) == "Toolbox(['echo', 'plain'])"


def test_duplicate_names_and_bad_settings_are_rejected() -> None:
    with pytest.raises(ValueError, match="already in this toolbox"):
        Toolbox([echo, Tool.from_function(echo.function)])
    with pytest.raises(ValueError, match="timeout"):
        Toolbox(timeout=0)
    with pytest.raises(ValueError, match="max_concurrency"):
        Toolbox(max_concurrency=0)


# --------------------------------------------------------------------------- concurrency


async def test_async_tools_run_concurrently_rendezvous() -> None:
    a_started, b_started = anyio.Event(), anyio.Event()

    @function_tool
    async def tool_a() -> str:
        a_started.set()
        await b_started.wait()  # only returns if tool_b runs at the same time
        return "a"

    @function_tool
    async def tool_b() -> str:
        b_started.set()
        await a_started.wait()
        return "b"

    box = Toolbox([tool_a, tool_b], timeout=10)
    with anyio.fail_after(10):
        outputs = await box.run_calls([call("1", "tool_a"), call("2", "tool_b")])
    assert outputs == [{"tool_call_id": "1", "output": "a"}, {"tool_call_id": "2", "output": "b"}]


async def test_sync_tools_run_concurrently_in_threads_rendezvous() -> None:
    barrier = threading.Barrier(2, timeout=10)
    main_thread = threading.get_ident()
    threads: list[int] = []

    @function_tool
    def left() -> str:
        threads.append(threading.get_ident())
        barrier.wait()  # raises BrokenBarrierError unless `right` is running concurrently
        return "L"

    @function_tool
    def right() -> str:
        threads.append(threading.get_ident())
        barrier.wait()
        return "R"

    outputs = await Toolbox([left, right], timeout=20).run_calls(
        [call("1", "left"), call("2", "right")]
    )
    assert [o["output"] for o in outputs] == ["L", "R"]
    assert main_thread not in threads and len(set(threads)) == 2


async def _peak_concurrency(max_concurrency: int | None, calls: int) -> int:
    active = 0
    peak = 0

    @function_tool
    async def busy() -> str:
        nonlocal active, peak
        active += 1
        peak = max(peak, active)
        for _ in range(5):  # yield to the loop so every unblocked sibling can start
            await anyio.lowlevel.checkpoint()
        active -= 1
        return "done"

    box = Toolbox([busy], max_concurrency=max_concurrency)
    outputs = await box.run_calls([call(str(i), "busy") for i in range(calls)])
    assert [o["output"] for o in outputs] == ["done"] * calls
    return peak


async def test_max_concurrency_bounds_running_calls() -> None:
    assert await _peak_concurrency(None, 6) == 6  # without a limit all six overlap
    assert await _peak_concurrency(2, 6) == 2
    assert await _peak_concurrency(1, 6) == 1


async def test_the_limit_is_shared_by_concurrent_batches() -> None:
    active = 0
    peak = 0

    @function_tool
    async def busy() -> str:
        nonlocal active, peak
        active += 1
        peak = max(peak, active)
        for _ in range(5):
            await anyio.lowlevel.checkpoint()
        active -= 1
        return "ok"

    box = Toolbox([busy], max_concurrency=3)
    async with anyio.create_task_group() as tg:
        for run in range(3):
            tg.start_soon(box.run_calls, [call(f"{run}-{i}", "busy") for i in range(3)])
    assert peak == 3


# --------------------------------------------------------------------------- order


async def test_outputs_follow_call_order_even_when_tools_finish_in_reverse() -> None:
    finished: list[str] = []
    gates = {name: anyio.Event() for name in ("1", "2", "3")}

    @function_tool
    async def step(n: str) -> str:
        # Call n waits for call n+1 to finish: completion order is 3, 2, 1.
        nxt = str(int(n) + 1)
        if nxt in gates:
            await gates[nxt].wait()
        finished.append(n)
        gates[n].set()
        return f"out{n}"

    outputs = await Toolbox([step]).run_calls(
        [
            call("c1", "step", {"n": "1"}),
            call("c2", "step", {"n": "2"}),
            call("c3", "step", {"n": "3"}),
        ]
    )
    assert finished == ["3", "2", "1"]
    assert outputs == [
        {"tool_call_id": "c1", "output": "out1"},
        {"tool_call_id": "c2", "output": "out2"},
        {"tool_call_id": "c3", "output": "out3"},
    ]


async def test_no_calls_gives_no_outputs() -> None:
    assert await Toolbox([echo]).run_calls([]) == []


# --------------------------------------------------------------------------- timeouts


async def test_tool_timeout_becomes_an_error_output_and_siblings_finish() -> None:
    never = anyio.Event()

    @function_tool(timeout=0.05)
    async def hang() -> str:
        await never.wait()
        return "unreachable"

    box = Toolbox([hang, echo], timeout=None)
    ends: list[ToolCallFinished] = []
    box.on_tool_end = ends.append
    outputs = await box.run_calls([call("1", "hang"), call("2", "echo", {"text": "hi"})])
    assert outputs == [
        {"tool_call_id": "1", "output": "Error: tool 'hang' timed out after 0.05 s."},
        {"tool_call_id": "2", "output": "hi"},
    ]
    by_id = {e.call_id: e for e in ends}
    assert by_id["1"].status == "timeout" and not by_id["1"].ok
    assert by_id["1"].error == outputs[0]["output"]
    assert by_id["2"].ok and by_id["2"].error is None


async def test_toolbox_timeout_applies_when_the_tool_sets_none() -> None:
    never = anyio.Event()

    @function_tool
    async def hang() -> str:
        await never.wait()
        return "unreachable"

    outputs = await Toolbox([hang], timeout=0.05).run_calls([call("1", "hang")])
    assert outputs[0]["output"] == "Error: tool 'hang' timed out after 0.05 s."


async def test_sync_tool_timeout_releases_the_run() -> None:
    release = threading.Event()

    @function_tool(timeout=0.05)
    def blocking() -> str:
        release.wait(30)
        return "late"

    try:
        outputs = await Toolbox([blocking]).run_calls([call("1", "blocking")])
    finally:
        release.set()  # let the abandoned worker thread finish
    assert outputs[0]["output"] == "Error: tool 'blocking' timed out after 0.05 s."


async def test_a_timeout_error_raised_by_the_tool_is_its_error_not_ours() -> None:
    @function_tool
    async def flaky() -> str:
        raise TimeoutError("upstream API timed out")

    ends: list[ToolCallFinished] = []
    outputs = await Toolbox([flaky], on_tool_end=ends.append).run_calls([call("1", "flaky")])
    assert outputs[0]["output"] == "Error: tool 'flaky' raised TimeoutError: upstream API timed out"
    assert ends[0].status == "error"


# --------------------------------------------------------------------------- errors


async def test_exceptions_become_error_outputs_and_are_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    @function_tool
    async def boom(x: int) -> str:
        raise ValueError(f"bad x={x}")

    @function_tool
    def sync_boom() -> str:
        raise KeyError("k")

    ends: list[ToolCallFinished] = []
    box = Toolbox([boom, sync_boom, echo], on_tool_end=ends.append)
    with caplog.at_level(logging.WARNING, logger="assistants_async.tools"):
        outputs = await box.run_calls(
            [call("1", "boom", {"x": 7}), call("2", "sync_boom"), call("3", "echo", {"text": "ok"})]
        )
    assert [o["output"] for o in outputs] == [
        "Error: tool 'boom' raised ValueError: bad x=7",
        "Error: tool 'sync_boom' raised KeyError: 'k'",
        "ok",
    ]
    by_id = {e.call_id: e for e in ends}
    assert isinstance(by_id["1"].exception, ValueError)
    assert isinstance(by_id["2"].exception, KeyError)
    assert by_id["3"].exception is None
    # Completion order is not specified; both failures are logged once each, one line each.
    warnings = sorted(r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)
    assert warnings == [
        "tool 'boom' (call 1) failed: Error: tool 'boom' raised ValueError: bad x=7",
        "tool 'sync_boom' (call 2) failed: Error: tool 'sync_boom' raised KeyError: 'k'",
    ]
    assert all(r.exc_info is None for r in caplog.records if r.levelno == logging.WARNING)


async def test_bad_arguments_unknown_tools_and_other_call_types() -> None:
    ends: list[ToolCallFinished] = []
    box = Toolbox([echo], on_tool_end=ends.append)
    outputs = await box.run_calls(
        [
            call("1", "echo", "{not json"),
            call("2", "echo", {"text": 5}),
            call("3", "nope", {}),
            {"id": "4", "type": "retrieval", "retrieval": {}},
            call("5", "echo", {"text": "fine"}),
        ]
    )
    texts = [o["output"] for o in outputs]
    assert texts[0].startswith("Error: invalid arguments for tool 'echo': not valid JSON (")
    assert texts[0].endswith("Fix them and call the tool again.")
    assert texts[1] == (
        "Error: invalid arguments for tool 'echo': text: Input should be a valid string. "
        "Fix them and call the tool again."
    )
    assert texts[2] == "Error: there is no tool named 'nope'. Available tools: echo."
    assert texts[3] == "Error: there is no tool named '<retrieval>'. Available tools: echo."
    assert texts[4] == "fine"
    assert [o["tool_call_id"] for o in outputs] == ["1", "2", "3", "4", "5"]
    statuses = {e.call_id: e.status for e in ends}
    assert statuses == {
        "1": "invalid_arguments",
        "2": "invalid_arguments",
        "3": "unknown_tool",
        "4": "unknown_tool",
        "5": "ok",
    }


async def test_unserialisable_result_is_an_error_output() -> None:
    @function_tool
    def weird() -> object:
        return object()

    outputs = await Toolbox([weird]).run_calls([call("1", "weird")])
    assert outputs[0]["output"].startswith("Error: tool 'weird' raised PydanticSerializationError")


async def test_return_values_are_serialised() -> None:
    @function_tool
    async def data() -> dict[str, Any]:
        return {"temp": 21.5, "tags": ["a"]}

    @function_tool
    def nothing() -> None:
        return None

    outputs = await Toolbox([data, nothing]).run_calls([call("1", "data"), call("2", "nothing")])
    assert [o["output"] for o in outputs] == ['{"temp":21.5,"tags":["a"]}', "null"]


# --------------------------------------------------------------------------- runs and hooks


async def test_outputs_for_a_run_and_hooks_get_ids_and_durations() -> None:
    events: list[object] = []

    async def async_start(info: ToolCallStarted) -> None:
        events.append(("start", info))

    class Observer:
        """Like an AsyncEventHandler subclass implementing the optional hooks."""

        def __init__(self) -> None:
            self.seen: list[object] = []

        async def on_tool_start(self, info: ToolCallStarted) -> None:
            self.seen.append(info)

        def on_tool_end(self, info: ToolCallFinished) -> None:
            self.seen.append(info)

    observer = Observer()
    box = Toolbox([echo], on_tool_start=async_start, on_tool_end=events.append, clock=FakeClock())
    run = requires_action_run(call("call_a", "echo", {"text": "x"}))
    outputs = await box.outputs_for(run, hooks=[observer, object()])
    assert outputs == [{"tool_call_id": "call_a", "output": "x"}]
    assert events[0] == (
        "start",
        ToolCallStarted("echo", "call_a", '{"text": "x"}', "run_1", "thread_1"),
    )
    finished = events[1]
    assert isinstance(finished, ToolCallFinished)
    assert (finished.name, finished.call_id, finished.run_id, finished.thread_id) == (
        "echo",
        "call_a",
        "run_1",
        "thread_1",
    )
    assert finished.duration == 1.0  # two clock readings, one second apart
    assert finished.output == "x" and finished.ok
    assert [type(x).__name__ for x in observer.seen] == ["ToolCallStarted", "ToolCallFinished"]


async def test_model_tool_calls_are_accepted() -> None:
    calls = [
        RequiredActionFunctionToolCall.model_validate(call("1", "echo", {"text": "m"})),
    ]
    assert await Toolbox([echo]).run_calls(calls) == [{"tool_call_id": "1", "output": "m"}]


async def test_a_run_without_required_action_needs_no_outputs() -> None:
    run = requires_action_run().model_copy(update={"required_action": None})
    assert await Toolbox([echo]).outputs_for(run) == []


async def test_failing_hooks_are_logged_and_change_nothing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def bad_hook(info: object) -> None:
        raise RuntimeError("observer bug")

    box = Toolbox([echo], on_tool_start=bad_hook, on_tool_end=bad_hook)
    with caplog.at_level(logging.ERROR, logger="assistants_async.tools"):
        outputs = await box.run_calls([call("1", "echo", {"text": "still"})])
    assert outputs == [{"tool_call_id": "1", "output": "still"}]
    assert sum("raised" in r.getMessage() for r in caplog.records) == 2


async def test_tool_context_carries_the_run() -> None:
    from assistants_async.tools import ToolContext

    @function_tool
    def where(ctx: ToolContext) -> list[str | None]:
        return [ctx.tool_name, ctx.call_id, ctx.run_id, ctx.thread_id]

    run = requires_action_run(call("c9", "where"))
    outputs = await Toolbox([where]).outputs_for(run)
    assert json.loads(outputs[0]["output"]) == ["where", "c9", "run_1", "thread_1"]


# --------------------------------------------------------------------------- cancellation


async def test_cancelling_the_caller_cancels_running_tools() -> None:
    started = anyio.Event()
    cancelled: list[str] = []

    @function_tool
    async def slow(tag: str) -> str:
        started.set()
        try:
            await anyio.Event().wait()
        except anyio.get_cancelled_exc_class():
            cancelled.append(tag)
            raise
        return "unreachable"

    box = Toolbox([slow], timeout=None)
    returned: list[object] = []

    async def consumer() -> None:
        returned.append(
            await box.run_calls([call("1", "slow", {"tag": "a"}), call("2", "slow", {"tag": "b"})])
        )

    async with anyio.create_task_group() as tg:
        tg.start_soon(consumer)
        await started.wait()
        tg.cancel_scope.cancel()
    assert sorted(cancelled) == ["a", "b"]
    assert returned == []


async def test_asyncio_task_cancel_propagates_cancelled_error() -> None:
    started = asyncio.Event()

    @function_tool
    async def slow() -> str:
        started.set()
        await asyncio.Event().wait()
        return "unreachable"

    task = asyncio.ensure_future(Toolbox([slow], timeout=None).run_calls([call("1", "slow")]))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


# --------------------------------------------------------------------------- property

CallKind = Literal["ok", "raise", "bad_json", "invalid", "unknown", "timeout"]


@given(
    st.lists(
        st.sampled_from(["ok", "raise", "bad_json", "invalid", "unknown", "timeout"]), max_size=8
    )
)
@settings(max_examples=40, deadline=None)
async def test_every_call_gets_exactly_one_output_in_order(kinds: list[CallKind]) -> None:
    never = anyio.Event()

    @function_tool
    async def work(n: int) -> str:
        if n < 0:
            raise RuntimeError(f"negative {n}")
        return f"ok{n}"

    @function_tool(timeout=0.01)
    async def stuck() -> str:
        await never.wait()
        return "unreachable"

    arguments = {
        "ok": ("work", '{"n": %d}'),
        "raise": ("work", '{"n": -%d}'),
        "bad_json": ("work", "{%d"),
        "invalid": ("work", '{"n": "x%d"}'),
        "unknown": ("other", "{}"),
        "timeout": ("stuck", "{}"),
    }
    expected_status = {
        "ok": "ok",
        "raise": "error",
        "bad_json": "invalid_arguments",
        "invalid": "invalid_arguments",
        "unknown": "unknown_tool",
        "timeout": "timeout",
    }
    calls = []
    for i, kind in enumerate(kinds):
        name, template = arguments[kind]
        calls.append(call(f"id{i}", name, template % (i + 1) if "%d" in template else template))
    ends: list[ToolCallFinished] = []
    outputs = await Toolbox([work, stuck], on_tool_end=ends.append).run_calls(calls)
    assert [o["tool_call_id"] for o in outputs] == [f"id{i}" for i in range(len(kinds))]
    status = {e.call_id: e.status for e in ends}
    assert len(ends) == len(kinds)
    for i, (kind, out) in enumerate(zip(kinds, outputs, strict=True)):
        assert status[f"id{i}"] == expected_status[kind]
        assert out["output"] == (f"ok{i + 1}" if kind == "ok" else out["output"])
        assert out["output"].startswith("Error: ") is (kind != "ok")
