"""Function tool definitions: JSON schema from type hints / pydantic models, strict mode,
docstrings, argument validation. No I/O."""

from __future__ import annotations

import enum
import json
from datetime import date
from typing import Annotated, Any, Literal, Optional, Union

import jsonschema  # type: ignore[import-untyped]
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ConfigDict, Field

from assistants_async.tools import (
    ArgumentsError,
    Tool,
    ToolContext,
    ToolDefinitionError,
    function_tool,
    serialize_output,
)
from assistants_async.tools._schema import parse_docstring

# Types used in signatures live at module level: with `from __future__ import annotations`
# the hints are strings resolved against the module's globals.


class Unit(enum.Enum):
    C = "celsius"
    F = "fahrenheit"


class Priority(enum.IntEnum):
    LOW = 1
    HIGH = 2


class Address(BaseModel):
    """A postal address."""

    street: str
    city: str
    zip: Optional[str] = None  # noqa: UP045 - the Optional spelling is under test


class Person(BaseModel):
    name: str = Field(description="Full name")
    home: Address = Field(description="Where they live")
    tags: list[str] = []


class Order(BaseModel):
    """Look up an order."""

    order_id: int
    include_items: bool = False


class Loose(BaseModel):
    model_config = ConfigDict(extra="allow")
    a: int


CTX = ToolContext(tool_name="t", call_id="call_1", run_id="run_1", thread_id="thread_1")


def params(tool: Tool[..., Any]) -> dict[str, Any]:
    parameters: dict[str, Any] = tool.definition()["function"]["parameters"]
    return parameters


def check_schema_well_formed(schema: dict[str, Any]) -> None:
    jsonschema.Draft202012Validator.check_schema(schema)


def walk(schema: object) -> list[dict[str, Any]]:
    """Every dict nested in a schema (schemas and property maps alike)."""
    out: list[dict[str, Any]] = []
    stack = [schema]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            out.append(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return out


def assert_strict_compatible(schema: dict[str, Any]) -> None:
    """OpenAI strict-mode rules: closed objects, all properties required, no defaults,
    no $ref with siblings."""
    check_schema_well_formed(schema)
    for node in walk(schema):
        if (
            node.get("type") == "object"
            or "properties" in node
            and isinstance(node.get("properties"), dict)
        ):
            if "type" not in node and node is not schema:
                continue
            assert node.get("additionalProperties") is False, node
            assert sorted(node["required"]) == sorted(node["properties"]), node
        assert "default" not in node or not _is_schema(node), node
        if "$ref" in node:
            assert set(node) == {"$ref"}, node


def _is_schema(node: dict[str, Any]) -> bool:
    return any(k in node for k in ("type", "anyOf", "$ref", "enum", "const"))


# --------------------------------------------------------------------------- basics


def test_bare_decorator_builds_definition_from_hints_and_docstring() -> None:
    @function_tool
    async def get_weather(city: str, days: int = 3) -> str:
        """Current weather for a city.

        Args:
            city: City name, e.g. "Paris".
            days: How many days
                to forecast.
        """
        return city

    assert isinstance(get_weather, Tool)
    assert get_weather.definition() == {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Current weather for a city.",
            "parameters": {
                "type": "object",
                "properties": {
                    "city": {"type": "string", "description": 'City name, e.g. "Paris".'},
                    "days": {
                        "type": "integer",
                        "default": 3,
                        "description": "How many days to forecast.",
                    },
                },
                "required": ["city"],
                "additionalProperties": False,
            },
            "strict": False,
        },
    }


def test_decorator_with_options() -> None:
    @function_tool(name="lookup-v2", description="Find things.", strict=True, timeout=2.5)
    def lookup(q: str) -> str:
        """Ignored docstring."""
        return q

    assert lookup.name == "lookup-v2"
    assert lookup.description == "Find things."
    assert lookup.strict is True
    assert lookup.timeout == 2.5
    assert lookup.definition()["function"]["strict"] is True


def test_tool_stays_callable_like_the_function() -> None:
    @function_tool
    def add(a: int, b: int) -> int:
        return a + b

    assert add(2, 3) == 5
    assert add.function(a=1, b=1) == 2


def test_no_parameters_gives_an_empty_closed_object() -> None:
    @function_tool(strict=True)
    def now() -> str:
        return "noon"

    assert params(now) == {
        "type": "object",
        "properties": {},
        "required": [],
        "additionalProperties": False,
    }


