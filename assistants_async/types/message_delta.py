"""Message deltas streamed as ``thread.message.delta``.

These are validated once per streamed delta, so they stay plain: no validators, no computed
fields, every field optional except the ``index``/``type`` the accumulator keys on.
"""

from __future__ import annotations

from typing import Annotated, Literal, TypeAlias

from pydantic import Tag

from ._base import APIModel, tag_discriminator
from .message import ImageDetail, MessageRole

__all__ = [
    "AnnotationDelta",
    "FileCitationDelta",
    "FileCitationDeltaAnnotation",
    "FilePathDelta",
    "FilePathDeltaAnnotation",
    "ImageFileDelta",
    "ImageFileDeltaBlock",
    "ImageURLDelta",
    "ImageURLDeltaBlock",
    "MessageContentDelta",
    "MessageDelta",
    "MessageDeltaEvent",
    "RefusalDeltaBlock",
    "TextDelta",
    "TextDeltaBlock",
    "UnknownAnnotationDelta",
    "UnknownContentDeltaBlock",
]


class FileCitationDelta(APIModel):
    file_id: str | None = None
    quote: str | None = None


class FileCitationDeltaAnnotation(APIModel):
    index: int
    type: Literal["file_citation"]
    text: str | None = None
    file_citation: FileCitationDelta | None = None
    start_index: int | None = None
    end_index: int | None = None


class FilePathDelta(APIModel):
    file_id: str | None = None


class FilePathDeltaAnnotation(APIModel):
    index: int
    type: Literal["file_path"]
    text: str | None = None
    file_path: FilePathDelta | None = None
    start_index: int | None = None
    end_index: int | None = None


class UnknownAnnotationDelta(APIModel):
    """An annotation delta whose ``type`` this version does not know; all its data is kept."""

    index: int | None = None
    type: str | None = None


AnnotationDelta: TypeAlias = Annotated[
    Annotated[FileCitationDeltaAnnotation, Tag("file_citation")]
    | Annotated[FilePathDeltaAnnotation, Tag("file_path")]
    | Annotated[UnknownAnnotationDelta, Tag("unknown")],
    tag_discriminator("type", frozenset({"file_citation", "file_path"})),
]


class TextDelta(APIModel):
    value: str | None = None
    annotations: list[AnnotationDelta] | None = None


class TextDeltaBlock(APIModel):
    index: int
    type: Literal["text"]
    text: TextDelta | None = None


class ImageFileDelta(APIModel):
    file_id: str | None = None
    detail: ImageDetail | None = None


class ImageFileDeltaBlock(APIModel):
    index: int
    type: Literal["image_file"]
    image_file: ImageFileDelta | None = None


class ImageURLDelta(APIModel):
    url: str | None = None
    detail: ImageDetail | None = None


class ImageURLDeltaBlock(APIModel):
    index: int
    type: Literal["image_url"]
    image_url: ImageURLDelta | None = None


class RefusalDeltaBlock(APIModel):
    index: int
    type: Literal["refusal"]
    refusal: str | None = None


class UnknownContentDeltaBlock(APIModel):
    """A content delta whose ``type`` this version does not know; all its data is kept."""

    index: int | None = None
    type: str | None = None


MessageContentDelta: TypeAlias = Annotated[
    Annotated[ImageFileDeltaBlock, Tag("image_file")]
    | Annotated[TextDeltaBlock, Tag("text")]
    | Annotated[RefusalDeltaBlock, Tag("refusal")]
    | Annotated[ImageURLDeltaBlock, Tag("image_url")]
    | Annotated[UnknownContentDeltaBlock, Tag("unknown")],
    tag_discriminator("type", frozenset({"image_file", "text", "refusal", "image_url"})),
]
"""A content delta, discriminated on ``type``; merged into the message by ``index``."""


class MessageDelta(APIModel):
    """The fields of a message that changed."""

    role: MessageRole | None = None
    content: list[MessageContentDelta] | None = None


class MessageDeltaEvent(APIModel):
    """The ``data`` of a ``thread.message.delta`` event."""

    id: str
    object: Literal["thread.message.delta"]
    delta: MessageDelta
