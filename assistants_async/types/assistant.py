"""Assistants."""

from __future__ import annotations

from typing import Literal

from ._base import APIModel
from .shared import AssistantResponseFormatOption, Metadata, ToolResources
from .tools import AssistantTool

__all__ = ["Assistant", "AssistantDeleted"]


class Assistant(APIModel):
    """An assistant that can call the model and use tools."""

    id: str
    object: Literal["assistant"]
    created_at: int
    model: str
    name: str | None = None
    description: str | None = None
    instructions: str | None = None
    tools: list[AssistantTool] = []
    tool_resources: ToolResources | None = None
    metadata: Metadata = None
    temperature: float | None = None
    top_p: float | None = None
    response_format: AssistantResponseFormatOption | None = None


class AssistantDeleted(APIModel):
    id: str
    object: Literal["assistant.deleted"]
    deleted: bool