def test_no_docstring_means_no_description_key() -> None:
    @function_tool
    def nothing(x: int) -> int:
        return x

    assert "description" not in nothing.definition()["function"]


@pytest.mark.parametrize("bad", ["", "has space", "x" * 65, "dots.not.allowed", "ünicode"])
def test_invalid_names_are_rejected(bad: str) -> None:
    def f() -> None:
        pass

    with pytest.raises(ToolDefinitionError, match="invalid tool name"):
        Tool.from_function(f, name=bad)


def test_var_args_are_rejected() -> None:
    def f(*items: int) -> None:
        pass

    def g(**kw: int) -> None:
        pass

    with pytest.raises(ToolDefinitionError, match=r"\*args"):
        function_tool(f)
    with pytest.raises(ToolDefinitionError, match=r"\*args"):
        function_tool(g)


def test_unresolvable_hint_is_a_definition_error() -> None:
    def f(x: NotDefinedAnywhere) -> None:  # type: ignore[name-defined]  # noqa: F821
        pass

    with pytest.raises(ToolDefinitionError, match="cannot resolve"):
        function_tool(f)


def test_nonpositive_timeout_is_rejected() -> None:
    def f() -> None:
        pass

    with pytest.raises(ToolDefinitionError, match="timeout"):
        function_tool(timeout=0)(f)


def test_wrapping_a_tool_twice_is_rejected() -> None:
    @function_tool
    def f() -> None:
        pass

    with pytest.raises(ToolDefinitionError, match="already a Tool"):
        Tool.from_function(f)


# --------------------------------------------------------------------------- type-hint forms


def test_scalar_and_container_types() -> None:
    @function_tool
    def f(
        s: str,
        i: int,
        x: float,
        b: bool,
        items: list[int],
        matrix: list[list[float]],
        names: set[str],
        when: date,
        anything: Any,
    ) -> None:
        pass

    props = params(f)["properties"]
    assert props["s"] == {"type": "string"}
    assert props["i"] == {"type": "integer"}
    assert props["x"] == {"type": "number"}
    assert props["b"] == {"type": "boolean"}
    assert props["items"] == {"type": "array", "items": {"type": "integer"}}
    assert props["matrix"] == {
        "type": "array",
        "items": {"type": "array", "items": {"type": "number"}},
    }
    assert props["names"] == {"type": "array", "items": {"type": "string"}, "uniqueItems": True}
    assert props["when"] == {"type": "string", "format": "date"}
    assert props["anything"] == {}
    assert params(f)["required"] == [
        "s",
        "i",
        "x",
        "b",
        "items",
        "matrix",
        "names",
        "when",
        "anything",
    ]
    check_schema_well_formed(params(f))


def test_literal_optional_union_and_defaults() -> None:
    @function_tool
    def f(
        mode: Literal["fast", "slow"],
        one: Literal["only"],
        maybe: Optional[int],  # noqa: UP045
        maybe_default: int | None = None,
        either: Union[int, str] = 0,  # noqa: UP007
        level: Literal[1, 2, 3] = 2,
    ) -> None:
        pass

    p = params(f)
    props = p["properties"]
    assert props["mode"] == {"type": "string", "enum": ["fast", "slow"]}
    assert props["one"] == {"type": "string", "const": "only"}
    # Optional without a default is still required: the model must say null explicitly.
    assert props["maybe"] == {"anyOf": [{"type": "integer"}, {"type": "null"}]}
    assert props["maybe_default"] == {
        "anyOf": [{"type": "integer"}, {"type": "null"}],
        "default": None,
    }
    assert props["either"] == {"anyOf": [{"type": "integer"}, {"type": "string"}], "default": 0}
    assert props["level"] == {"type": "integer", "enum": [1, 2, 3], "default": 2}
    assert p["required"] == ["mode", "one", "maybe"]
    check_schema_well_formed(p)


def test_enums_become_definitions() -> None:
    @function_tool
    def f(unit: Unit, priority: Priority = Priority.LOW, units: list[Unit] | None = None) -> None:
        pass

    p = params(f)
    assert p["properties"]["unit"] == {"$ref": "#/$defs/Unit"}
    assert p["properties"]["priority"] == {"$ref": "#/$defs/Priority", "default": 1}
    assert p["$defs"]["Unit"] == {"type": "string", "enum": ["celsius", "fahrenheit"]}
    assert p["$defs"]["Priority"] == {"type": "integer", "enum": [1, 2]}
    check_schema_well_formed(p)


