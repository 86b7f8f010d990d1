"""Every one of the 23 operations on the wire (method, path, query, JSON body, return type),
signatures against the official SDK, NOT_GIVEN vs None, path parameters (empty refused,
everything percent-encoded)."""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import unquote

import pytest
from client_support import make_client, obj, page, reply
from hypothesis import given
from hypothesis import strategies as st

from assistants_async import AsyncAssistants
from assistants_async._client import build_path
from assistants_async._pagination import AsyncCursorPage
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

Call = Callable[[AsyncAssistants], Awaitable[Any]]
INCLUDE = "step_details.tool_calls[*].file_search.results[*].content"

# (name, call, method, path, query, body, reply JSON, result type)
OPERATIONS: list[tuple[str, Call, str, str, list[tuple[str, str]], Any, Any, type]] = [
    (
        "assistants.create",
        lambda c: c.assistants.create(model="gpt-4o", name="Helper", tools=[{"type": "x"}]),
        "POST",
        "/assistants",
        [],
        {"model": "gpt-4o", "name": "Helper", "tools": [{"type": "x"}]},
        obj("assistant"),
        Assistant,
    ),
    (
        "assistants.retrieve",
        lambda c: c.assistants.retrieve("asst_1"),
        "GET",
        "/assistants/asst_1",
        [],
        None,
        obj("assistant"),
        Assistant,
    ),
    (
        "assistants.update",
        lambda c: c.assistants.update("asst_1", instructions="Be brief.", temperature=0.2),
        "POST",
        "/assistants/asst_1",
        [],
        {"instructions": "Be brief.", "temperature": 0.2},
        obj("assistant"),
        Assistant,
    ),
    (
        "assistants.list",
        lambda c: c.assistants.list(limit=5, order="asc", after="a", before="b"),
        "GET",
        "/assistants",
        [("after", "a"), ("before", "b"), ("limit", "5"), ("order", "asc")],
        None,
        page(obj("assistant")),
        Assistant,
    ),
    (
        "assistants.delete",
        lambda c: c.assistants.delete("asst_1"),
        "DELETE",
        "/assistants/asst_1",
        [],
        None,
        obj("assistant.deleted"),
        AssistantDeleted,
    ),
    (
        "threads.create",
        lambda c: c.threads.create(messages=[{"role": "user", "content": "hi"}]),
        "POST",
        "/threads",
        [],
        {"messages": [{"role": "user", "content": "hi"}]},
        obj("thread"),
        Thread,
    ),
    (
        "threads.retrieve",
        lambda c: c.threads.retrieve("thread_1"),
        "GET",
        "/threads/thread_1",
        [],
        None,
        obj("thread"),
        Thread,
    ),
    (
        "threads.update",
        lambda c: c.threads.update("thread_1", metadata={"k": "v"}),
        "POST",
        "/threads/thread_1",
        [],
        {"metadata": {"k": "v"}},
        obj("thread"),
        Thread,
    ),
    (
        "threads.delete",
        lambda c: c.threads.delete("thread_1"),
        "DELETE",
        "/threads/thread_1",
        [],
        None,
        obj("thread.deleted"),
        ThreadDeleted,
    ),
    (
        "threads.create_and_run",
        lambda c: c.threads.create_and_run(
            assistant_id="asst_1", thread={"messages": []}, parallel_tool_calls=False
        ),
        "POST",
        "/threads/runs",
        [],
        {"assistant_id": "asst_1", "thread": {"messages": []}, "parallel_tool_calls": False},
        obj("thread.run"),
        Run,
    ),
    (
        "messages.create",
        lambda c: c.threads.messages.create("thread_1", role="user", content="Hello"),
        "POST",
        "/threads/thread_1/messages",
        [],
        {"role": "user", "content": "Hello"},
        obj("thread.message"),
        Message,
    ),
    (
        "messages.retrieve",
        lambda c: c.threads.messages.retrieve("msg_1", thread_id="thread_1"),
        "GET",
        "/threads/thread_1/messages/msg_1",
        [],
        None,
        obj("thread.message"),
        Message,
    ),
    (
        "messages.update",
        lambda c: c.threads.messages.update("msg_1", thread_id="thread_1", metadata={"a": "b"}),
        "POST",
        "/threads/thread_1/messages/msg_1",
        [],
        {"metadata": {"a": "b"}},
        obj("thread.message"),
        Message,
    ),
    (
        "messages.list",
        lambda c: c.threads.messages.list("thread_1", run_id="run_1", limit=2),
        "GET",
        "/threads/thread_1/messages",
        [("limit", "2"), ("run_id", "run_1")],
        None,
        page(obj("thread.message")),
        Message,
    ),
    (
        "messages.delete",
        lambda c: c.threads.messages.delete("msg_1", thread_id="thread_1"),
        "DELETE",
        "/threads/thread_1/messages/msg_1",
        [],
        None,
        obj("thread.message.deleted"),
        MessageDeleted,
    ),
    (
        "runs.create",
        lambda c: c.threads.runs.create(
            "thread_1", assistant_id="asst_1", include=[INCLUDE], additional_instructions="x"
        ),
        "POST",
        "/threads/thread_1/runs",
        [("include[]", INCLUDE)],
        {"assistant_id": "asst_1", "additional_instructions": "x"},
        obj("thread.run"),
        Run,
    ),
    (
        "runs.retrieve",
        lambda c: c.threads.runs.retrieve("run_1", thread_id="thread_1"),
        "GET",
        "/threads/thread_1/runs/run_1",
        [],
        None,
        obj("thread.run"),
        Run,
    ),
    (
        "runs.update",
        lambda c: c.threads.runs.update("run_1", thread_id="thread_1", metadata={"x": "1"}),
        "POST",
        "/threads/thread_1/runs/run_1",
        [],
        {"metadata": {"x": "1"}},
        obj("thread.run"),
        Run,
    ),
    (
        "runs.list",
        lambda c: c.threads.runs.list("thread_1", order="desc"),
        "GET",
        "/threads/thread_1/runs",
        [("order", "desc")],
        None,
        page(obj("thread.run")),
        Run,
    ),
    (
        "runs.cancel",
        lambda c: c.threads.runs.cancel("run_1", thread_id="thread_1"),
        "POST",
        "/threads/thread_1/runs/run_1/cancel",
        [],
        None,
        obj("thread.run", status="cancelling"),
        Run,
    ),
    (
        "runs.submit_tool_outputs",
        lambda c: c.threads.runs.submit_tool_outputs(
            "run_1", thread_id="thread_1", tool_outputs=[{"tool_call_id": "c1", "output": "42"}]
        ),
        "POST",
        "/threads/thread_1/runs/run_1/submit_tool_outputs",
        [],
        {"tool_outputs": [{"tool_call_id": "c1", "output": "42"}]},
        obj("thread.run"),
        Run,
    ),
    (
        "steps.retrieve",
        lambda c: c.threads.runs.steps.retrieve(
            "step_1", thread_id="thread_1", run_id="run_1", include=[INCLUDE]
        ),
        "GET",
        "/threads/thread_1/runs/run_1/steps/step_1",
        [("include[]", INCLUDE)],
        None,
        obj("thread.run.step"),
        RunStep,
    ),
    (
        "steps.list",
        lambda c: c.threads.runs.steps.list(
            "run_1", thread_id="thread_1", include=[INCLUDE, "other"], limit=1
        ),
        "GET",
        "/threads/thread_1/runs/run_1/steps",
        [("include[]", INCLUDE), ("include[]", "other"), ("limit", "1")],
        None,
        page(obj("thread.run.step")),
        RunStep,
    ),
]


