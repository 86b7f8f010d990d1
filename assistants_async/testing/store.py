"""In-memory state of the loopback server: objects as plain API-shaped dicts, ids, pagination.

Objects are kept exactly as the API returns them (``dict[str, Any]``) and mutated in place as a
run progresses, so a response is just ``json.dumps`` of the stored dict.  Collections are ordered
dicts in creation order, which is the order the API sorts by (``created_at`` plus a tiebreak).
"""

from __future__ import annotations

import asyncio
import random
import string
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .errors import ApiError, not_found

__all__ = [
    "ACTIVE_RUN_STATUSES",
    "JSON",
    "TERMINAL_RUN_STATUSES",
    "IdFactory",
    "RunRecord",
    "Store",
    "ThreadRecord",
    "paginate",
    "text_content",
]

JSON = dict[str, Any]

ACTIVE_RUN_STATUSES = frozenset({"queued", "in_progress", "requires_action", "cancelling"})
TERMINAL_RUN_STATUSES = frozenset({"completed", "failed", "cancelled", "expired", "incomplete"})

_ALPHABET = string.ascii_letters + string.digits


class IdFactory:
    """Ids shaped like the real ones: ``prefix_`` + 24 alphanumerics (seedable for tests)."""

    def __init__(self, seed: int | None = None) -> None:
        self._random = random.Random(seed)

    def __call__(self, prefix: str) -> str:
        return prefix + "_" + "".join(self._random.choices(_ALPHABET, k=24))


@dataclass(eq=False)
class RunRecord:
    obj: JSON
    steps: dict[str, JSON] = field(default_factory=dict)
    # tool calls the run waits for (requires_action), in the order they were requested
    pending_calls: list[JSON] = field(default_factory=list)
    pending_step_id: str | None = None
    # queues of streamed responses currently attached to this run; None ends a stream
    listeners: list[asyncio.Queue[tuple[str, str] | None]] = field(default_factory=list)
    task: asyncio.Task[None] | None = None
    expiry: asyncio.Task[None] | None = None
    rounds: int = 0

    @property
    def id(self) -> str:
        return str(self.obj["id"])

    @property
    def status(self) -> str:
        return str(self.obj["status"])


@dataclass(eq=False)
class ThreadRecord:
    obj: JSON
    messages: dict[str, JSON] = field(default_factory=dict)
    runs: dict[str, RunRecord] = field(default_factory=dict)

    def active_run(self) -> RunRecord | None:
        for run in self.runs.values():
            if run.status in ACTIVE_RUN_STATUSES:
                return run
        return None


def text_content(text: str) -> JSON:
    return {"type": "text", "text": {"value": text, "annotations": []}}


