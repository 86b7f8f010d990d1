"""One conversational turn for the CLI: stream a run, show it, answer tool calls locally.

Only ``async for event in stream`` is used, so the CLI shows every event type the same way
whichever layer produced the stream.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..tools import Toolbox, ToolCallFinished, ToolCallStarted, function_tool
from ..types import (
    AssistantStreamEvent,
    CodeInterpreterOutputLogs,
    CodeInterpreterToolCall,
    FileCitationAnnotation,
    Message,
    Run,
    TextContentBlock,
    TextDeltaBlock,
    ThreadMessageCompleted,
    ThreadMessageDelta,
    ThreadRunStepCompleted,
    ToolCallsStepDetails,
)
from ._render import Printer

if TYPE_CHECKING:
    from .._client import AsyncAssistants

__all__ = ["TurnStats", "demo_toolbox", "get_weather", "run_turn", "show_stream"]


@function_tool
async def get_weather(city: str) -> str:
    """Current weather in a city.

    Args:
        city: City name, e.g. "Paris".
    """
    return f"sunny, 21 C in {city}"  # a stand-in for a weather API: the demo needs no network


def demo_toolbox(out: Printer) -> Toolbox:
    """The CLI's tools, printing each call and its output as it happens."""

    def started(info: ToolCallStarted) -> None:
        out.tool_call(info.name, info.arguments)

    def finished(info: ToolCallFinished) -> None:
        out.tool_output(info.name, info.output)

    return Toolbox([get_weather], on_tool_start=started, on_tool_end=finished)


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


async def show_stream(
    stream: AsyncIterable[AssistantStreamEvent], out: Printer, stats: TurnStats
) -> Run | None:
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
        elif isinstance(event, ThreadRunStepCompleted):
            # shown once complete: the code arrives in fragments, the logs at the end
            details = event.data.step_details
            if isinstance(details, ToolCallsStepDetails):
                for call in details.tool_calls:
                    if isinstance(call, CodeInterpreterToolCall):
                        out.code(call.code_interpreter.input)
                        for output in call.code_interpreter.outputs:
                            if isinstance(output, CodeInterpreterOutputLogs):
                                out.logs(output.logs)
    out.end_text()
    return run


def _show_annotations(message: Message, out: Printer) -> None:
    for block in message.content:
        if isinstance(block, TextContentBlock):
            for annotation in block.text.annotations:
                if isinstance(annotation, FileCitationAnnotation):
                    out.citation(annotation.text, annotation.file_citation.file_id)


async def run_turn(
    client: AsyncAssistants,
    *,
    thread_id: str,
    assistant_id: str,
    out: Printer,
    toolbox: Toolbox,
    max_rounds: int = 8,
) -> tuple[Run | None, TurnStats]:
    """Stream one run to the terminal, answering ``requires_action`` until it settles."""
    stats = TurnStats()
    async with client.threads.runs.stream(thread_id=thread_id, assistant_id=assistant_id) as stream:
        run = await show_stream(stream, out, stats)
    rounds = 0
    while run is not None and run.status == "requires_action" and rounds < max_rounds:
        rounds += 1
        outputs = await toolbox.outputs_for(run)
        stats.tool_calls += len(outputs)
        async with client.threads.runs.submit_tool_outputs_stream(
            thread_id=thread_id, run_id=run.id, tool_outputs=outputs
        ) as stream:
            run = await show_stream(stream, out, stats)
    return run, stats
