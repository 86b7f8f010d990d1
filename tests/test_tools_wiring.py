"""`toolbox=` on the run helpers (resources wiring of the tool loop), against the loopback
server: every streamed and polled entry point answers tool calls until the run completes."""

from __future__ import annotations

from typing import Any

import anyio
import pytest

from assistants_async._client import AsyncAssistants
from assistants_async.streaming.handler import AsyncEventHandler
from assistants_async.testing import AssistantsServer
from assistants_async.tools import (
    Toolbox,
    ToolCallFinished,
    ToolRoundsExceededError,
    function_tool,
)
from assistants_async.types import Run


@function_tool
async def get_weather(city: str) -> str:
    return f"sunny in {city}"


@function_tool
def plan(step: int) -> str:
    return f'call plan {{"step": {step + 1}}}' if step < 2 else "planned"


TOOLBOX = Toolbox([get_weather, plan])
PROMPT = 'call get_weather {"city": "Oslo"}\ncall plan {"step": 1}'
EXPECTED = "plan returned: planned"


async def last_text(client: AsyncAssistants, thread_id: str) -> str:
    page = await client.threads.messages.list(thread_id, order="desc", limit=1)
    return page.data[0].content[0].text.value  # type: ignore[union-attr]


async def setup(client: AsyncAssistants) -> tuple[str, str]:
    assistant = await client.assistants.create(model="m", tools=TOOLBOX.definitions())
    thread = await client.threads.create(messages=[{"role": "user", "content": PROMPT}])
    return assistant.id, thread.id


async def test_runs_create_and_poll(assistants_client: AsyncAssistants) -> None:
    assistant_id, thread_id = await setup(assistants_client)
    run = await assistants_client.threads.runs.create_and_poll(
        thread_id=thread_id, assistant_id=assistant_id, toolbox=TOOLBOX
    )
    assert run.status == "completed"
    # Round 1 answers both calls; the plan output starts round 2, whose output ends it.
    assert await last_text(assistants_client, thread_id) == EXPECTED


async def test_runs_create_and_poll_without_toolbox_stops_at_requires_action(
    assistants_client: AsyncAssistants,
) -> None:
    assistant_id, thread_id = await setup(assistants_client)
    run = await assistants_client.threads.runs.create_and_poll(
        thread_id=thread_id, assistant_id=assistant_id
    )
    assert run.status == "requires_action"
    # submit_tool_outputs_and_poll(toolbox=) answers the first round by hand, then the rest.
    assert run.required_action is not None
    outputs = await TOOLBOX.outputs_for(run)
    run = await assistants_client.threads.runs.submit_tool_outputs_and_poll(
        tool_outputs=outputs, run_id=run.id, thread_id=thread_id, toolbox=TOOLBOX
    )
    assert run.status == "completed"
    assert await last_text(assistants_client, thread_id) == EXPECTED


async def test_threads_create_and_run_poll(assistants_client: AsyncAssistants) -> None:
    assistant = await assistants_client.assistants.create(model="m", tools=TOOLBOX.definitions())
    run = await assistants_client.threads.create_and_run_poll(
        assistant_id=assistant.id,
        thread={"messages": [{"role": "user", "content": PROMPT}]},
        toolbox=TOOLBOX,
    )
    assert run.status == "completed"
    assert await last_text(assistants_client, run.thread_id) == EXPECTED


class Hooks(AsyncEventHandler):
    def __init__(self) -> None:
        super().__init__()
        self.ended: list[ToolCallFinished] = []

    async def on_tool_end(self, info: ToolCallFinished) -> None:
        self.ended.append(info)


async def test_runs_stream(assistants_client: AsyncAssistants) -> None:
    assistant_id, thread_id = await setup(assistants_client)
    hooks = Hooks()
    async with assistants_client.threads.runs.stream(
        thread_id=thread_id, assistant_id=assistant_id, toolbox=TOOLBOX, event_handler=hooks
    ) as stream:
        text = "".join([t async for t in stream.text_deltas])
        run = await stream.final_run()
    assert run.status == "completed"
    assert text == EXPECTED
    assert [(i.name, i.run_id) for i in hooks.ended if i.name == "plan"] == [
        ("plan", run.id),
        ("plan", run.id),
    ]


