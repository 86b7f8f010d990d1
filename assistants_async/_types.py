"""Sentinels and aliases shared by the client and its resources."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal, TypeAlias

from pydantic import BaseModel

from ._config import Timeout

__all__ = [
    "NOT_GIVEN",
    "Body",
    "Headers",
    "JSONObject",
    "Metadata",
    "NotGiven",
    "Query",
    "RequestOptions",
    "RunStepInclude",
    "strip_not_given",
]


class NotGiven:
    """The type of ``NOT_GIVEN``: "the caller did not pass this argument".

    Optional keyword arguments default to ``NOT_GIVEN`` and are left out of the request;
    an explicit ``None`` is sent as JSON ``null`` (which the API reads as "clear this field").
    """

    _instance: NotGiven | None = None

    def __new__(cls) -> NotGiven:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __bool__(self) -> Literal[False]:
        return False

    def __repr__(self) -> str:
        return "NOT_GIVEN"

    def __reduce__(self) -> str:
        return "NOT_GIVEN"


NOT_GIVEN: Final = NotGiven()

Headers: TypeAlias = Mapping[str, str]
Query: TypeAlias = Mapping[str, object]
Body: TypeAlias = Mapping[str, object]
JSONObject: TypeAlias = Mapping[str, Any] | BaseModel
"""A JSON object argument (a dict; a pydantic model from ``assistants_async.types`` works too)."""
Metadata: TypeAlias = Mapping[str, str]

RunStepInclude: TypeAlias = (
    Literal["step_details.tool_calls[*].file_search.results[*].content"] | str
)


def strip_not_given(values: Mapping[str, Any]) -> dict[str, Any]:
    """The mapping without its ``NOT_GIVEN`` entries (``None`` is kept: it means null)."""
    return {key: value for key, value in values.items() if not isinstance(value, NotGiven)}


@dataclass(frozen=True, slots=True)
class RequestOptions:
    """Per-call overrides every endpoint method accepts as keyword arguments.

    ``extra_headers`` are added to (and override) the client's headers; a ``None`` value
    removes a header. ``extra_query`` / ``extra_body`` are merged into the query and the JSON
    body. ``timeout`` replaces the client's timeout for this call (``None``: no timeouts).
    """

    extra_headers: Mapping[str, str | None] | None = None
    extra_query: Query | None = None
    extra_body: Body | None = None
    timeout: float | Timeout | None | NotGiven = NOT_GIVEN
