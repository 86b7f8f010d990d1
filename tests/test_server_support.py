"""Helpers for the loopback-server tests (no tests here): an HTTP helper over a real socket that
validates every response and every stream event against the OpenAPI spec and the library's
pydantic models."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml
from openapi_schema_validator import OAS31Validator

from assistants_async import types as t
from assistants_async.testing import AssistantsServer

SPEC_NAME = "openapi.assistants.nullable-fixed.yaml"

_OBJECT_SCHEMAS = {
    "assistant": ("AssistantObject", t.Assistant),
    "thread": ("ThreadObject", t.Thread),
    "thread.message": ("MessageObject", t.Message),
    "thread.run": ("RunObject", t.Run),
    "thread.run.step": ("RunStepObject", t.RunStep),
    "assistant.deleted": ("DeleteAssistantResponse", t.AssistantDeleted),
    "thread.deleted": ("DeleteThreadResponse", t.ThreadDeleted),
    "thread.message.deleted": ("DeleteMessageResponse", t.MessageDeleted),
}
_LIST_SCHEMAS = {
    "assistant": "ListAssistantsResponse",
    "thread.message": "ListMessagesResponse",
    "thread.run": "ListRunsResponse",
    "thread.run.step": "ListRunStepsResponse",
}


def _spec_path() -> Path:
    return Path(__file__).resolve().parent / "data" / "shared" / "openai-openapi" / SPEC_NAME


@cache
def _components() -> dict[str, Any]:
    spec = yaml.safe_load(_spec_path().read_text())
    return {"components": spec["components"]}


@cache
def _validator(schema_name: str) -> OAS31Validator:
    schema = {**_components(), "$ref": f"#/components/schemas/{schema_name}"}
    return OAS31Validator(schema)


def check_schema(schema_name: str, instance: Any) -> None:
    errors = sorted(_validator(schema_name).iter_errors(instance), key=lambda e: e.path)
    if errors:
        raise AssertionError(
            f"{schema_name}: " + "; ".join(f"{list(e.path)}: {e.message[:300]}" for e in errors)
        )


def check_object(data: Any) -> None:
    """Validate one response body against the spec and the pydantic models."""
    assert isinstance(data, dict), data
    if "error" in data:
        check_schema("ErrorResponse", data)
        return
    kind = data["object"]
    if kind == "list":
        items = data["data"]
        if not items:
            # the live API (and this server) send null ids for an empty page; the spec says string
            assert data["first_id"] is None and data["last_id"] is None
            assert data["has_more"] is False
            return
        check_schema(_LIST_SCHEMAS[items[0]["object"]], data)
        for item in items:
            check_object(item)
        assert data["first_id"] == items[0]["id"] and data["last_id"] == items[-1]["id"]
        return
    schema_name, model = _OBJECT_SCHEMAS[kind]
    check_schema(schema_name, data)
    model.model_validate_json(json.dumps(data))


def check_event(name: str, data: str) -> None:
    if name == "done":
        assert data == "[DONE]"
        return
    payload = json.loads(data)
    check_schema("AssistantStreamEvent", {"event": name, "data": payload})
    _, model = t.EVENT_DATA_MODELS[name]
    model.model_validate_json(data)


@dataclass
class Reply:
    status: int
    body: Any
    headers: Any


@dataclass
class Event:
    event: str
    data: str

    def json(self) -> Any:
        return json.loads(self.data)


def parse_sse(text: str) -> list[Event]:
    events: list[Event] = []
    for block in text.split("\n\n"):
        name, data = "message", []
        for line in block.split("\n"):
            if not line or line.startswith(":"):
                continue
            field, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if field == "event":
                name = value
            elif field == "data":
                data.append(value)
        if data:
            events.append(Event(name, "\n".join(data)))
    return events


class Api:
    """Plain aiohttp against the server; every answer is schema-checked."""

    def __init__(self, server: AssistantsServer, session: aiohttp.ClientSession) -> None:
        self.server = server
        self.session = session

    async def call(
        self, method: str, path: str, body: Any = None, *, params: Any = None, check: bool = True
    ) -> Reply:
        async with self.session.request(
            method, self.server.url + path, json=body, params=params
        ) as response:
            data = await response.json(content_type=None)
            assert response.headers["x-request-id"].startswith("req_")
            if check:
                check_object(data)
            return Reply(response.status, data, response.headers)

    async def ok(self, method: str, path: str, body: Any = None, **kw: Any) -> Any:
        reply = await self.call(method, path, body, **kw)
        assert reply.status == 200, reply.body
        return reply.body

    async def get(self, path: str, **kw: Any) -> Any:
        return await self.ok("GET", path, **kw)

    async def post(self, path: str, body: Any = None, **kw: Any) -> Any:
        return await self.ok("POST", path, body if body is not None else {}, **kw)

    async def error(self, method: str, path: str, body: Any = None, **kw: Any) -> Reply:
        reply = await self.call(method, path, body, **kw)
        assert reply.status >= 400, reply.body
        assert set(reply.body["error"]) == {"message", "type", "param", "code"}
        return reply

    async def stream(self, path: str, body: dict[str, Any]) -> list[Event]:
        async with self.session.post(self.server.url + path, json={**body, "stream": True}) as r:
            assert r.status == 200, await r.text()
            assert r.headers["Content-Type"].startswith("text/event-stream")
            assert r.headers["Cache-Control"] == "no-cache"
            events = parse_sse(await r.text())
        for event in events:
            check_event(event.event, event.data)
        return events

    # shortcuts
    async def assistant(self, **body: Any) -> Any:
        return await self.post("/assistants", {"model": "gpt-4o", **body})

    async def thread(self, *texts: str) -> Any:
        messages = [{"role": "user", "content": text} for text in texts]
        return await self.post("/threads", {"messages": messages})

    async def wait_run(self, thread_id: str, run_id: str, *, until: set[str]) -> Any:
        # polls on the server's own pace (openai-poll-after-ms is a few ms)
        for _ in range(2000):
            run = await self.get(f"/threads/{thread_id}/runs/{run_id}")
            if run["status"] in until:
                return run
        raise AssertionError(f"run never reached {until}: {run['status']}")


@pytest.fixture
async def api(assistants_server: AssistantsServer) -> AsyncIterator[Api]:
    async with aiohttp.ClientSession() as session:
        yield Api(assistants_server, session)


def names(events: list[Event]) -> list[str]:
    return [e.event for e in events]


def collapse(seq: list[str]) -> list[str]:
    """Event names with runs of the same delta event folded into one."""
    out: list[str] = []
    for name in seq:
        if not (out and out[-1] == name and name.endswith(".delta")):
            out.append(name)
    return out