def test_nested_pydantic_models_are_definitions_with_their_descriptions() -> None:
    @function_tool
    def f(person: Person, addresses: list[Address]) -> None:
        pass

    p = params(f)
    assert p["properties"]["person"] == {"$ref": "#/$defs/Person"}
    assert p["properties"]["addresses"] == {"type": "array", "items": {"$ref": "#/$defs/Address"}}
    assert set(p["$defs"]) == {"Person", "Address"}
    assert p["$defs"]["Address"]["description"] == "A postal address."
    assert p["$defs"]["Person"]["properties"]["home"] == {
        "$ref": "#/$defs/Address",
        "description": "Where they live",
    }
    # No pydantic titles leak into the schema (they only cost tokens).
    assert all("title" not in node for node in walk(p) if _is_schema(node))
    check_schema_well_formed(p)


def test_annotated_field_metadata_and_field_defaults() -> None:
    @function_tool
    def f(
        n: Annotated[int, Field(ge=1, le=10, description="How many")],
        text: Annotated[str, Field(max_length=5)] = "hi",
        ratio: float = Field(0.5, description="A fraction", ge=0, le=1),
    ) -> None:
        """Doc.

        Args:
            n: docstring loses to Field(description=...)
        """

    props = params(f)["properties"]
    assert props["n"] == {
        "type": "integer",
        "minimum": 1,
        "maximum": 10,
        "description": "How many",
    }
    assert props["text"] == {"type": "string", "maxLength": 5, "default": "hi"}
    assert props["ratio"] == {
        "type": "number",
        "minimum": 0,
        "maximum": 1,
        "default": 0.5,
        "description": "A fraction",
    }


def test_parameter_names_that_clash_with_basemodel_attributes() -> None:
    @function_tool
    def f(json: str, schema: int, model_config: bool, copy: float = 1.0) -> dict[str, Any]:
        return {"json": json, "schema": schema, "model_config": model_config, "copy": copy}

    assert list(params(f)["properties"]) == ["json", "schema", "model_config", "copy"]


def test_tool_context_parameter_is_injected_not_declared() -> None:
    @function_tool
    def f(q: str, ctx: ToolContext) -> str:
        return f"{q}:{ctx.call_id}:{ctx.run_id}:{ctx.thread_id}:{ctx.tool_name}"

    assert list(params(f)["properties"]) == ["q"]


def test_two_context_parameters_are_rejected() -> None:
    def f(a: ToolContext, b: ToolContext) -> None:
        pass

    with pytest.raises(ToolDefinitionError, match="more than one ToolContext"):
        function_tool(f)


# --------------------------------------------------------------------------- strict mode


def test_strict_mode_requires_everything_and_makes_defaults_nullable() -> None:
    @function_tool(strict=True)
    def f(
        city: str,
        unit: Literal["c", "f"] = "c",
        days: int = 3,
        note: str | None = None,
        person: Person | None = None,
    ) -> None:
        """Weather.

        Args:
            days: Forecast length.
        """

    p = params(f)
    assert p["required"] == ["city", "unit", "days", "note", "person"]
    assert p["additionalProperties"] is False
    assert p["properties"]["unit"] == {
        "anyOf": [{"type": "string", "enum": ["c", "f"]}, {"type": "null"}],
        "description": 'Null means the default ("c")',
    }
    assert p["properties"]["days"] == {
        "anyOf": [{"type": "integer"}, {"type": "null"}],
        "description": "Forecast length. (null means the default (3))",
    }
    # Already nullable: stays as it is, minus the default keyword.
    assert p["properties"]["note"] == {"anyOf": [{"type": "string"}, {"type": "null"}]}
    # Nested models are closed and fully required too.
    assert p["$defs"]["Person"]["required"] == ["name", "home", "tags"]
    assert p["$defs"]["Address"]["required"] == ["street", "city", "zip"]
    assert_strict_compatible(p)


def test_strict_mode_inlines_refs_that_have_siblings() -> None:
    @function_tool(strict=True)
    def f(person: Person) -> None:
        pass

    home = params(f)["$defs"]["Person"]["properties"]["home"]
    assert "$ref" not in home
    assert home["description"] == "Where they live"
    assert home["properties"]["street"] == {"type": "string"}
    assert home["additionalProperties"] is False
    assert_strict_compatible(params(f))


