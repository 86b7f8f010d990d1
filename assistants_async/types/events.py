"""Typed server-sent events of an Assistants run stream.

One model per event name of the spec's ``AssistantStreamEvent``; each has ``event`` (the SSE
event name) and ``data`` (the validated payload). Names follow openai-python's
``openai.types.beta.assistant_stream_event``, plus ``DoneEvent`` and ``UnknownEvent``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeAlias

from pydantic import BaseModel, Tag

from ._base import UNKNOWN_TAG, APIModel, tag_discriminator
from .message import Message
from .message_delta import MessageDeltaEvent
from .run import Run
from .run_step import RunStep
from .run_step_delta import RunStepDeltaEvent
from .shared import ErrorObject
from .thread import Thread

__all__ = [
    "EVENT_DATA_MODELS",
    "AssistantStreamEvent",
    "DoneEvent",
    "ErrorEvent",
    "ThreadCreated",
    "ThreadMessageCompleted",
    "ThreadMessageCreated",
    "ThreadMessageDelta",
    "ThreadMessageInProgress",
    "ThreadMessageIncomplete",
    "ThreadRunCancelled",
    "ThreadRunCancelling",
    "ThreadRunCompleted",
    "ThreadRunCreated",
    "ThreadRunExpired",
    "ThreadRunFailed",
    "ThreadRunInProgress",
    "ThreadRunIncomplete",
    "ThreadRunQueued",
    "ThreadRunRequiresAction",
    "ThreadRunStepCancelled",
    "ThreadRunStepCompleted",
    "ThreadRunStepCreated",
    "ThreadRunStepDelta",
    "ThreadRunStepExpired",
    "ThreadRunStepFailed",
    "ThreadRunStepInProgress",
    "UnknownEvent",
]


class ThreadCreated(APIModel):
    """``thread.created``: ``data`` is a ``Thread``."""

    event: Literal["thread.created"]
    data: Thread
    enabled: bool | None = None


class ThreadRunCreated(APIModel):
    """``thread.run.created``: ``data`` is a ``Run``."""

    event: Literal["thread.run.created"]
    data: Run


class ThreadRunQueued(APIModel):
    """``thread.run.queued``: ``data`` is a ``Run``."""

    event: Literal["thread.run.queued"]
    data: Run


class ThreadRunInProgress(APIModel):
    """``thread.run.in_progress``: ``data`` is a ``Run``."""

    event: Literal["thread.run.in_progress"]
    data: Run


class ThreadRunRequiresAction(APIModel):
    """``thread.run.requires_action``: ``data`` is a ``Run``."""

    event: Literal["thread.run.requires_action"]
    data: Run


class ThreadRunCompleted(APIModel):
    """``thread.run.completed``: ``data`` is a ``Run``."""

    event: Literal["thread.run.completed"]
    data: Run


class ThreadRunIncomplete(APIModel):
    """``thread.run.incomplete``: ``data`` is a ``Run``."""

    event: Literal["thread.run.incomplete"]
    data: Run


class ThreadRunFailed(APIModel):
    """``thread.run.failed``: ``data`` is a ``Run``."""

    event: Literal["thread.run.failed"]
    data: Run


class ThreadRunCancelling(APIModel):
    """``thread.run.cancelling``: ``data`` is a ``Run``."""

    event: Literal["thread.run.cancelling"]
    data: Run


class ThreadRunCancelled(APIModel):
    """``thread.run.cancelled``: ``data`` is a ``Run``."""

    event: Literal["thread.run.cancelled"]
    data: Run


class ThreadRunExpired(APIModel):
    """``thread.run.expired``: ``data`` is a ``Run``."""

    event: Literal["thread.run.expired"]
    data: Run


class ThreadRunStepCreated(APIModel):
    """``thread.run.step.created``: ``data`` is a ``RunStep``."""

    event: Literal["thread.run.step.created"]
    data: RunStep


class ThreadRunStepInProgress(APIModel):
    """``thread.run.step.in_progress``: ``data`` is a ``RunStep``."""

    event: Literal["thread.run.step.in_progress"]
    data: RunStep


class ThreadRunStepDelta(APIModel):
    """``thread.run.step.delta``: ``data`` is a ``RunStepDeltaEvent``."""

    event: Literal["thread.run.step.delta"]
    data: RunStepDeltaEvent


class ThreadRunStepCompleted(APIModel):
    """``thread.run.step.completed``: ``data`` is a ``RunStep``."""

    event: Literal["thread.run.step.completed"]
    data: RunStep


class ThreadRunStepFailed(APIModel):
    """``thread.run.step.failed``: ``data`` is a ``RunStep``."""

    event: Literal["thread.run.step.failed"]
    data: RunStep


class ThreadRunStepCancelled(APIModel):
    """``thread.run.step.cancelled``: ``data`` is a ``RunStep``."""

    event: Literal["thread.run.step.cancelled"]
    data: RunStep


class ThreadRunStepExpired(APIModel):
    """``thread.run.step.expired``: ``data`` is a ``RunStep``."""

    event: Literal["thread.run.step.expired"]
    data: RunStep


class ThreadMessageCreated(APIModel):
    """``thread.message.created``: ``data`` is a ``Message``."""

    event: Literal["thread.message.created"]
    data: Message


class ThreadMessageInProgress(APIModel):
    """``thread.message.in_progress``: ``data`` is a ``Message``."""

    event: Literal["thread.message.in_progress"]
    data: Message


class ThreadMessageDelta(APIModel):
    """``thread.message.delta``: ``data`` is a ``MessageDeltaEvent``."""

    event: Literal["thread.message.delta"]
    data: MessageDeltaEvent


class ThreadMessageCompleted(APIModel):
    """``thread.message.completed``: ``data`` is a ``Message``."""

    event: Literal["thread.message.completed"]
    data: Message


class ThreadMessageIncomplete(APIModel):
    """``thread.message.incomplete``: ``data`` is a ``Message``."""

    event: Literal["thread.message.incomplete"]
    data: Message


class ErrorEvent(APIModel):
    """``error``: the server reports an error mid-stream; ``data`` is an ``ErrorObject``."""

    event: Literal["error"]
    data: ErrorObject


class DoneEvent(APIModel):
    """``done``: the stream ends. ``data`` is the literal text ``[DONE]`` (not JSON)."""

    event: Literal["done"]
    data: Literal["[DONE]"]


class UnknownEvent(APIModel):
    """An event name this version does not know; ``data`` is the decoded JSON (or raw text)."""

    event: str
    data: object


EVENT_DATA_MODELS: dict[str, tuple[type[BaseModel], Any]] = {
    "thread.created": (ThreadCreated, Thread),
    "thread.run.created": (ThreadRunCreated, Run),
    "thread.run.queued": (ThreadRunQueued, Run),
    "thread.run.in_progress": (ThreadRunInProgress, Run),
    "thread.run.requires_action": (ThreadRunRequiresAction, Run),
    "thread.run.completed": (ThreadRunCompleted, Run),
    "thread.run.incomplete": (ThreadRunIncomplete, Run),
    "thread.run.failed": (ThreadRunFailed, Run),
    "thread.run.cancelling": (ThreadRunCancelling, Run),
    "thread.run.cancelled": (ThreadRunCancelled, Run),
    "thread.run.expired": (ThreadRunExpired, Run),
    "thread.run.step.created": (ThreadRunStepCreated, RunStep),
    "thread.run.step.in_progress": (ThreadRunStepInProgress, RunStep),
    "thread.run.step.delta": (ThreadRunStepDelta, RunStepDeltaEvent),
    "thread.run.step.completed": (ThreadRunStepCompleted, RunStep),
    "thread.run.step.failed": (ThreadRunStepFailed, RunStep),
    "thread.run.step.cancelled": (ThreadRunStepCancelled, RunStep),
    "thread.run.step.expired": (ThreadRunStepExpired, RunStep),
    "thread.message.created": (ThreadMessageCreated, Message),
    "thread.message.in_progress": (ThreadMessageInProgress, Message),
    "thread.message.delta": (ThreadMessageDelta, MessageDeltaEvent),
    "thread.message.completed": (ThreadMessageCompleted, Message),
    "thread.message.incomplete": (ThreadMessageIncomplete, Message),
    "error": (ErrorEvent, ErrorObject),
    "done": (DoneEvent, str),
}
"""Event name -> (event model, data type). The data of every event but ``done`` is JSON
validated by the data model; ``done`` carries the raw text ``[DONE]``. Names not listed here
become ``UnknownEvent``."""

AssistantStreamEvent: TypeAlias = Annotated[
    Annotated[ThreadCreated, Tag("thread.created")]
    | Annotated[ThreadRunCreated, Tag("thread.run.created")]
    | Annotated[ThreadRunQueued, Tag("thread.run.queued")]
    | Annotated[ThreadRunInProgress, Tag("thread.run.in_progress")]
    | Annotated[ThreadRunRequiresAction, Tag("thread.run.requires_action")]
    | Annotated[ThreadRunCompleted, Tag("thread.run.completed")]
    | Annotated[ThreadRunIncomplete, Tag("thread.run.incomplete")]
    | Annotated[ThreadRunFailed, Tag("thread.run.failed")]
    | Annotated[ThreadRunCancelling, Tag("thread.run.cancelling")]
    | Annotated[ThreadRunCancelled, Tag("thread.run.cancelled")]
    | Annotated[ThreadRunExpired, Tag("thread.run.expired")]
    | Annotated[ThreadRunStepCreated, Tag("thread.run.step.created")]
    | Annotated[ThreadRunStepInProgress, Tag("thread.run.step.in_progress")]
    | Annotated[ThreadRunStepDelta, Tag("thread.run.step.delta")]
    | Annotated[ThreadRunStepCompleted, Tag("thread.run.step.completed")]
    | Annotated[ThreadRunStepFailed, Tag("thread.run.step.failed")]
    | Annotated[ThreadRunStepCancelled, Tag("thread.run.step.cancelled")]
    | Annotated[ThreadRunStepExpired, Tag("thread.run.step.expired")]
    | Annotated[ThreadMessageCreated, Tag("thread.message.created")]
    | Annotated[ThreadMessageInProgress, Tag("thread.message.in_progress")]
    | Annotated[ThreadMessageDelta, Tag("thread.message.delta")]
    | Annotated[ThreadMessageCompleted, Tag("thread.message.completed")]
    | Annotated[ThreadMessageIncomplete, Tag("thread.message.incomplete")]
    | Annotated[ErrorEvent, Tag("error")]
    | Annotated[DoneEvent, Tag("done")]
    | Annotated[UnknownEvent, Tag(UNKNOWN_TAG)],
    tag_discriminator("event", frozenset(EVENT_DATA_MODELS)),
]
"""Any stream event, discriminated on ``event``; unknown names become ``UnknownEvent``."""
