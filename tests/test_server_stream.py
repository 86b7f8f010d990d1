"""Loopback server streaming and models: the real event order (compared with recorded live
streams), one flush per event, ``done``; every rule of the default model
(shared/default-model.md); ``ScriptedModel`` turns, rules, chunk size and chunk delay."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_server_support import Api, Event, check_event, collapse, names

from assistants_async.testing import (
    AssistantsServer,
    CodeInterpreter,
    FileCitation,
    FileSearch,
    FileSearchResult,
    FunctionCall,
    FunctionCalls,
    Rule,
    ScriptedModel,
    Text,
    TurnContext,
    parse_calls,
)


async def instant(seconds: float) -> None:
    if seconds >= 60:  # the run expiry never passes
        await asyncio.Event().wait()
    await asyncio.sleep(0)


@pytest.fixture
async def make_api() -> AsyncIterator[Callable[..., Awaitable[Api]]]:
    servers: list[AssistantsServer] = []
    async with aiohttp.ClientSession() as session:

        async def make(model: Any = None, **options: Any) -> Api:
            options.setdefault("sleep", instant)
            server = AssistantsServer(model, **options)
            await server.start()
            servers.append(server)
            return Api(server, session)

        try:
            yield make
        finally:
            for server in servers:
                await server.stop()


def recorded_names(shared_dir: Path, name: str) -> list[str]:
    text = (shared_dir / "recorded-streams" / f"{name}.sse").read_text()
    return [line[len("event: ") :] for line in text.splitlines() if line.startswith("event: ")]


def deltas(events: list[Event]) -> list[str]:
    out = []
    for event in events:
        if event.event == "thread.message.delta":
            for part in event.json()["delta"]["content"]:
                out.append(part["text"]["value"])
    return out


async def new_run(api: Api, text: str, **assistant: Any) -> tuple[str, str]:
    """A thread with ``text``, a non-streamed run on it; (thread_id, run_id)."""
    a = await api.assistant(**assistant)
    thread = await api.thread(text)
    run = await api.post(f"/threads/{thread['id']}/runs", {"assistant_id": a["id"]})
    return thread["id"], run["id"]


async def reply_of(api: Api, thread_id: str, run_id: str) -> dict[str, Any]:
    page = await api.get(f"/threads/{thread_id}/messages", params={"run_id": run_id})
    (message,) = page["data"]
    return message  # type: ignore[no-any-return]


# -- event order ------------------------------------------------------------------------------


async def test_create_run_stream_matches_the_recorded_order(
    make_api: Any, shared_dir: Path
) -> None:
    api = await make_api()
    assistant = await api.assistant()
    thread = await api.thread("say something long enough")
    events = await api.stream(f"/threads/{thread['id']}/runs", {"assistant_id": assistant["id"]})
    expected = recorded_names(shared_dir, "simple-openai_threads_runs_create_stream_1")
    assert collapse(names(events)) == collapse(expected)
    assert names(events).count("thread.message.delta") > 2
    assert events[-1].event == "done" and events[-1].data == "[DONE]"
    assert "thread.created" not in names(events)


async def test_create_and_run_stream_starts_with_thread_created(
    make_api: Any, shared_dir: Path
) -> None:
    api = await make_api()
    assistant = await api.assistant()
    body = {
        "assistant_id": assistant["id"],
        "thread": {"messages": [{"role": "user", "content": "hi there"}]},
    }
    events = await api.stream("/threads/runs", body)
    expected = recorded_names(shared_dir, "simple-openai_threads_runs_createthreadandrun_stream_1")
    assert collapse(names(events)) == collapse(expected)
    thread = events[0].json()
    assert thread["object"] == "thread"
    assert events[1].json()["thread_id"] == thread["id"]


async def test_tool_round_streams_match_the_recorded_order(make_api: Any, shared_dir: Path) -> None:
    api = await make_api()
    assistant = await api.assistant()
    thread = await api.thread('call get_weather {"city": "Paris"}')
    first = await api.stream(f"/threads/{thread['id']}/runs", {"assistant_id": assistant["id"]})
    assert collapse(names(first)) == [
        "thread.run.created",
        "thread.run.queued",
        "thread.run.in_progress",
        "thread.run.step.created",
        "thread.run.step.in_progress",
        "thread.run.step.delta",
        "thread.run.requires_action",
        "done",
    ]
    run = first[-2].json()
    (call,) = run["required_action"]["submit_tool_outputs"]["tool_calls"]
    # the streamed argument deltas rebuild the arguments
    args = "".join(
        tc["function"].get("arguments", "")
        for e in first
        if e.event == "thread.run.step.delta"
        for tc in e.json()["delta"]["step_details"]["tool_calls"]
    )
    assert args == '{"city": "Paris"}'
    second = await api.stream(
        f"/threads/{thread['id']}/runs/{run['id']}/submit_tool_outputs",
        {"tool_outputs": [{"tool_call_id": call["id"], "output": "sunny"}]},
    )
    expected = recorded_names(shared_dir, "simple-openai_threads_runs_submittool_stream_2")
    assert collapse(names(second)) == collapse(expected)
    completed_step = second[0].json()
    assert completed_step["step_details"]["tool_calls"][0]["function"]["output"] == "sunny"


async def test_code_interpreter_stream_matches_the_recorded_order(
    make_api: Any, shared_dir: Path
) -> None:
    api = await make_api()
    assistant = await api.assistant()
    thread = await api.thread("python: print(6 * 7)")
    events = await api.stream(f"/threads/{thread['id']}/runs", {"assistant_id": assistant["id"]})
    expected = recorded_names(shared_dir, "simple-openai_threads_runssteps_delta")
    assert collapse(names(events)) == collapse(expected)


async def test_cancel_during_a_stream_ends_it_with_cancelled(make_api: Any) -> None:
    release = asyncio.Event()
    parked = asyncio.Event()
    pauses = 0

    async def sleep(seconds: float) -> None:
        nonlocal pauses
        pauses += 1
        if pauses == 4:
            parked.set()
            await release.wait()
        await asyncio.sleep(0)

    api = await make_api(ScriptedModel(Text("a long reply cut short by a cancel")), sleep=sleep)
    assistant = await api.assistant()
    thread = await api.thread("x")
    task = asyncio.create_task(
        api.stream(f"/threads/{thread['id']}/runs", {"assistant_id": assistant["id"]})
    )
    await parked.wait()
    (run,) = api.server.store.threads[thread["id"]].runs.values()
    await api.post(f"/threads/{thread['id']}/runs/{run.id}/cancel")
    release.set()
    events = await task
    tail = names(events)[-6:]
    assert tail == [
        "thread.message.delta",
        "thread.run.cancelling",
        "thread.message.incomplete",
        "thread.run.step.cancelled",
        "thread.run.cancelled",
        "done",
    ]


async def test_every_event_is_flushed_before_the_run_moves_on(make_api: Any) -> None:
    # The run may only take its next step once the client has *received* every event emitted
    # so far. A server that buffered events would deadlock here (and the wait_for fails).
    emitted = 0
    received = 0
    progress = asyncio.Condition()

    async def sleep(seconds: float) -> None:
        async with progress:
            await progress.wait_for(lambda: received >= emitted)

    api = await make_api(ScriptedModel(Text("one two three four five"), chunk_size=3), sleep=sleep)
    engine = api.server.engine
    original_emit = engine.emit

    def counting_emit(run: Any, name: str, data: Any) -> None:
        nonlocal emitted
        emitted += 1
        original_emit(run, name, data)

    engine.emit = counting_emit
    assistant = await api.assistant()
    thread = await api.thread("x")
    url = f"{api.server.url}/threads/{thread['id']}/runs"
    seen: list[str] = []
    async with api.session.post(url, json={"assistant_id": assistant["id"], "stream": True}) as r:
        while True:
            block = await asyncio.wait_for(r.content.readuntil(b"\n\n"), 5)
            if not block:
                break
            name = block.decode().split("\n")[0].removeprefix("event: ")
            seen.append(name)
            if name == "done":
                break
            async with progress:
                received += 1
                progress.notify_all()
    assert seen.count("thread.message.delta") == len(range(0, 23, 3))
    assert seen[-2:] == ["thread.run.completed", "done"]
    assert received == emitted


# -- the default model, rule by rule ----------------------------------------------------------


async def test_call_lines_become_parallel_calls_with_verbatim_arguments(make_api: Any) -> None:
    api = await make_api()
    text = (
        "Please do these:\n"
        '   call get_weather {"city": "Paris"}  \n'
        "call do-it not json at all\n"
        "not a call line\n"
        "call bare\n"
        "recall nothing"
    )
    tid, rid = await new_run(api, text)  # the assistant declares no tools at all
    run = await api.wait_run(tid, rid, until={"requires_action"})
    action = run["required_action"]
    assert action["type"] == "submit_tool_outputs"
    calls = action["submit_tool_outputs"]["tool_calls"]
    assert [(c["function"]["name"], c["function"]["arguments"]) for c in calls] == [
        ("get_weather", '{"city": "Paris"}'),
        ("do-it", "not json at all"),
        ("bare", ""),
    ]
    (step,) = (await api.get(f"/threads/{tid}/runs/{rid}/steps"))["data"]
    assert step["type"] == "tool_calls" and step["status"] == "in_progress"
    step_calls = step["step_details"]["tool_calls"]
    assert [c["id"] for c in step_calls] == [c["id"] for c in calls]
    assert all(c["function"]["output"] is None for c in step_calls)

    outputs = [{"tool_call_id": c["id"], "output": f"out {i}"} for i, c in enumerate(calls)]
    await api.post(f"/threads/{tid}/runs/{rid}/submit_tool_outputs", {"tool_outputs": outputs})
    await api.wait_run(tid, rid, until={"completed"})
    step = await api.get(f"/threads/{tid}/runs/{rid}/steps/{step['id']}")
    assert step["status"] == "completed"
    assert [c["function"]["output"] for c in step["step_details"]["tool_calls"]] == [
        "out 0",
        "out 1",
        "out 2",
    ]
    reply = await reply_of(api, tid, rid)
    assert reply["content"][0]["text"]["value"] == (
        "get_weather returned: out 0\ndo-it returned: out 1\nbare returned: out 2"
    )


_NAME = st.text("abcXYZ019_-", min_size=1, max_size=12)
_ARGS = st.text(
    st.characters(blacklist_categories=("Cc", "Zl", "Zp", "Cs"), blacklist_characters="\x85"),
    max_size=30,
).map(str.strip)
_NOISE = st.sampled_from(["", "hello", "calling all", "call", "call  ", "xcall a b", "call a/b c"])


@settings(max_examples=200, deadline=None)
@given(
    calls=st.lists(st.tuples(_NAME, _ARGS, st.sampled_from(["", " ", "\t  "])), max_size=5),
    noise=st.lists(_NOISE, max_size=5),
    data=st.data(),
)
def test_parse_calls_finds_every_call_line_in_order(
    calls: list[tuple[str, str, str]], noise: list[str], data: st.DataObject
) -> None:
    lines = [
        f"{pad}call {name} {args}{pad}" if args else f"{pad}call {name}"
        for name, args, pad in calls
    ]
    for line in noise:
        lines.insert(data.draw(st.integers(0, len(lines))), line)
    parsed = parse_calls("\n".join(lines))
    assert [(c.name, c.arguments) for c in parsed] == [(n, a) for n, a, _ in calls]


async def test_python_prefix_makes_a_code_interpreter_step_then_a_reply(make_api: Any) -> None:
    api = await make_api()
    tid, rid = await new_run(api, "python:   print(6 * 7)  ")
    await api.wait_run(tid, rid, until={"completed"})
    steps = (await api.get(f"/threads/{tid}/runs/{rid}/steps", params={"order": "asc"}))["data"]
    assert [s["type"] for s in steps] == ["tool_calls", "message_creation"]
    (call,) = steps[0]["step_details"]["tool_calls"]
    assert call["type"] == "code_interpreter"
    assert call["code_interpreter"]["input"] == "print(6 * 7)"
    (log,) = call["code_interpreter"]["outputs"]
    assert log["type"] == "logs" and log["logs"]
    reply = await reply_of(api, tid, rid)
    assert "ran" in reply["content"][0]["text"]["value"]
    assert steps[1]["step_details"]["message_creation"]["message_id"] == reply["id"]


async def test_call_lines_win_over_python_and_cite(make_api: Any) -> None:
    api = await make_api()
    tid, rid = await new_run(api, "python: cite this\ncall f {}")
    run = await api.wait_run(tid, rid, until={"requires_action"})
    (call,) = run["required_action"]["submit_tool_outputs"]["tool_calls"]
    assert call["function"]["name"] == "f"


async def test_cite_gives_a_file_citation_over_its_own_span(make_api: Any) -> None:
    api = await make_api()
    tid, rid = await new_run(api, "please cite the document")
    await api.wait_run(tid, rid, until={"completed"})
    text = (await reply_of(api, tid, rid))["content"][0]["text"]
    (annotation,) = text["annotations"]
    assert annotation["type"] == "file_citation"
    assert annotation["file_citation"]["file_id"].startswith("file-")
    assert 0 <= annotation["start_index"] < annotation["end_index"] <= len(text["value"])
    assert text["value"][annotation["start_index"] : annotation["end_index"]] == annotation["text"]


async def test_cite_annotation_streams_whole_in_one_delta(make_api: Any) -> None:
    api = await make_api()
    assistant = await api.assistant()
    thread = await api.thread("cite it")
    events = await api.stream(f"/threads/{thread['id']}/runs", {"assistant_id": assistant["id"]})
    with_annotation = [
        part["text"]
        for e in events
        if e.event == "thread.message.delta"
        for part in e.json()["delta"]["content"]
        if part["text"].get("annotations")
    ]
    (delta,) = with_annotation
    (annotation,) = delta["annotations"]
    assert delta["value"] == annotation["text"] and annotation["index"] == 0


async def test_anything_else_is_echoed_from_the_last_user_message(make_api: Any) -> None:
    api = await make_api()
    assistant = await api.assistant()
    parts = [
        {"type": "text", "text": "first part"},
        {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}},
        {"type": "text", "text": "second part"},
    ]
    thread = await api.post(
        "/threads",
        {
            "messages": [
                {"role": "user", "content": "an older question"},
                {"role": "user", "content": parts},
                {"role": "assistant", "content": "an assistant message after it"},
            ]
        },
    )
    run = await api.post(f"/threads/{thread['id']}/runs", {"assistant_id": assistant["id"]})
    await api.wait_run(thread["id"], run["id"], until={"completed"})
    reply = (await reply_of(api, thread["id"], run["id"]))["content"][0]["text"]["value"]
    assert "first part\nsecond part" in reply
    assert "older" not in reply and "after it" not in reply


async def test_replies_stream_a_few_characters_per_delta_and_match_polling(
    make_api: Any,
) -> None:
    api = await make_api()
    assistant = await api.assistant()
    text = "The quick brown fox jumps over the lazy dog"
    thread = await api.thread(text)
    events = await api.stream(f"/threads/{thread['id']}/runs", {"assistant_id": assistant["id"]})
    pieces = deltas(events)
    assert len(pieces) > 5 and all(1 <= len(p) <= 4 for p in pieces)
    streamed = "".join(pieces)
    completed = next(e.json() for e in events if e.event == "thread.message.completed")
    assert completed["content"][0]["text"]["value"] == streamed
    tid, rid = await new_run(api, text)
    await api.wait_run(tid, rid, until={"completed"})
    polled = (await reply_of(api, tid, rid))["content"][0]["text"]["value"]
    assert polled == streamed and text in polled


async def test_call_lines_in_outputs_start_another_round(make_api: Any) -> None:
    api = await make_api()
    tid, rid = await new_run(api, "call first {}\ncall second {}")
    run = await api.wait_run(tid, rid, until={"requires_action"})
    a, b = run["required_action"]["submit_tool_outputs"]["tool_calls"]
    outputs = [
        {"tool_call_id": a["id"], "output": 'call third {"n": 3}'},
        {"tool_call_id": b["id"], "output": "noise\ncall fourth x"},
    ]
    await api.post(f"/threads/{tid}/runs/{rid}/submit_tool_outputs", {"tool_outputs": outputs})
    again = await api.wait_run(tid, rid, until={"requires_action"})
    calls = again["required_action"]["submit_tool_outputs"]["tool_calls"]
    assert [(c["function"]["name"], c["function"]["arguments"]) for c in calls] == [
        ("third", '{"n": 3}'),
        ("fourth", "x"),
    ]
    outputs = [{"tool_call_id": c["id"], "output": "fine"} for c in calls]
    await api.post(f"/threads/{tid}/runs/{rid}/submit_tool_outputs", {"tool_outputs": outputs})
    await api.wait_run(tid, rid, until={"completed"})
    reply = (await reply_of(api, tid, rid))["content"][0]["text"]["value"]
    assert reply == "third returned: fine\nfourth returned: fine"
    steps = (await api.get(f"/threads/{tid}/runs/{rid}/steps", params={"order": "asc"}))["data"]
    assert [s["type"] for s in steps] == ["tool_calls", "tool_calls", "message_creation"]


# -- ScriptedModel -----------------------------------------------------------------------------


async def test_scripted_turns_then_rules_then_fallback(make_api: Any) -> None:
    model = ScriptedModel(
        Text("turn one"),
        [FunctionCalls([FunctionCall("lookup", '{"q": 1}')])],
        rules=[
            ("weather", [Text("always sunny")]),
            Rule(
                lambda ctx: ctx.tool_outputs is not None,
                lambda ctx: [Text(f"got {ctx.tool_outputs[0].output}")],
            ),
            Rule("once", Text("only once"), times=1),
        ],
    )
    api = await make_api(model)

    async def reply(text: str) -> str:
        tid, rid = await new_run(api, text)
        await api.wait_run(tid, rid, until={"completed"})
        return (await reply_of(api, tid, rid))["content"][0]["text"]["value"]  # type: ignore[no-any-return]

    assert await reply("anything") == "turn one"
    tid, rid = await new_run(api, "anything")
    run = await api.wait_run(tid, rid, until={"requires_action"})
    (call,) = run["required_action"]["submit_tool_outputs"]["tool_calls"]
    assert call["function"]["name"] == "lookup"
    await api.post(
        f"/threads/{tid}/runs/{rid}/submit_tool_outputs",
        {"tool_outputs": [{"tool_call_id": call["id"], "output": "42"}]},
    )
    await api.wait_run(tid, rid, until={"completed"})
    assert (await reply_of(api, tid, rid))["content"][0]["text"]["value"] == "got 42"
    assert model.remaining_turns == 0
    assert await reply("what's the weather?") == "always sunny"
    assert await reply("just once") == "only once"
    assert await reply("just once") == "Echo: just once"  # the rule is used up: fallback
    assert len(model.contexts) == 6
    assert model.contexts[2].tool_outputs is not None and model.contexts[2].round == 1
    assert model.contexts[2].tool_outputs[0].name == "lookup"


@pytest.mark.parametrize("chunk_size", [1, 3, 7])
async def test_scripted_chunk_size_and_delay(make_api: Any, chunk_size: int) -> None:
    pauses: list[float] = []

    async def sleep(seconds: float) -> None:
        pauses.append(seconds)
        await asyncio.sleep(0)

    text = "exactly twenty chars"
    model = ScriptedModel(Text(text), chunk_size=chunk_size, chunk_delay=0.25)
    api = await make_api(model, sleep=sleep, step_delay=0.001)
    assistant = await api.assistant()
    thread = await api.thread("x")
    events = await api.stream(f"/threads/{thread['id']}/runs", {"assistant_id": assistant["id"]})
    pieces = deltas(events)
    assert pieces == [text[i : i + chunk_size] for i in range(0, len(text), chunk_size)]
    assert pauses.count(0.25) == len(pieces)  # one chunk_delay before every delta
    assert set(pauses) == {0.001, 0.25}


async def test_scripted_chunk_size_applies_to_arguments_and_code(make_api: Any) -> None:
    model = ScriptedModel(
        [CodeInterpreter(input="print('hello')"), Text("x")],
        chunk_size=2,
    )
    api = await make_api(model)
    assistant = await api.assistant()
    thread = await api.thread("x")
    events = await api.stream(f"/threads/{thread['id']}/runs", {"assistant_id": assistant["id"]})
    inputs = [
        tc["code_interpreter"]["input"]
        for e in events
        if e.event == "thread.run.step.delta"
        for tc in e.json()["delta"]["step_details"]["tool_calls"]
        if tc["code_interpreter"].get("input")
    ]
    assert inputs == ["pr", "in", "t(", "'h", "el", "lo", "')"]


async def test_annotations_given_by_a_script(make_api: Any) -> None:
    text = "See [1] and more."
    model = ScriptedModel(Text(text, annotations=[FileCitation(4, 7, "file-abc")]), chunk_size=2)
    api = await make_api(model)
    tid, rid = await new_run(api, "x")
    await api.wait_run(tid, rid, until={"completed"})
    (annotation,) = (await reply_of(api, tid, rid))["content"][0]["text"]["annotations"]
    assert annotation["text"] == "[1]"
    assert (annotation["start_index"], annotation["end_index"]) == (4, 7)


def test_chunk_size_must_be_positive() -> None:
    with pytest.raises(ValueError):
        ScriptedModel(chunk_size=0)


async def test_model_protocol_is_all_a_model_needs(make_api: Any) -> None:
    class Upper:
        chunk_size = 100
        chunk_delay = 0.0

        async def respond(self, context: TurnContext) -> list[Text]:
            return [Text(context.last_user_text.upper())]

    api = await make_api(Upper())
    tid, rid = await new_run(api, "shout")
    await api.wait_run(tid, rid, until={"completed"})
    assert (await reply_of(api, tid, rid))["content"][0]["text"]["value"] == "SHOUT"


def test_check_event_rejects_a_wrong_shape() -> None:
    # the validator used by these tests is not a rubber stamp
    with pytest.raises(AssertionError):
        check_event("thread.run.created", json.dumps({"id": "x", "object": "thread.run"}))


async def test_images_file_search_and_text_in_one_streamed_turn(make_api: Any) -> None:
    model = ScriptedModel(
        [
            CodeInterpreter(input="plot()", logs="drawn\n", image_file_ids=["file-img1"]),
            FileSearch([FileSearchResult("file-doc", "doc.txt", score=0.7, content="hit")]),
            Text("summary"),
        ]
    )
    api = await make_api(model)
    assistant = await api.assistant()
    thread = await api.thread("x")
    events = await api.stream(f"/threads/{thread['id']}/runs", {"assistant_id": assistant["id"]})
    completed_steps = [e.json() for e in events if e.event == "thread.run.step.completed"]
    assert [s["type"] for s in completed_steps] == ["tool_calls", "tool_calls", "message_creation"]
    code = completed_steps[0]["step_details"]["tool_calls"][0]["code_interpreter"]
    assert code["outputs"] == [
        {"type": "logs", "logs": "drawn\n"},
        {"type": "image", "image": {"file_id": "file-img1"}},
    ]
    search = completed_steps[1]["step_details"]["tool_calls"][0]
    assert search["type"] == "file_search"
    assert search["file_search"]["results"][0]["file_id"] == "file-doc"
    assert events[-2].event == "thread.run.completed"


async def test_a_client_leaving_mid_stream_does_not_stop_the_run(make_api: Any) -> None:
    api = await make_api(ScriptedModel(Text("a reply that keeps going after the client left")))
    assistant = await api.assistant()
    thread = await api.thread("x")
    url = f"{api.server.url}/threads/{thread['id']}/runs"
    async with api.session.post(url, json={"assistant_id": assistant["id"], "stream": True}) as r:
        await r.content.readuntil(b"\n\n")  # thread.run.created, then hang up
        r.close()
    (run,) = api.server.store.threads[thread["id"]].runs.values()
    done = await api.wait_run(thread["id"], run.id, until={"completed"})
    assert done["status"] == "completed"
    assert run.listeners == []
    message = await reply_of(api, thread["id"], run.id)
    assert (
        message["content"][0]["text"]["value"] == "a reply that keeps going after the client left"
    )


async def test_concurrent_streams_stay_separate(make_api: Any) -> None:
    api = await make_api()
    assistant = await api.assistant()

    async def one(i: int) -> tuple[int, list[Event]]:
        body = {
            "assistant_id": assistant["id"],
            "thread": {"messages": [{"role": "user", "content": f"message number {i}"}]},
        }
        return i, await api.stream("/threads/runs", body)

    results = await asyncio.gather(*(one(i) for i in range(20)))
    run_ids = set()
    for i, events in results:
        assert "".join(deltas(events)) == f"Echo: message number {i}"
        run_id = events[1].json()["id"]
        run_ids.add(run_id)
        message_ids = {e.json()["id"] for e in events if e.event == "thread.message.created"}
        for event in events[1:-1]:
            data = event.json()
            if event.event == "thread.message.delta":
                assert data["id"] in message_ids
            else:
                assert run_id in (data.get("id"), data.get("run_id")), event.event
        assert events[-2].event == "thread.run.completed"
    assert len(run_ids) == 20
