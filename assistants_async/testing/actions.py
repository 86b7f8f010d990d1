"""What a loopback model can make the assistant do in one turn, and what it is told.

A model answers each turn with a sequence of actions; the server turns them into run steps,
messages and stream events exactly as the real service would. ``FunctionCalls`` ends the turn
(the run waits in ``requires_action``); ``Fail`` and ``Incomplete`` end the run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

__all__ = [
    "Action",
    "CodeInterpreter",
    "Delay",
    "Fail",
    "FileCitation",
    "FilePath",
    "FileSearch",
    "FileSearchResult",
    "FunctionCall",
    "FunctionCalls",
    "Incomplete",
    "Refusal",
    "Text",
    "ToolOutput",
    "TurnContext",
]


@dataclass(frozen=True)
class FileCitation:
    """A ``file_citation`` annotation over ``text[start:end]`` of the enclosing ``Text``."""

    start: int
    end: int
    file_id: str


@dataclass(frozen=True)
class FilePath:
    """A ``file_path`` annotation over ``text[start:end]`` of the enclosing ``Text``."""

    start: int
    end: int
    file_id: str


@dataclass(frozen=True)
class Text:
    """An assistant message with one text part, streamed in chunks; annotations stream whole."""

    text: str
    annotations: Sequence[FileCitation | FilePath] = ()


@dataclass(frozen=True)
class Refusal:
    """An assistant message whose content is a ``refusal`` part."""

    refusal: str


@dataclass(frozen=True)
class FunctionCall:
    name: str
    arguments: str = "{}"


@dataclass(frozen=True)
class FunctionCalls:
    """Ask the client to run these function tools (several = parallel calls); ends the turn."""

    calls: Sequence[FunctionCall]


@dataclass(frozen=True)
class CodeInterpreter:
    """A completed ``code_interpreter`` tool call with optional logs and image outputs."""

    input: str
    logs: str | None = None
    image_file_ids: Sequence[str] = ()


@dataclass(frozen=True)
class FileSearchResult:
    file_id: str
    file_name: str
    score: float = 0.5
    content: str | None = None


@dataclass(frozen=True)
class FileSearch:
    """A completed ``file_search`` tool call with these results."""

    results: Sequence[FileSearchResult] = ()


@dataclass(frozen=True)
class Fail:
    """The run fails with ``last_error``."""

    message: str = "Something went wrong."
    code: Literal["server_error", "rate_limit_exceeded", "invalid_prompt"] = "server_error"


@dataclass(frozen=True)
class Incomplete:
    """A message cut short (``max_tokens``), then the run ends ``incomplete``."""

    text: str = ""
    reason: Literal["max_completion_tokens", "max_prompt_tokens"] = "max_completion_tokens"


@dataclass(frozen=True)
class Delay:
    """Stay ``in_progress`` for this many seconds (e.g. to cancel a run mid-way)."""

    seconds: float


Action = Text | Refusal | FunctionCalls | CodeInterpreter | FileSearch | Fail | Incomplete | Delay


@dataclass(frozen=True)
class ToolOutput:
    """One submitted output, joined with the call it answers."""

    tool_call_id: str
    name: str
    arguments: str
    output: str


@dataclass(frozen=True)
class TurnContext:
    """What the model sees: the thread so far and, after a submission, the tool outputs."""

    assistant: Mapping[str, Any]
    run: Mapping[str, Any]
    messages: Sequence[Mapping[str, Any]]  # oldest first
    tool_outputs: Sequence[ToolOutput] | None = None
    round: int = 0  # 0 for a new run, +1 per tool-output submission

    @property
    def last_user_text(self) -> str:
        """Text parts of the last ``user`` message joined with newlines ("" if none)."""
        for message in reversed(self.messages):
            if message.get("role") == "user":
                return message_text(message)
        return ""


def message_text(message: Mapping[str, Any]) -> str:
    parts = [
        part["text"]["value"] for part in message.get("content") or [] if part.get("type") == "text"
    ]
    return "\n".join(parts)
