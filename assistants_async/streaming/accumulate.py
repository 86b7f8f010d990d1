"""Turn the stream's delta events into snapshots of messages, run steps and tool calls.

Pure: no I/O, no clock. ``RunAccumulator.accumulate(event)`` takes each typed event in order;
snapshots are pydantic models built on demand (``message_snapshot(id)``, ``final_messages()``)
and cached until the next delta touches them.

Rules (where the official SDKs differ, theirs is the bug):

- Strings that stream are appended: ``text.value``, ``refusal``, ``function.arguments``,
  ``code_interpreter.input`` and an output's ``logs``. Every other field -- ``index``, ``type``,
  ids, names, numbers (annotation ``start_index``...), ``file_search`` data -- is REPLACED by
  the latest value, never summed or concatenated: a re-sent annotation does not double its
  offsets, and ``file_search.ranking_options.ranker`` ends as the last value the server sent.
  Annotations are replaced field by field (they arrive whole; a repeat is idempotent).
- Indexed lists (message ``content``, ``text.annotations``, step ``tool_calls``,
  ``code_interpreter.outputs``) put each entry at exactly its ``index``; a gap stays a gap
  until filled (materialised as an ``Unknown*`` block with ``type=None``). An index outside
  ``0 <= index < MAX_DELTA_INDEX`` raises ``StreamDecodeError`` instead of allocating.
- A message's ``completed``/``incomplete`` event and a step's ``completed``/``failed``/
  ``cancelled``/``expired`` event REPLACE the snapshot with the server's object.
- A delta for a message or step id never seen before starts a snapshot from the delta (fields
  the delta cannot tell are filled from the current run, else left empty) instead of raising.
- Work per delta is proportional to the delta: streamed strings are kept as lists of
  fragments and joined only when a snapshot is asked for.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, Final

from pydantic import BaseModel, TypeAdapter, ValidationError

from .._errors import StreamDecodeError
from ..types.message import (
    Annotation,
    Message,
    MessageContent,
    UnknownAnnotation,
    UnknownContentBlock,
)
from ..types.message_delta import TextDeltaBlock
from ..types.run import Run
from ..types.run_step import (
    CodeInterpreterToolCallOutput,
    RunStep,
    ToolCall,
    UnknownCodeInterpreterOutput,
    UnknownStepDetails,
    UnknownToolCall,
)
from ..types.run_step_delta import (
    CodeInterpreterLogs,
    CodeInterpreterToolCallDelta,
    FunctionToolCallDelta,
    ToolCallDeltaObject,
)

__all__ = [
    "MAX_DELTA_INDEX",
    "MessageSnapshot",
    "RunAccumulator",
    "RunStepSnapshot",
]

MAX_DELTA_INDEX: Final = 10_000
"""Indices at or above this are refused: no message has 10,000 content blocks, no step that
many tool calls, and honouring ``index: 4294967294`` would allocate gigabytes."""

MESSAGE_TERMINAL_EVENTS: Final = frozenset(
    {"thread.message.completed", "thread.message.incomplete"}
)
STEP_TERMINAL_EVENTS: Final = frozenset(
    {
        "thread.run.step.completed",
        "thread.run.step.failed",
        "thread.run.step.cancelled",
        "thread.run.step.expired",
    }
)

_MESSAGE_CONTENT: TypeAdapter[Any] = TypeAdapter(MessageContent)
_ANNOTATION: TypeAdapter[Any] = TypeAdapter(Annotation)
_TOOL_CALL: TypeAdapter[Any] = TypeAdapter(ToolCall)
_CI_OUTPUT: TypeAdapter[Any] = TypeAdapter(CodeInterpreterToolCallOutput)


class _Append:
    """Marks a field whose string values are appended to, not replaced."""

    __slots__ = ()


APPEND: Final = _Append()


class _Indexed:
    """Marks a list whose entries carry ``index`` and merge into the entry at that index."""

    __slots__ = ("spec",)

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec


_CONTENT_ONLY: Final = frozenset({"content"})
_VALUE_ONLY: Final = frozenset({"value"})
_STEP_DETAILS_ONLY: Final = frozenset({"step_details"})
_TOOL_CALLS_DETAILS: Final = frozenset({"type", "tool_calls"})
_FUNCTION_CALL: Final = frozenset({"index", "type", "function"})
_ARGUMENTS_ONLY: Final = frozenset({"arguments"})
_CODE_CALL: Final = frozenset({"index", "type", "code_interpreter"})
_INPUT_ONLY: Final = frozenset({"input"})
_OUTPUTS_ONLY: Final = frozenset({"outputs"})
_LOGS_OUTPUT: Final = frozenset({"index", "type", "logs"})
_EMPTY_SPEC: Final[dict[str, Any]] = {}
_BLOCK_SPEC: Final[dict[str, Any]] = {
    "text": {"value": APPEND, "annotations": _Indexed(_EMPTY_SPEC)},
    "refusal": APPEND,
}
_TOOL_CALL_SPEC: Final[dict[str, Any]] = {
    "function": {"arguments": APPEND},
    "code_interpreter": {"input": APPEND, "outputs": _Indexed({"logs": APPEND})},
}
_MESSAGE_SPEC: Final[dict[str, Any]] = {"content": _Indexed(_BLOCK_SPEC)}
_STEP_SPEC: Final[dict[str, Any]] = {"step_details": {"tool_calls": _Indexed(_TOOL_CALL_SPEC)}}


class _Fragments:
    """A string built from appended pieces; joined only when read, then kept joined."""

    __slots__ = ("parts",)

    def __init__(self, first: str = "") -> None:
        self.parts: list[str] = [first] if first else []

    def append(self, piece: str) -> None:
        if piece:
            self.parts.append(piece)

    def value(self) -> str:
        parts = self.parts
        if len(parts) > 1:
            parts[:] = ["".join(parts)]
        return parts[0] if parts else ""


class _IndexedList:
    """Entries (dict nodes) at exact positions; ``None`` marks a gap not filled yet."""

    __slots__ = ("items",)

    def __init__(self) -> None:
        self.items: list[dict[str, Any] | None] = []

    def slot(self, index: object) -> tuple[dict[str, Any], bool]:
        """The node at ``index`` and whether it was just created."""
        if type(index) is not int or not 0 <= index < MAX_DELTA_INDEX:
            raise StreamDecodeError(
                f"delta list index {index!r} is outside 0..{MAX_DELTA_INDEX - 1}"
            )
        items = self.items
        if index >= len(items):
            items.extend([None] * (index + 1 - len(items)))
        node = items[index]
        if node is None:
            node = items[index] = {}
            return node, True
        return node, False


def _fields(obj: Any) -> Iterator[tuple[str, Any]]:
    """The fields a delta actually carried (unset defaults are not news)."""
    if isinstance(obj, BaseModel):
        for key in obj.model_fields_set:
            yield key, getattr(obj, key)
    elif isinstance(obj, dict):
        yield from obj.items()


def _get(obj: Any, key: str) -> Any:
    if isinstance(obj, dict):
        return obj.get(key)
    return getattr(obj, key, None)


def _merge(node: dict[str, Any], delta: Any, spec: dict[str, Any]) -> None:
    for key, value in _fields(delta):
        _merge_field(node, key, value, spec)


def _merge_field(node: dict[str, Any], key: str, value: Any, spec: dict[str, Any]) -> None:
    rule = spec.get(key)
    if rule is APPEND and type(value) is str:
        current = node.get(key)
        if type(current) is _Fragments:
            current.append(value)
        else:
            node[key] = _Fragments((current if type(current) is str else "") + value)
    elif type(rule) is _Indexed:
        if value is not None:
            _merge_indexed(node, key, value, rule.spec)
    elif isinstance(value, (BaseModel, dict)):
        child = node.get(key)
        if type(child) is not dict:
            child = node[key] = {}
        _merge(child, value, rule if type(rule) is dict else _EMPTY_SPEC)
    else:
        node[key] = value


def _merge_indexed(
    node: dict[str, Any], key: str, entries: Iterable[Any], spec: dict[str, Any]
) -> list[tuple[int, bool]]:
    """Merge indexed entries; returns ``(index, created)`` for each entry, in order."""
    target = node.get(key)
    if type(target) is not _IndexedList:
        target = node[key] = _to_indexed(target, spec)
    touched: list[tuple[int, bool]] = []
    for entry in entries:
        index = _get(entry, "index")
        slot, created = target.slot(index)
        new_type = _get(entry, "type")
        if not created and new_type is not None and slot.get("type") not in (None, new_type):
            # The server reused an index for a different kind of entry: start it afresh.
            slot.clear()
            created = True
        for field, value in _fields(entry):
            if field == "index":
                continue  # implied by the position; the full objects carry no index
            _merge_field(slot, field, value, spec)
        touched.append((index, created))
    return touched


def _to_indexed(existing: Any, spec: dict[str, Any]) -> _IndexedList:
    out = _IndexedList()
    if isinstance(existing, list):
        out.items = [_from_full(item, spec) if type(item) is dict else {} for item in existing]
    return out


def _from_full(data: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    """A mergeable node from a full object's dump (lists are positional there, no index)."""
    node: dict[str, Any] = {}
    for key, value in data.items():
        rule = spec.get(key)
        if rule is APPEND and type(value) is str:
            node[key] = _Fragments(value)
        elif type(rule) is _Indexed and type(value) is list:
            node[key] = _to_indexed(value, rule.spec)
        elif type(value) is dict:
            node[key] = _from_full(value, rule if type(rule) is dict else _EMPTY_SPEC)
        else:
            node[key] = value
    return node


