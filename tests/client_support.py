"""Shared pieces for the core-client unit tests: canned API objects, a recording handler for
``MockTransport`` and a fake clock whose ``sleep`` returns at once (nothing waits for real)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from assistants_async import AsyncAssistants
from assistants_async._transport import MockTransport, Request, Response

__all__ = [
    "BASE",
    "SENTINEL_KEY",
    "FakeTime",
    "Recorder",
    "make_client",
    "obj",
    "page",
    "reply",
]

BASE = "http://127.0.0.1:9/v1"
SENTINEL_KEY = "sk-SENTINEL-d6c1f0a2b9e84c17-never-show-me"

_OBJECTS: dict[str, dict[str, Any]] = {
    "assistant": {"object": "assistant", "created_at": 1, "model": "m", "tools": []},
    "assistant.deleted": {"object": "assistant.deleted", "deleted": True},
    "thread": {"object": "thread", "created_at": 1, "metadata": {}},
    "thread.deleted": {"object": "thread.deleted", "deleted": True},
    "thread.message": {
        "object": "thread.message",
        "created_at": 1,
        "thread_id": "thread_1",
        "role": "user",
        "content": [],
    },
    "thread.message.deleted": {"object": "thread.message.deleted", "deleted": True},
    "thread.run": {
        "object": "thread.run",
        "created_at": 1,
        "thread_id": "thread_1",
        "assistant_id": "asst_1",
        "status": "queued",
        "model": "m",
        "instructions": "",
        "tools": [],
    },
    "thread.run.step": {
        "object": "thread.run.step",
        "created_at": 1,
        "assistant_id": "asst_1",
        "thread_id": "thread_1",
        "run_id": "run_1",
        "type": "message_creation",
        "status": "completed",
        "step_details": {"type": "message_creation", "message_creation": {"message_id": "msg_1"}},
    },
}


def obj(kind: str, ident: str = "id_1", **over: Any) -> dict[str, Any]:
    """A minimal valid JSON object of ``kind`` (the API's ``object`` value)."""
    return {"id": ident, **_OBJECTS[kind], **over}


def page(*items: dict[str, Any], has_more: bool = False) -> dict[str, Any]:
    return {
        "object": "list",
        "data": list(items),
        "first_id": items[0]["id"] if items else None,
        "last_id": items[-1]["id"] if items else None,
        "has_more": has_more,
    }


Reply = Response | Exception | Callable[[Request], Response]


class Recorder:
    """A ``MockTransport`` handler: records every request and answers from a script (the last
    entry repeats) or a default. Exceptions in the script are raised (connection failures)."""

    def __init__(self, *script: Reply, default: Reply | None = None) -> None:
        self.script: list[Reply] = list(script)
        self.default = default
        self.requests: list[Request] = []
        self.responses: list[Response] = []

    def __call__(self, request: Request) -> Response:
        self.requests.append(request)
        if self.script:
            reply = self.script.pop(0) if len(self.script) > 1 else self.script[0]
        elif self.default is not None:
            reply = self.default
        else:
            raise AssertionError(f"unexpected request {request!r}")
        if isinstance(reply, Exception):
            raise reply
        if isinstance(reply, Response):
            # A Response is single-use: a script entry that repeats must be a callable.
            if any(reply is seen for seen in self.responses):
                raise AssertionError("a scripted Response was served twice; use reply()")
            response = reply
        else:
            response = reply(request)
        self.responses.append(response)
        return response

    # --- views of what was sent --------------------------------------------------------------

    @property
    def last(self) -> Request:
        return self.requests[-1]

    def path(self, index: int = -1) -> str:
        """The raw (still percent-encoded) path below the base URL."""
        url = self.requests[index].url
        return urlsplit(url).path[len(urlsplit(BASE).path) :]

    def query(self, index: int = -1) -> list[tuple[str, str]]:
        return parse_qsl(urlsplit(self.requests[index].url).query, keep_blank_values=True)

    def body(self, index: int = -1) -> Any:
        content = self.requests[index].content
        return None if content is None else json.loads(content)

    def header(self, name: str, index: int = -1) -> str | None:
        return self.requests[index].headers.get(name)


def reply(status: int = 200, body: Any = None, **headers: str) -> Callable[[Request], Response]:
    """A reusable reply: a fresh ``Response`` per request (scripts may repeat it)."""
    real = {k.replace("_", "-"): v for k, v in headers.items()}

    def build(_request: Request) -> Response:
        if isinstance(body, (bytes, str)):
            content = body.encode() if isinstance(body, str) else body
            return Response(status, headers=real, content=content)
        return Response(status, headers=real, json=body if body is not None else {})

    return build


class FakeTime:
    """Monotonic and wall clocks that move only when the client sleeps; every sleep is
    recorded, together with whether all responses served so far were closed by then."""

    def __init__(self, recorder: Recorder | None = None) -> None:
        self.now = 1_000.0
        self.wall = 1_700_000_000.0
        self.sleeps: list[float] = []
        self.closed_at_sleep: list[bool] = []
        self.random_value = 0.5
        self.recorder = recorder

    def clock(self) -> float:
        return self.now

    def wall_clock(self) -> float:
        return self.wall

    def random(self) -> float:
        return self.random_value

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        if self.recorder is not None:
            self.closed_at_sleep.append(all(r.is_closed for r in self.recorder.responses))
        self.now += seconds
        self.wall += seconds


def make_client(
    *script: Reply, default: Reply | None = None, **kwargs: Any
) -> tuple[AsyncAssistants, Recorder, FakeTime]:
    recorder = Recorder(*script, default=default)
    if "token_provider" not in kwargs:
        kwargs.setdefault("api_key", "sk-test-key-0000")
    kwargs.setdefault("base_url", BASE)
    client = AsyncAssistants(transport=MockTransport(recorder), **kwargs)
    time = FakeTime(recorder)
    client._sleep = time.sleep
    client._clock = time.clock
    client._wall_clock = time.wall_clock
    client._random = time.random
    return client, recorder, time
