"""Small models shared by several object families: errors, usage, response formats, resources."""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeAlias

from pydantic import ConfigDict, Field, Tag

from ._base import APIModel, tag_discriminator

__all__ = [
    "AssistantResponseFormatOption",
    "ErrorObject",
    "FunctionDefinition",
    "JSONSchema",
    "Metadata",
    "ResponseFormat",
    "ResponseFormatJSONObject",
    "ResponseFormatJSONSchema",
    "ResponseFormatText",
    "ToolResources",
    "ToolResourcesCodeInterpreter",
    "ToolResourcesFileSearch",
    "UnknownResponseFormat",
    "Usage",
]

Metadata: TypeAlias = dict[str, str] | None
"""Up to 16 string key/value pairs attached to an object; ``None`` when the server sends null."""


class ErrorObject(APIModel):
    """The ``data`` of an ``error`` stream event (and of an error response body).

    Every field is optional: error payloads from compatible servers vary.
    """

    code: str | None = None
    message: str | None = None
    param: str | None = None
    type: str | None = None


class Usage(APIModel):
    """Token usage of a run or a run step (``null`` until it reaches a terminal state)."""

    completion_tokens: int
    prompt_tokens: int
    total_tokens: int


class FunctionDefinition(APIModel):
    name: str
    description: str | None = None
    parameters: dict[str, Any] | None = None
    strict: bool | None = None


class ToolResourcesCodeInterpreter(APIModel):
    file_ids: list[str] | None = None


class ToolResourcesFileSearch(APIModel):
    vector_store_ids: list[str] | None = None


class ToolResources(APIModel):
    """Resources made available to an assistant's or a thread's tools."""

    code_interpreter: ToolResourcesCodeInterpreter | None = None
    file_search: ToolResourcesFileSearch | None = None


class ResponseFormatText(APIModel):
    type: Literal["text"]


class ResponseFormatJSONObject(APIModel):
    type: Literal["json_object"]


class JSONSchema(APIModel):
    # `schema` would shadow a (deprecated) BaseModel attribute, hence the alias; serialising by
    # alias keeps the wire name in dumps.
    model_config = ConfigDict(
        extra="allow", serialize_by_alias=True, validate_by_name=True, validate_by_alias=True
    )

    name: str
    description: str | None = None
    schema_: dict[str, Any] | None = Field(default=None, alias="schema")
    strict: bool | None = None


class ResponseFormatJSONSchema(APIModel):
    type: Literal["json_schema"]
    json_schema: JSONSchema


class UnknownResponseFormat(APIModel):
    """A response format object whose ``type`` this version does not know; data is kept."""

    type: str | None = None


ResponseFormat: TypeAlias = Annotated[
    Annotated[ResponseFormatText, Tag("text")]
    | Annotated[ResponseFormatJSONObject, Tag("json_object")]
    | Annotated[ResponseFormatJSONSchema, Tag("json_schema")]
    | Annotated[UnknownResponseFormat, Tag("unknown")],
    tag_discriminator("type", frozenset({"text", "json_object", "json_schema"})),
]
"""A response format object, discriminated on ``type``."""

AssistantResponseFormatOption: TypeAlias = Literal["auto"] | str | ResponseFormat
"""``"auto"`` (or another string a server may add) or a response format object."""