def _node(full: BaseModel, spec: dict[str, Any]) -> dict[str, Any]:
    return _from_full(full.model_dump(), spec)


def _plain(value: Any) -> Any:
    kind = type(value)
    if kind is _Fragments:
        return value.value()
    if kind is dict:
        return {k: _plain(v) for k, v in value.items()}
    if kind is _IndexedList:
        return [{} if item is None else _plain(item) for item in value.items]
    if kind is list:
        return [_plain(v) for v in value]
    if isinstance(value, BaseModel):
        return value.model_dump()
    return value


# -- materialising -----------------------------------------------------------------------
# Partial objects (a tool call whose arguments have not started, an annotation still missing
# its offsets) may not satisfy the full model yet: streamed strings default to "" and anything
# else that still does not validate is shown as the matching Unknown* model, data kept.
# Containers are validated with their lists empty and the (already validated) items put in
# with ``model_copy``: re-validating an Unknown* item under its real ``type`` tag would fail.


def _safe(adapter: TypeAdapter[Any], fallback: type[BaseModel], data: dict[str, Any]) -> Any:
    try:
        return adapter.validate_python(data)
    except ValidationError:
        return fallback.model_validate(data)


def _dict(parent: dict[str, Any], key: str) -> dict[str, Any]:
    value = parent.get(key)
    if type(value) is not dict:
        value = parent[key] = {}
    return value


