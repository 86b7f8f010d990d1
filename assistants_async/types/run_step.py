"""Run steps: step details, tool calls and code interpreter outputs (full objects)."""

from __future__ import annotations

from typing import Annotated, Literal, TypeAlias

from pydantic import Tag

from ._base import APIModel, tag_discriminator
from .shared import Metadata, Usage
from .tools import FileSearchRanker

__all__ = [
    "CodeInterpreterCall",
    "CodeInterpreterImage",
    "CodeInterpreterImageOutput",
    "CodeInterpreterOutputLogs",
    "CodeInterpreterToolCall",
    "CodeInterpreterToolCallOutput",
    "FileSearchCall",
    "FileSearchCallRankingOptions",
    "FileSearchResult",
    "FileSearchResultContent",
    "FileSearchToolCall",
    "FunctionCall",
    "FunctionToolCall",
    "MessageCreation",
    "MessageCreationStepDetails",
    "RunStep",
    "RunStepLastError",
    "RunStepStatus",
    "RunStepType",
    "StepDetails",
    "ToolCall",
    "ToolCallsStepDetails",
    "UnknownCodeInterpreterOutput",
    "UnknownStepDetails",
    "UnknownToolCall",
]

RunStepStatus: TypeAlias = (
    Literal["in_progress", "cancelled", "failed", "completed", "expired"] | str
)
RunStepType: TypeAlias = Literal["message_creation", "tool_calls"] | str


class CodeInterpreterOutputLogs(APIModel):
    """Text output (``logs``) of a code interpreter call."""

    type: Literal["logs"]
    logs: str


class CodeInterpreterImage(APIModel):
    file_id: str


class CodeInterpreterImageOutput(APIModel):
    """An image output of a code interpreter call."""

    type: Literal["image"]
    image: CodeInterpreterImage


class UnknownCodeInterpreterOutput(APIModel):
    """A code interpreter output whose ``type`` this version does not know; data is kept."""

    type: str | None = None


CodeInterpreterToolCallOutput: TypeAlias = Annotated[
    Annotated[CodeInterpreterOutputLogs, Tag("logs")]
    | Annotated[CodeInterpreterImageOutput, Tag("image")]
    | Annotated[UnknownCodeInterpreterOutput, Tag("unknown")],
    tag_discriminator("type", frozenset({"logs", "image"})),
]


class CodeInterpreterCall(APIModel):
    input: str
    outputs: list[CodeInterpreterToolCallOutput] = []


class CodeInterpreterToolCall(APIModel):
    id: str
    type: Literal["code_interpreter"]
    code_interpreter: CodeInterpreterCall


class FileSearchCallRankingOptions(APIModel):
    """The ranking options a file search call used."""

    ranker: FileSearchRanker
    score_threshold: float


class FileSearchResultContent(APIModel):
    type: Literal["text"] | str | None = None
    text: str | None = None


class FileSearchResult(APIModel):
    file_id: str
    file_name: str
    score: float
    content: list[FileSearchResultContent] | None = None


class FileSearchCall(APIModel):
    ranking_options: FileSearchCallRankingOptions | None = None
    results: list[FileSearchResult] | None = None


class FileSearchToolCall(APIModel):
    id: str
    type: Literal["file_search"]
    file_search: FileSearchCall


class FunctionCall(APIModel):
    name: str
    arguments: str
    output: str | None = None


class FunctionToolCall(APIModel):
    id: str
    type: Literal["function"]
    function: FunctionCall


class UnknownToolCall(APIModel):
    """A tool call whose ``type`` this version does not know; all its data is kept."""

    id: str | None = None
    type: str | None = None


ToolCall: TypeAlias = Annotated[
    Annotated[CodeInterpreterToolCall, Tag("code_interpreter")]
    | Annotated[FileSearchToolCall, Tag("file_search")]
    | Annotated[FunctionToolCall, Tag("function")]
    | Annotated[UnknownToolCall, Tag("unknown")],
    tag_discriminator("type", frozenset({"code_interpreter", "file_search", "function"})),
]


class MessageCreation(APIModel):
    message_id: str


class MessageCreationStepDetails(APIModel):
    type: Literal["message_creation"]
    message_creation: MessageCreation


class ToolCallsStepDetails(APIModel):
    type: Literal["tool_calls"]
    tool_calls: list[ToolCall] = []


class UnknownStepDetails(APIModel):
    """Step details whose ``type`` this version does not know; all their data is kept."""

    type: str | None = None


StepDetails: TypeAlias = Annotated[
    Annotated[MessageCreationStepDetails, Tag("message_creation")]
    | Annotated[ToolCallsStepDetails, Tag("tool_calls")]
    | Annotated[UnknownStepDetails, Tag("unknown")],
    tag_discriminator("type", frozenset({"message_creation", "tool_calls"})),
]


class RunStepLastError(APIModel):
    code: Literal["server_error", "rate_limit_exceeded"] | str
    message: str


class RunStep(APIModel):
    """A step in the execution of a run."""

    id: str
    object: Literal["thread.run.step"]
    created_at: int
    assistant_id: str
    thread_id: str
    run_id: str
    type: RunStepType
    status: RunStepStatus
    step_details: StepDetails
    # Required (nullable) in the spec; real servers omit `expired_at` and `metadata`.
    last_error: RunStepLastError | None = None
    expired_at: int | None = None
    # Not in the spec, but what real servers send (instead of `expired_at`).
    expires_at: int | None = None
    cancelled_at: int | None = None
    failed_at: int | None = None
    completed_at: int | None = None
    metadata: Metadata = None
    usage: Usage | None = None
