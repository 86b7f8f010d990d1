"""Request-body and query validation with the real API's error wording.

A tiny combinator DSL: each checker takes ``(value, param)`` and returns the value or raises an
``ApiError`` (400) naming the offending parameter the way the API did (``messages[0].role``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .errors import ApiError

__all__ = [
    "CREATE_ASSISTANT",
    "CREATE_MESSAGE",
    "CREATE_RUN",
    "CREATE_THREAD",
    "CREATE_THREAD_AND_RUN",
    "MODIFY_ASSISTANT",
    "MODIFY_METADATA",
    "MODIFY_THREAD",
    "SUBMIT_TOOL_OUTPUTS",
    "Check",
    "list_query",
    "validate_body",
]

Check = Callable[[Any, str], Any]

_TYPE_NAMES = {
    bool: "a boolean",
    int: "an integer",
    float: "a number",
    str: "a string",
    list: "an array",
    dict: "an object",
    type(None): "null",
}


def _got(value: Any) -> str:
    return _TYPE_NAMES.get(type(value), type(value).__name__)


def _bad_type(param: str, expected: str, value: Any) -> ApiError:
    return ApiError(
        400,
        f"Invalid type for '{param}': expected {expected}, but got {_got(value)} instead.",
        param=param,
        code="invalid_type",
    )


def _nullable(check: Check) -> Check:
    def run(value: Any, param: str) -> Any:
        return None if value is None else check(value, param)

    return run


def string(*, max_length: int | None = None, nullable: bool = False) -> Check:
    def run(value: Any, param: str) -> Any:
        if not isinstance(value, str):
            raise _bad_type(param, "a string", value)
        if max_length is not None and len(value) > max_length:
            raise ApiError(
                400,
                f"Invalid '{param}': string too long. Expected a string with maximum length "
                f"{max_length}, but got a string with length {len(value)} instead.",
                param=param,
                code="string_above_max_length",
            )
        return value

    return _nullable(run) if nullable else run


def number(
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    integer: bool = False,
    nullable: bool = False,
) -> Check:
    kind = "an integer" if integer else "a number"

    def run(value: Any, param: str) -> Any:
        ok = isinstance(value, int) if integer else isinstance(value, int | float)
        if isinstance(value, bool) or not ok:
            raise _bad_type(param, kind, value)
        word = "integer" if integer else "number"
        if minimum is not None and value < minimum:
            raise ApiError(
                400,
                f"Invalid '{param}': {word} below minimum value. Expected a value >= {minimum}, "
                f"but got {value} instead.",
                param=param,
                code=f"{word}_below_min_value",
            )
        if maximum is not None and value > maximum:
            raise ApiError(
                400,
                f"Invalid '{param}': {word} above maximum value. Expected a value <= {maximum}, "
                f"but got {value} instead.",
                param=param,
                code=f"{word}_above_max_value",
            )
        return value

    return _nullable(run) if nullable else run


def boolean(*, nullable: bool = False) -> Check:
    def run(value: Any, param: str) -> Any:
        if not isinstance(value, bool):
            raise _bad_type(param, "a boolean", value)
        return value

    return _nullable(run) if nullable else run


def enum(*values: str, nullable: bool = False) -> Check:
    quoted = [f"'{v}'" for v in values]
    supported = quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + f" and {quoted[-1]}"

    def run(value: Any, param: str) -> Any:
        if not isinstance(value, str):
            raise _bad_type(param, "a string", value)
        if value not in values:
            raise ApiError(
                400,
                f"Invalid value: '{value}'. Supported values are: {supported}.",
                param=param,
                code="invalid_value",
            )
        return value

    return _nullable(run) if nullable else run


def array(
    item: Check, *, min_items: int = 0, max_items: int | None = None, nullable: bool = False
) -> Check:
    def run(value: Any, param: str) -> Any:
        if not isinstance(value, list):
            raise _bad_type(param, "an array", value)
        if len(value) < min_items:
            raise ApiError(
                400,
                f"Invalid '{param}': empty array. Expected an array with minimum length "
                f"{min_items}, but got an empty array instead.",
                param=param,
                code="empty_array",
            )
        if max_items is not None and len(value) > max_items:
            raise ApiError(
                400,
                f"Invalid '{param}': array too long. Expected an array with maximum length "
                f"{max_items}, but got an array with length {len(value)} instead.",
                param=param,
                code="array_above_max_length",
            )
        return [item(element, f"{param}[{i}]") for i, element in enumerate(value)]

    return _nullable(run) if nullable else run


def obj(
    fields: Mapping[str, Check],
    *,
    required: tuple[str, ...] = (),
    extra: bool = False,
    nullable: bool = False,
) -> Check:
    def run(value: Any, param: str) -> Any:
        if not isinstance(value, dict):
            raise _bad_type(param or "body", "an object", value)
        prefix = f"{param}." if param else ""
        for name in required:
            if name not in value:
                raise ApiError(
                    400,
                    f"Missing required parameter: '{prefix}{name}'.",
                    param=f"{prefix}{name}",
                    code="missing_required_parameter",
                )
        out: dict[str, Any] = {}
        for name, element in value.items():
            check = fields.get(name)
            if check is None:
                if not extra:
                    raise ApiError(
                        400,
                        f"Unknown parameter: '{prefix}{name}'.",
                        param=f"{prefix}{name}",
                        code="unknown_parameter",
                    )
                out[name] = element
            else:
                out[name] = check(element, f"{prefix}{name}")
        return out

    return _nullable(run) if nullable else run


def any_object(*, nullable: bool = True) -> Check:
    return obj({}, extra=True, nullable=nullable)


def one_of(*checks: Check) -> Check:
    """The first check that accepts the value wins. Otherwise the error of a branch whose type
    matched (it says what is wrong inside), else the first branch's type error."""

    def run(value: Any, param: str) -> Any:
        errors: list[ApiError] = []
        for check in checks:
            try:
                return check(value, param)
            except ApiError as exc:
                errors.append(exc)
        specific = [e for e in errors if e.code != "invalid_type" or e.param != param]
        raise (specific or errors)[0]

    return run


