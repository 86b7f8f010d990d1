"""``Tool``: a Python callable described as an Assistants function tool.

Build one with the ``@function_tool`` decorator (bare or with options) or from a pydantic model
with ``Tool.from_model(Model, handler)``. A ``Tool`` stays callable exactly like the function it
wraps, so decorated functions can still be unit-tested directly.
"""

from __future__ import annotations

import functools
import inspect
import re
import sys
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, ParamSpec, TypeVar, overload

import anyio.to_thread
import pydantic_core
from pydantic import BaseModel

from ._schema import (
    ArgumentsSpec,
    ToolDefinitionError,
    arguments_spec_from_function,
    arguments_spec_from_model,
    to_tool_schema,
)

__all__ = ["Tool", "ToolContext", "function_tool", "serialize_output"]

P = ParamSpec("P")
R = TypeVar("R")
M = TypeVar("M", bound=BaseModel)

_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


@dataclass(frozen=True, slots=True)
class ToolContext:
    """Facts about the call being answered. Declare a parameter annotated ``ToolContext`` to get
    it; such a parameter is not part of the schema the model sees."""

    tool_name: str
    call_id: str
    run_id: str | None = None
    thread_id: str | None = None


def _check_name(name: str) -> str:
    if not _NAME.match(name):
        raise ToolDefinitionError(
            f"invalid tool name {name!r}: use 1-64 letters, digits, '_' or '-'"
        )
    return name