def _content_model(item: dict[str, Any] | None) -> Any:
    data: dict[str, Any] = {} if item is None else _plain(item)
    kind = data.get("type")
    if kind == "text":
        text = _dict(data, "text")
        text.setdefault("value", "")
        annotations = [
            _safe(_ANNOTATION, UnknownAnnotation, a) for a in text.get("annotations") or []
        ]
        text["annotations"] = []
        block = _safe(_MESSAGE_CONTENT, UnknownContentBlock, data)
        inner = getattr(block, "text", None)
        if isinstance(inner, BaseModel) and annotations:
            block = block.model_copy(
                update={"text": inner.model_copy(update={"annotations": annotations})}
            )
        return block
    if kind == "refusal":
        data.setdefault("refusal", "")
    return _safe(_MESSAGE_CONTENT, UnknownContentBlock, data)


def _tool_call_model(item: dict[str, Any] | None) -> Any:
    data: dict[str, Any] = {} if item is None else _plain(item)
    kind = data.get("type")
    if kind is not None:
        data.setdefault("id", "")
    if kind == "function":
        function = _dict(data, "function")
        function.setdefault("name", "")
        function.setdefault("arguments", "")
    elif kind == "code_interpreter":
        code = _dict(data, "code_interpreter")
        code.setdefault("input", "")
        outputs = code.get("outputs") or []
        for output in outputs:
            if output.get("type") == "logs":
                output.setdefault("logs", "")
        models = [_safe(_CI_OUTPUT, UnknownCodeInterpreterOutput, o) for o in outputs]
        code["outputs"] = []
        call = _safe(_TOOL_CALL, UnknownToolCall, data)
        inner = getattr(call, "code_interpreter", None)
        if isinstance(inner, BaseModel) and models:
            call = call.model_copy(
                update={"code_interpreter": inner.model_copy(update={"outputs": models})}
            )
        return call
    if kind == "file_search":
        _dict(data, "file_search")
    return _safe(_TOOL_CALL, UnknownToolCall, data)


