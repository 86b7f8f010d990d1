"""Tool definitions (on assistants, runs and attachments) and tool choice."""

from __future__ import annotations

from typing import Annotated, Literal, TypeAlias

from pydantic import Tag

from ._base import APIModel, tag_discriminator
from .shared import FunctionDefinition

__all__ = [
    "AssistantTool",
    "AssistantToolChoice",
    "AssistantToolChoiceFunction",
    "AssistantToolChoiceOption",
    "CodeInterpreterTool",
    "FileSearchRanker",
    "FileSearchRankingOptions",
    "FileSearchTool",
    "FileSearchToolOptions",
    "FunctionTool",
    "UnknownTool",
]

FileSearchRanker: TypeAlias = Literal["auto", "default_2024_08_21"] | str
"""Servers send rankers the spec does not list (e.g. ``default-2024-08-21``); any string is kept."""


class CodeInterpreterTool(APIModel):
    type: Literal["code_interpreter"]


class FileSearchRankingOptions(APIModel):
    """Ranking options requested on the file search tool (``ranker`` defaults to ``auto``)."""

    score_threshold: float
    ranker: FileSearchRanker | None = None


class FileSearchToolOptions(APIModel):
    """Overrides for the file search tool (the ``file_search`` field of ``FileSearchTool``)."""

    max_num_results: int | None = None
    ranking_options: FileSearchRankingOptions | None = None


class FileSearchTool(APIModel):
    type: Literal["file_search"]
    file_search: FileSearchToolOptions | None = None


class FunctionTool(APIModel):
    type: Literal["function"]
    function: FunctionDefinition


class UnknownTool(APIModel):
    """A tool whose ``type`` this version does not know; all its data is kept."""

    type: str | None = None


AssistantTool: TypeAlias = Annotated[
    Annotated[CodeInterpreterTool, Tag("code_interpreter")]
    | Annotated[FileSearchTool, Tag("file_search")]
    | Annotated[FunctionTool, Tag("function")]
    | Annotated[UnknownTool, Tag("unknown")],
    tag_discriminator("type", frozenset({"code_interpreter", "file_search", "function"})),
]
"""A tool definition, discriminated on ``type``; unknown types become ``UnknownTool``."""


class AssistantToolChoiceFunction(APIModel):
    name: str


class AssistantToolChoice(APIModel):
    """Forces the model to call one specific tool."""

    type: Literal["function", "code_interpreter", "file_search"] | str
    function: AssistantToolChoiceFunction | None = None


AssistantToolChoiceOption: TypeAlias = (
    Literal["none", "auto", "required"] | str | AssistantToolChoice
)
"""``"none"``, ``"auto"``, ``"required"`` (or a newer string) or a named tool choice."""