class Store:
    """All objects of one server. Not thread-safe: it lives on the server's event loop."""

    def __init__(
        self, *, ids: IdFactory | None = None, clock: Callable[[], float] = time.time
    ) -> None:
        self.new_id = ids or IdFactory()
        self.clock = clock
        self.assistants: dict[str, JSON] = {}
        self.threads: dict[str, ThreadRecord] = {}
        # thread id -> number of runs ever created on it (survives thread deletion)
        self.runs_created: Counter[str] = Counter()

    def now(self) -> int:
        return int(self.clock())

    # -- lookups raising the API's 404 -------------------------------------------------------

    def assistant(self, assistant_id: str) -> JSON:
        try:
            return self.assistants[assistant_id]
        except KeyError:
            raise not_found("assistant", assistant_id) from None

    def thread(self, thread_id: str) -> ThreadRecord:
        try:
            return self.threads[thread_id]
        except KeyError:
            raise not_found("thread", thread_id) from None

    def message(self, thread_id: str, message_id: str) -> JSON:
        try:
            return self.thread(thread_id).messages[message_id]
        except KeyError:
            raise not_found("message", message_id) from None

    def run(self, thread_id: str, run_id: str) -> RunRecord:
        try:
            return self.thread(thread_id).runs[run_id]
        except KeyError:
            raise not_found("run", run_id) from None

    def step(self, thread_id: str, run_id: str, step_id: str) -> JSON:
        try:
            return self.run(thread_id, run_id).steps[step_id]
        except KeyError:
            raise not_found("run step", step_id) from None

    def all_runs(self) -> list[RunRecord]:
        return [run for thread in self.threads.values() for run in thread.runs.values()]

    # -- factories ---------------------------------------------------------------------------

    def add_assistant(self, body: JSON) -> JSON:
        obj: JSON = {
            "id": self.new_id("asst"),
            "object": "assistant",
            "created_at": self.now(),
            "name": body.get("name"),
            "description": body.get("description"),
            "model": body["model"],
            "instructions": body.get("instructions"),
            "tools": list(body.get("tools") or []),
            "tool_resources": body.get("tool_resources") or {},
            "metadata": body.get("metadata") or {},
            "top_p": _or(body.get("top_p"), 1.0),
            "temperature": _or(body.get("temperature"), 1.0),
            "reasoning_effort": body.get("reasoning_effort"),
            "response_format": _or(body.get("response_format"), "auto"),
        }
        self.assistants[obj["id"]] = obj
        return obj

    def add_thread(self, body: JSON) -> ThreadRecord:
        obj: JSON = {
            "id": self.new_id("thread"),
            "object": "thread",
            "created_at": self.now(),
            "metadata": body.get("metadata") or {},
            "tool_resources": body.get("tool_resources") or {},
        }
        record = ThreadRecord(obj)
        self.threads[obj["id"]] = record
        for message in body.get("messages") or []:
            self.add_user_message(record, message)
        return record

    def add_user_message(self, thread: ThreadRecord, body: JSON) -> JSON:
        content = body["content"]
        parts: list[JSON] = []
        if isinstance(content, str):
            parts.append(text_content(content))
        else:
            for part in content:
                if part["type"] == "text":
                    parts.append(text_content(part["text"]))
                else:
                    parts.append(dict(part))
        now = self.now()
        obj: JSON = {
            "id": self.new_id("msg"),
            "object": "thread.message",
            "created_at": now,
            "assistant_id": None,
            "thread_id": thread.obj["id"],
            "run_id": None,
            "status": "completed",
            "incomplete_details": None,
            "incomplete_at": None,
            "completed_at": now,
            "role": body["role"],
            "content": parts,
            "attachments": list(body.get("attachments") or []),
            "metadata": body.get("metadata") or {},
        }
        thread.messages[obj["id"]] = obj
        return obj

    def add_assistant_message(self, thread: ThreadRecord, run: RunRecord) -> JSON:
        obj: JSON = {
            "id": self.new_id("msg"),
            "object": "thread.message",
            "created_at": self.now(),
            "assistant_id": run.obj["assistant_id"],
            "thread_id": thread.obj["id"],
            "run_id": run.id,
            "status": "in_progress",
            "incomplete_details": None,
            "incomplete_at": None,
            "completed_at": None,
            "role": "assistant",
            "content": [],
            "attachments": [],
            "metadata": {},
        }
        thread.messages[obj["id"]] = obj
        return obj

    def add_run(
        self, thread: ThreadRecord, assistant: JSON, body: JSON, *, expires_after: float
    ) -> RunRecord:
        now = self.now()
        instructions = body.get("instructions")
        if instructions is None:
            instructions = assistant.get("instructions") or ""
        if body.get("additional_instructions"):
            instructions = f"{instructions}\n{body['additional_instructions']}".lstrip("\n")
        tools = body.get("tools")
        obj: JSON = {
            "id": self.new_id("run"),
            "object": "thread.run",
            "created_at": now,
            "assistant_id": assistant["id"],
            "thread_id": thread.obj["id"],
            "status": "queued",
            "started_at": None,
            "expires_at": now + int(expires_after),
            "cancelled_at": None,
            "failed_at": None,
            "completed_at": None,
            "required_action": None,
            "last_error": None,
            "model": body.get("model") or assistant["model"],
            "instructions": instructions,
            "tools": list(tools) if tools is not None else list(assistant["tools"]),
            "tool_resources": assistant.get("tool_resources") or {},
            "metadata": body.get("metadata") or {},
            "temperature": _or(body.get("temperature"), assistant.get("temperature"), 1.0),
            "top_p": _or(body.get("top_p"), assistant.get("top_p"), 1.0),
            "reasoning_effort": _or(
                body.get("reasoning_effort"), assistant.get("reasoning_effort")
            ),
            "max_completion_tokens": body.get("max_completion_tokens"),
            "max_prompt_tokens": body.get("max_prompt_tokens"),
            "truncation_strategy": _or(
                body.get("truncation_strategy"), {"type": "auto", "last_messages": None}
            ),
            "incomplete_details": None,
            "usage": None,
            "response_format": _or(
                body.get("response_format"), assistant.get("response_format"), "auto"
            ),
            "tool_choice": _or(body.get("tool_choice"), "auto"),
            "parallel_tool_calls": _or(body.get("parallel_tool_calls"), True),
        }
        record = RunRecord(obj)
        thread.runs[record.id] = record
        self.runs_created[thread.obj["id"]] += 1
        return record

    def add_step(self, run: RunRecord, step_type: str, details: JSON) -> JSON:
        obj: JSON = {
            "id": self.new_id("step"),
            "object": "thread.run.step",
            "created_at": self.now(),
            "run_id": run.id,
            "assistant_id": run.obj["assistant_id"],
            "thread_id": run.obj["thread_id"],
            "type": step_type,
            "status": "in_progress",
            "cancelled_at": None,
            "completed_at": None,
            # the spec names it expired_at; the live API sent expires_at: carry both
            "expired_at": None,
            "expires_at": run.obj["expires_at"],
            "failed_at": None,
            "last_error": None,
            "step_details": details,
            "usage": None,
            "metadata": {},
        }
        run.steps[obj["id"]] = obj
        return obj


def _or(*values: Any) -> Any:
    for value in values:
        if value is not None:
            return value
    return None


def paginate(
    items: list[JSON],
    *,
    limit: int,
    order: str,
    after: str | None,
    before: str | None,
) -> JSON:
    """One cursor page over ``items`` (given oldest first), shaped like the API's list object.

    ``after``/``before`` are ids in the requested order: ``after`` starts just past the cursor,
    ``before`` ends just short of it and takes the ``limit`` items nearest to it.
    """
    ordered = items if order == "asc" else list(reversed(items))
    ids = [item["id"] for item in ordered]
    start, stop = 0, len(ordered)
    if after is not None:
        start = _cursor_index(ids, after, "after") + 1
    if before is not None:
        stop = _cursor_index(ids, before, "before")
    window = ordered[start:stop] if start < stop else []
    if before is not None and after is None:
        page = window[-limit:]
    else:
        page = window[:limit]
    return {
        "object": "list",
        "data": page,
        # the live API sends null ids for an empty page (the spec says string)
        "first_id": page[0]["id"] if page else None,
        "last_id": page[-1]["id"] if page else None,
        "has_more": len(window) > limit,
    }


def _cursor_index(ids: list[str], cursor: str, param: str) -> int:
    try:
        return ids.index(cursor)
    except ValueError:
        raise ApiError(
            400, f"Invalid '{param}': no object with id '{cursor}' in this list.", param=param
        ) from None
