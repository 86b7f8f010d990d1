"""Function tools from Python callables, and the ``requires_action`` loop.

``@function_tool`` / ``Tool.from_model`` describe callables as function tools; a ``Toolbox``
holds them, gives the ``tools=[...]`` definitions and answers a run's ``requires_action`` by
running every requested call concurrently. ``tool_continuation`` (streaming) and
``run_tool_loop`` (polling) keep answering until the run is done. See docs/tools.md.
"""

from __future__ import annotations

from ._loop import (
    DEFAULT_MAX_TOOL_ROUNDS,
    ToolRoundsExceededError,
    run_tool_loop,
    submit_tool_outputs_opener,
    tool_continuation,
)
from ._schema import ArgumentsError, ToolDefinitionError
from ._tool import Tool, ToolContext, function_tool, serialize_output
from ._toolbox import (
    DEFAULT_TOOL_TIMEOUT,
    Toolbox,
    ToolCallFinished,
    ToolCallStarted,
    ToolHook,
    ToolOutput,
    ToolStatus,
)

__all__ = [
    "DEFAULT_MAX_TOOL_ROUNDS",
    "DEFAULT_TOOL_TIMEOUT",
    "ArgumentsError",
    "Tool",
    "ToolCallFinished",
    "ToolCallStarted",
    "ToolContext",
    "ToolDefinitionError",
    "ToolHook",
    "ToolOutput",
    "ToolRoundsExceededError",
    "ToolStatus",
    "Toolbox",
    "function_tool",
    "run_tool_loop",
    "serialize_output",
    "submit_tool_outputs_opener",
    "tool_continuation",
]