def test_strict_mode_rejects_free_form_mappings() -> None:
    def f(scores: dict[str, int]) -> None:
        pass

    with pytest.raises(ToolDefinitionError, match="free-form mapping"):
        function_tool(strict=True)(f)
    # Non-strict mode can describe it.
    assert params(function_tool(f))["properties"]["scores"] == {
        "type": "object",
        "additionalProperties": {"type": "integer"},
    }


def test_strict_mode_closes_models_that_allow_extra() -> None:
    def f(x: Loose) -> None:
        pass

    assert_strict_compatible(params(function_tool(strict=True)(f)))


async def test_strict_null_means_default_at_call_time() -> None:
    @function_tool(strict=True)
    def f(city: str, days: int = 3, note: str | None = "n") -> list[object]:
        return [city, days, note]

    out = await f.invoke('{"city": "Oslo", "days": null, "note": null}', CTX)
    # days: null -> the default; note accepts None, so null stays null.
    assert json.loads(out) == ["Oslo", 3, None]
    with pytest.raises(ArgumentsError, match="days"):
        # Outside strict mode a null for a non-nullable parameter is an error.
        await Tool.from_function(f.function).invoke('{"city": "Oslo", "days": null}', CTX)


# --------------------------------------------------------------------------- from a model


def test_from_model_uses_model_name_docstring_and_schema() -> None:
    async def handle(order: Order) -> str:
        return str(order.order_id)

    tool = Tool.from_model(Order, handle)
    d = tool.definition()["function"]
    assert d["name"] == "Order"
    assert d["description"] == "Look up an order."
    assert d["parameters"] == {
        "type": "object",
        "properties": {
            "order_id": {"type": "integer"},
            "include_items": {"type": "boolean", "default": False},
        },
        "required": ["order_id"],
    }
    strict = Tool.from_model(Order, handle, name="get_order", description="X", strict=True)
    assert strict.name == "get_order"
    assert strict.description == "X"
    assert_strict_compatible(strict.parameters)


async def test_from_model_handler_receives_the_validated_instance() -> None:
    seen: list[Order] = []

    def handle(order: Order) -> Order:
        seen.append(order)
        return order

    tool = Tool.from_model(Order, handle)
    out = await tool.invoke('{"order_id": "42"}', CTX)
    assert seen == [Order(order_id=42)]
    assert json.loads(out) == {"order_id": 42, "include_items": False}


def test_from_model_rejects_non_models() -> None:
    with pytest.raises(ToolDefinitionError, match="not a pydantic model"):
        Tool.from_model(dict, lambda d: d)  # type: ignore[type-var]


# --------------------------------------------------------------------------- docstrings


def test_docstring_styles() -> None:
    google = """Summary line.

    More detail.

    Args:
        a (int): First.
        b: Second,
            continued.
        *rest: ignored style.

    Returns:
        Something with a: colon.
    """
    assert parse_docstring(google) == (
        "Summary line.\n\nMore detail.",
        {"a": "First.", "b": "Second, continued.", "rest": "ignored style."},
    )
    numpy = """Summary.

    Parameters
    ----------
    a : int
        First thing.
    b
        Second.

    Returns
    -------
    int
        Not a parameter.
    """
    assert parse_docstring(numpy) == ("Summary.", {"a": "First thing.", "b": "Second."})
    sphinx = """Summary.

    :param a: First.
    :param int b: Second
        line.
    :returns: nothing
    """
    assert parse_docstring(sphinx) == ("Summary.", {"a": "First.", "b": "Second line."})
    assert parse_docstring(None) == (None, {})
    assert parse_docstring("Just text.") == ("Just text.", {})


# --------------------------------------------------------------------------- validation


@function_tool
def typed(city: str, days: int = 1, person: Person | None = None) -> dict[str, Any]:
    return {"city": city, "days": days, "person": person}


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ("{not json", "not valid JSON"),
        ('["a"]', "expected a JSON object, got list"),
        ("42", "expected a JSON object, got int"),
        ("{}", "city: Field required"),
        ('{"city": "x", "days": "many"}', "days: Input should be a valid integer"),
        ('{"city": "x", "extra": 1}', "extra: Extra inputs are not permitted"),
        ('{"city": "x", "person": {"name": "a"}}', "person.home: Field required"),
    ],
)
async def test_invalid_arguments_raise_arguments_error(arguments: str, message: str) -> None:
    with pytest.raises(ArgumentsError, match=message):
        await typed.invoke(arguments, CTX)


