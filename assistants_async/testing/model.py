"""Pluggable models for the loopback server: the protocol, the default and a scripted one.

The server asks its model "what does the assistant do next?" once per turn (a new run, and each
tool-output submission) and plays the answer out as steps, messages and events.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Protocol, runtime_checkable

from .actions import (
    Action,
    CodeInterpreter,
    FileCitation,
    FunctionCall,
    FunctionCalls,
    Text,
    TurnContext,
)

__all__ = ["DefaultModel", "Model", "Rule", "ScriptedModel", "parse_calls"]


@runtime_checkable
class Model(Protocol):
    """Anything with these attributes can drive the server."""

    chunk_size: int  # characters per thread.message.delta (and per argument/input delta)
    chunk_delay: float  # seconds between deltas

    async def respond(self, context: TurnContext) -> Sequence[Action]: ...


_CALL = re.compile(r"call\s+([A-Za-z0-9_-]+)(?:\s+(.*))?", re.DOTALL)


def parse_calls(text: str) -> list[FunctionCall]:
    """``call NAME ARGS`` lines, in order; ARGS verbatim (even when it is not JSON)."""
    calls: list[FunctionCall] = []
    for line in text.splitlines():
        match = _CALL.fullmatch(line.strip())
        if match:
            calls.append(FunctionCall(name=match.group(1), arguments=match.group(2) or ""))
    return calls


class DefaultModel:
    """The deterministic model of ``docs``' contract (shared/default-model.md).

    - ``call NAME ARGS`` lines -> parallel function calls (``requires_action``);
    - text starting with ``python:`` -> a code_interpreter step, then "The code ran.";
    - text containing ``cite`` -> a reply with one file_citation annotation;
    - otherwise an echo of the user's text.
    After tool outputs: ``call`` lines in any output start another round, else the reply quotes
    each output as ``NAME returned: OUTPUT``, one line per call.
    """

    CITATION_MARKER = "\u30104:0\u2020source\u3011"

    def __init__(
        self,
        *,
        chunk_size: int = 4,
        chunk_delay: float = 0.0,
        citation_file_id: str = "file-loopbackcitation0001",
        code_logs: str = "ok\n",
    ) -> None:
        if chunk_size < 1:
            raise ValueError("chunk_size must be >= 1")
        self.chunk_size = chunk_size
        self.chunk_delay = chunk_delay
        self.citation_file_id = citation_file_id
        self.code_logs = code_logs

    async def respond(self, context: TurnContext) -> Sequence[Action]:
        if context.tool_outputs is not None:
            calls = [call for out in context.tool_outputs for call in parse_calls(out.output)]
            if calls:
                return [FunctionCalls(calls)]
            lines = [f"{out.name} returned: {out.output}" for out in context.tool_outputs]
            return [Text("\n".join(lines))]
        text = context.last_user_text
        calls = parse_calls(text)
        if calls:
            return [FunctionCalls(calls)]
        if text.startswith("python:"):
            code = text[len("python:") :].strip()
            return [CodeInterpreter(input=code, logs=self.code_logs), Text("The code ran.")]
        if "cite" in text:
            prefix = "According to the file, the answer is there"
            start = len(prefix)
            reply = prefix + self.CITATION_MARKER + "."
            citation = FileCitation(start, start + len(self.CITATION_MARKER), self.citation_file_id)
            return [Text(reply, annotations=[citation])]
        return [Text(f"Echo: {text}")]


Predicate = Callable[[TurnContext], bool]
Reply = Sequence[Action] | Callable[[TurnContext], Sequence[Action]]


class Rule:
    """``when`` (a substring of the turn's text, or a predicate) -> ``then`` (actions)."""

    def __init__(self, when: str | Predicate, then: Reply | Action, *, times: int | None = None):
        self.when = when
        self.then = then
        self.times = times  # None: any number of times

    def matches(self, context: TurnContext) -> bool:
        if self.times is not None and self.times <= 0:
            return False
        if isinstance(self.when, str):
            return self.when in _turn_text(context)
        return self.when(context)

    def actions(self, context: TurnContext) -> list[Action]:
        if self.times is not None:
            self.times -= 1
        then = self.then
        if callable(then):
            return list(then(context))
        if isinstance(then, Sequence):
            return list(then)
        return [then]


def _turn_text(context: TurnContext) -> str:
    if context.tool_outputs is not None:
        return "\n".join(out.output for out in context.tool_outputs)
    return context.last_user_text


class ScriptedModel:
    """A model for tests: a fixed sequence of turns, then rules, then a fallback.

    ``ScriptedModel([Text("hi")], [FunctionCalls([...])], ...)`` answers turn after turn in order
    (a bare action counts as a one-action turn); once they are used up, the first matching
    ``rules`` entry answers, and when none matches the ``fallback`` model does (the default
    model unless given). Every context seen is kept in ``contexts`` for assertions.
    """

    def __init__(
        self,
        *turns: Sequence[Action] | Action,
        rules: Sequence[Rule | tuple[str | Predicate, Reply | Action]] = (),
        fallback: Model | None = None,
        chunk_size: int = 4,
        chunk_delay: float = 0.0,
    ) -> None:
        if chunk_size < 1:
            raise ValueError("chunk_size must be >= 1")
        self._turns: list[list[Action]] = [
            list(turn) if isinstance(turn, Sequence) else [turn] for turn in turns
        ]
        self.rules = [rule if isinstance(rule, Rule) else Rule(*rule) for rule in rules]
        self.fallback: Model = fallback or DefaultModel()
        self.chunk_size = chunk_size
        self.chunk_delay = chunk_delay
        self.contexts: list[TurnContext] = []

    @property
    def remaining_turns(self) -> int:
        return len(self._turns)

    async def respond(self, context: TurnContext) -> Sequence[Action]:
        self.contexts.append(context)
        if self._turns:
            return self._turns.pop(0)
        for rule in self.rules:
            if rule.matches(context):
                return rule.actions(context)
        return await self.fallback.respond(context)
