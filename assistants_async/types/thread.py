"""Threads."""

from __future__ import annotations

from typing import Literal

from ._base import APIModel
from .shared import Metadata, ToolResources

__all__ = ["Thread", "ThreadDeleted"]


class Thread(APIModel):
    """A conversation session between an assistant and a user."""

    id: str
    object: Literal["thread"]
    created_at: int
    tool_resources: ToolResources | None = None
    metadata: Metadata = None


class ThreadDeleted(APIModel):
    id: str
    object: Literal["thread.deleted"]
    deleted: bool
