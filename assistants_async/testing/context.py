"""Per-request state shared by the middleware and the handlers (one request = one task)."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass

from .faults import FaultAction, RecordedRequest, StreamAction

__all__ = ["CURRENT", "RequestContext"]


@dataclass
class RequestContext:
    """What the middleware learnt about the request being handled (one per request task)."""

    record: RecordedRequest
    request_id: str
    stream_actions: list[StreamAction]
    after_action: FaultAction | None


CURRENT: ContextVar[RequestContext] = ContextVar("assistants_async_testing_request")