def _in_range(items: _IndexedList | None, index: int) -> bool:
    return items is not None and 0 <= index < len(items.items)


class _Snapshot:
    """Shared machinery: a mergeable node, a cached model, and the server's final object."""

    __slots__ = ("_cache", "_final", "_node", "id")

    _spec: dict[str, Any]
    _list_path: tuple[str, ...]

    def __init__(self, id: str, node: dict[str, Any]) -> None:
        self.id = id
        self._node = node
        self._final: BaseModel | None = None
        self._cache: BaseModel | None = None

    @property
    def is_final(self) -> bool:
        """True once a terminal event replaced the snapshot with the server's object."""
        return self._final is not None

    def _touch(self) -> None:
        self._cache = None
        if self._final is not None:
            # A delta after the terminal event (should not happen): accumulate on top of it.
            self._node = _node(self._final, self._spec)
            self._final = None

    def replace(self, full: BaseModel) -> None:
        """The server's own object wins (terminal events)."""
        self._final = self._cache = full
        self._node = {}

    def update(self, full: BaseModel) -> None:
        """A non-terminal full object (``in_progress``...): take its fields, but keep what
        was streamed so far unless the server's object carries that list itself. Ignored
        once the snapshot is final: a late ``in_progress`` does not undo a ``completed``."""
        if self._final is not None:
            return
        kept = self._items()
        self._touch()
        self._node = _node(full, self._spec)
        if kept is not None and kept.items and not self._has_items(self._node):
            parent = self._node
            for key in self._list_path[:-1]:
                parent = _dict(parent, key)
            parent[self._list_path[-1]] = kept

    def _items(self) -> _IndexedList | None:
        value: Any = self._node
        for key in self._list_path:
            value = value.get(key) if type(value) is dict else None
        return value if type(value) is _IndexedList else None

    def _has_items(self, node: dict[str, Any]) -> bool:
        value: Any = node
        for key in self._list_path:
            value = value.get(key) if type(value) is dict else None
        return type(value) is _IndexedList and bool(value.items)