def serialize_output(value: object) -> str:
    """A tool's return value as the ``output`` string: ``str`` as is, pydantic models through
    ``model_dump_json()``, anything else (dict, list, numbers, ``None``, dataclasses, datetimes)
    as JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, BaseModel):
        return value.model_dump_json()
    return pydantic_core.to_json(value).decode()


@dataclass(frozen=True, eq=False)
class Tool(Generic[P, R]):
    """A function tool: its definition for the server and the callable that answers it.

    ``timeout`` (seconds) overrides the ``Toolbox``'s per-call timeout for this tool; ``None``
    means "use the toolbox's". ``strict`` asks the server for strict (schema-exact) arguments.
    """

    name: str
    description: str | None
    parameters: dict[str, Any]
    function: Callable[P, R] = field(repr=False)
    spec: ArgumentsSpec = field(repr=False)
    strict: bool = False
    timeout: float | None = None

    def __post_init__(self) -> None:
        _check_name(self.name)
        if self.timeout is not None and self.timeout <= 0:
            raise ToolDefinitionError(f"tool {self.name!r}: timeout must be positive")

    # ---------------------------------------------------------------- construction

    @classmethod
    def from_function(
        cls,
        fn: Callable[P, R],
        *,
        name: str | None = None,
        description: str | None = None,
        strict: bool = False,
        timeout: float | None = None,
    ) -> Tool[P, R]:
        """Describe ``fn`` (sync or async): schema from its type hints, description and
        parameter descriptions from its docstring (Google, NumPy or Sphinx style)."""
        return _from_function(
            cls, fn, name, description, strict, timeout, localns=sys._getframe(1).f_locals
        )

    @classmethod
    def from_model(
        cls,
        model: type[M],
        handler: Callable[[M], R],
        *,
        name: str | None = None,
        description: str | None = None,
        strict: bool = False,
        timeout: float | None = None,
    ) -> Tool[[M], R]:
        """A tool whose arguments are ``model``; ``handler`` (sync or async) receives the
        validated instance. The name defaults to the model's class name, the description to its
        docstring."""
        spec, doc = arguments_spec_from_model(model)
        tool_name = _check_name(name if name is not None else model.__name__)
        return Tool(
            name=tool_name,
            description=description if description is not None else doc,
            parameters=to_tool_schema(spec, strict=strict, tool_name=tool_name),
            function=handler,
            strict=strict,
            timeout=timeout,
            spec=spec,
        )

    # ---------------------------------------------------------------- use

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        return self.function(*args, **kwargs)

    @property
    def is_async(self) -> bool:
        # An instance whose __call__ is async counts too.
        call = type(self.function).__call__ if not inspect.isroutine(self.function) else None
        return inspect.iscoroutinefunction(self.function) or inspect.iscoroutinefunction(call)

    def definition(self) -> dict[str, Any]:
        """The ``{"type": "function", "function": {...}}`` entry for ``tools=[...]``."""
        function: dict[str, Any] = {"name": self.name}
        if self.description:
            function["description"] = self.description
        function["parameters"] = self.parameters
        function["strict"] = self.strict
        return {"type": "function", "function": function}

    async def invoke(self, arguments: str, context: ToolContext) -> str:
        """Validate ``arguments`` (raw JSON from the run), call the function, serialise the result.

        Raises ``ArgumentsError`` for arguments that do not fit; whatever the function raises
        propagates unchanged (the ``Toolbox`` turns both into tool outputs).
        """
        validated = self.spec.validate_json(arguments, strict=self.strict)
        args, kwargs = self.spec.call_arguments(validated, context)
        if self.is_async:
            result: object = await self.function(*args, **kwargs)  # type: ignore[misc]
        else:
            # abandon_on_cancel: a timed-out or cancelled sync tool releases the run at once;
            # its thread cannot be interrupted and finishes in the background.
            result = await anyio.to_thread.run_sync(
                functools.partial(self.function, *args, **kwargs), abandon_on_cancel=True
            )
            if inspect.isawaitable(result):
                # A plain function returning a coroutine (e.g. a functools.partial of an
                # async function): await it here, on the event loop.
                result = await _await(result)
        return serialize_output(result)


def _from_function(
    cls: type[Tool[P, R]],
    fn: Callable[P, R],
    name: str | None,
    description: str | None,
    strict: bool,
    timeout: float | None,
    *,
    localns: Mapping[str, Any],
) -> Tool[P, R]:
    # localns: the caller's locals, so types defined inside a function (tests, notebooks)
    # resolve even under `from __future__ import annotations`.
    if isinstance(fn, Tool):
        raise ToolDefinitionError(f"{fn.name!r} is already a Tool")
    if not callable(fn):
        raise ToolDefinitionError(f"{fn!r} is not callable")
    if name is None:
        name = getattr(fn, "__name__", None)
        if not isinstance(name, str):
            raise ToolDefinitionError(f"{fn!r} has no __name__; pass name=...")
    tool_name = _check_name(name)
    spec, doc = arguments_spec_from_function(
        fn, tool_name=tool_name, context_type=ToolContext, localns=localns
    )
    return cls(
        name=tool_name,
        description=description if description is not None else doc,
        parameters=to_tool_schema(spec, strict=strict, tool_name=tool_name),
        function=fn,
        strict=strict,
        timeout=timeout,
        spec=spec,
    )


async def _await(awaitable: Awaitable[object]) -> object:
    return await awaitable


@overload
def function_tool(fn: Callable[P, R], /) -> Tool[P, R]: ...


@overload
def function_tool(
    *,
    name: str | None = None,
    description: str | None = None,
    strict: bool = False,
    timeout: float | None = None,
) -> Callable[[Callable[P, R]], Tool[P, R]]: ...


def function_tool(
    fn: Callable[P, R] | None = None,
    /,
    *,
    name: str | None = None,
    description: str | None = None,
    strict: bool = False,
    timeout: float | None = None,
) -> Tool[P, R] | Callable[[Callable[P, R]], Tool[P, R]]:
    """Turn a sync or async function into a ``Tool``; use bare or with options::

    @function_tool
    async def get_weather(city: str, unit: Literal["c", "f"] = "c") -> str:
        \"\"\"Current weather for a city.

        Args:
            city: City name, e.g. "Paris".
        \"\"\"

    @function_tool(name="lookup", strict=True, timeout=5)
    def find_order(order_id: int) -> Order: ...
    """

    localns = sys._getframe(1).f_locals

    def decorate(f: Callable[P, R]) -> Tool[P, R]:
        return _from_function(Tool, f, name, description, strict, timeout, localns=localns)

    if fn is not None:
        return decorate(fn)
    return decorate
