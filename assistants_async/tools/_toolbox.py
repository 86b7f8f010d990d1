"""``Toolbox``: the tools a run may call, and concurrent execution of a ``requires_action``.

Every requested call runs concurrently in one anyio task group, each under its own timeout and
(optionally) a shared ``CapacityLimiter``. Whatever goes wrong inside one call (arguments that
are not JSON or do not validate, an unknown tool name, an exception, a timeout) becomes an
``Error: ...`` output for that call, so the model can read it and recover; the run always gets
one output per call, in the order the calls were requested. Only cancellation of the caller
propagates (and cancels the tools still running).
"""

from __future__ import annotations

import contextlib
import inspect
import logging
import math
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias, TypedDict

import anyio

from ..types import RequiredActionFunctionToolCall, Run
from ._schema import ArgumentsError
from ._tool import Tool, ToolContext

__all__ = [
    "DEFAULT_TOOL_TIMEOUT",
    "ToolCallFinished",
    "ToolCallStarted",
    "ToolHook",
    "ToolOutput",
    "ToolStatus",
    "Toolbox",
]

logger = logging.getLogger("assistants_async.tools")

DEFAULT_TOOL_TIMEOUT = 60.0
"""Seconds one tool call may take before its output becomes a timeout error."""

ToolStatus: TypeAlias = Literal["ok", "error", "timeout", "invalid_arguments", "unknown_tool"]


class ToolOutput(TypedDict):
    """One entry of ``submit_tool_outputs``' ``tool_outputs``."""

    tool_call_id: str
    output: str


@dataclass(frozen=True, slots=True)
class ToolCallStarted:
    """Delivered to ``on_tool_start`` hooks just before a tool call runs."""

    name: str
    call_id: str
    arguments: str
    run_id: str | None
    thread_id: str | None


@dataclass(frozen=True, slots=True)
class ToolCallFinished:
    """Delivered to ``on_tool_end`` hooks when a call has its output (whatever the outcome).

    ``status`` says how it ended; ``error`` is the message sent to the model when it is not
    ``"ok"`` and ``exception`` the exception a tool raised (``status == "error"``).
    ``duration`` is in seconds.
    """

    name: str
    call_id: str
    arguments: str
    run_id: str | None
    thread_id: str | None
    output: str
    status: ToolStatus
    duration: float
    error: str | None = None
    exception: BaseException | None = None

    @property
    def ok(self) -> bool:
        return self.status == "ok"


ToolHook: TypeAlias = Callable[[Any], "Awaitable[object] | object"]
"""``hook(info)``, sync or async; ``info`` is a ``ToolCallStarted`` or ``ToolCallFinished``."""

ToolCallLike: TypeAlias = "RequiredActionFunctionToolCall | Mapping[str, Any]"