class MessageSnapshot(_Snapshot):
    """A message being streamed. ``model()`` is the ``Message`` so far (cached)."""

    __slots__ = ()
    _spec = _MESSAGE_SPEC
    _list_path = ("content",)

    @classmethod
    def from_message(cls, message: Message) -> MessageSnapshot:
        return cls(message.id, _node(message, _MESSAGE_SPEC))

    def apply_delta(self, delta: Any) -> list[tuple[int, bool]]:
        """Merge a ``MessageDelta``; returns ``(content index, created)`` per content part."""
        if self._final is None:
            self._cache = None
        else:
            self._touch()
        if delta.__pydantic_fields_set__ == _CONTENT_ONLY and (fast := self._append_text(delta)):
            return fast
        node = self._node
        touched: list[tuple[int, bool]] = []
        for key, value in _fields(delta):
            if key == "content":
                if value is not None:
                    touched = _merge_indexed(node, "content", value, _BLOCK_SPEC)
            else:
                _merge_field(node, key, value, _MESSAGE_SPEC)
        return touched

    def _append_text(self, delta: Any) -> list[tuple[int, bool]] | None:
        """The hot path: one text fragment for a text block that already exists."""
        content = delta.content
        if content is None or len(content) != 1:
            return None
        part = content[0]
        if type(part) is not TextDeltaBlock or part.text is None:
            return None
        text = part.text
        value = text.value
        if text.__pydantic_fields_set__ != _VALUE_ONLY or value is None:
            return None
        items = self._node.get("content")
        if type(items) is not _IndexedList:
            return None
        index = part.index
        if not 0 <= index < len(items.items):
            return None
        block = items.items[index]
        if block is None or block.get("type") != "text":
            return None
        node = block.get("text")
        fragments = node.get("value") if type(node) is dict else None
        if type(fragments) is not _Fragments:
            return None
        if value:
            fragments.parts.append(value)
        return [(index, False)]

    def model(self) -> Message:
        cached = self._cache
        if cached is None:
            data = {k: _plain(v) for k, v in self._node.items() if k != "content"}
            items = self._items()
            blocks = [_content_model(i) for i in items.items] if items else []
            data["content"] = []
            cached = Message.model_validate(data)
            if blocks:
                cached = cached.model_copy(update={"content": blocks})
            self._cache = cached
        assert isinstance(cached, Message)
        return cached

    def content_block(self, index: int) -> Any:
        """One content block (``TextContentBlock``...) without building the whole message."""
        if self._final is not None:
            return self.model().content[index]
        items = self._items()
        if items is None or not _in_range(items, index):
            raise IndexError(index)
        return _content_model(items.items[index])

    def block_type(self, index: int) -> str | None:
        """The ``type`` of the content block at ``index`` (None for a gap or out of range)."""
        if self._final is not None:
            content = self.model().content
            return content[index].type if 0 <= index < len(content) else None
        items = self._items()
        if items is None or not _in_range(items, index):
            return None
        item = items.items[index]
        kind = None if item is None else item.get("type")
        return kind if isinstance(kind, str) else None