async def test_empty_arguments_mean_no_arguments() -> None:
    @function_tool
    def ping() -> str:
        return "pong"

    assert await ping.invoke("", CTX) == "pong"
    assert await ping.invoke("  ", CTX) == "pong"


async def test_nested_models_arrive_as_instances_and_context_is_injected() -> None:
    got: dict[str, Any] = {}

    @function_tool
    async def f(person: Person, ctx: ToolContext, /, unit: Unit = Unit.C) -> str:
        got.update(person=person, ctx=ctx, unit=unit)
        return "ok"

    args = {"person": {"name": "Ann", "home": {"street": "1 Road", "city": "Oslo"}}}
    assert await f.invoke(json.dumps(args), CTX) == "ok"
    assert isinstance(got["person"], Person)
    assert got["person"].home.city == "Oslo"
    assert got["ctx"] is CTX
    assert got["unit"] is Unit.C


async def test_positional_only_parameters_are_passed_positionally() -> None:
    @function_tool
    def f(a: int, ctx: ToolContext, b: int, /, c: int = 0) -> list[object]:
        return [a, ctx.call_id, b, c]

    assert json.loads(await f.invoke('{"a": 1, "b": 2, "c": 3}', CTX)) == [1, "call_1", 2, 3]


# --------------------------------------------------------------------------- outputs


class Reply(BaseModel):
    text: str
    when: date


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("plain text", "plain text"),
        ({"a": [1, 2]}, '{"a":[1,2]}'),
        ([1, "x", None], '[1,"x",null]'),
        (None, "null"),
        (3.5, "3.5"),
        (True, "true"),
        (Reply(text="hé", when=date(2026, 1, 2)), '{"text":"hé","when":"2026-01-02"}'),
        (
            {"nested": Reply(text="a", when=date(2026, 1, 2))},
            '{"nested":{"text":"a","when":"2026-01-02"}}',
        ),
    ],
)
def test_serialize_output(value: object, expected: str) -> None:
    assert serialize_output(value) == expected


# --------------------------------------------------------------------------- properties


@given(
    st.text(max_size=30),
    st.integers(min_value=-(2**53), max_value=2**53),
    st.lists(st.text(max_size=5), max_size=4),
    st.one_of(st.none(), st.floats(allow_nan=False, allow_infinity=False)),
    st.booleans(),
)
async def test_any_valid_arguments_round_trip_and_match_the_schema(
    s: str, i: int, items: list[str], maybe: float | None, strict: bool
) -> None:
    def echo(s: str, i: int, items: list[str], maybe: float | None = 1.5) -> dict[str, Any]:
        return {"s": s, "i": i, "items": items, "maybe": maybe}

    tool = Tool.from_function(echo, strict=strict)
    args = {"s": s, "i": i, "items": items, "maybe": maybe}
    # What the pydantic model accepts, the declared schema accepts too (they cannot drift).
    jsonschema.validate(args, tool.parameters)
    assert json.loads(await tool.invoke(json.dumps(args), CTX)) == args


def test_types_defined_inside_a_function_resolve() -> None:
    class Point(BaseModel):
        x: int
        y: int

    @function_tool(strict=True)
    def bare(p: Point) -> int:
        return p.x

    def plain(p: Point, ctx: Annotated[ToolContext, "injected"]) -> int:
        return p.y

    for tool in (bare, Tool.from_function(plain)):
        assert list(params(tool)["properties"]) == ["p"]
        assert params(tool)["$defs"]["Point"]["required"] == ["x", "y"]


class AsyncAdder:
    """A callable object whose __call__ is async."""

    async def __call__(self, a: int, b: int = 1) -> int:
        return a + b


def _greet(greeting: str, name: str) -> str:
    return f"{greeting}, {name}"


async def test_partials_and_callable_objects() -> None:
    import functools

    greet = Tool.from_function(functools.partial(_greet, "Hello"), name="greet")
    assert list(params(greet)["properties"]) == ["name"]
    assert not greet.is_async
    assert await greet.invoke('{"name": "Ann"}', CTX) == "Hello, Ann"

    adder = Tool.from_function(AsyncAdder(), name="add")
    assert params(adder)["properties"] == {
        "a": {"type": "integer"},
        "b": {"type": "integer", "default": 1},
    }
    assert adder.is_async
    assert await adder.invoke('{"a": 2}', CTX) == "3"

    with pytest.raises(ToolDefinitionError, match="pass name="):
        Tool.from_function(functools.partial(_greet, "Hi"))
