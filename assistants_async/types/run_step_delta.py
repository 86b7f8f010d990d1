"""Run step deltas streamed as ``thread.run.step.delta``.

Validated once per streamed delta, so kept plain: no validators, no computed fields, every
field optional except the ``index``/``type`` the accumulator keys on.
"""

from __future__ import annotations

from typing import Annotated, Literal, TypeAlias

from pydantic import Tag

from ._base import APIModel, tag_discriminator
from .run_step import FileSearchResult
from .tools import FileSearchRanker

__all__ = [
    "CodeInterpreterCallDelta",
    "CodeInterpreterLogs",
    "CodeInterpreterOutputImage",
    "CodeInterpreterOutputImageImage",
    "CodeInterpreterToolCallDelta",
    "CodeInterpreterToolCallDeltaOutput",
    "FileSearchCallDelta",
    "FileSearchCallDeltaRankingOptions",
    "FileSearchToolCallDelta",
    "FunctionCallDelta",
    "FunctionToolCallDelta",
    "MessageCreationDelta",
    "RunStepDelta",
    "RunStepDeltaEvent",
    "RunStepDeltaMessageDelta",
    "StepDetailsDelta",
    "ToolCallDelta",
    "ToolCallDeltaObject",
    "UnknownCodeInterpreterOutputDelta",
    "UnknownStepDetailsDelta",
    "UnknownToolCallDelta",
]


class CodeInterpreterLogs(APIModel):
    """A ``logs`` output delta of a code interpreter call."""

    index: int
    type: Literal["logs"]
    logs: str | None = None


class CodeInterpreterOutputImageImage(APIModel):
    file_id: str | None = None


class CodeInterpreterOutputImage(APIModel):
    """An ``image`` output delta of a code interpreter call."""

    index: int
    type: Literal["image"]
    image: CodeInterpreterOutputImageImage | None = None


class UnknownCodeInterpreterOutputDelta(APIModel):
    """A code interpreter output delta of unknown ``type``; all its data is kept."""

    index: int | None = None
    type: str | None = None


CodeInterpreterToolCallDeltaOutput: TypeAlias = Annotated[
    Annotated[CodeInterpreterLogs, Tag("logs")]
    | Annotated[CodeInterpreterOutputImage, Tag("image")]
    | Annotated[UnknownCodeInterpreterOutputDelta, Tag("unknown")],
    tag_discriminator("type", frozenset({"logs", "image"})),
]


class CodeInterpreterCallDelta(APIModel):
    input: str | None = None
    outputs: list[CodeInterpreterToolCallDeltaOutput] | None = None


class CodeInterpreterToolCallDelta(APIModel):
    index: int
    type: Literal["code_interpreter"]
    id: str | None = None
    code_interpreter: CodeInterpreterCallDelta | None = None


class FileSearchCallDeltaRankingOptions(APIModel):
    ranker: FileSearchRanker | None = None
    score_threshold: float | None = None


class FileSearchCallDelta(APIModel):
    """The spec says "always an empty object"; real servers send ranking options and results."""

    ranking_options: FileSearchCallDeltaRankingOptions | None = None
    results: list[FileSearchResult] | None = None


class FileSearchToolCallDelta(APIModel):
    index: int
    type: Literal["file_search"]
    id: str | None = None
    file_search: FileSearchCallDelta | None = None


class FunctionCallDelta(APIModel):
    name: str | None = None
    arguments: str | None = None
    output: str | None = None


class FunctionToolCallDelta(APIModel):
    index: int
    type: Literal["function"]
    id: str | None = None
    function: FunctionCallDelta | None = None


class UnknownToolCallDelta(APIModel):
    """A tool call delta whose ``type`` this version does not know; all its data is kept."""

    index: int | None = None
    id: str | None = None
    type: str | None = None


ToolCallDelta: TypeAlias = Annotated[
    Annotated[CodeInterpreterToolCallDelta, Tag("code_interpreter")]
    | Annotated[FileSearchToolCallDelta, Tag("file_search")]
    | Annotated[FunctionToolCallDelta, Tag("function")]
    | Annotated[UnknownToolCallDelta, Tag("unknown")],
    tag_discriminator("type", frozenset({"code_interpreter", "file_search", "function"})),
]
"""A tool call delta, discriminated on ``type``; merged into the step by ``index``."""


class MessageCreationDelta(APIModel):
    message_id: str | None = None


class RunStepDeltaMessageDelta(APIModel):
    type: Literal["message_creation"]
    message_creation: MessageCreationDelta | None = None


class ToolCallDeltaObject(APIModel):
    type: Literal["tool_calls"]
    tool_calls: list[ToolCallDelta] | None = None


class UnknownStepDetailsDelta(APIModel):
    """Step details delta whose ``type`` this version does not know; all data is kept."""

    type: str | None = None


StepDetailsDelta: TypeAlias = Annotated[
    Annotated[RunStepDeltaMessageDelta, Tag("message_creation")]
    | Annotated[ToolCallDeltaObject, Tag("tool_calls")]
    | Annotated[UnknownStepDetailsDelta, Tag("unknown")],
    tag_discriminator("type", frozenset({"message_creation", "tool_calls"})),
]


class RunStepDelta(APIModel):
    """The fields of a run step that changed."""

    step_details: StepDetailsDelta | None = None


class RunStepDeltaEvent(APIModel):
    """The ``data`` of a ``thread.run.step.delta`` event."""

    id: str
    object: Literal["thread.run.step.delta"]
    delta: RunStepDelta