class RunStepSnapshot(_Snapshot):
    """A run step being streamed. ``model()`` is the ``RunStep`` so far (cached)."""

    __slots__ = ()
    _spec = _STEP_SPEC
    _list_path = ("step_details", "tool_calls")

    @classmethod
    def from_step(cls, step: RunStep) -> RunStepSnapshot:
        return cls(step.id, _node(step, _STEP_SPEC))

    def apply_delta(self, delta: Any) -> list[tuple[int, bool]]:
        """Merge a ``RunStepDelta``; returns ``(tool-call index, created)`` per tool call."""
        if self._final is None:
            self._cache = None
        else:
            self._touch()
        if delta.__pydantic_fields_set__ == _STEP_DETAILS_ONLY and (
            fast := self._append_call(delta)
        ):
            return fast
        node = self._node
        touched: list[tuple[int, bool]] = []
        for key, value in _fields(delta):
            if key != "step_details" or value is None:
                _merge_field(node, key, value, _STEP_SPEC)
                continue
            details = _dict(node, "step_details")
            new_type = _get(value, "type")
            if new_type is not None and details.get("type") not in (None, new_type):
                details.clear()
            for dkey, dvalue in _fields(value):
                if dkey == "tool_calls":
                    if dvalue is not None:
                        touched = _merge_indexed(details, "tool_calls", dvalue, _TOOL_CALL_SPEC)
                else:
                    _merge_field(details, dkey, dvalue, _EMPTY_SPEC)
        return touched

    def _append_call(self, delta: Any) -> list[tuple[int, bool]] | None:
        """The hot path: one streamed string (function arguments, code input, or the logs of
        an existing logs output) for a tool call that already exists. Anything else -- a new
        call, an id or name, an extra field -- returns None and takes the general merge,
        which gives the same result."""
        details = delta.step_details
        if type(details) is not ToolCallDeltaObject:
            return None
        calls = details.tool_calls
        if (
            details.__pydantic_fields_set__ != _TOOL_CALLS_DETAILS
            or calls is None
            or len(calls) != 1
        ):
            return None
        call: Any = calls[0]
        node = self._node.get("step_details")
        items = node.get("tool_calls") if type(node) is dict else None
        index: int = call.index
        if type(items) is not _IndexedList or not 0 <= index < len(items.items):
            return None
        slot = items.items[index]
        if slot is None or slot.get("type") != call.type:
            return None
        kind = type(call)
        target: Any
        if kind is FunctionToolCallDelta:
            inner = call.function
            if (
                call.__pydantic_fields_set__ != _FUNCTION_CALL
                or inner is None
                or inner.__pydantic_fields_set__ != _ARGUMENTS_ONLY
                or inner.arguments is None
            ):
                return None
            target = slot.get("function")
            piece = inner.arguments
            target = target.get("arguments") if type(target) is dict else None
        elif kind is CodeInterpreterToolCallDelta:
            code = call.code_interpreter
            if call.__pydantic_fields_set__ != _CODE_CALL or code is None:
                return None
            target = slot.get("code_interpreter")
            if type(target) is not dict:
                return None
            fields = code.__pydantic_fields_set__
            if fields == _INPUT_ONLY and code.input is not None:
                piece = code.input
                target = target.get("input")
            elif fields == _OUTPUTS_ONLY and code.outputs is not None and len(code.outputs) == 1:
                output = code.outputs[0]
                outputs = target.get("outputs")
                if (
                    type(output) is not CodeInterpreterLogs
                    or output.__pydantic_fields_set__ != _LOGS_OUTPUT
                    or output.logs is None
                    or type(outputs) is not _IndexedList
                    or not 0 <= output.index < len(outputs.items)
                ):
                    return None
                entry = outputs.items[output.index]
                if entry is None or entry.get("type") != "logs":
                    return None
                piece = output.logs
                target = entry.get("logs")
            else:
                return None
        else:
            return None
        if type(target) is not _Fragments:
            return None
        if piece:
            target.parts.append(piece)
        return [(index, False)]

    def model(self) -> RunStep:
        cached = self._cache
        if cached is None:
            data = {k: _plain(v) for k, v in self._node.items() if k != "step_details"}
            raw = self._node.get("step_details")
            details: dict[str, Any] = {}
            calls: list[Any] = []
            if type(raw) is dict:
                details = {k: _plain(v) for k, v in raw.items() if k != "tool_calls"}
                items = raw.get("tool_calls")
                if type(items) is _IndexedList:
                    calls = [_tool_call_model(c) for c in items.items]
                    details["tool_calls"] = []
            data["step_details"] = details
            try:
                cached = RunStep.model_validate(data)
            except ValidationError:
                data["step_details"] = UnknownStepDetails.model_validate(details)
                cached = RunStep.model_validate(data)
            if calls and hasattr(cached.step_details, "tool_calls"):
                cached = cached.model_copy(
                    update={
                        "step_details": cached.step_details.model_copy(update={"tool_calls": calls})
                    }
                )
            self._cache = cached
        assert isinstance(cached, RunStep)
        return cached

    def tool_call(self, index: int) -> Any:
        """One tool call (``FunctionToolCall``...) without building the whole step."""
        if self._final is not None:
            return _tool_calls(self.model())[index]
        items = self._items()
        if items is None or not _in_range(items, index):
            raise IndexError(index)
        return _tool_call_model(items.items[index])

    def ids(self) -> tuple[str | None, str | None]:
        """``(run_id, thread_id)`` of the step, without building it."""
        if self._final is not None:
            step = self.model()
            return step.run_id, step.thread_id
        run_id, thread_id = self._node.get("run_id"), self._node.get("thread_id")
        return (
            run_id if isinstance(run_id, str) else None,
            thread_id if isinstance(thread_id, str) else None,
        )

    def tool_call_count(self) -> int:
        if self._final is not None:
            return len(_tool_calls(self.model()))
        items = self._items()
        return len(items.items) if items is not None else 0