class Toolbox:
    """A set of tools with unique names, and the policy for running them.

    ``timeout``: seconds per call (``None`` = unlimited), unless the tool sets its own.
    ``max_concurrency``: at most this many calls of this toolbox run at once, across every run
    using it (``None`` = no limit). ``on_tool_start`` / ``on_tool_end``: hooks (sync or async)
    receiving ``ToolCallStarted`` / ``ToolCallFinished``; an exception in a hook is logged and
    does not change any output. ``clock`` measures durations (inject one in tests).
    """

    def __init__(
        self,
        tools: Iterable[Tool[..., Any] | Callable[..., Any]] = (),
        *,
        timeout: float | None = DEFAULT_TOOL_TIMEOUT,
        max_concurrency: int | None = None,
        on_tool_start: ToolHook | None = None,
        on_tool_end: ToolHook | None = None,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        if timeout is not None and timeout <= 0:
            raise ValueError("timeout must be positive or None")
        if max_concurrency is not None and max_concurrency < 1:
            raise ValueError("max_concurrency must be at least 1 or None")
        self._tools: dict[str, Tool[..., Any]] = {}
        self.timeout = timeout
        self.max_concurrency = max_concurrency
        self.on_tool_start = on_tool_start
        self.on_tool_end = on_tool_end
        self._clock = clock
        self._limiter: anyio.CapacityLimiter | None = (
            anyio.CapacityLimiter(max_concurrency) if max_concurrency is not None else None
        )
        for tool in tools:
            self.add(tool)

    # ---------------------------------------------------------------- the set

    def add(self, tool: Tool[..., Any] | Callable[..., Any]) -> Tool[..., Any]:
        """Add a ``Tool`` (a plain function is wrapped with ``Tool.from_function``)."""
        if not isinstance(tool, Tool):
            tool = Tool.from_function(tool)
        if tool.name in self._tools:
            raise ValueError(f"a tool named {tool.name!r} is already in this toolbox")
        self._tools[tool.name] = tool
        return tool

    def get(self, name: str) -> Tool[..., Any] | None:
        return self._tools.get(name)

    def __getitem__(self, name: str) -> Tool[..., Any]:
        return self._tools[name]

    def __contains__(self, name: object) -> bool:
        return name in self._tools

    def __iter__(self) -> Iterator[Tool[..., Any]]:
        return iter(self._tools.values())

    def __len__(self) -> int:
        return len(self._tools)

    @property
    def names(self) -> list[str]:
        return list(self._tools)

    def __repr__(self) -> str:
        return f"Toolbox({self.names!r})"

    def definitions(self) -> list[dict[str, Any]]:
        """The ``tools=[...]`` payload for ``assistants.create`` / run overrides."""
        return [tool.definition() for tool in self._tools.values()]

    # ---------------------------------------------------------------- execution

    async def outputs_for(self, run: Run, *, hooks: Sequence[object] = ()) -> list[ToolOutput]:
        """Answer a run in ``requires_action``: one output per requested call, in order."""
        action = run.required_action
        if action is None:
            return []
        return await self.run_calls(
            action.submit_tool_outputs.tool_calls,
            run_id=run.id,
            thread_id=run.thread_id,
            hooks=hooks,
        )

    async def run_calls(
        self,
        tool_calls: Sequence[ToolCallLike],
        *,
        run_id: str | None = None,
        thread_id: str | None = None,
        hooks: Sequence[object] = (),
    ) -> list[ToolOutput]:
        """Run every call concurrently; return ``[{"tool_call_id", "output"}]`` in call order.

        ``tool_calls`` are ``RequiredActionFunctionToolCall`` models or the same shape as dicts.
        ``hooks`` are extra observers (e.g. a stream's event handler): each one's
        ``on_tool_start`` / ``on_tool_end`` methods are called when it has them.
        """
        calls = [_normalise(call) for call in tool_calls]
        outputs: list[str | None] = [None] * len(calls)
        starts, ends = self._hooks(hooks)

        async def one(index: int, call_id: str, name: str, arguments: str) -> None:
            outputs[index] = await self._run_one(
                call_id, name, arguments, run_id, thread_id, starts, ends
            )

        async with anyio.create_task_group() as tg:
            for index, (call_id, name, arguments) in enumerate(calls):
                tg.start_soon(one, index, call_id, name, arguments)
        result: list[ToolOutput] = []
        for (call_id, _, _), output in zip(calls, outputs, strict=True):
            assert output is not None  # every task stores its output or the group raised
            result.append({"tool_call_id": call_id, "output": output})
        return result

    def _hooks(
        self, extra: Sequence[object]
    ) -> tuple[list[Callable[[Any], object]], list[Callable[[Any], object]]]:
        starts: list[Callable[[Any], object]] = []
        ends: list[Callable[[Any], object]] = []
        if self.on_tool_start is not None:
            starts.append(self.on_tool_start)
        if self.on_tool_end is not None:
            ends.append(self.on_tool_end)
        for observer in extra:
            start = getattr(observer, "on_tool_start", None)
            end = getattr(observer, "on_tool_end", None)
            if callable(start):
                starts.append(start)
            if callable(end):
                ends.append(end)
        return starts, ends

    async def _run_one(
        self,
        call_id: str,
        name: str,
        arguments: str,
        run_id: str | None,
        thread_id: str | None,
        starts: list[Callable[[Any], object]],
        ends: list[Callable[[Any], object]],
    ) -> str:
        # The timeout and the reported duration start once a slot is free.
        async with self._limiter if self._limiter is not None else contextlib.nullcontext():
            return await self._run_in_slot(
                call_id, name, arguments, run_id, thread_id, starts, ends
            )

    async def _run_in_slot(
        self,
        call_id: str,
        name: str,
        arguments: str,
        run_id: str | None,
        thread_id: str | None,
        starts: list[Callable[[Any], object]],
        ends: list[Callable[[Any], object]],
    ) -> str:
        await _notify(starts, ToolCallStarted(name, call_id, arguments, run_id, thread_id))
        began = self._clock()
        tool = self._tools.get(name)
        exception: BaseException | None = None
        status: ToolStatus = "ok"
        output = ""
        if tool is None:
            status = "unknown_tool"
            available = ", ".join(self._tools) or "none"
            output = f"Error: there is no tool named {name!r}. Available tools: {available}."
        else:
            timeout = tool.timeout if tool.timeout is not None else self.timeout
            context = ToolContext(name, call_id, run_id, thread_id)
            # move_on_after, not fail_after: a TimeoutError raised by the tool itself is the
            # tool's error, not ours; only our own deadline counts as a timeout.
            with anyio.move_on_after(math.inf if timeout is None else timeout) as scope:
                try:
                    output = await tool.invoke(arguments, context)
                except ArgumentsError as exc:
                    status = "invalid_arguments"
                    output = (
                        f"Error: invalid arguments for tool {name!r}: {exc}. "
                        "Fix them and call the tool again."
                    )
                except Exception as exc:
                    status = "error"
                    exception = exc
                    output = f"Error: tool {name!r} raised {type(exc).__name__}: {exc}"
                    # The model and the on_tool_end hooks get the error; the log gets one
                    # line (the traceback only at DEBUG, a tool error is not a library fault).
                    logger.warning("tool %r (call %s) failed: %s", name, call_id, output)
                    logger.debug("traceback of tool %r", name, exc_info=exc)
            if scope.cancelled_caught:
                status = "timeout"
                output = f"Error: tool {name!r} timed out after {timeout:g} s."
                logger.warning("tool %r (call %s) timed out after %g s", name, call_id, timeout)
        duration = self._clock() - began
        await _notify(
            ends,
            ToolCallFinished(
                name=name,
                call_id=call_id,
                arguments=arguments,
                run_id=run_id,
                thread_id=thread_id,
                output=output,
                status=status,
                duration=duration,
                error=None if status == "ok" else output,
                exception=exception,
            ),
        )
        return output


def _normalise(call: ToolCallLike) -> tuple[str, str, str]:
    """``(call_id, name, arguments)`` from a model or a dict; non-function calls get a name
    no tool can have, so they are answered with an error output rather than dropped."""
    if isinstance(call, RequiredActionFunctionToolCall):
        if call.type != "function":
            return call.id, f"<{call.type}>", ""
        return call.id, call.function.name, call.function.arguments
    function = call.get("function") or {}
    if call.get("type", "function") != "function":
        return str(call["id"]), f"<{call.get('type')}>", ""
    return str(call["id"]), str(function.get("name", "")), str(function.get("arguments", ""))


async def _notify(hooks: Sequence[Callable[[Any], object]], info: object) -> None:
    for hook in hooks:
        try:
            result = hook(info)
            if inspect.isawaitable(result):
                await result
        except Exception:
            # Observability must never change what the run receives.
            logger.exception("tool hook %r raised", hook)