def tagged(variants: Mapping[str, Check], *, nullable: bool = False) -> Check:
    """An object discriminated by its ``type`` field."""
    type_check = enum(*variants)

    def run(value: Any, param: str) -> Any:
        if not isinstance(value, dict):
            raise _bad_type(param, "an object", value)
        prefix = f"{param}." if param else ""
        if "type" not in value:
            raise ApiError(
                400,
                f"Missing required parameter: '{prefix}type'.",
                param=f"{prefix}type",
                code="missing_required_parameter",
            )
        type_check(value["type"], f"{prefix}type")
        return variants[value["type"]](value, param)

    return _nullable(run) if nullable else run


def metadata() -> Check:
    def run(value: Any, param: str) -> Any:
        if not isinstance(value, dict):
            raise _bad_type(param, "an object", value)
        if len(value) > 16:
            raise ApiError(
                400,
                f"Invalid '{param}': too many properties. Expected an object with at most 16 "
                f"properties, but got an object with {len(value)} properties instead.",
                param=param,
                code="object_above_max_properties",
            )
        for key, item in value.items():
            if len(key) > 64:
                raise ApiError(
                    400,
                    f"Invalid '{param}': metadata keys can be at most 64 characters long.",
                    param=param,
                    code="invalid_value",
                )
            string(max_length=512)(item, f"{param}.{key}")
        return value

    return _nullable(run)


