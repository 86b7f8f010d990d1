"""The official openai SDK, unchanged, against the loopback server: proof it speaks the protocol."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from assistants_async.testing import AssistantsServer, ScriptedModel, Text

openai = pytest.importorskip("openai")

pytestmark = [
    pytest.mark.peer,
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
]


@pytest.fixture
async def server() -> AsyncIterator[AssistantsServer]:
    async with AssistantsServer(step_delay=0.001, poll_after_ms=5) as server:
        yield server


@pytest.fixture
async def client(server: AssistantsServer) -> AsyncIterator[openai.AsyncOpenAI]:
    client = openai.AsyncOpenAI(api_key="sk-test", base_url=server.url, max_retries=0)
    try:
        yield client
    finally:
        await client.close()


async def test_crud_and_create_and_poll(client: openai.AsyncOpenAI) -> None:
    assistant = await client.beta.assistants.create(model="gpt-4o", name="Echo")
    thread = await client.beta.threads.create()
    await client.beta.threads.messages.create(thread.id, role="user", content="hello there")
    run = await client.beta.threads.runs.create_and_poll(
        thread_id=thread.id, assistant_id=assistant.id, poll_interval_ms=5
    )
    assert run.status == "completed"
    assert run.usage is not None and run.usage.total_tokens > 0
    messages = await client.beta.threads.messages.list(thread.id, order="asc")
    assert [m.role for m in messages.data] == ["user", "assistant"]
    reply = messages.data[1].content[0]
    assert reply.type == "text" and "hello there" in reply.text.value
    steps = await client.beta.threads.runs.steps.list(run_id=run.id, thread_id=thread.id)
    assert steps.data[0].step_details.type == "message_creation"
    deleted = await client.beta.assistants.delete(assistant.id)
    assert deleted.deleted is True


async def test_pagination_with_the_sdk_pager(client: openai.AsyncOpenAI) -> None:
    ids = [(await client.beta.assistants.create(model="gpt-4o")).id for _ in range(5)]
    seen = [a.id async for a in client.beta.assistants.list(limit=2, order="asc")]
    assert seen == ids


async def test_stream_with_event_handler(client: openai.AsyncOpenAI) -> None:
    assistant = await client.beta.assistants.create(model="gpt-4o")
    thread = await client.beta.threads.create(
        messages=[{"role": "user", "content": "stream me please"}]
    )
    deltas: list[str] = []

    class Handler(openai.AsyncAssistantEventHandler):
        async def on_text_delta(self, delta, snapshot):  # type: ignore[no-untyped-def]
            deltas.append(delta.value or "")

    async with client.beta.threads.runs.stream(
        thread_id=thread.id, assistant_id=assistant.id, event_handler=Handler()
    ) as stream:
        await stream.until_done()
        final = await stream.get_final_run()
        messages = await stream.get_final_messages()
    assert final.status == "completed"
    assert len(deltas) > 2
    assert "".join(deltas) == messages[0].content[0].text.value  # type: ignore[union-attr]
    assert "stream me please" in "".join(deltas)


async def test_submit_tool_outputs_stream(client: openai.AsyncOpenAI) -> None:
    assistant = await client.beta.assistants.create(model="gpt-4o")
    thread = await client.beta.threads.create(
        messages=[{"role": "user", "content": 'call get_weather {"city": "Paris"}\ncall now {}'}]
    )
    async with client.beta.threads.runs.stream(
        thread_id=thread.id, assistant_id=assistant.id
    ) as stream:
        await stream.until_done()
        run = await stream.get_final_run()
    assert run.status == "requires_action"
    assert run.required_action is not None
    calls = run.required_action.submit_tool_outputs.tool_calls
    assert [(c.function.name, c.function.arguments) for c in calls] == [
        ("get_weather", '{"city": "Paris"}'),
        ("now", "{}"),
    ]
    outputs = [{"tool_call_id": c.id, "output": f"out-{c.function.name}"} for c in calls]
    async with client.beta.threads.runs.submit_tool_outputs_stream(
        thread_id=thread.id, run_id=run.id, tool_outputs=outputs
    ) as stream:
        text = "".join([delta async for delta in stream.text_deltas])
        final = await stream.get_final_run()
    assert final.status == "completed"
    assert text == "get_weather returned: out-get_weather\nnow returned: out-now"
    steps = await client.beta.threads.runs.steps.list(run_id=run.id, thread_id=thread.id)
    tool_step = steps.data[-1]
    assert tool_step.step_details.type == "tool_calls"
    assert [c.function.output for c in tool_step.step_details.tool_calls] == [  # type: ignore[union-attr]
        "out-get_weather",
        "out-now",
    ]


async def test_errors_map_to_sdk_exceptions(client: openai.AsyncOpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as info:
        await client.beta.threads.retrieve("thread_missing")
    assert "thread_missing" in str(info.value)
    thread = await client.beta.threads.create()
    with pytest.raises(openai.BadRequestError) as bad:
        await client.beta.threads.messages.create(thread.id, role="bot", content="x")  # type: ignore[arg-type]
    assert bad.value.body["param"] == "role"  # type: ignore[index]


async def test_code_interpreter_and_citation_events() -> None:
    model = ScriptedModel(chunk_size=3)
    async with AssistantsServer(model, step_delay=0.001) as server:
        client = openai.AsyncOpenAI(api_key="sk-test", base_url=server.url, max_retries=0)
        try:
            assistant = await client.beta.assistants.create(model="gpt-4o")
            code_inputs: list[str] = []
            logs: list[str] = []

            class Handler(openai.AsyncAssistantEventHandler):
                async def on_tool_call_delta(self, delta, snapshot):  # type: ignore[no-untyped-def]
                    if delta.type == "code_interpreter" and delta.code_interpreter:
                        code_inputs.append(delta.code_interpreter.input or "")
                        for out in delta.code_interpreter.outputs or []:
                            if out.type == "logs":
                                logs.append(out.logs or "")

            thread = await client.beta.threads.create(
                messages=[{"role": "user", "content": "python: print(1 + 1)"}]
            )
            async with client.beta.threads.runs.stream(
                thread_id=thread.id, assistant_id=assistant.id, event_handler=Handler()
            ) as stream:
                await stream.until_done()
            assert "".join(code_inputs) == "print(1 + 1)"
            assert logs == ["ok\n"]

            thread = await client.beta.threads.create(
                messages=[{"role": "user", "content": "please cite the file"}]
            )
            async with client.beta.threads.runs.stream(
                thread_id=thread.id, assistant_id=assistant.id
            ) as stream:
                messages = await stream.get_final_messages()
            text = messages[0].content[0].text  # type: ignore[union-attr]
            (annotation,) = text.annotations
            assert text.value[annotation.start_index : annotation.end_index] == annotation.text
            assert annotation.type == "file_citation"
        finally:
            await client.close()
    assert model.contexts  # the scripted model fell back to the default for both turns


async def test_scripted_reply_through_the_sdk() -> None:
    async with AssistantsServer(ScriptedModel(Text("scripted!")), step_delay=0.001) as server:
        client = openai.AsyncOpenAI(api_key="sk-test", base_url=server.url, max_retries=0)
        try:
            assistant = await client.beta.assistants.create(model="gpt-4o")
            run = await client.beta.threads.create_and_run_poll(
                assistant_id=assistant.id,
                thread={"messages": [{"role": "user", "content": "hi"}]},
                poll_interval_ms=5,
            )
            messages = await client.beta.threads.messages.list(run.thread_id)
            assert messages.data[0].content[0].text.value == "scripted!"  # type: ignore[union-attr]
        finally:
            await client.close()
