"""Spec-conformance tier: every operation against Prism serving the official OpenAPI spec.

Prism validates each request against the spec (a wrong field, type, enum or query parameter
is answered with 422) and answers with a response generated from the spec, which our models
must accept. The nox ``tests`` session installs Prism with ``npm ci``; a plain local ``pytest``
without it skips this module, while CI (``CI`` set) fails instead.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from assistants_async import AsyncAssistants, UnprocessableEntityError
from assistants_async import types as t

pytestmark = pytest.mark.prism

PRISM = Path(__file__).parent / "node_modules" / ".bin" / "prism"
INCLUDE = ["step_details.tool_calls[*].file_search.results[*].content"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def prism_url(shared_dir: Path) -> Iterator[str]:
    if not PRISM.exists():
        message = "Prism not installed: run `npm ci --prefix tests/conformance` (nox -s tests does)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    spec = shared_dir / "openai-openapi" / "openapi.assistants.nullable-fixed.yaml"
    port = _free_port()
    proc = subprocess.Popen(
        [str(PRISM), "mock", "-h", "127.0.0.1", "-p", str(port), str(spec)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                pytest.fail(f"Prism exited early with code {proc.returncode}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail("Prism did not start listening within 60 s")
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        # Stop the whole process group by PID: npm's shim starts node as a child.
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@pytest.fixture
async def client(prism_url: str) -> AsyncIterator[AsyncAssistants]:
    async with AsyncAssistants(api_key="sk-conformance", base_url=prism_url, max_retries=0) as c:
        yield c


FUNCTION_TOOL: Any = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        "strict": False,
    },
}
ALL_TOOLS: Any = [
    {"type": "code_interpreter"},
    {
        "type": "file_search",
        "file_search": {
            "max_num_results": 5,
            "ranking_options": {"ranker": "auto", "score_threshold": 0.5},
        },
    },
    FUNCTION_TOOL,
]
MESSAGE: Any = {
    "role": "user",
    "content": "Hello",
    "attachments": [{"file_id": "file_1", "tools": [{"type": "code_interpreter"}]}],
    "metadata": {"k": "v"},
}
RUN_KNOBS: Any = {
    "model": "gpt-4o",
    "instructions": "Be brief.",
    "tools": ALL_TOOLS,
    "metadata": {"k": "v"},
    "temperature": 0.5,
    "top_p": 0.9,
    "max_prompt_tokens": 1000,
    "max_completion_tokens": 500,
    "truncation_strategy": {"type": "last_messages", "last_messages": 5},
    "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
    "parallel_tool_calls": True,
    "response_format": {"type": "json_object"},
}


async def test_assistants_minimal(client: AsyncAssistants) -> None:
    assert isinstance(await client.assistants.create(model="gpt-4o"), t.Assistant)
    assert isinstance(await client.assistants.retrieve("asst_1"), t.Assistant)
    assert isinstance(await client.assistants.update("asst_1"), t.Assistant)
    page = await client.assistants.list()
    assert all(isinstance(a, t.Assistant) for a in page.data)
    assert isinstance(await client.assistants.delete("asst_1"), t.AssistantDeleted)


async def test_assistants_all_arguments(client: AsyncAssistants) -> None:
    created = await client.assistants.create(
        model="gpt-4o",
        name="n",
        description="d",
        instructions="i",
        reasoning_effort="low",
        tools=ALL_TOOLS,
        tool_resources={
            "code_interpreter": {"file_ids": ["file_1"]},
            "file_search": {"vector_store_ids": ["vs_1"]},
        },
        metadata={"k": "v"},
        temperature=0.2,
        top_p=0.9,
        response_format={
            "type": "json_schema",
            "json_schema": {"name": "out", "schema": {"type": "object"}, "strict": True},
        },
    )
    assert isinstance(created, t.Assistant)
    updated = await client.assistants.update(
        "asst_1",
        model="gpt-4o",
        reasoning_effort="medium",
        name="n",
        description="d",
        instructions="i",
        tools=[{"type": "code_interpreter"}],
        tool_resources={"code_interpreter": {"file_ids": []}},
        metadata={"k": "v"},
        temperature=1.0,
        top_p=1.0,
        response_format="auto",
    )
    assert isinstance(updated, t.Assistant)
    page = await client.assistants.list(limit=5, order="asc", after="asst_0", before="asst_9")
    assert isinstance(page.has_more, bool)


async def test_threads_minimal(client: AsyncAssistants) -> None:
    assert isinstance(await client.threads.create(), t.Thread)
    assert isinstance(await client.threads.retrieve("thread_1"), t.Thread)
    assert isinstance(await client.threads.update("thread_1"), t.Thread)
    assert isinstance(await client.threads.delete("thread_1"), t.ThreadDeleted)
    assert isinstance(await client.threads.create_and_run(assistant_id="asst_1"), t.Run)


async def test_threads_all_arguments(client: AsyncAssistants) -> None:
    thread = await client.threads.create(
        messages=[MESSAGE],
        tool_resources={"file_search": {"vector_store_ids": ["vs_1"]}},
        metadata={"k": "v"},
    )
    assert isinstance(thread, t.Thread)
    updated = await client.threads.update(
        "thread_1",
        tool_resources={"code_interpreter": {"file_ids": ["file_1"]}},
        metadata={"k": "v"},
    )
    assert isinstance(updated, t.Thread)
    run = await client.threads.create_and_run(
        assistant_id="asst_1",
        thread={"messages": [MESSAGE], "metadata": {"k": "v"}},
        tool_resources={"code_interpreter": {"file_ids": ["file_1"]}},
        **RUN_KNOBS,
    )
    assert isinstance(run, t.Run)


async def test_messages_minimal(client: AsyncAssistants) -> None:
    msg = await client.threads.messages.create("thread_1", role="user", content="Hi")
    assert isinstance(msg, t.Message)
    assert isinstance(
        await client.threads.messages.retrieve("msg_1", thread_id="thread_1"), t.Message
    )
    assert isinstance(
        await client.threads.messages.update("msg_1", thread_id="thread_1"), t.Message
    )
    page = await client.threads.messages.list("thread_1")
    assert all(isinstance(m, t.Message) for m in page.data)
    deleted = await client.threads.messages.delete("msg_1", thread_id="thread_1")
    assert isinstance(deleted, t.MessageDeleted)


async def test_messages_all_arguments(client: AsyncAssistants) -> None:
    msg = await client.threads.messages.create(
        "thread_1",
        role="assistant",
        content=[
            {"type": "text", "text": "look"},
            {
                "type": "image_url",
                "image_url": {"url": "https://example.invalid/a.png", "detail": "low"},
            },
            {"type": "image_file", "image_file": {"file_id": "file_1", "detail": "high"}},
        ],
        attachments=[{"file_id": "file_1", "tools": [{"type": "file_search"}]}],
        metadata={"k": "v"},
    )
    assert isinstance(msg, t.Message)
    updated = await client.threads.messages.update(
        "msg_1", thread_id="thread_1", metadata={"a": "b"}
    )
    assert isinstance(updated, t.Message)
    page = await client.threads.messages.list(
        "thread_1", limit=3, order="desc", after="msg_0", before="msg_9", run_id="run_1"
    )
    assert isinstance(page.has_more, bool)


async def test_runs_minimal(client: AsyncAssistants) -> None:
    runs = client.threads.runs
    assert isinstance(await runs.create("thread_1", assistant_id="asst_1"), t.Run)
    assert isinstance(await runs.retrieve("run_1", thread_id="thread_1"), t.Run)
    assert isinstance(await runs.update("run_1", thread_id="thread_1"), t.Run)
    page = await runs.list("thread_1")
    assert all(isinstance(r, t.Run) for r in page.data)
    assert isinstance(await runs.cancel("run_1", thread_id="thread_1"), t.Run)
    submitted = await runs.submit_tool_outputs(
        "run_1", thread_id="thread_1", tool_outputs=[{"tool_call_id": "call_1", "output": "ok"}]
    )
    assert isinstance(submitted, t.Run)


async def test_runs_all_arguments(client: AsyncAssistants) -> None:
    runs = client.threads.runs
    run = await runs.create(
        "thread_1",
        assistant_id="asst_1",
        include=INCLUDE,
        reasoning_effort="high",
        additional_instructions="More.",
        additional_messages=[MESSAGE],
        **RUN_KNOBS,
    )
    assert isinstance(run, t.Run)
    assert isinstance(await runs.update("run_1", thread_id="thread_1", metadata={"k": "v"}), t.Run)
    page = await runs.list("thread_1", limit=2, order="asc", after="run_0", before="run_9")
    assert isinstance(page.has_more, bool)


async def test_run_steps(client: AsyncAssistants) -> None:
    steps = client.threads.runs.steps
    step = await steps.retrieve("step_1", thread_id="thread_1", run_id="run_1")
    assert isinstance(step, t.RunStep)
    step = await steps.retrieve("step_1", thread_id="thread_1", run_id="run_1", include=INCLUDE)
    assert isinstance(step, t.RunStep)
    page = await steps.list("run_1", thread_id="thread_1")
    assert all(isinstance(s, t.RunStep) for s in page.data)
    page = await steps.list(
        "run_1",
        thread_id="thread_1",
        limit=4,
        order="asc",
        after="step_0",
        before="step_9",
        include=INCLUDE,
    )
    assert all(isinstance(s, t.RunStep) for s in page.data)


async def test_invalid_request_is_rejected_with_422(client: AsyncAssistants) -> None:
    # Proof that Prism validates requests: a number where the spec wants a model name string.
    with pytest.raises(UnprocessableEntityError) as excinfo:
        await client.assistants.create(model=123)  # type: ignore[arg-type]
    assert excinfo.value.status_code == 422