def test_the_table_covers_all_23_operations() -> None:
    assert len({op[0] for op in OPERATIONS}) == 23


@pytest.mark.parametrize(
    ("call", "method", "path", "query", "body", "answer", "result_type"),
    [op[1:] for op in OPERATIONS],
    ids=[op[0] for op in OPERATIONS],
)
async def test_operation_on_the_wire(
    call: Call,
    method: str,
    path: str,
    query: list[tuple[str, str]],
    body: Any,
    answer: Any,
    result_type: type,
) -> None:
    client, rec, _ = make_client(reply(200, answer))
    result = await call(client)
    assert rec.last.method == method
    assert rec.path() == path
    assert sorted(rec.query()) == sorted(query)
    assert rec.body() == body
    if isinstance(result, AsyncCursorPage):
        assert all(isinstance(item, result_type) for item in result.data)
        assert len(result.data) == 1
    else:
        assert isinstance(result, result_type)
        assert getattr(result, "id") == "id_1"  # noqa: B009
    assert len(rec.requests) == 1


async def test_include_is_sent_as_repeated_include_brackets_on_the_wire() -> None:
    client, rec, _ = make_client(reply(200, obj("thread.run.step")))
    await client.threads.runs.steps.retrieve("s", thread_id="t", run_id="r", include=["a", "b"])
    raw_query = rec.last.url.split("?", 1)[1]
    assert raw_query == "include[]=a&include[]=b"


async def test_not_given_is_omitted_and_none_is_sent_as_null() -> None:
    client, rec, _ = make_client(default=reply(200, obj("assistant")))
    await client.assistants.update("asst_1", name=None, description=None)
    assert rec.body() == {"name": None, "description": None}
    await client.assistants.update("asst_1")
    assert rec.body() == {}


