"""Type hints → a pydantic arguments model → the JSON schema a function tool declares.

The arguments model is the single source of truth: the same model produces the ``parameters``
schema sent to the server and validates the arguments the server sends back, so the two can
never disagree. Hand-written JSON-schema validation is deliberately absent.

Strict mode (OpenAI "structured outputs" for functions) needs a restricted schema: every object
closed (``additionalProperties: false``), every property listed in ``required``, no ``default``
keyword, no ``$ref`` with sibling keywords. A top-level parameter with a default becomes
*nullable* in strict mode ("null means use the default"), so the model can still leave it out
in spirit; ``ArgumentsSpec.validate_json`` turns that null back into the default.
"""

from __future__ import annotations

import functools
import inspect
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, get_args, get_origin, get_type_hints

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model
from pydantic.fields import FieldInfo

from .._errors import AssistantsError

__all__ = [
    "ArgumentsError",
    "ArgumentsSpec",
    "ToolDefinitionError",
    "arguments_spec_from_function",
    "arguments_spec_from_model",
    "format_validation_error",
    "parse_docstring",
    "to_tool_schema",
]


class ToolDefinitionError(AssistantsError, TypeError):
    """A Python function or model cannot be turned into a function tool (raised at definition)."""


class ArgumentsError(AssistantsError, ValueError):
    """The arguments a run sent for a tool are not valid JSON or do not fit the schema.

    ``str(exc)`` is written for the model to read: it names what was wrong so the next call
    can fix it.
    """


@dataclass(frozen=True, slots=True)
class ArgumentsSpec:
    """How a tool's JSON arguments map onto the Python callable.

    ``model`` validates the arguments object; ``positional`` lists the parameters that must be
    passed by position (positional-only), ``keyword`` the rest; ``context_param`` is the name of a
    parameter that receives the ``ToolContext`` instead of a model-supplied value; ``whole_model``
    means the callable takes the validated model itself (tools built from a pydantic model).
    """

    model: type[BaseModel]
    positional: tuple[str, ...] = ()
    keyword: tuple[str, ...] = ()
    context_param: str | None = None
    context_positional: bool = False
    context_index: int = 0
    whole_model: bool = False
    nullable_defaults: frozenset[str] = frozenset()

    def validate_json(self, arguments: str, *, strict: bool) -> BaseModel:
        """Parse and validate the raw ``arguments`` string, or raise ``ArgumentsError``."""
        text = arguments.strip()
        if not text:
            # Several servers send "" for a function without parameters.
            data: object = {}
        else:
            try:
                data = json.loads(text)
            except ValueError as exc:
                raise ArgumentsError(f"not valid JSON ({exc})") from None
        if not isinstance(data, dict):
            raise ArgumentsError(
                f"expected a JSON object, got {type(data).__name__} ({_clip(text)})"
            )
        if strict and self.nullable_defaults:
            data = {
                k: v for k, v in data.items() if not (v is None and k in self.nullable_defaults)
            }
        try:
            return self.model.model_validate(data)
        except ValidationError as exc:
            raise ArgumentsError(format_validation_error(exc)) from None

    def call_arguments(
        self, validated: BaseModel, context: object
    ) -> tuple[list[Any], dict[str, Any]]:
        """``(args, kwargs)`` for the callable, nested models kept as model instances."""
        if self.whole_model:
            return [validated], {}
        values = {
            info.alias or name: getattr(validated, name)
            for name, info in type(validated).model_fields.items()
        }
        args = [values[name] for name in self.positional]
        kwargs = {name: values[name] for name in self.keyword}
        if self.context_param is not None:
            if self.context_positional:
                # Positional-only: the context goes where it was declared.
                args.insert(self.context_index, context)
            else:
                kwargs[self.context_param] = context
        return args, kwargs