async def test_threads_create_and_run_stream(assistants_client: AsyncAssistants) -> None:
    assistant = await assistants_client.assistants.create(model="m", tools=TOOLBOX.definitions())
    async with assistants_client.threads.create_and_run_stream(
        assistant_id=assistant.id,
        thread={"messages": [{"role": "user", "content": PROMPT}]},
        toolbox=TOOLBOX,
    ) as stream:
        await stream.until_done()
        run = await stream.final_run()
        messages = await stream.final_messages()
    assert run.status == "completed"
    assert messages[-1].content[0].text.value == EXPECTED  # type: ignore[union-attr]


async def test_submit_tool_outputs_stream(assistants_client: AsyncAssistants) -> None:
    assistant_id, thread_id = await setup(assistants_client)
    runs = assistants_client.threads.runs
    run = await runs.create_and_poll(thread_id=thread_id, assistant_id=assistant_id)
    outputs = await TOOLBOX.outputs_for(run)
    async with runs.submit_tool_outputs_stream(
        tool_outputs=outputs, run_id=run.id, thread_id=thread_id, toolbox=TOOLBOX
    ) as stream:
        final = await stream.final_run()
    assert final.status == "completed"
    assert await last_text(assistants_client, thread_id) == EXPECTED


@pytest.mark.parametrize("mode", ["stream", "poll"])
async def test_max_tool_rounds(
    assistants_client: AsyncAssistants, assistants_server: AssistantsServer, mode: str
) -> None:
    assistant_id, thread_id = await setup(assistants_client)
    runs = assistants_client.threads.runs
    with pytest.raises(ToolRoundsExceededError) as info:
        if mode == "poll":
            await runs.create_and_poll(
                thread_id=thread_id, assistant_id=assistant_id, toolbox=TOOLBOX, max_tool_rounds=1
            )
        else:
            async with runs.stream(
                thread_id=thread_id, assistant_id=assistant_id, toolbox=TOOLBOX, max_tool_rounds=1
            ) as stream:
                await stream.until_done()
    assert info.value.run.status == "requires_action"
    assert assistants_server.requests.count("POST", "/threads/*/runs/*/submit_tool_outputs") == 1


async def test_stream_cancel_run_on_exit_when_the_tool_loop_gives_up(
    assistants_client: AsyncAssistants,
) -> None:
    assistant_id, thread_id = await setup(assistants_client)
    runs = assistants_client.threads.runs
    with pytest.raises(ToolRoundsExceededError) as info:
        async with runs.stream(
            thread_id=thread_id,
            assistant_id=assistant_id,
            toolbox=TOOLBOX,
            max_tool_rounds=1,
            cancel_run_on_exit=True,
        ) as stream:
            await stream.until_done()
    run: Run = await runs.retrieve(info.value.run.id, thread_id=thread_id)
    assert run.status in ("cancelling", "cancelled")


async def test_cancelling_a_polled_tool_loop_cancels_the_tools(
    assistants_client: AsyncAssistants,
) -> None:
    started = anyio.Event()
    cancelled: list[bool] = []

    @function_tool
    async def hang() -> str:
        started.set()
        try:
            await anyio.Event().wait()
        except anyio.get_cancelled_exc_class():
            cancelled.append(True)
            raise
        return "unreachable"

    box = Toolbox([hang], timeout=None)
    assistant = await assistants_client.assistants.create(model="m", tools=box.definitions())
    thread = await assistants_client.threads.create(
        messages=[{"role": "user", "content": "call hang {}"}]
    )
    results: list[Any] = []

    async def consume() -> None:
        results.append(
            await assistants_client.threads.runs.create_and_poll(
                thread_id=thread.id, assistant_id=assistant.id, toolbox=box
            )
        )

    async with anyio.create_task_group() as tg:
        tg.start_soon(consume)
        with anyio.fail_after(10):
            await started.wait()
        tg.cancel_scope.cancel()
    assert cancelled == [True]
    assert results == []
