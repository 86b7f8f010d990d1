"""Loopback server: every route walked through the spec, the run lifecycle to each terminal
state, the active-run rules, tool-output matching and ``openai-poll-after-ms``.

Time is injected (``clock=`` and ``sleep=`` on ``AssistantsServer``): nothing here waits for real.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml
from test_server_support import Api, _spec_path

from assistants_async.testing import (
    AssistantsServer,
    Delay,
    Fail,
    FileSearch,
    FileSearchResult,
    FunctionCall,
    FunctionCalls,
    Incomplete,
    Refusal,
    ScriptedModel,
    Text,
    TurnContext,
)

INCLUDE = "step_details.tool_calls[*].file_search.results[*].content"


async def instant(seconds: float) -> None:
    """Run pauses pass at once (still yielding); the 10-minute run expiry never does."""
    if seconds >= 60:
        await asyncio.Event().wait()
    await asyncio.sleep(0)


async def everything_passes(seconds: float) -> None:
    await asyncio.sleep(0)


class Gate:
    """A ``sleep`` that blocks every pause of a run until the test opens the gate."""

    def __init__(self) -> None:
        self.opened = asyncio.Event()
        self.waiting = asyncio.Event()

    async def __call__(self, seconds: float) -> None:
        self.waiting.set()
        await self.opened.wait()


def ticking_clock() -> Callable[[], float]:
    counter = itertools.count(1_700_000_000)
    return lambda: float(next(counter))


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


# -- every route, every response through the spec and the models ----------------------------


def _route_table(server: AssistantsServer) -> set[tuple[str, str]]:
    routes = set()
    for route in server.app.router.routes():
        path = route.resource.canonical if route.resource is not None else ""
        if route.method in ("HEAD", "*") or "{tail" in path:
            continue
        routes.add((route.method, path[len(server.prefix) :]))
    return routes


def _template_of(path: str, templates: set[tuple[str, str]], method: str) -> str | None:
    # literal segments win over placeholders, as in the router (/threads/runs)
    for template_method, template in sorted(templates, key=lambda t: t[1].count("{")):
        pattern = re.sub(r"\{[^}]+\}", "[^/]+", template)
        if template_method == method and re.fullmatch(pattern, path):
            return template
    return None


async def test_every_route_answers_in_the_specs_shapes(make_api: Any) -> None:
    # Api validates every JSON body and every stream event against the OpenAPI spec and the
    # pydantic models; the request log then proves all 23 operations were walked with a 200.
    model = ScriptedModel(
        [FileSearch([FileSearchResult("file-1", "a.txt", content="found")]), Text("done")],
        [FunctionCalls([FunctionCall("f", '{"x": 1}')])],
    )
    api = await make_api(model)
    templates = _route_table(api.server)
    assert len(templates) == 23

    assistant = await api.assistant(name="a", tools=[{"type": "file_search"}])
    aid = assistant["id"]
    await api.get(f"/assistants/{aid}")
    await api.post(f"/assistants/{aid}", {"description": "d"})
    await api.get("/assistants", params={"limit": 1})
    thread = await api.thread("hello")
    tid = thread["id"]
    await api.get(f"/threads/{tid}")
    await api.post(f"/threads/{tid}", {"metadata": {"k": "v"}})
    message = await api.post(f"/threads/{tid}/messages", {"role": "user", "content": "more"})
    await api.get(f"/threads/{tid}/messages/{message['id']}")
    await api.post(f"/threads/{tid}/messages/{message['id']}", {"metadata": {"a": "b"}})
    await api.get(f"/threads/{tid}/messages", params={"order": "asc"})

    run = await api.post(f"/threads/{tid}/runs", {"assistant_id": aid})
    run = await api.wait_run(tid, run["id"], until={"completed"})
    await api.post(f"/threads/{tid}/runs/{run['id']}", {"metadata": {"m": "1"}})
    await api.get(f"/threads/{tid}/runs")
    steps = await api.get(f"/threads/{tid}/runs/{run['id']}/steps", params={"include[]": INCLUDE})
    step = steps["data"][-1]
    await api.get(f"/threads/{tid}/runs/{run['id']}/steps/{step['id']}")

    # create-and-run (streamed), then tool outputs, then a cancel of a waiting run
    events = await api.stream("/threads/runs", {"assistant_id": aid, "thread": {}})
    waiting = events[-2].json()
    assert waiting["status"] == "requires_action"
    call_id = waiting["required_action"]["submit_tool_outputs"]["tool_calls"][0]["id"]
    base = f"/threads/{waiting['thread_id']}/runs/{waiting['id']}"
    await api.post(f"{base}/submit_tool_outputs", {"tool_outputs": [{"tool_call_id": call_id}]})
    await api.wait_run(waiting["thread_id"], waiting["id"], until={"completed"})
    tid2 = waiting["thread_id"]
    await api.post(f"/threads/{tid2}/messages", {"role": "user", "content": "call g {}"})
    last = await api.post(f"/threads/{tid2}/runs", {"assistant_id": aid})
    await api.wait_run(tid2, last["id"], until={"requires_action"})
    await api.post(f"/threads/{tid2}/runs/{last['id']}/cancel")

    await api.ok("DELETE", f"/threads/{tid}/messages/{message['id']}")
    await api.ok("DELETE", f"/threads/{tid}")
    await api.ok("DELETE", f"/assistants/{aid}")

    walked = {
        (r.method, _template_of(r.path, templates, r.method))
        for r in api.server.requests
        if r.status == 200
    }
    assert walked == templates


async def test_run_steps_include_reveals_file_search_content(make_api: Any) -> None:
    result = FileSearchResult("file-1", "a.txt", score=0.9, content="the text")
    api = await make_api(ScriptedModel([FileSearch([result]), Text("ok")]))
    assistant = await api.assistant()
    thread = await api.thread("q")
    run = await api.post(f"/threads/{thread['id']}/runs", {"assistant_id": assistant["id"]})
    await api.wait_run(thread["id"], run["id"], until={"completed"})
    path = f"/threads/{thread['id']}/runs/{run['id']}/steps"
    plain = await api.get(path, params={"order": "asc"})
    results = plain["data"][0]["step_details"]["tool_calls"][0]["file_search"]["results"]
    assert results == [{"file_id": "file-1", "file_name": "a.txt", "score": 0.9}]
    full = await api.get(path, params={"order": "asc", "include[]": INCLUDE})
    results = full["data"][0]["step_details"]["tool_calls"][0]["file_search"]["results"]
    assert results[0]["content"] == [{"type": "text", "text": "the text"}]
    step_id = full["data"][0]["id"]
    one = await api.get(f"{path}/{step_id}", params={"include[]": INCLUDE})
    assert one == full["data"][0]
    bad = await api.error("GET", path, params={"include[]": "nope"})
    assert bad.status == 400 and bad.body["error"]["param"] == "include"


# -- lifecycle --------------------------------------------------------------------------------


async def test_completed_run_timestamps_usage_steps_and_messages(make_api: Any) -> None:
    api = await make_api(clock=ticking_clock())
    assistant = await api.assistant(model="gpt-test", instructions="Be terse.")
    thread = await api.thread("hello world")
    run = await api.post(f"/threads/{thread['id']}/runs", {"assistant_id": assistant["id"]})
    assert run["status"] == "queued" and run["started_at"] is None
    assert run["model"] == "gpt-test" and run["instructions"] == "Be terse."
    assert run["expires_at"] > run["created_at"]
    done = await api.wait_run(thread["id"], run["id"], until={"completed"})
    assert run["created_at"] < done["started_at"] < done["completed_at"]
    assert done["expires_at"] is None and done["failed_at"] is None
    assert done["cancelled_at"] is None and done["last_error"] is None

    steps = (await api.get(f"/threads/{thread['id']}/runs/{run['id']}/steps"))["data"]
    (step,) = steps
    assert step["type"] == "message_creation" and step["status"] == "completed"
    assert step["completed_at"] >= step["created_at"] >= done["started_at"]
    message_id = step["step_details"]["message_creation"]["message_id"]
    message = await api.get(f"/threads/{thread['id']}/messages/{message_id}")
    assert message["run_id"] == run["id"] and message["assistant_id"] == assistant["id"]
    assert message["status"] == "completed" and message["role"] == "assistant"
    assert message["completed_at"] is not None

    usage = done["usage"]
    assert usage == step["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"] > 0


async def test_tool_round_usage_is_the_sum_over_steps(make_api: Any) -> None:
    api = await make_api()
    assistant = await api.assistant()
    thread = await api.thread('call lookup {"q": "a long query string"}')
    tid = thread["id"]
    run = await api.post(f"/threads/{tid}/runs", {"assistant_id": assistant["id"]})
    waiting = await api.wait_run(tid, run["id"], until={"requires_action"})
    (call,) = waiting["required_action"]["submit_tool_outputs"]["tool_calls"]
    path = f"/threads/{tid}/runs/{run['id']}"
    await api.post(
        f"{path}/submit_tool_outputs",
        {"tool_outputs": [{"tool_call_id": call["id"], "output": "x"}]},
    )
    done = await api.wait_run(tid, run["id"], until={"completed"})
    steps = (await api.get(f"{path}/steps", params={"order": "asc"}))["data"]
    assert [s["type"] for s in steps] == ["tool_calls", "message_creation"]
    assert all(s["status"] == "completed" and s["usage"] for s in steps)
    for key in ("prompt_tokens", "completion_tokens", "total_tokens"):
        assert done["usage"][key] == sum(s["usage"][key] for s in steps)


async def test_failed_run_has_last_error_and_failed_at(make_api: Any) -> None:
    api = await make_api(ScriptedModel(Fail("rate limited", code="rate_limit_exceeded")))
    assistant = await api.assistant()
    thread = await api.thread("x")
    run = await api.post(f"/threads/{thread['id']}/runs", {"assistant_id": assistant["id"]})
    failed = await api.wait_run(thread["id"], run["id"], until={"failed"})
    assert failed["last_error"] == {"code": "rate_limit_exceeded", "message": "rate limited"}
    assert failed["failed_at"] is not None and failed["completed_at"] is None
    assert failed["expires_at"] is None


async def test_a_model_that_raises_fails_the_run(make_api: Any) -> None:
    class Broken:
        chunk_size = 4
        chunk_delay = 0.0

        async def respond(self, context: TurnContext) -> Any:
            raise KeyError("oops")

    api = await make_api(Broken())
    assistant = await api.assistant()
    thread = await api.thread("x")
    run = await api.post(f"/threads/{thread['id']}/runs", {"assistant_id": assistant["id"]})
    failed = await api.wait_run(thread["id"], run["id"], until={"failed"})
    assert failed["last_error"]["code"] == "server_error"
    assert "KeyError" in failed["last_error"]["message"]


async def test_incomplete_run_cuts_the_message(make_api: Any) -> None:
    api = await make_api(ScriptedModel(Incomplete("partial", reason="max_prompt_tokens")))
    assistant = await api.assistant()
    thread = await api.thread("x")
    run = await api.post(f"/threads/{thread['id']}/runs", {"assistant_id": assistant["id"]})
    ended = await api.wait_run(thread["id"], run["id"], until={"incomplete"})
    assert ended["incomplete_details"] == {"reason": "max_prompt_tokens"}
    page = await api.get(f"/threads/{thread['id']}/messages", params={"run_id": run["id"]})
    (message,) = page["data"]
    assert message["status"] == "incomplete"
    assert message["incomplete_details"] == {"reason": "max_tokens"}
    assert message["content"][0]["text"]["value"] == "partial"


async def test_refusal_is_a_message_with_a_refusal_part(make_api: Any) -> None:
    api = await make_api(ScriptedModel(Refusal("I can't help with that.")))
    assistant = await api.assistant()
    thread = await api.thread("x")
    run = await api.post(f"/threads/{thread['id']}/runs", {"assistant_id": assistant["id"]})
    await api.wait_run(thread["id"], run["id"], until={"completed"})
    page = await api.get(f"/threads/{thread['id']}/messages", params={"run_id": run["id"]})
    assert page["data"][0]["content"] == [{"type": "refusal", "refusal": "I can't help with that."}]


async def test_cancel_in_progress_goes_through_cancelling_to_cancelled(make_api: Any) -> None:
    gate = Gate()
    api = await make_api(ScriptedModel([Text("never finished"), Delay(1)]), sleep=gate)
    assistant = await api.assistant()
    thread = await api.thread("x")
    tid = thread["id"]
    run = await api.post(f"/threads/{tid}/runs", {"assistant_id": assistant["id"]})
    await gate.waiting.wait()  # the run is parked at its first pause
    cancelling = await api.post(f"/threads/{tid}/runs/{run['id']}/cancel")
    assert cancelling["status"] == "cancelling"
    again = await api.post(f"/threads/{tid}/runs/{run['id']}/cancel")
    assert again["status"] == "cancelling"
    gate.opened.set()
    cancelled = await api.wait_run(tid, run["id"], until={"cancelled"})
    assert cancelled["cancelled_at"] is not None and cancelled["completed_at"] is None
    refused = await api.error("POST", f"/threads/{tid}/runs/{run['id']}/cancel")
    assert refused.status == 400 and "cancelled" in refused.body["error"]["message"]
    # the thread is free again
    await api.post(f"/threads/{tid}/messages", {"role": "user", "content": "next"})


async def test_cancel_mid_message_marks_message_and_step(make_api: Any) -> None:
    pauses = 0
    release = asyncio.Event()
    parked = asyncio.Event()

    async def sleep(seconds: float) -> None:
        nonlocal pauses
        pauses += 1
        if pauses == 5:  # a few deltas into the message
            parked.set()
            await release.wait()
        await asyncio.sleep(0)

    api = await make_api(ScriptedModel(Text("a reply long enough for many deltas")), sleep=sleep)
    assistant = await api.assistant()
    thread = await api.thread("x")
    tid = thread["id"]
    run = await api.post(f"/threads/{tid}/runs", {"assistant_id": assistant["id"]})
    await parked.wait()
    await api.post(f"/threads/{tid}/runs/{run['id']}/cancel")
    release.set()
    await api.wait_run(tid, run["id"], until={"cancelled"})
    (step,) = (await api.get(f"/threads/{tid}/runs/{run['id']}/steps"))["data"]
    assert step["status"] == "cancelled" and step["cancelled_at"] is not None
    page = await api.get(f"/threads/{tid}/messages", params={"run_id": run["id"]})
    (message,) = page["data"]
    assert message["status"] == "incomplete"
    assert message["incomplete_details"] == {"reason": "run_cancelled"}


async def test_cancel_while_waiting_for_tool_outputs(make_api: Any) -> None:
    api = await make_api()
    assistant = await api.assistant()
    thread = await api.thread("call f {}")
    tid = thread["id"]
    run = await api.post(f"/threads/{tid}/runs", {"assistant_id": assistant["id"]})
    await api.wait_run(tid, run["id"], until={"requires_action"})
    cancelling = await api.post(f"/threads/{tid}/runs/{run['id']}/cancel")
    assert cancelling["status"] == "cancelling"
    cancelled = await api.wait_run(tid, run["id"], until={"cancelled"})
    assert cancelled["required_action"] is None
    (step,) = (await api.get(f"/threads/{tid}/runs/{run['id']}/steps"))["data"]
    assert step["status"] == "cancelled"


async def test_run_expires_when_tool_outputs_never_come(make_api: Any) -> None:
    api = await make_api(run_expiry=30, sleep=everything_passes)
    assistant = await api.assistant()
    thread = await api.thread("call f {}")
    tid = thread["id"]
    run = await api.post(f"/threads/{tid}/runs", {"assistant_id": assistant["id"]})
    assert run["expires_at"] - run["created_at"] == 30
    expired = await api.wait_run(tid, run["id"], until={"expired"})
    assert expired["required_action"] is None and expired["expires_at"] is None
    (step,) = (await api.get(f"/threads/{tid}/runs/{run['id']}/steps"))["data"]
    assert step["status"] == "expired" and step["expired_at"] is not None
    late = await api.error(
        "POST", f"/threads/{tid}/runs/{run['id']}/submit_tool_outputs", {"tool_outputs": []}
    )
    assert late.status == 400 and "expired" in late.body["error"]["message"]


async def test_polling_sees_queued_in_progress_then_completed(make_api: Any) -> None:
    pauses: asyncio.Queue[asyncio.Event] = asyncio.Queue()

    async def sleep(seconds: float) -> None:
        step = asyncio.Event()
        await pauses.put(step)
        await step.wait()

    api = await make_api(ScriptedModel(Text("hi")), sleep=sleep)
    assistant = await api.assistant()
    thread = await api.thread("x")
    tid = thread["id"]
    run = await api.post(f"/threads/{tid}/runs", {"assistant_id": assistant["id"]})
    seen: list[str] = []
    while True:
        status = (await api.get(f"/threads/{tid}/runs/{run['id']}"))["status"]
        if not seen or seen[-1] != status:
            seen.append(status)
        if status == "completed":
            break
        (await pauses.get()).set()  # let the run take its next step
    assert seen == ["queued", "in_progress", "completed"]


# -- active-run rules and tool outputs ------------------------------------------------------


async def test_second_run_and_new_message_refused_while_a_run_is_active(make_api: Any) -> None:
    api = await make_api()
    assistant = await api.assistant()
    thread = await api.thread("call f {}")
    tid = thread["id"]
    run = await api.post(f"/threads/{tid}/runs", {"assistant_id": assistant["id"]})
    await api.wait_run(tid, run["id"], until={"requires_action"})
    second = await api.error("POST", f"/threads/{tid}/runs", {"assistant_id": assistant["id"]})
    assert second.status == 400
    assert second.body["error"]["message"] == (
        f"Thread {tid} already has an active run {run['id']}."
    )
    message = await api.error(
        "POST", f"/threads/{tid}/messages", {"role": "user", "content": "hello?"}
    )
    assert message.status == 400
    assert message.body["error"]["message"] == (
        f"Can't add messages to {tid} while a run {run['id']} is active."
    )
    # nothing was created by the refused requests
    assert api.server.runs_created(tid) == 1
    assert len((await api.get(f"/threads/{tid}/messages"))["data"]) == 1
    # once the run is over, both are accepted
    await api.post(f"/threads/{tid}/runs/{run['id']}/cancel")
    await api.wait_run(tid, run["id"], until={"cancelled"})
    await api.post(f"/threads/{tid}/messages", {"role": "user", "content": "hello?"})
    await api.post(f"/threads/{tid}/runs", {"assistant_id": assistant["id"]})


@pytest.mark.parametrize(
    "outputs",
    [
        pytest.param(lambda a, b: [{"tool_call_id": a, "output": "1"}], id="one-missing"),
        pytest.param(
            lambda a, b: [
                {"tool_call_id": a, "output": "1"},
                {"tool_call_id": b, "output": "2"},
                {"tool_call_id": "call_other", "output": "3"},
            ],
            id="unknown-extra",
        ),
        pytest.param(
            lambda a, b: [{"tool_call_id": a, "output": "1"}, {"tool_call_id": a, "output": "2"}],
            id="duplicate",
        ),
        pytest.param(lambda a, b: [], id="none"),
    ],
)
async def test_tool_outputs_must_match_the_pending_calls(
    make_api: Any, outputs: Callable[[str, str], list[dict[str, str]]]
) -> None:
    api = await make_api()
    assistant = await api.assistant()
    thread = await api.thread("call a {}\ncall b {}")
    tid = thread["id"]
    run = await api.post(f"/threads/{tid}/runs", {"assistant_id": assistant["id"]})
    waiting = await api.wait_run(tid, run["id"], until={"requires_action"})
    a, b = (c["id"] for c in waiting["required_action"]["submit_tool_outputs"]["tool_calls"])
    path = f"/threads/{tid}/runs/{run['id']}/submit_tool_outputs"
    refused = await api.error("POST", path, {"tool_outputs": outputs(a, b)})
    assert refused.status == 400 and refused.body["error"]["param"] == "tool_outputs"
    still = await api.get(f"/threads/{tid}/runs/{run['id']}")
    assert still["status"] == "requires_action"
    # in any order, the right ids are accepted
    body = {
        "tool_outputs": [{"tool_call_id": b, "output": "2"}, {"tool_call_id": a, "output": "1"}]
    }
    accepted = await api.post(path, body)
    assert accepted["status"] == "queued" and accepted["required_action"] is None
    done = await api.wait_run(tid, run["id"], until={"completed"})
    assert done["status"] == "completed"


async def test_tool_outputs_refused_when_the_run_is_not_waiting(make_api: Any) -> None:
    api = await make_api()
    assistant = await api.assistant()
    thread = await api.thread("hi")
    run = await api.post(f"/threads/{thread['id']}/runs", {"assistant_id": assistant["id"]})
    await api.wait_run(thread["id"], run["id"], until={"completed"})
    path = f"/threads/{thread['id']}/runs/{run['id']}/submit_tool_outputs"
    refused = await api.error("POST", path, {"tool_outputs": [{"tool_call_id": "c"}]})
    assert refused.status == 400
    assert (
        refused.body["error"]["message"] == 'Runs in status "completed" do not accept tool outputs.'
    )
    bad = await api.error("POST", path, {"tool_outputs": "x"})
    assert bad.body["error"]["param"] == "tool_outputs"


async def test_unknown_ids_are_404_on_every_nested_route(make_api: Any) -> None:
    api = await make_api()
    assistant = await api.assistant()
    thread = await api.thread("hi")
    tid = thread["id"]
    run = await api.post(f"/threads/{tid}/runs", {"assistant_id": assistant["id"]})
    await api.wait_run(tid, run["id"], until={"completed"})
    rid = run["id"]
    cases: list[tuple[str, str, Any, str]] = [
        ("GET", "/assistants/asst_x", None, "assistant"),
        ("POST", "/assistants/asst_x", {}, "assistant"),
        ("DELETE", "/assistants/asst_x", None, "assistant"),
        ("GET", "/threads/thread_x", None, "thread"),
        ("POST", "/threads/thread_x", {}, "thread"),
        ("DELETE", "/threads/thread_x", None, "thread"),
        ("GET", "/threads/thread_x/messages", None, "thread"),
        ("GET", f"/threads/{tid}/messages/msg_x", None, "message"),
        ("POST", f"/threads/{tid}/messages/msg_x", {}, "message"),
        ("DELETE", f"/threads/{tid}/messages/msg_x", None, "message"),
        ("GET", "/threads/thread_x/runs", None, "thread"),
        ("GET", f"/threads/{tid}/runs/run_x", None, "run"),
        ("POST", f"/threads/{tid}/runs/run_x", {}, "run"),
        ("POST", f"/threads/{tid}/runs/run_x/cancel", None, "run"),
        ("POST", f"/threads/{tid}/runs/run_x/submit_tool_outputs", {"tool_outputs": []}, "run"),
        ("GET", f"/threads/{tid}/runs/run_x/steps", None, "run"),
        ("GET", f"/threads/{tid}/runs/{rid}/steps/step_x", None, "run step"),
        ("POST", "/threads/runs", {"assistant_id": "asst_x"}, "assistant"),
    ]
    for method, path, body, kind in cases:
        reply = await api.error(method, path, body)
        assert reply.status == 404, (method, path)
        assert reply.body["error"]["message"].startswith(f"No {kind} found with id "), path


# -- openai-poll-after-ms ---------------------------------------------------------------------


async def test_poll_after_header_on_every_run_response(make_api: Any) -> None:
    api = await make_api(poll_after_ms=123)
    assistant = await api.assistant()
    thread = await api.thread("call f {}")
    tid = thread["id"]
    created = await api.call("POST", f"/threads/{tid}/runs", {"assistant_id": assistant["id"]})
    rid = created.body["id"]
    await api.wait_run(tid, rid, until={"requires_action"})
    waiting = await api.call("GET", f"/threads/{tid}/runs/{rid}")
    call_id = waiting.body["required_action"]["submit_tool_outputs"]["tool_calls"][0]["id"]
    replies = [
        created,
        waiting,
        await api.call("POST", f"/threads/{tid}/runs/{rid}", {"metadata": {"a": "b"}}),
        await api.call(
            "POST",
            f"/threads/{tid}/runs/{rid}/submit_tool_outputs",
            {"tool_outputs": [{"tool_call_id": call_id, "output": "o"}]},
        ),
        await api.call("POST", "/threads/runs", {"assistant_id": assistant["id"], "thread": {}}),
    ]
    await api.wait_run(tid, rid, until={"completed"})
    other = await api.call("POST", f"/threads/{tid}/runs", {"assistant_id": assistant["id"]})
    replies.append(other)
    replies.append(await api.call("POST", f"/threads/{tid}/runs/{other.body['id']}/cancel"))
    for reply in replies:
        assert reply.status == 200, reply.body
        assert reply.headers["openai-poll-after-ms"] == "123"
    plain = await api.call("GET", f"/threads/{tid}")
    assert "openai-poll-after-ms" not in plain.headers


# -- exact shapes: the spec's fields plus what the live API sent, nothing else ---------------


def _live_keys(shared_dir: Path) -> dict[str, set[str]]:
    """Top-level keys per object type in the newest recorded live stream."""
    keys: dict[str, set[str]] = {}
    text = (
        shared_dir / "recorded-streams" / "simple-openai_threads_runssteps_delta.sse"
    ).read_text()
    text += (
        shared_dir
        / "recorded-streams"
        / "simple-openai_threads_runs_createthreadandrun_stream_1.sse"
    ).read_text()
    for line in text.splitlines():
        if line.startswith("data: {"):
            data = json.loads(line[len("data: ") :])
            keys.setdefault(data["object"], set()).update(data)
    return keys


async def test_objects_have_the_spec_fields_plus_the_live_ones_only(
    make_api: Any, shared_dir: Path
) -> None:
    spec = yaml.safe_load(_spec_path().read_text())["components"]["schemas"]
    live = _live_keys(shared_dir)
    api = await make_api()
    assistant = await api.assistant()
    thread = await api.thread("hello")
    events = await api.stream(f"/threads/{thread['id']}/runs", {"assistant_id": assistant["id"]})
    objects = {e.json()["object"]: e.json() for e in events if e.event != "done"}
    objects["assistant"] = assistant
    objects["thread"] = thread
    schemas = {
        "assistant": "AssistantObject",
        "thread": "ThreadObject",
        "thread.message": "MessageObject",
        "thread.run": "RunObject",
        "thread.run.step": "RunStepObject",
        "thread.message.delta": "MessageDeltaObject",
    }
    for kind, schema in schemas.items():
        keys = set(objects[kind])
        spec_keys = set(spec[schema]["properties"])
        live_keys = live.get(kind, set())
        assert set(spec[schema].get("required", [])) <= keys, kind
        assert live_keys <= keys, (kind, live_keys - keys)
        # assistants: reasoning_effort is a create/modify field the live API echoed back
        extra = {"reasoning_effort"} if kind == "assistant" else set()
        assert keys <= spec_keys | live_keys | extra, (kind, keys - spec_keys - live_keys)