def _clip(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


def format_validation_error(exc: ValidationError) -> str:
    """One line per problem, ``location: message``, for a model to read and correct."""
    parts = []
    for error in exc.errors(include_url=False):
        loc = ".".join(str(p) for p in error["loc"]) or "(arguments)"
        parts.append(f"{loc}: {error['msg']}")
    return "; ".join(parts)


# --------------------------------------------------------------------------- docstrings

_SECTION = re.compile(
    r"^(Args|Arguments|Parameters|Params|Returns|Return|Yields|Raises|Examples?|Notes?|"
    r"Attributes|See Also|Warnings?|Other Parameters)\s*:?$"
)
_ARG_SECTIONS = ("args", "arguments", "parameters", "params")
_GOOGLE_ARG = re.compile(r"^\*{0,2}(\w+)\s*(?:\([^)]*\))?\s*:\s*(.*)$")
_NUMPY_ARG = re.compile(r"^(\w+)\s*(?::.*)?$")
_SPHINX_PARAM = re.compile(r"^:param\s+(?:[^:]*\s)?(\w+)\s*:\s*(.*)$")
_NUMPY_RULE = re.compile(r"^\s*-{3,}\s*$")


def parse_docstring(doc: str | None) -> tuple[str | None, dict[str, str]]:
    """Split a docstring into (description, per-parameter descriptions).

    Understands Google style (``Args:`` then ``name: text`` / ``name (type): text``), NumPy style
    (``Parameters`` underlined with dashes, ``name : type`` then indented text) and Sphinx
    ``:param name: text``. The description is the text before the first section or field.
    """
    if not doc:
        return None, {}
    lines = inspect.cleandoc(doc).splitlines()
    description: list[str] = []
    params: dict[str, str] = {}
    mode = "description"  # or "google", "numpy", "sphinx", "other"
    base_indent = -1
    current: str | None = None
    i = 0
    while i < len(lines):
        line = lines[i].rstrip()
        stripped = line.strip()
        indent = len(line) - len(line.lstrip())
        i += 1
        if not stripped:
            if mode == "description":
                description.append("")
            continue
        sphinx = _SPHINX_PARAM.match(stripped)
        if sphinx:
            mode, current = "sphinx", sphinx.group(1)
            params[current] = sphinx.group(2).strip()
            continue
        if stripped.startswith(":") and indent == 0:
            mode, current = "other", None
            continue
        underlined = i < len(lines) and _NUMPY_RULE.match(lines[i]) is not None
        header = _SECTION.match(stripped) if indent == 0 else None
        if header or (underlined and indent == 0):
            name = stripped.rstrip(":").strip().lower()
            if underlined:
                i += 1
                mode = "numpy" if name in _ARG_SECTIONS else "other"
            else:
                mode = "google" if name in _ARG_SECTIONS else "other"
            base_indent, current = -1, None
            continue
        if mode == "description":
            description.append(line)
            continue
        if mode in ("google", "numpy"):
            if base_indent < 0:
                base_indent = indent
            if indent <= base_indent:
                pattern = _GOOGLE_ARG if mode == "google" else _NUMPY_ARG
                match = pattern.match(stripped)
                current = match.group(1) if match else None
                if current is not None:
                    params[current] = match.group(2).strip() if mode == "google" and match else ""
                continue
        if mode in ("google", "numpy", "sphinx") and current is not None:
            params[current] = (params[current] + " " + stripped).strip()
    text = "\n".join(description).strip()
    return (text or None), {k: v for k, v in params.items() if v}


# --------------------------------------------------------------------------- models


def _is_context_annotation(annotation: object, context_type: type) -> bool:
    if annotation is context_type:
        return True
    if get_origin(annotation) is Annotated:
        return get_args(annotation)[0] is context_type
    return False


def arguments_spec_from_function(
    fn: Callable[..., Any],
    *,
    tool_name: str,
    context_type: type,
    localns: Mapping[str, Any] | None = None,
) -> tuple[ArgumentsSpec, str | None]:
    """Build the arguments model from ``fn``'s signature; also return the docstring summary."""
    try:
        hints = get_type_hints(_hints_owner(fn), localns=dict(localns or {}), include_extras=True)
    except NameError as exc:
        raise ToolDefinitionError(
            f"cannot resolve the type hints of {fn.__qualname__!r} ({exc}); types used in a "
            "tool's signature must be importable at module level"
        ) from None
    description, param_docs = parse_docstring(inspect.getdoc(fn))
    signature = inspect.signature(fn)
    fields: dict[str, Any] = {}
    positional: list[str] = []
    keyword: list[str] = []
    context_param: str | None = None
    context_positional = False
    context_index = 0
    for index, param in enumerate(signature.parameters.values()):
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            raise ToolDefinitionError(
                f"tool {tool_name!r}: *args / **kwargs cannot be described by a JSON schema; "
                "declare each parameter"
            )
        annotation = hints.get(param.name, Any)
        if _is_context_annotation(annotation, context_type):
            if context_param is not None:
                raise ToolDefinitionError(
                    f"tool {tool_name!r}: more than one ToolContext parameter"
                )
            context_param = param.name
            context_positional = param.kind == param.POSITIONAL_ONLY
            context_index = len(positional)
            continue
        field = _field_for(param, annotation, param_docs.get(param.name))
        # Internal field names avoid clashes with BaseModel attributes (a parameter called
        # "json" or "schema"); the alias is the name the model sees.
        fields[f"p{index}"] = (annotation, field)
        (positional if param.kind == param.POSITIONAL_ONLY else keyword).append(param.name)
    model = create_model(
        f"{tool_name}_arguments",
        __config__=ConfigDict(
            extra="forbid",
            arbitrary_types_allowed=False,
            protected_namespaces=(),
        ),
        **fields,
    )
    spec = ArgumentsSpec(
        model=model,
        positional=tuple(positional),
        keyword=tuple(keyword),
        context_param=context_param,
        context_positional=context_positional,
        context_index=context_index,
        nullable_defaults=_defaults_needing_null(model),
    )
    return spec, description


def _hints_owner(fn: Callable[..., Any]) -> Callable[..., Any]:
    """What carries the annotations: the function a partial wraps, a callable object's
    ``__call__``; the signature itself still comes from ``fn`` (bound arguments removed)."""
    while isinstance(fn, functools.partial):
        fn = fn.func
    if not (inspect.isroutine(fn) or inspect.isclass(fn)):
        fn = type(fn).__call__
    return fn


def _field_for(param: inspect.Parameter, annotation: object, doc: str | None) -> FieldInfo:
    default = ... if param.default is inspect.Parameter.empty else param.default
    if isinstance(default, FieldInfo):
        # `def f(x: int = Field(3, description=...))` is allowed and keeps its metadata.
        if doc and default.description is None:
            return FieldInfo.merge_field_infos(default, Field(alias=param.name, description=doc))
        return FieldInfo.merge_field_infos(default, Field(alias=param.name))
    has_description = get_origin(annotation) is Annotated and any(
        isinstance(m, FieldInfo) and m.description for m in get_args(annotation)[1:]
    )
    # Passing description=None would erase a description given in Annotated[..., Field()].
    result: FieldInfo
    if has_description or not doc:
        result = Field(default, alias=param.name)
    else:
        result = Field(default, alias=param.name, description=doc)
    return result


def arguments_spec_from_model(model: type[BaseModel]) -> tuple[ArgumentsSpec, str | None]:
    """A spec whose callable takes the validated ``model`` instance itself."""
    if not (isinstance(model, type) and issubclass(model, BaseModel)):  # type: ignore[redundant-expr]
        raise ToolDefinitionError(f"{model!r} is not a pydantic model class")
    description, _ = parse_docstring(model.__doc__)
    spec = ArgumentsSpec(
        model=model, whole_model=True, nullable_defaults=_defaults_needing_null(model)
    )
    return spec, description


def _defaults_needing_null(model: type[BaseModel]) -> frozenset[str]:
    """Top-level properties with a default whose type does not accept null: in strict mode
    they are declared nullable and a null stands for the default."""
    schema = model.model_json_schema(by_alias=True, mode="validation")
    defs = schema.get("$defs", {})
    required = set(schema.get("required", ()))
    return frozenset(
        name
        for name, prop in schema.get("properties", {}).items()
        if name not in required and not _accepts_null(prop, defs)
    )


# --------------------------------------------------------------------------- JSON schema


def to_tool_schema(spec: ArgumentsSpec, *, strict: bool, tool_name: str) -> dict[str, Any]:
    """The ``parameters`` schema for ``spec``'s model, adjusted for strict mode when asked."""
    raw = spec.model.model_json_schema(by_alias=True, mode="validation")
    defs: dict[str, Any] = raw.pop("$defs", {})
    if strict:
        props = raw.get("properties", {})
        for name in spec.nullable_defaults:
            if name in props and not _accepts_null(props[name], defs):
                props[name] = _make_nullable(props[name])
    root = _clean(raw, defs, strict=strict, tool_name=tool_name, path="")
    root["type"] = "object"
    root.setdefault("properties", {})
    if spec.whole_model:
        # The tool description already comes from the model's docstring.
        root.pop("description", None)
    if strict or not spec.whole_model:
        root["additionalProperties"] = False
    if strict:
        root["required"] = list(root["properties"])
    elif "required" not in root:
        root["required"] = []
    used = _referenced_defs(root, defs)
    if used:
        root["$defs"] = {
            name: _clean(defs[name], defs, strict=strict, tool_name=tool_name, path=name)
            for name in sorted(used)
        }
    return root


def _accepts_null(schema: Mapping[str, Any], defs: Mapping[str, Any]) -> bool:
    if schema.get("type") == "null" or (
        isinstance(schema.get("type"), list) and "null" in schema["type"]
    ):
        return True
    if "$ref" in schema:
        target = defs.get(schema["$ref"].rsplit("/", 1)[-1])
        return target is not None and _accepts_null(target, defs)
    return any(_accepts_null(s, defs) for s in schema.get("anyOf", ()))


def _make_nullable(schema: dict[str, Any]) -> dict[str, Any]:
    inner = {k: v for k, v in schema.items() if k not in ("description", "default", "title")}
    description = schema.get("description")
    default = schema.get("default")
    note = f"null means the default ({json.dumps(default)})"
    out: dict[str, Any] = {"anyOf": [inner, {"type": "null"}]}
    out["description"] = f"{description} ({note})" if description else note.capitalize()
    return out


# Keys whose value is a mapping of names to schemas (not a schema itself).
_SCHEMA_MAPS = ("properties", "$defs", "definitions", "patternProperties")
_SCHEMA_LISTS = ("anyOf", "oneOf", "allOf", "prefixItems")
_SCHEMA_VALUES = ("items", "not", "additionalProperties", "contains")


def _clean(
    schema: Mapping[str, Any], defs: Mapping[str, Any], *, strict: bool, tool_name: str, path: str
) -> dict[str, Any]:
    """A copy of ``schema`` without titles; closed, fully required and default-free if strict."""
    node = dict(schema)
    if "$ref" in node and len(node) > 1 and strict:
        # Strict mode rejects $ref with siblings (pydantic puts a field's description next to
        # the $ref); inline the definition under the sibling keywords instead.
        target = defs[node.pop("$ref").rsplit("/", 1)[-1]]
        node = {**target, **node}
    node.pop("title", None)
    if strict:
        node.pop("default", None)
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _SCHEMA_MAPS and isinstance(value, Mapping):
            out[key] = {
                k: _clean(v, defs, strict=strict, tool_name=tool_name, path=f"{path}.{k}")
                for k, v in value.items()
            }
        elif key in _SCHEMA_LISTS and isinstance(value, list):
            out[key] = [
                _clean(v, defs, strict=strict, tool_name=tool_name, path=path) for v in value
            ]
        elif key in _SCHEMA_VALUES and isinstance(value, Mapping):
            if key == "additionalProperties" and strict:
                raise ToolDefinitionError(
                    f"tool {tool_name!r}: strict mode cannot express a free-form mapping "
                    f"(at {path.lstrip('.') or 'the arguments'}); use a pydantic model with "
                    "named fields or strict=False"
                )
            out[key] = _clean(value, defs, strict=strict, tool_name=tool_name, path=path)
        else:
            out[key] = value
    if strict and (out.get("type") == "object" or "properties" in out):
        out.setdefault("properties", {})
        out["additionalProperties"] = False
        out["required"] = list(out["properties"])
    return out


def _referenced_defs(root: Mapping[str, Any], defs: Mapping[str, Any]) -> set[str]:
    found: set[str] = set()
    pending: list[object] = [root]
    while pending:
        item = pending.pop()
        if isinstance(item, Mapping):
            ref = item.get("$ref")
            if isinstance(ref, str):
                name = ref.rsplit("/", 1)[-1]
                if name not in found and name in defs:
                    found.add(name)
                    pending.append(defs[name])
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return found