_TYPE_ONLY = {"type": string()}
_FUNCTION = obj(
    {
        "name": string(max_length=64),
        "description": string(),
        "parameters": any_object(nullable=False),
        "strict": boolean(nullable=True),
    },
    required=("name",),
)
TOOL = tagged(
    {
        "code_interpreter": obj(_TYPE_ONLY),
        "file_search": obj({"type": string(), "file_search": any_object()}),
        "function": obj({"type": string(), "function": _FUNCTION}, required=("function",)),
    }
)
TOOLS = array(TOOL, max_items=128)
_ATTACHMENT = obj(
    {
        "file_id": string(),
        "tools": array(
            tagged({"code_interpreter": obj(_TYPE_ONLY), "file_search": obj(_TYPE_ONLY)})
        ),
    },
)
_CONTENT_PART = tagged(
    {
        "text": obj({"type": string(), "text": string()}, required=("text",)),
        "image_file": obj(
            {"type": string(), "image_file": any_object(nullable=False)}, required=("image_file",)
        ),
        "image_url": obj(
            {"type": string(), "image_url": any_object(nullable=False)}, required=("image_url",)
        ),
    }
)
CREATE_MESSAGE = obj(
    {
        "role": enum("user", "assistant"),
        "content": one_of(string(), array(_CONTENT_PART, min_items=1)),
        "attachments": array(_ATTACHMENT, nullable=True),
        "metadata": metadata(),
    },
    required=("role", "content"),
)
_RESPONSE_FORMAT = one_of(
    enum("auto"),
    tagged(
        {
            "text": obj(_TYPE_ONLY),
            "json_object": obj(_TYPE_ONLY),
            "json_schema": obj({"type": string(), "json_schema": any_object(nullable=False)}),
        }
    ),
)
_TOOL_CHOICE = one_of(
    enum("none", "auto", "required"),
    tagged(
        {
            "function": obj(
                {"type": string(), "function": obj({"name": string()}, required=("name",))},
                required=("function",),
            ),
            "code_interpreter": obj(_TYPE_ONLY),
            "file_search": obj(_TYPE_ONLY),
        }
    ),
)
_TRUNCATION = obj(
    {
        "type": enum("auto", "last_messages"),
        "last_messages": number(minimum=1, integer=True, nullable=True),
    },
    required=("type",),
    nullable=True,
)
_COMMON_ASSISTANT = {
    "model": string(),
    "name": string(max_length=256, nullable=True),
    "description": string(max_length=512, nullable=True),
    "instructions": string(max_length=256000, nullable=True),
    "reasoning_effort": enum(
        "none", "minimal", "low", "medium", "high", "xhigh", "max", nullable=True
    ),
    "tools": TOOLS,
    "tool_resources": any_object(),
    "metadata": metadata(),
    "temperature": number(minimum=0, maximum=2, nullable=True),
    "top_p": number(minimum=0, maximum=1, nullable=True),
    "response_format": _nullable(_RESPONSE_FORMAT),
}
CREATE_ASSISTANT = obj(_COMMON_ASSISTANT, required=("model",))
MODIFY_ASSISTANT = obj(_COMMON_ASSISTANT)
CREATE_THREAD = obj(
    {
        "messages": array(CREATE_MESSAGE),
        "tool_resources": any_object(),
        "metadata": metadata(),
    }
)
MODIFY_THREAD = obj({"tool_resources": any_object(), "metadata": metadata()})
MODIFY_METADATA = obj({"metadata": metadata()})
_RUN_FIELDS: dict[str, Check] = {
    "assistant_id": string(),
    "model": string(nullable=True),
    "reasoning_effort": _COMMON_ASSISTANT["reasoning_effort"],
    "instructions": string(nullable=True),
    "tools": array(TOOL, max_items=20, nullable=True),
    "metadata": metadata(),
    "temperature": number(minimum=0, maximum=2, nullable=True),
    "top_p": number(minimum=0, maximum=1, nullable=True),
    "stream": boolean(nullable=True),
    "max_prompt_tokens": number(minimum=256, integer=True, nullable=True),
    "max_completion_tokens": number(minimum=256, integer=True, nullable=True),
    "truncation_strategy": _TRUNCATION,
    "tool_choice": _nullable(_TOOL_CHOICE),
    "parallel_tool_calls": boolean(nullable=True),
    "response_format": _nullable(_RESPONSE_FORMAT),
}
CREATE_RUN = obj(
    {
        **_RUN_FIELDS,
        "additional_instructions": string(nullable=True),
        "additional_messages": array(CREATE_MESSAGE, nullable=True),
    },
    required=("assistant_id",),
)
CREATE_THREAD_AND_RUN = obj(
    {**_RUN_FIELDS, "thread": CREATE_THREAD, "tool_resources": any_object()},
    required=("assistant_id",),
)
SUBMIT_TOOL_OUTPUTS = obj(
    {
        "tool_outputs": array(
            obj({"tool_call_id": string(), "output": string()}, required=("tool_call_id",))
        ),
        "stream": boolean(nullable=True),
    },
    required=("tool_outputs",),
)


def validate_body(check: Check, body: Any) -> dict[str, Any]:
    result = check(body, "")
    assert isinstance(result, dict)
    return result


def list_query(query: Mapping[str, str]) -> dict[str, Any]:
    """``limit`` (1-100, default 20), ``order`` (asc/desc, default desc), ``after``, ``before``."""
    raw_limit = query.get("limit", "20")
    try:
        limit = int(raw_limit)
    except ValueError:
        raise ApiError(
            400,
            f"Invalid type for 'limit': expected an integer, but got '{raw_limit}' instead.",
            param="limit",
            code="invalid_type",
        ) from None
    number(minimum=1, maximum=100, integer=True)(limit, "limit")
    order = enum("asc", "desc")(query.get("order", "desc"), "order")
    return {
        "limit": limit,
        "order": order,
        "after": query.get("after") or None,
        "before": query.get("before") or None,
    }
