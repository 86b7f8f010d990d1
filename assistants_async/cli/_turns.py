"""One conversational turn for the CLI: stream a run, show it, run the requested tools locally.

Only ``async for event in stream`` is used, so the CLI shows every event type the same way
whichever layer produced the stream.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any

from ..types import (
    CodeInterpreterToolCallDelta,
    FileCitationAnnotation,
    Message,
    Run,
    TextContentBlock,
    TextDeltaBlock,
    ThreadMessageCompleted,
    ThreadMessageDelta,
    ThreadRunStepDelta,
    ToolCallDeltaObject,
)
from ._render import Printer

__all__ = ["LOCAL_TOOLS", "TOOL_SCHEMAS", "TurnStats", "run_turn", "show_stream"]

StreamFactory = Callable[..., AbstractAsyncContextManager[AsyncIterator[Any]]]
ToolFn = Callable[..., Awaitable[str]]


async def get_weather(city: str) -> str:
    """A stand-in for a real weather API, so the demo needs no network."""
    return f"sunny, 21 C in {city}"


LOCAL_TOOLS: Mapping[str, ToolFn] = {"get_weather": get_weather}

TOOL_SCHEMAS: list[dict[str, Any]] = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Current weather in a city.",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string", "description": "City name"}},
                "required": ["city"],
            },
        },
    }
]


@dataclass
class TurnStats:
    """What the summary shows: counts and timings over every round of one turn."""

    started: float = field(default_factory=time.perf_counter)
    first_text_at: float | None = None
    events: int = 0
    tool_calls: int = 0
    text: list[str] = field(default_factory=list)

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.started


async def show_stream(stream: AsyncIterator[Any], out: Printer, stats: TurnStats) -> Run | None:
    """Print a stream's events as they arrive; return the last run snapshot it carried."""
    run: Run | None = None
    async for event in stream:
        stats.events += 1
        data = getattr(event, "data", None)
        if isinstance(data, Run):
            run = data
        if isinstance(event, ThreadMessageDelta):
            for block in event.data.delta.content or []:
                if isinstance(block, TextDeltaBlock) and block.text and block.text.value:
                    if stats.first_text_at is None:
                        stats.first_text_at = stats.elapsed
                    stats.text.append(block.text.value)
                    out.text(block.text.value)
        elif isinstance(event, ThreadMessageCompleted):
            out.end_text()
            _show_annotations(event.data, out)
        elif isinstance(event, ThreadRunStepDelta):
            details = event.data.delta.step_details
            if isinstance(details, ToolCallDeltaObject):
                for call in details.tool_calls or []:
                    if isinstance(call, CodeInterpreterToolCallDelta) and call.code_interpreter:
                        if call.code_interpreter.input:
                            out.code(call.code_interpreter.input)
                        for output in call.code_interpreter.outputs or []:
                            logs = getattr(output, "logs", None)
                            if isinstance(logs, str) and logs:
                                out.logs(logs)
    out.end_text()
    return run


def _show_annotations(message: Message, out: Printer) -> None:
    for block in message.content:
        if isinstance(block, TextContentBlock):
            for annotation in block.text.annotations:
                if isinstance(annotation, FileCitationAnnotation):
                    out.citation(annotation.text, annotation.file_citation.file_id)


async def call_tools(run: Run, out: Printer, tools: Mapping[str, ToolFn]) -> list[dict[str, str]]:
    """Run each requested function locally; a missing tool or bad arguments become the output."""
    action = run.required_action
    if action is None:
        return []
    outputs: list[dict[str, str]] = []
    for call in action.submit_tool_outputs.tool_calls:
        name, arguments = call.function.name, call.function.arguments
        out.tool_call(name, arguments)
        fn = tools.get(name)
        try:
            if fn is None:
                raise LookupError(f"no local tool named {name!r}")
            kwargs = json.loads(arguments) if arguments.strip() else {}
            if not isinstance(kwargs, dict):
                raise TypeError("arguments must be a JSON object")
            result = await fn(**kwargs)
        except Exception as exc:  # the model sees the failure instead of the run hanging
            result = f"error: {exc}"
        out.tool_output(name, result)
        outputs.append({"tool_call_id": call.id, "output": result})
    return outputs


async def run_turn(
    client: Any,
    *,
    thread_id: str,
    assistant_id: str,
    out: Printer,
    tools: Mapping[str, ToolFn] = LOCAL_TOOLS,
    max_rounds: int = 8,
) -> tuple[Run | None, TurnStats]:
    """Stream one run to the terminal, answering ``requires_action`` until it settles."""
    stats = TurnStats()
    async with client.threads.runs.stream(thread_id=thread_id, assistant_id=assistant_id) as stream:
        run = await show_stream(stream, out, stats)
    rounds = 0
    while run is not None and run.status == "requires_action" and rounds < max_rounds:
        rounds += 1
        outputs = await call_tools(run, out, tools)
        stats.tool_calls += len(outputs)
        async with client.threads.runs.submit_tool_outputs_stream(
            thread_id=thread_id, run_id=run.id, tool_outputs=outputs
        ) as stream:
            run = await show_stream(stream, out, stats)
    return run, stats