def _tool_calls(step: RunStep) -> list[Any]:
    calls = getattr(step.step_details, "tool_calls", None)
    return list(calls) if calls is not None else []


class RunAccumulator:
    """All snapshots of one stream (one or more rounds of the tool loop).

    ``accumulate(event)`` reads ``event.event`` (the name) and ``event.data``; names it does
    not know are ignored. Snapshots keep the order in which ids first appeared.
    """

    def __init__(self) -> None:
        self.run: Run | None = None
        self.messages: dict[str, MessageSnapshot] = {}
        self.run_steps: dict[str, RunStepSnapshot] = {}
        # The message / run step the latest event was about (a stream's "current" snapshots).
        self.current_message_id: str | None = None
        self.current_step_id: str | None = None

    def accumulate(self, event: Any) -> list[tuple[int, bool]]:
        """Apply one event. For a delta, returns ``(index, created)`` for each content part /
        tool call it carried (what a callback layer needs); otherwise an empty list."""
        name: str = event.event
        data = event.data
        if name == "thread.message.delta":
            self.current_message_id = data.id
            message = self.messages.get(data.id) or self._message_for_delta(data)
            return message.apply_delta(data.delta)
        if name == "thread.run.step.delta":
            self.current_step_id = data.id
            step = self.run_steps.get(data.id) or self._step_for_delta(data)
            return step.apply_delta(data.delta)
        if isinstance(data, RunStep):
            self.current_step_id = data.id
            self._apply_full(self.run_steps, RunStepSnapshot, name in STEP_TERMINAL_EVENTS, data)
        elif isinstance(data, Message):
            self.current_message_id = data.id
            self._apply_full(self.messages, MessageSnapshot, name in MESSAGE_TERMINAL_EVENTS, data)
        elif isinstance(data, Run):
            self.run = data
        return []

    @staticmethod
    def _apply_full(
        table: dict[str, Any], kind: type[_Snapshot], terminal: bool, full: Message | RunStep
    ) -> None:
        snap = table.get(full.id)
        if snap is None:
            snap = table[full.id] = kind(full.id, {})
            if not terminal:
                snap.update(full)
                return
        if terminal:
            snap.replace(full)
        else:
            snap.update(full)

    def _context(self) -> dict[str, Any]:
        run = self.run
        return {
            "created_at": run.created_at if run is not None else 0,
            "thread_id": run.thread_id if run is not None else "",
            "run_id": run.id if run is not None else "",
            "assistant_id": run.assistant_id if run is not None else "",
        }

    def _message_for_delta(self, data: Any) -> MessageSnapshot:
        snap = self.messages.get(data.id)
        if snap is None:
            # Documented graceful path: a delta for an unseen message starts its snapshot.
            node = {"id": data.id, "object": "thread.message", "role": "assistant"}
            node.update(self._context())
            node["status"] = "in_progress"
            snap = self.messages[data.id] = MessageSnapshot(data.id, node)
        return snap

    def _step_for_delta(self, data: Any) -> RunStepSnapshot:
        snap = self.run_steps.get(data.id)
        if snap is None:
            kind = _get(_get(data.delta, "step_details"), "type") or "tool_calls"
            node = {"id": data.id, "object": "thread.run.step", "type": kind}
            node.update(self._context())
            node.update(status="in_progress", step_details={"type": kind})
            snap = self.run_steps[data.id] = RunStepSnapshot(data.id, node)
        return snap

    def final_messages(self) -> list[Message]:
        """Every message seen, in order of first appearance (empty if none)."""
        return [snap.model() for snap in self.messages.values()]

    def final_run_steps(self) -> list[RunStep]:
        """Every run step seen, in order of first appearance, with its terminal status."""
        return [snap.model() for snap in self.run_steps.values()]