async def test_create_and_run_minimal_body_is_only_the_required_field() -> None:
    client, rec, _ = make_client(reply(200, obj("thread.run")))
    await client.threads.create_and_run(assistant_id="asst_1")
    assert rec.body() == {"assistant_id": "asst_1"}
    assert rec.query() == []


async def test_runs_create_all_keywords_reach_the_body() -> None:
    client, rec, _ = make_client(reply(200, obj("thread.run")))
    values: dict[str, Any] = {
        "additional_instructions": "a",
        "additional_messages": [{"role": "user", "content": "m"}],
        "instructions": "i",
        "max_completion_tokens": 10,
        "max_prompt_tokens": 20,
        "metadata": {"k": "v"},
        "model": "m",
        "parallel_tool_calls": True,
        "reasoning_effort": "low",
        "response_format": "auto",
        "temperature": 0.5,
        "tool_choice": "none",
        "tools": [{"type": "code_interpreter"}],
        "top_p": 0.9,
        "truncation_strategy": {"type": "auto"},
    }
    await client.threads.runs.create("thread_1", assistant_id="asst_1", **values)
    assert rec.body() == {"assistant_id": "asst_1", **values}


async def test_body_accepts_pydantic_models_and_iterables() -> None:
    from assistants_async.types import Thread as ThreadModel

    client, rec, _ = make_client(reply(200, obj("assistant")))
    tools = ({"type": "code_interpreter"} for _ in range(2))  # a generator, not a list
    await client.assistants.create(
        model="m", tools=tools, tool_resources=ThreadModel.model_validate(obj("thread"))
    )
    sent = rec.body()
    assert sent["tools"] == [{"type": "code_interpreter"}] * 2
    assert sent["tool_resources"]["id"] == "id_1"


# --- signatures against the official SDK ------------------------------------------------------


def _official() -> list[tuple[str, Callable[..., Any], Callable[..., Any]]]:
    from openai.resources.beta.assistants import AsyncAssistants as OAssistants
    from openai.resources.beta.threads.messages import AsyncMessages as OMessages
    from openai.resources.beta.threads.runs.runs import AsyncRuns as ORuns
    from openai.resources.beta.threads.runs.steps import AsyncSteps as OSteps
    from openai.resources.beta.threads.threads import AsyncThreads as OThreads

    from assistants_async.resources.assistants import Assistants
    from assistants_async.resources.messages import Messages
    from assistants_async.resources.runs import Runs
    from assistants_async.resources.steps import Steps
    from assistants_async.resources.threads import Threads

    pairs = [
        (OAssistants, Assistants, "create retrieve update list delete"),
        (OThreads, Threads, "create retrieve update delete create_and_run"),
        (OMessages, Messages, "create retrieve update list delete"),
        (ORuns, Runs, "create retrieve update list cancel submit_tool_outputs"),
        (OSteps, Steps, "retrieve list"),
    ]
    return [
        (f"{ours.__name__}.{name}", getattr(theirs, name), getattr(ours, name))
        for theirs, ours, names in pairs
        for name in names.split()
    ]


pytest.importorskip("openai")
with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    SIGNATURE_PAIRS = _official()


@pytest.mark.parametrize(
    ("theirs", "ours"), [p[1:] for p in SIGNATURE_PAIRS], ids=[p[0] for p in SIGNATURE_PAIRS]
)
def test_signature_matches_the_official_sdk(
    theirs: Callable[..., Any], ours: Callable[..., Any]
) -> None:
    their_params = inspect.signature(inspect.unwrap(theirs)).parameters
    our_params = inspect.signature(ours).parameters
    for name, param in their_params.items():
        assert name in our_params, f"missing parameter {name}"
        assert our_params[name].kind == param.kind, name
        required = param.default is inspect.Parameter.empty
        assert (our_params[name].default is inspect.Parameter.empty) == required, name
    positional = [
        n for n, p in their_params.items() if p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
    ]
    ours_positional = [
        n for n, p in our_params.items() if p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
    ]
    assert ours_positional == positional
    assert len(SIGNATURE_PAIRS) == 23


# --- path parameters ----------------------------------------------------------------------------

