"""Runs: status, required action, errors, usage, truncation and the run's configuration."""

from __future__ import annotations

from typing import Literal, TypeAlias

from ._base import APIModel
from .shared import AssistantResponseFormatOption, Metadata, Usage
from .tools import AssistantTool, AssistantToolChoiceOption

__all__ = [
    "RequiredAction",
    "RequiredActionFunction",
    "RequiredActionFunctionToolCall",
    "RequiredActionSubmitToolOutputs",
    "Run",
    "RunIncompleteDetails",
    "RunLastError",
    "RunStatus",
    "TruncationStrategy",
]

RunStatus: TypeAlias = (
    Literal[
        "queued",
        "in_progress",
        "requires_action",
        "cancelling",
        "cancelled",
        "failed",
        "completed",
        "incomplete",
        "expired",
    ]
    | str
)
"""Any string is accepted so that a status added by a newer server does not break parsing."""


class RequiredActionFunction(APIModel):
    name: str
    arguments: str


class RequiredActionFunctionToolCall(APIModel):
    """A function call the run waits on; answer it with ``submit_tool_outputs``."""

    id: str
    type: Literal["function"] | str
    function: RequiredActionFunction


class RequiredActionSubmitToolOutputs(APIModel):
    tool_calls: list[RequiredActionFunctionToolCall]


class RequiredAction(APIModel):
    type: Literal["submit_tool_outputs"] | str
    submit_tool_outputs: RequiredActionSubmitToolOutputs


class RunLastError(APIModel):
    code: Literal["server_error", "rate_limit_exceeded", "invalid_prompt"] | str
    message: str


class RunIncompleteDetails(APIModel):
    reason: Literal["max_completion_tokens", "max_prompt_tokens"] | str | None = None


class TruncationStrategy(APIModel):
    type: Literal["auto", "last_messages"] | str
    last_messages: int | None = None


class Run(APIModel):
    """An execution run on a thread."""

    id: str
    object: Literal["thread.run"]
    created_at: int
    thread_id: str
    assistant_id: str
    status: RunStatus
    model: str
    # The spec marks `instructions` non-nullable, yet its own example (and compatible servers)
    # send null.
    instructions: str | None = None
    tools: list[AssistantTool] = []
    # Required (nullable) in the spec; defaults keep older and compatible servers parseable.
    required_action: RequiredAction | None = None
    last_error: RunLastError | None = None
    expires_at: int | None = None
    started_at: int | None = None
    cancelled_at: int | None = None
    failed_at: int | None = None
    completed_at: int | None = None
    incomplete_details: RunIncompleteDetails | None = None
    metadata: Metadata = None
    usage: Usage | None = None
    temperature: float | None = None
    top_p: float | None = None
    max_prompt_tokens: int | None = None
    max_completion_tokens: int | None = None
    truncation_strategy: TruncationStrategy | None = None
    tool_choice: AssistantToolChoiceOption | None = None
    # The spec's default; streams recorded before mid-2024 do not send it.
    parallel_tool_calls: bool = True
    response_format: AssistantResponseFormatOption | None = None
