"""The client end to end against the loopback server over real sockets: all 23 operations,
polling to every terminal state, cancellation, streamed variants, and the API's errors
(404 unknown id, 400 with ``param``, "already has an active run")."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from assistants_async import AsyncAssistants, _polling
from assistants_async._errors import BadRequestError, NotFoundError, RunPollTimeoutError
from assistants_async.testing import (
    AssistantsServer,
    Delay,
    Fail,
    FunctionCall,
    FunctionCalls,
    Incomplete,
    ScriptedModel,
    Stall,
    Text,
)
from assistants_async.types import (
    Assistant,
    AssistantDeleted,
    Message,
    MessageDeleted,
    Run,
    RunStep,
    Thread,
    ThreadDeleted,
)


def route_templates(server: AssistantsServer) -> set[tuple[str, str]]:
    templates = set()
    for route in server.app.router.routes():
        path = route.resource.canonical if route.resource is not None else ""
        if route.method in ("HEAD", "*") or "{tail" in path:
            continue
        templates.add((route.method, path[len(server.prefix) :]))
    return templates


def templates_hit(server: AssistantsServer) -> set[tuple[str, str]]:
    table = route_templates(server)
    hit = set()
    for record in server.requests:
        # literal segments win over placeholders, as in the router (/threads/runs)
        for method, template in sorted(table, key=lambda t: t[1].count("{")):
            pattern = re.sub(r"\{[^}]+\}", "[^/]+", template)
            if method == record.method and re.fullmatch(pattern, record.path):
                hit.add((method, template))
                break
    return hit


def text_of(message: Message) -> str:
    block = message.content[0]
    return block.text.value  # type: ignore[union-attr]


async def test_every_operation_through_the_client(
    assistants_server: AssistantsServer, assistants_client: AsyncAssistants
) -> None:
    c = assistants_client
    # assistants (5)
    assistant = await c.assistants.create(
        model="loopback",
        name="helper",
        instructions="Be brief.",
        tools=[{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}],
        metadata={"k": "v"},
    )
    assert isinstance(assistant, Assistant) and assistant.name == "helper"
    assert (await c.assistants.retrieve(assistant.id)) == assistant
    updated = await c.assistants.update(assistant.id, name="renamed", metadata={"k": "w"})
    assert updated.name == "renamed" and updated.metadata == {"k": "w"}
    assert [a.id for a in (await c.assistants.list()).data] == [assistant.id]

    # threads (create, retrieve, update)
    thread = await c.threads.create(
        messages=[{"role": "user", "content": "first"}], metadata={"t": "1"}
    )
    assert isinstance(thread, Thread)
    assert (await c.threads.retrieve(thread.id)).metadata == {"t": "1"}
    assert (await c.threads.update(thread.id, metadata={"t": "2"})).metadata == {"t": "2"}

    # messages (5)
    message = await c.threads.messages.create(thread.id, role="user", content="second")
    assert isinstance(message, Message) and text_of(message) == "second"
    assert (await c.threads.messages.retrieve(message.id, thread_id=thread.id)).id == message.id
    changed = await c.threads.messages.update(message.id, thread_id=thread.id, metadata={"m": "1"})
    assert changed.metadata == {"m": "1"}
    listed = await c.threads.messages.list(thread.id, order="asc")
    assert [text_of(m) for m in listed.data] == ["first", "second"]
    gone = await c.threads.messages.delete(message.id, thread_id=thread.id)
    assert isinstance(gone, MessageDeleted) and gone.deleted and gone.id == message.id

    # runs (create, retrieve, update, list, submit_tool_outputs, cancel) and steps (2)
    await c.threads.messages.create(thread.id, role="user", content='call f {"x": 1}')
    run = await c.threads.runs.create(thread.id, assistant_id=assistant.id)
    assert isinstance(run, Run) and run.status == "queued"
    run = await c.threads.runs.poll(run.id, thread.id)
    assert run.status == "requires_action" and run.required_action is not None
    call = run.required_action.submit_tool_outputs.tool_calls[0]
    assert call.function.name == "f" and call.function.arguments == '{"x": 1}'
    assert (await c.threads.runs.retrieve(run.id, thread_id=thread.id)).status == run.status
    tagged = await c.threads.runs.update(run.id, thread_id=thread.id, metadata={"r": "1"})
    assert tagged.metadata == {"r": "1"}
    run = await c.threads.runs.submit_tool_outputs(
        run.id, thread_id=thread.id, tool_outputs=[{"tool_call_id": call.id, "output": "42"}]
    )
    run = await c.threads.runs.poll(run.id, thread.id)
    assert run.status == "completed"
    newest = (await c.threads.messages.list(thread.id, limit=1)).data[0]
    assert text_of(newest) == "f returned: 42"
    assert [r.id for r in (await c.threads.runs.list(thread.id)).data] == [run.id]
    steps = await c.threads.runs.steps.list(run.id, thread_id=thread.id, order="asc")
    assert [s.type for s in steps.data] == ["tool_calls", "message_creation"]
    step = await c.threads.runs.steps.retrieve(
        steps.data[0].id,
        thread_id=thread.id,
        run_id=run.id,
        include=["step_details.tool_calls[*].file_search.results[*].content"],
    )
    assert isinstance(step, RunStep) and step.id == steps.data[0].id
    step_get = assistants_server.requests.matching("GET", "/threads/*/runs/*/steps/*")[-1]
    assert step_get.query == {
        "include[]": "step_details.tool_calls[*].file_search.results[*].content"
    }

    # create_and_run, then cancel it while it waits for tool outputs
    other = await c.threads.create_and_run(
        assistant_id=assistant.id, thread={"messages": [{"role": "user", "content": "call g"}]}
    )
    other = await c.threads.runs.poll(other.id, other.thread_id)
    assert other.status == "requires_action"
    cancelling = await c.threads.runs.cancel(other.id, thread_id=other.thread_id)
    assert cancelling.status == "cancelling"
    assert (await c.threads.runs.poll(other.id, other.thread_id)).status == "cancelled"

    # deletes (thread, assistant)
    deleted = await c.threads.delete(other.thread_id)
    assert isinstance(deleted, ThreadDeleted) and deleted.deleted
    removed = await c.assistants.delete(assistant.id)
    assert isinstance(removed, AssistantDeleted) and removed.deleted
    with pytest.raises(NotFoundError):
        await c.assistants.retrieve(assistant.id)

    table = route_templates(assistants_server)
    assert len(table) == 23
    assert templates_hit(assistants_server) == table


async def test_every_request_carries_the_protocol_headers(
    assistants_server: AssistantsServer, assistants_client: AsyncAssistants
) -> None:
    await assistants_client.assistants.create(model="m")
    await assistants_client.assistants.list()
    for record in assistants_server.requests:
        assert record.headers["OpenAI-Beta"] == "assistants=v2"
        assert record.headers["Authorization"] == "Bearer sk-loopback-test"
        assert record.headers["User-Agent"].startswith("assistants-async/")
    post, get = assistants_server.requests
    assert post.headers["Content-Type"] == "application/json" and "Idempotency-Key" in post.headers
    assert "Idempotency-Key" not in get.headers


# -- polling to each terminal state ----------------------------------------------------------------


async def _thread(client: AsyncAssistants, text: str = "hello") -> tuple[str, str]:
    assistant = await client.assistants.create(model="m")
    thread = await client.threads.create(messages=[{"role": "user", "content": text}])
    return thread.id, assistant.id


async def test_poll_to_completed(assistants_client: AsyncAssistants) -> None:
    thread_id, assistant_id = await _thread(assistants_client, "hello there")
    run = await assistants_client.threads.runs.create_and_poll(
        thread_id=thread_id, assistant_id=assistant_id
    )
    assert run.status == "completed" and run.completed_at is not None
    assert run.usage is not None and run.usage.total_tokens > 0
    reply = (await assistants_client.threads.messages.list(thread_id, limit=1)).data[0]
    assert text_of(reply) == "Echo: hello there"


async def test_poll_to_requires_action_with_parallel_calls(
    assistants_client: AsyncAssistants,
) -> None:
    thread_id, assistant_id = await _thread(assistants_client, "call a {}\ncall b not-json")
    run = await assistants_client.threads.runs.create_and_poll(
        thread_id=thread_id, assistant_id=assistant_id
    )
    assert run.status == "requires_action" and run.required_action is not None
    calls = run.required_action.submit_tool_outputs.tool_calls
    assert [(c.function.name, c.function.arguments) for c in calls] == [
        ("a", "{}"),
        ("b", "not-json"),
    ]
    done = await assistants_client.threads.runs.submit_tool_outputs_and_poll(
        tool_outputs=[{"tool_call_id": c.id, "output": c.function.name * 2} for c in calls],
        run_id=run.id,
        thread_id=thread_id,
    )
    assert done.status == "completed"
    reply = (await assistants_client.threads.messages.list(thread_id, limit=1)).data[0]
    assert text_of(reply) == "a returned: aa\nb returned: bb"


@pytest.mark.assistants_server(model=ScriptedModel(Fail("quota gone", code="rate_limit_exceeded")))
async def test_poll_to_failed(assistants_client: AsyncAssistants) -> None:
    thread_id, assistant_id = await _thread(assistants_client)
    run = await assistants_client.threads.runs.create_and_poll(
        thread_id=thread_id, assistant_id=assistant_id
    )
    assert run.status == "failed" and run.last_error is not None
    assert (run.last_error.code, run.last_error.message) == ("rate_limit_exceeded", "quota gone")


@pytest.mark.assistants_server(model=ScriptedModel(Incomplete("partial answer")))
async def test_poll_to_incomplete(assistants_client: AsyncAssistants) -> None:
    run = await assistants_client.threads.create_and_run_poll(
        assistant_id=(await assistants_client.assistants.create(model="m")).id,
        thread={"messages": [{"role": "user", "content": "long question"}]},
    )
    assert run.status == "incomplete"
    assert run.incomplete_details is not None
    assert run.incomplete_details.reason == "max_completion_tokens"


@pytest.mark.assistants_server(model=ScriptedModel([Text("slow"), Delay(0.3)]))
async def test_cancel_an_in_progress_run_and_poll_to_cancelled(
    assistants_server: AssistantsServer, assistants_client: AsyncAssistants
) -> None:
    thread_id, assistant_id = await _thread(assistants_client)
    run = await assistants_client.threads.runs.create(thread_id, assistant_id=assistant_id)
    cancelling = await assistants_client.threads.runs.cancel(run.id, thread_id=thread_id)
    assert cancelling.status == "cancelling"
    run = await assistants_client.threads.runs.poll(run.id, thread_id)
    assert run.status == "cancelled" and run.cancelled_at is not None
    # polling went through "cancelling" at least once before the terminal state
    assert assistants_server.requests.count("GET", "/threads/*/runs/*") >= 1


async def test_poll_to_expired() -> None:
    release = asyncio.Event()

    async def sleep(seconds: float) -> None:
        if seconds >= 60:  # the run expiry: held until the test lets it pass
            await release.wait()
        else:
            await asyncio.sleep(seconds)

    async with AssistantsServer(
        step_delay=0.001, poll_after_ms=5, run_expiry=600, sleep=sleep
    ) as server:
        async with AsyncAssistants(api_key="k", base_url=server.url) as client:
            thread_id, assistant_id = await _thread(client, "call f {}")
            run = await client.threads.runs.create_and_poll(
                thread_id=thread_id, assistant_id=assistant_id
            )
            assert run.status == "requires_action" and run.expires_at is not None
            release.set()
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 2
            while run.status == "requires_action" and loop.time() < deadline:
                run = await client.threads.runs.retrieve(run.id, thread_id=thread_id)
            assert run.status == "expired" and run.required_action is None
            with pytest.raises(BadRequestError, match="expired"):
                await client.threads.runs.submit_tool_outputs(
                    run.id, thread_id=thread_id, tool_outputs=[{"tool_call_id": "x", "output": ""}]
                )


@pytest.mark.assistants_server(model=ScriptedModel([Text("slow"), Delay(5)]))
async def test_poll_timeout_cancels_the_run_on_the_server(
    assistants_server: AssistantsServer, assistants_client: AsyncAssistants
) -> None:
    thread_id, assistant_id = await _thread(assistants_client)
    with pytest.raises(RunPollTimeoutError) as info:
        await assistants_client.threads.runs.create_and_poll(
            thread_id=thread_id, assistant_id=assistant_id, timeout=0.1, cancel_on_timeout=True
        )
    assert info.value.cancelled and info.value.run is not None
    assert assistants_server.requests.count("POST", "/threads/*/runs/*/cancel") == 1
    run = await assistants_client.threads.runs.retrieve(info.value.run.id, thread_id=thread_id)
    assert run.status in ("cancelling", "cancelled")


# -- streamed variants of the run-creating operations --------------------------------------------


async def test_streamed_create_and_run_then_submit_tool_outputs(
    assistants_client: AsyncAssistants,
) -> None:
    assistant = await assistants_client.assistants.create(model="m")
    names: list[str] = []
    async with await assistants_client.threads.create_and_run(
        assistant_id=assistant.id,
        thread={"messages": [{"role": "user", "content": "call f {}"}]},
        stream=True,
    ) as events:
        async for event in events:
            names.append(event.event)
    assert names[0] == "thread.created" and names[-1] == "thread.run.requires_action"
    run = events.current_event.data  # type: ignore[union-attr]
    assert isinstance(run, Run) and run.required_action is not None
    call = run.required_action.submit_tool_outputs.tool_calls[0]
    text = ""
    async with await assistants_client.threads.runs.submit_tool_outputs(
        run.id,
        thread_id=run.thread_id,
        tool_outputs=[{"tool_call_id": call.id, "output": "ok"}],
        stream=True,
    ) as events:
        async for event in events:
            if event.event == "thread.message.delta":
                text += event.data.delta.content[0].text.value  # type: ignore[union-attr]
    assert text == "f returned: ok"
    assert events.current_event is not None
    assert events.current_event.event == "thread.run.completed"


# -- errors -------------------------------------------------------------------------------------


async def test_unknown_ids_are_typed_404s(assistants_client: AsyncAssistants) -> None:
    c = assistants_client
    thread_id, _ = await _thread(c)
    cases: list[Callable[[], Awaitable[Any]]] = [
        lambda: c.assistants.retrieve("asst_nope"),
        lambda: c.threads.retrieve("thread_nope"),
        lambda: c.threads.messages.retrieve("msg_nope", thread_id=thread_id),
        lambda: c.threads.runs.retrieve("run_nope", thread_id=thread_id),
        lambda: c.threads.runs.steps.retrieve("step_x", thread_id=thread_id, run_id="run_nope"),
        lambda: c.threads.runs.create("thread_nope", assistant_id="asst_x"),
    ]
    for call in cases:
        with pytest.raises(NotFoundError) as info:
            await call()
        assert info.value.status_code == 404
        assert info.value.request_id is not None
        assert "nope" in str(info.value)


async def test_ids_are_percent_encoded_and_checked(
    assistants_server: AssistantsServer, assistants_client: AsyncAssistants
) -> None:
    with pytest.raises(ValueError, match="thread_id"):
        await assistants_client.threads.runs.retrieve("run_1", thread_id="")
    assert len(assistants_server.requests) == 0  # refused before any request
    with pytest.raises(NotFoundError):
        await assistants_client.assistants.retrieve("../threads")
    assert assistants_server.requests.count("GET", "/threads") == 0


async def test_invalid_body_is_a_400_with_param(assistants_client: AsyncAssistants) -> None:
    thread_id, _ = await _thread(assistants_client)
    with pytest.raises(BadRequestError) as info:
        await assistants_client.threads.messages.create(
            thread_id,
            role="robot",  # type: ignore[arg-type]
            content="x",
        )
    assert info.value.param == "role"
    assert info.value.type == "invalid_request_error"
    with pytest.raises(BadRequestError) as info:
        await assistants_client.assistants.create(model="m", temperature=9)
    assert info.value.param == "temperature"


@pytest.mark.assistants_server(model=ScriptedModel([Text("slow"), Delay(0.3)]))
async def test_a_second_run_on_a_busy_thread_is_refused(
    assistants_server: AssistantsServer, assistants_client: AsyncAssistants
) -> None:
    thread_id, assistant_id = await _thread(assistants_client)
    run = await assistants_client.threads.runs.create(thread_id, assistant_id=assistant_id)
    with pytest.raises(BadRequestError, match="already has an active run") as info:
        await assistants_client.threads.runs.create(thread_id, assistant_id=assistant_id)
    assert run.id in str(info.value)
    with pytest.raises(BadRequestError, match="while a run .* is active"):
        await assistants_client.threads.messages.create(thread_id, role="user", content="more")
    # a 400 is never retried, and only one run exists
    assert assistants_server.requests.count("POST", "/threads/*/runs") == 2
    assert assistants_server.runs_created(thread_id) == 1
    await assistants_client.threads.runs.cancel(run.id, thread_id=thread_id)


@pytest.mark.assistants_server(
    model=ScriptedModel([FunctionCalls([FunctionCall("a"), FunctionCall("b")])])
)
async def test_tool_outputs_must_match_the_pending_calls(
    assistants_client: AsyncAssistants,
) -> None:
    thread_id, assistant_id = await _thread(assistants_client)
    run = await assistants_client.threads.runs.create_and_poll(
        thread_id=thread_id, assistant_id=assistant_id
    )
    assert run.required_action is not None
    first = run.required_action.submit_tool_outputs.tool_calls[0]
    with pytest.raises(BadRequestError) as info:
        await assistants_client.threads.runs.submit_tool_outputs(
            run.id, thread_id=thread_id, tool_outputs=[{"tool_call_id": first.id, "output": "x"}]
        )
    assert info.value.param == "tool_outputs"


@pytest.mark.assistants_server(model=ScriptedModel([Text("slow"), Delay(5)]))
async def test_poll_timeout_holds_even_when_the_poll_request_stalls(
    assistants_server: AssistantsServer,
    assistants_client: AsyncAssistants,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_polling, "DEADLINE_GRACE", 0.05)
    thread_id, assistant_id = await _thread(assistants_client)
    assistants_server.faults.add("GET", "/threads/*/runs/*", Stall(30), times=None)
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(RunPollTimeoutError) as info:
        await assistants_client.threads.runs.create_and_poll(
            thread_id=thread_id, assistant_id=assistant_id, timeout=0.2, cancel_on_timeout=True
        )
    assert loop.time() - started < 1.0  # not the 600 s read timeout of the stalled GET
    # the abandoned GET gave its connection up
    session = assistants_client._transport.session  # type: ignore[attr-defined]
    assert session is not None and not session.connector._acquired
    assert info.value.cancelled and info.value.run is not None
    assert info.value.run.status == "cancelling"
    assert assistants_server.requests.count("POST", "/threads/*/runs/*/cancel") == 1


@pytest.mark.assistants_server(poll_after_ms=37, step_delay=0.01)
async def test_polling_waits_what_the_server_says(
    assistants_server: AssistantsServer, assistants_client: AsyncAssistants
) -> None:
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        await asyncio.sleep(seconds)

    assistants_client._sleep = sleep
    thread_id, assistant_id = await _thread(assistants_client, "hello")
    run = await assistants_client.threads.runs.create_and_poll(
        thread_id=thread_id, assistant_id=assistant_id
    )
    assert run.status == "completed"
    assert slept and set(slept) == {0.037}
    gets = assistants_server.requests.count("GET", "/threads/*/runs/*")
    assert gets == len(slept) + 1
