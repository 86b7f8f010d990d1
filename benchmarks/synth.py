"""Synthetic Assistants run streams shaped like the recorded ones in shared/recorded-streams.

Each scenario is a full, valid stream (run created ... run completed or requires_action, then
``event: done``) whose bulk is ``n`` delta events. Objects use the field set the live API sent
in 2024-2025 and compact JSON, as the server writes it.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

__all__ = ["SCENARIOS", "Stream", "chunk_fixed", "chunk_per_event", "make_stream"]

T0 = 1_714_853_353
THREAD = "thread_DWFcoAFxKqpNR8MKplqFREzl"
RUN = "run_uNQ87yXUBgR3bf8AKnzO0p1b"
ASSISTANT = "asst_eC1BeXfmDfbyiSB79WewXLw9"
WORDS = (
    "the quick brown fox jumps over lazy dog while a río de janeiro café serves "
    "naïve tea 中文 and 😀 emoji in every paragraph of this long answer about streams"
).split()


@dataclass(frozen=True)
class Stream:
    name: str
    events: list[bytes]  # one SSE block per item, "event: ...\ndata: ...\n\n"
    deltas: int  # how many of them are delta events

    @property
    def body(self) -> bytes:
        return b"".join(self.events)


def sse(event: str, data: Any) -> bytes:
    payload = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"))
    return f"event: {event}\ndata: {payload}\n\n".encode()


def _run(status: str, *, tools: list[Any] | None = None, required: Any = None) -> dict[str, Any]:
    return {
        "id": RUN,
        "object": "thread.run",
        "created_at": T0,
        "assistant_id": ASSISTANT,
        "thread_id": THREAD,
        "status": status,
        "started_at": T0 + 1 if status != "queued" else None,
        "expires_at": T0 + 600,
        "cancelled_at": None,
        "failed_at": None,
        "completed_at": T0 + 9 if status == "completed" else None,
        "required_action": required,
        "last_error": None,
        "model": "gpt-4o",
        "instructions": "You are a very kind assistant. Answer with care.",
        "tools": tools or [],
        "tool_resources": {"code_interpreter": {"file_ids": []}},
        "metadata": {},
        "temperature": 1.0,
        "top_p": 1.0,
        "max_completion_tokens": None,
        "max_prompt_tokens": None,
        "truncation_strategy": {"type": "auto", "last_messages": None},
        "incomplete_details": None,
        "usage": (
            {"prompt_tokens": 1375, "completion_tokens": 190, "total_tokens": 1565}
            if status == "completed"
            else None
        ),
        "response_format": "auto",
        "tool_choice": "auto",
        "parallel_tool_calls": True,
    }


def _step(step_id: str, status: str, details: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": step_id,
        "object": "thread.run.step",
        "created_at": T0 + 2,
        "run_id": RUN,
        "assistant_id": ASSISTANT,
        "thread_id": THREAD,
        "type": details["type"],
        "status": status,
        "cancelled_at": None,
        "completed_at": T0 + 8 if status == "completed" else None,
        "expires_at": T0 + 600,
        "failed_at": None,
        "last_error": None,
        "step_details": details,
        "usage": (
            {"prompt_tokens": 1375, "completion_tokens": 19, "total_tokens": 1394}
            if status == "completed"
            else None
        ),
    }


def _message(msg_id: str, status: str, content: list[Any]) -> dict[str, Any]:
    return {
        "id": msg_id,
        "object": "thread.message",
        "created_at": T0 + 3,
        "assistant_id": ASSISTANT,
        "thread_id": THREAD,
        "run_id": RUN,
        "status": status,
        "incomplete_details": None,
        "incomplete_at": None,
        "completed_at": T0 + 8 if status == "completed" else None,
        "role": "assistant",
        "content": content,
        "attachments": [],
        "metadata": {},
    }


def _run_start(tools: list[Any] | None = None) -> list[bytes]:
    return [
        sse("thread.run.created", _run("queued", tools=tools)),
        sse("thread.run.queued", _run("queued", tools=tools)),
        sse("thread.run.in_progress", _run("in_progress", tools=tools)),
    ]


def _text_message(n: int, rng: random.Random, *, annotated: bool) -> Iterator[bytes]:
    msg, step = "msg_Ag3YJbYvWGbuOGfEB9WbTR9a", "step_2Ca9p3JbAxKZsdpsnPzTTlB8"
    creation = {"type": "message_creation", "message_creation": {"message_id": msg}}
    yield sse("thread.run.step.created", _step(step, "in_progress", creation))
    yield sse("thread.run.step.in_progress", _step(step, "in_progress", creation))
    yield sse("thread.message.created", _message(msg, "in_progress", []))
    yield sse("thread.message.in_progress", _message(msg, "in_progress", []))
    text: list[str] = []
    length = 0
    annotations: list[dict[str, Any]] = []
    for i in range(n):
        text_delta: dict[str, Any]
        if annotated and i % 10 == 9:
            marker = f"【{4 + len(annotations)}:0†source】"
            ann = {
                "index": len(annotations),
                "type": "file_citation",
                "text": marker,
                "start_index": length,
                "end_index": length + len(marker),
                "file_citation": {"file_id": "file-Y5dUQaQBN3cGfESwzXRM4cM1"},
            }
            annotations.append({k: v for k, v in ann.items() if k != "index"})
            text_delta = {"value": marker, "annotations": [ann]}
            piece = marker
        else:
            piece = " " + rng.choice(WORDS)
            text_delta = {"value": piece}
            if i == 0:
                text_delta["annotations"] = []
        text.append(piece)
        length += len(piece)
        delta = {"content": [{"index": 0, "type": "text", "text": text_delta}]}
        yield sse(
            "thread.message.delta", {"id": msg, "object": "thread.message.delta", "delta": delta}
        )
    full = [{"type": "text", "text": {"value": "".join(text), "annotations": annotations}}]
    yield sse("thread.message.completed", _message(msg, "completed", full))
    yield sse("thread.run.step.completed", _step(step, "completed", creation))


def long_text(n: int, seed: int = 1) -> list[bytes]:
    rng = random.Random(seed)
    events = _run_start()
    events += _text_message(n, rng, annotated=False)
    events += [sse("thread.run.completed", _run("completed")), sse("done", "[DONE]")]
    return events


def annotated_text(n: int, seed: int = 2) -> list[bytes]:
    rng = random.Random(seed)
    tools = [{"type": "file_search"}]
    events = _run_start(tools)
    events += _text_message(n, rng, annotated=True)
    events += [sse("thread.run.completed", _run("completed", tools=tools)), sse("done", "[DONE]")]
    return events


def parallel_tool_calls(n: int, seed: int = 3, calls: int = 4) -> list[bytes]:
    rng = random.Random(seed)
    step = "step_iSAdisa8jKetGFKqiRbpvW85"
    tools = [
        {
            "type": "function",
            "function": {
                "name": "CurrentTemperature",
                "description": "Get the current temperature for a specific location",
                "parameters": {
                    "type": "object",
                    "properties": {"location": {"type": "string"}, "unit": {"type": "string"}},
                    "required": ["location", "unit"],
                },
            },
        }
    ]
    ids = [f"call_vnwkHhHXhL2aZjtT82XyoT{i:02d}" for i in range(calls)]
    args: list[list[str]] = [[] for _ in range(calls)]
    events = _run_start(tools)
    empty = {"type": "tool_calls", "tool_calls": []}
    events.append(sse("thread.run.step.created", _step(step, "in_progress", empty)))
    events.append(sse("thread.run.step.in_progress", _step(step, "in_progress", empty)))
    for i in range(n):
        index = i % calls
        call: dict[str, Any] = {"index": index, "type": "function"}
        if i < calls:
            call["id"] = ids[index]
            call["function"] = {"name": "CurrentTemperature", "arguments": "", "output": None}
        else:
            piece = rng.choice(['{"', "location", '":"', "Lima", ", Peru", '","unit":"', "c"])
            args[index].append(piece)
            call["function"] = {"arguments": piece}
        delta = {"step_details": {"type": "tool_calls", "tool_calls": [call]}}
        events.append(
            sse(
                "thread.run.step.delta",
                {"id": step, "object": "thread.run.step.delta", "delta": delta},
            )
        )
    full_calls = [
        {
            "id": ids[k],
            "type": "function",
            "function": {
                "name": "CurrentTemperature",
                "arguments": "".join(args[k]),
                "output": None,
            },
        }
        for k in range(calls)
    ]
    required = {"type": "submit_tool_outputs", "submit_tool_outputs": {"tool_calls": full_calls}}
    details = {"type": "tool_calls", "tool_calls": full_calls}
    events.append(sse("thread.run.step.completed", _step(step, "completed", details)))
    events.append(
        sse("thread.run.requires_action", _run("requires_action", tools=tools, required=required))
    )
    events.append(sse("done", "[DONE]"))
    return events


def code_interpreter(n: int, seed: int = 4) -> list[bytes]:
    rng = random.Random(seed)
    step = "step_Yk2RQz7Q9kBf1dZ3sLq0aX4p"
    call_id = "call_1Jx7ZbG2xH3Zq6ODpUeQmT9c"
    tools = [{"type": "code_interpreter"}]
    events = _run_start(tools)
    empty = {"type": "tool_calls", "tool_calls": []}
    events.append(sse("thread.run.step.created", _step(step, "in_progress", empty)))
    source: list[str] = []
    logs: list[str] = []
    half = n // 2
    for i in range(n):
        ci: dict[str, Any]
        if i == 0:
            ci = {"input": "", "outputs": []}
        elif i < half:
            piece = rng.choice(["import ", "math\n", "print(", "sum(", "range(10)", "))\n", "x = "])
            source.append(piece)
            ci = {"input": piece}
        else:
            piece = f"{rng.randint(0, 10**6)}\n"
            logs.append(piece)
            ci = {"outputs": [{"index": 0, "type": "logs", "logs": piece}]}
        call: dict[str, Any] = {"index": 0, "type": "code_interpreter", "code_interpreter": ci}
        if i == 0:
            call["id"] = call_id
        delta = {"step_details": {"type": "tool_calls", "tool_calls": [call]}}
        events.append(
            sse(
                "thread.run.step.delta",
                {"id": step, "object": "thread.run.step.delta", "delta": delta},
            )
        )
    full = {
        "type": "tool_calls",
        "tool_calls": [
            {
                "id": call_id,
                "type": "code_interpreter",
                "code_interpreter": {
                    "input": "".join(source),
                    "outputs": [{"type": "logs", "logs": "".join(logs)}],
                },
            }
        ],
    }
    events.append(sse("thread.run.step.completed", _step(step, "completed", full)))
    events.append(sse("thread.run.completed", _run("completed", tools=tools)))
    events.append(sse("done", "[DONE]"))
    return events


SCENARIOS: dict[str, Callable[[int], list[bytes]]] = {
    "long text": long_text,
    "parallel tool calls": parallel_tool_calls,
    "annotated text": annotated_text,
    "code interpreter": code_interpreter,
}


def make_stream(scenario: str, n: int) -> Stream:
    return Stream(scenario, SCENARIOS[scenario](n), n)


def chunk_per_event(stream: Stream) -> list[bytes]:
    """Each SSE block in its own chunk: the shape of a live stream read as it arrives."""
    return list(stream.events)


def chunk_fixed(stream: Stream, size: int = 64 * 1024) -> list[bytes]:
    """The body cut into ``size``-byte chunks regardless of event boundaries (a burst)."""
    body = stream.body
    return [body[i : i + size] for i in range(0, len(body), size)]