EMPTY_ID_CALLS: list[tuple[str, Call]] = [
    ("assistants.retrieve", lambda c: c.assistants.retrieve("")),
    ("assistants.update", lambda c: c.assistants.update("", name="x")),
    ("assistants.delete", lambda c: c.assistants.delete("")),
    ("threads.retrieve", lambda c: c.threads.retrieve("")),
    ("threads.update", lambda c: c.threads.update("")),
    ("threads.delete", lambda c: c.threads.delete("")),
    ("messages.create", lambda c: c.threads.messages.create("", role="user", content="x")),
    ("messages.retrieve.message", lambda c: c.threads.messages.retrieve("", thread_id="t")),
    ("messages.retrieve.thread", lambda c: c.threads.messages.retrieve("m", thread_id="")),
    ("messages.update", lambda c: c.threads.messages.update("", thread_id="t")),
    ("messages.list", lambda c: c.threads.messages.list("")),
    ("messages.delete", lambda c: c.threads.messages.delete("m", thread_id="")),
    ("runs.create", lambda c: c.threads.runs.create("", assistant_id="a")),
    ("runs.retrieve.run", lambda c: c.threads.runs.retrieve("", thread_id="t")),
    ("runs.retrieve.thread", lambda c: c.threads.runs.retrieve("r", thread_id="")),
    ("runs.update", lambda c: c.threads.runs.update("", thread_id="t")),
    ("runs.list", lambda c: c.threads.runs.list("")),
    ("runs.cancel", lambda c: c.threads.runs.cancel("r", thread_id="")),
    (
        "runs.submit_tool_outputs",
        lambda c: c.threads.runs.submit_tool_outputs("", thread_id="t", tool_outputs=[]),
    ),
    ("steps.retrieve.step", lambda c: c.threads.runs.steps.retrieve("", thread_id="t", run_id="r")),
    ("steps.retrieve.run", lambda c: c.threads.runs.steps.retrieve("s", thread_id="t", run_id="")),
    ("steps.list.run", lambda c: c.threads.runs.steps.list("", thread_id="t")),
    ("steps.list.thread", lambda c: c.threads.runs.steps.list("r", thread_id="")),
]


@pytest.mark.parametrize("call", [c[1] for c in EMPTY_ID_CALLS], ids=[c[0] for c in EMPTY_ID_CALLS])
async def test_empty_path_parameter_raises_before_any_request(call: Call) -> None:
    client, rec, _ = make_client(default=reply(200, {}))
    with pytest.raises(ValueError, match="non-empty"):
        result = call(client)
        # list() builds its path eagerly; the others raise when awaited.
        if inspect.isawaitable(result):
            await result
    assert rec.requests == []


@pytest.mark.parametrize(
    ("ident", "encoded"),
    [
        ("a/b", "a%2Fb"),
        ("../admin", "..%2Fadmin"),
        ("x?limit=1", "x%3Flimit%3D1"),
        ("x#frag", "x%23frag"),
        ("100%", "100%25"),
        ("sp ace", "sp%20ace"),
        ("ünï", "%C3%BCn%C3%AF"),
        ("...", "%2E%2E%2E"),
    ],
)
async def test_ids_are_percent_encoded_into_one_segment(ident: str, encoded: str) -> None:
    client, rec, _ = make_client(reply(200, obj("thread.message")))
    await client.threads.messages.retrieve(ident, thread_id="thread_1")
    assert rec.path() == f"/threads/thread_1/messages/{encoded}"
    assert rec.query() == []


@pytest.mark.parametrize("ident", [".", ".."])
def test_dot_segments_are_refused(ident: str) -> None:
    # yarl (under aiohttp) decodes %2E and then drops dot segments, so no encoding can keep
    # "." or ".." from changing the target; no real id looks like that.
    with pytest.raises(ValueError, match="dot segment"):
        build_path("/threads/{thread_id}/runs", thread_id=ident)


@pytest.mark.parametrize("bad", [None, 5, b"bytes"])
def test_non_string_ids_are_refused(bad: object) -> None:
    with pytest.raises(ValueError):
        build_path("/assistants/{assistant_id}", assistant_id=bad)


@given(st.text(min_size=1).filter(lambda s: s not in (".", "..")))
def test_build_path_never_lets_an_id_change_the_path(ident: str) -> None:
    path = build_path("/threads/{thread_id}/runs/{run_id}", thread_id=ident, run_id="r")
    segments = path.split("/")
    assert segments[:2] == ["", "threads"] and segments[3:] == ["runs", "r"]
    assert unquote(segments[2]) == ident
    assert not set("?#/") & set(segments[2])
    assert segments[2] not in (".", "..")


async def test_a_bare_string_include_is_one_value() -> None:
    client, rec, _ = make_client(default=reply(200, obj("thread.run.step")))
    await client.threads.runs.steps.retrieve("s", thread_id="t", run_id="r", include=INCLUDE)
    assert rec.query() == [("include[]", INCLUDE)]
    await client.threads.runs.steps.retrieve("s", thread_id="t", run_id="r", include=[])
    assert rec.query() == []
    client, rec, _ = make_client(default=reply(200, obj("thread.run")))
    await client.threads.runs.create("t", assistant_id="a", include=INCLUDE)  # type: ignore[arg-type]
    assert rec.query() == [("include[]", INCLUDE)]
