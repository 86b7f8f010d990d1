"""HTTP handlers of the 23 Assistants operations (assistants, threads, messages, runs, steps)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from . import validation as v
from .actions import ToolOutput
from .context import CURRENT
from .engine import tokens
from .errors import ApiError
from .store import ACTIVE_RUN_STATUSES, JSON, RunRecord, ThreadRecord, paginate

if TYPE_CHECKING:
    from .server import AssistantsServer

__all__ = ["Routes"]

FILE_SEARCH_CONTENT = "step_details.tool_calls[*].file_search.results[*].content"


def _json(data: Any, *, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(
        body=json.dumps(data, ensure_ascii=False).encode(),
        content_type="application/json",
        headers=headers,
    )


class Routes:
    def __init__(self, server: AssistantsServer) -> None:
        self.server = server
        self.store = server.store
        self.engine = server.engine

    def register(self, router: web.UrlDispatcher, prefix: str) -> None:
        table: list[tuple[str, str, Callable[[web.Request], Awaitable[web.StreamResponse]]]] = [
            ("GET", "/assistants", self.list_assistants),
            ("POST", "/assistants", self.create_assistant),
            ("GET", "/assistants/{assistant_id}", self.get_assistant),
            ("POST", "/assistants/{assistant_id}", self.modify_assistant),
            ("DELETE", "/assistants/{assistant_id}", self.delete_assistant),
            ("POST", "/threads", self.create_thread),
            ("POST", "/threads/runs", self.create_thread_and_run),
            ("GET", "/threads/{thread_id}", self.get_thread),
            ("POST", "/threads/{thread_id}", self.modify_thread),
            ("DELETE", "/threads/{thread_id}", self.delete_thread),
            ("GET", "/threads/{thread_id}/messages", self.list_messages),
            ("POST", "/threads/{thread_id}/messages", self.create_message),
            ("GET", "/threads/{thread_id}/messages/{message_id}", self.get_message),
            ("POST", "/threads/{thread_id}/messages/{message_id}", self.modify_message),
            ("DELETE", "/threads/{thread_id}/messages/{message_id}", self.delete_message),
            ("GET", "/threads/{thread_id}/runs", self.list_runs),
            ("POST", "/threads/{thread_id}/runs", self.create_run),
            ("GET", "/threads/{thread_id}/runs/{run_id}", self.get_run),
            ("POST", "/threads/{thread_id}/runs/{run_id}", self.modify_run),
            ("POST", "/threads/{thread_id}/runs/{run_id}/cancel", self.cancel_run),
            ("GET", "/threads/{thread_id}/runs/{run_id}/steps", self.list_steps),
            ("GET", "/threads/{thread_id}/runs/{run_id}/steps/{step_id}", self.get_step),
            (
                "POST",
                "/threads/{thread_id}/runs/{run_id}/submit_tool_outputs",
                self.submit_tool_outputs,
            ),
        ]
        for method, path, handler in table:
            router.add_route(method, prefix + path, handler)

    # -- helpers ------------------------------------------------------------------------------

    def _body(self, request: web.Request, check: v.Check) -> JSON:
        raw = CURRENT.get().record.body
        if not raw.strip():
            data: Any = {}
        else:
            try:
                data = json.loads(raw)
            except ValueError:
                raise ApiError(
                    400,
                    "We could not parse the JSON body of your request. (HINT: This likely means "
                    "you aren't using your HTTP library correctly. The OpenAI API expects a JSON "
                    "payload, but what was sent was not valid JSON.)",
                ) from None
        return v.validate_body(check, data)

    def _run_response(self, run: RunRecord) -> web.Response:
        return _json(run.obj, headers={"openai-poll-after-ms": str(self.server.poll_after_ms)})

    def _refuse_if_active(self, thread: ThreadRecord, *, message: bool) -> None:
        active = thread.active_run()
        if active is None:
            return
        thread_id = thread.obj["id"]
        if message:
            text = f"Can't add messages to {thread_id} while a run {active.id} is active."
        else:
            text = f"Thread {thread_id} already has an active run {active.id}."
        raise ApiError(400, text)

    @staticmethod
    def _deleted(object_id: str, kind: str) -> web.Response:
        return _json({"id": object_id, "object": f"{kind}.deleted", "deleted": True})

    # -- assistants ---------------------------------------------------------------------------

    async def list_assistants(self, request: web.Request) -> web.StreamResponse:
        query = v.list_query(request.query)
        return _json(paginate(list(self.store.assistants.values()), **query))

    async def create_assistant(self, request: web.Request) -> web.StreamResponse:
        body = self._body(request, v.CREATE_ASSISTANT)
        return _json(self.store.add_assistant(body))

    async def get_assistant(self, request: web.Request) -> web.StreamResponse:
        return _json(self.store.assistant(request.match_info["assistant_id"]))

    async def modify_assistant(self, request: web.Request) -> web.StreamResponse:
        assistant = self.store.assistant(request.match_info["assistant_id"])
        body = self._body(request, v.MODIFY_ASSISTANT)
        for key, value in body.items():
            if key in ("tools", "metadata", "tool_resources") and value is None:
                value = [] if key == "tools" else {}
            assistant[key] = value
        return _json(assistant)

    async def delete_assistant(self, request: web.Request) -> web.StreamResponse:
        assistant_id = request.match_info["assistant_id"]
        self.store.assistant(assistant_id)
        del self.store.assistants[assistant_id]
        return self._deleted(assistant_id, "assistant")

    # -- threads ------------------------------------------------------------------------------

    async def create_thread(self, request: web.Request) -> web.StreamResponse:
        body = self._body(request, v.CREATE_THREAD)
        return _json(self.store.add_thread(body).obj)

    async def get_thread(self, request: web.Request) -> web.StreamResponse:
        return _json(self.store.thread(request.match_info["thread_id"]).obj)

    async def modify_thread(self, request: web.Request) -> web.StreamResponse:
        thread = self.store.thread(request.match_info["thread_id"])
        body = self._body(request, v.MODIFY_THREAD)
        for key, value in body.items():
            thread.obj[key] = value if value is not None else {}
        return _json(thread.obj)

    async def delete_thread(self, request: web.Request) -> web.StreamResponse:
        thread_id = request.match_info["thread_id"]
        thread = self.store.thread(thread_id)
        for run in thread.runs.values():
            self.engine.discard(run)
        del self.store.threads[thread_id]
        return self._deleted(thread_id, "thread")

    # -- messages -----------------------------------------------------------------------------

    async def list_messages(self, request: web.Request) -> web.StreamResponse:
        thread = self.store.thread(request.match_info["thread_id"])
        query = v.list_query(request.query)
        items = list(thread.messages.values())
        run_id = request.query.get("run_id")
        if run_id:
            items = [m for m in items if m["run_id"] == run_id]
        return _json(paginate(items, **query))

    async def create_message(self, request: web.Request) -> web.StreamResponse:
        thread = self.store.thread(request.match_info["thread_id"])
        body = self._body(request, v.CREATE_MESSAGE)
        self._refuse_if_active(thread, message=True)
        return _json(self.store.add_user_message(thread, body))

    async def get_message(self, request: web.Request) -> web.StreamResponse:
        info = request.match_info
        return _json(self.store.message(info["thread_id"], info["message_id"]))

    async def modify_message(self, request: web.Request) -> web.StreamResponse:
        info = request.match_info
        message = self.store.message(info["thread_id"], info["message_id"])
        body = self._body(request, v.MODIFY_METADATA)
        if "metadata" in body:
            message["metadata"] = body["metadata"] or {}
        return _json(message)

    async def delete_message(self, request: web.Request) -> web.StreamResponse:
        info = request.match_info
        self.store.message(info["thread_id"], info["message_id"])
        del self.store.threads[info["thread_id"]].messages[info["message_id"]]
        return self._deleted(info["message_id"], "thread.message")

    # -- runs ---------------------------------------------------------------------------------

    async def list_runs(self, request: web.Request) -> web.StreamResponse:
        thread = self.store.thread(request.match_info["thread_id"])
        query = v.list_query(request.query)
        page = paginate([run.obj for run in thread.runs.values()], **query)
        return _json(page, headers={"openai-poll-after-ms": str(self.server.poll_after_ms)})

    async def create_run(self, request: web.Request) -> web.StreamResponse:
        thread = self.store.thread(request.match_info["thread_id"])
        _check_include(request)
        body = self._body(request, v.CREATE_RUN)
        assistant = self.store.assistant(body["assistant_id"])
        self._refuse_if_active(thread, message=False)
        for message in body.get("additional_messages") or []:
            self.store.add_user_message(thread, message)
        run = self.store.add_run(thread, assistant, body, expires_after=self.engine.run_expiry)
        if body.get("stream"):
            return await self.server.stream_run(request, run, lambda: self.engine.start(run))
        self.engine.start(run)
        return self._run_response(run)

    async def create_thread_and_run(self, request: web.Request) -> web.StreamResponse:
        body = self._body(request, v.CREATE_THREAD_AND_RUN)
        assistant = self.store.assistant(body["assistant_id"])
        thread_body = dict(body.get("thread") or {})
        if body.get("tool_resources") is not None:
            thread_body.setdefault("tool_resources", body["tool_resources"])
        thread = self.store.add_thread(thread_body)
        run = self.store.add_run(thread, assistant, body, expires_after=self.engine.run_expiry)
        if body.get("stream"):
            first = [self.server.thread_created_event(thread.obj)]
            return await self.server.stream_run(request, run, lambda: self.engine.start(run), first)
        self.engine.start(run)
        return self._run_response(run)

    async def get_run(self, request: web.Request) -> web.StreamResponse:
        info = request.match_info
        return self._run_response(self.store.run(info["thread_id"], info["run_id"]))

    async def modify_run(self, request: web.Request) -> web.StreamResponse:
        info = request.match_info
        run = self.store.run(info["thread_id"], info["run_id"])
        body = self._body(request, v.MODIFY_METADATA)
        if "metadata" in body:
            run.obj["metadata"] = body["metadata"] or {}
        return self._run_response(run)

    async def cancel_run(self, request: web.Request) -> web.StreamResponse:
        info = request.match_info
        run = self.store.run(info["thread_id"], info["run_id"])
        if run.status not in ACTIVE_RUN_STATUSES:
            raise ApiError(400, f"Cannot cancel run with status '{run.status}'.")
        if run.status != "cancelling":
            self.engine.request_cancel(run)
        return self._run_response(run)

    async def submit_tool_outputs(self, request: web.Request) -> web.StreamResponse:
        info = request.match_info
        run = self.store.run(info["thread_id"], info["run_id"])
        body = self._body(request, v.SUBMIT_TOOL_OUTPUTS)
        if run.status != "requires_action":
            raise ApiError(400, f'Runs in status "{run.status}" do not accept tool outputs.')
        expected = [call["id"] for call in run.pending_calls]
        given = [out["tool_call_id"] for out in body["tool_outputs"]]
        if sorted(given) != sorted(expected) or len(set(given)) != len(given):
            raise ApiError(
                400,
                f"Expected tool outputs for call_ids {expected}, got {given}",
                param="tool_outputs",
            )
        outputs = self._accept_outputs(run, body["tool_outputs"])
        if body.get("stream"):
            return await self.server.stream_run(
                request, run, lambda: self.engine.start(run, outputs)
            )
        self.engine.start(run, outputs)
        return self._run_response(run)

    def _accept_outputs(self, run: RunRecord, submitted: list[JSON]) -> list[ToolOutput]:
        by_id = {out["tool_call_id"]: str(out.get("output") or "") for out in submitted}
        step = run.steps[run.pending_step_id] if run.pending_step_id else None
        if step is not None:
            for call in step["step_details"]["tool_calls"]:
                if call["id"] in by_id:
                    call["function"]["output"] = by_id[call["id"]]
            now = self.store.now()
            step.update(status="completed", completed_at=now, expires_at=None)
            # counted into the run's usage too: run usage is the sum over its steps
            arguments = "".join(call["function"]["arguments"] for call in run.pending_calls)
            self.engine.add_usage(run, step, 1, tokens(arguments))
        outputs = [
            ToolOutput(
                tool_call_id=call["id"],
                name=call["function"]["name"],
                arguments=call["function"]["arguments"],
                output=by_id[call["id"]],
            )
            for call in run.pending_calls
        ]
        run.pending_calls = []
        run.obj.update(status="queued", required_action=None)
        self.engine.cancel_expiry(run)
        return outputs

    # -- run steps ----------------------------------------------------------------------------

    async def list_steps(self, request: web.Request) -> web.StreamResponse:
        info = request.match_info
        run = self.store.run(info["thread_id"], info["run_id"])
        include = _check_include(request)
        query = v.list_query(request.query)
        page = paginate(list(run.steps.values()), **query)
        page["data"] = [_with_include(step, include) for step in page["data"]]
        return _json(page)

    async def get_step(self, request: web.Request) -> web.StreamResponse:
        info = request.match_info
        step = self.store.step(info["thread_id"], info["run_id"], info["step_id"])
        return _json(_with_include(step, _check_include(request)))


def _check_include(request: web.Request) -> bool:
    values = request.query.getall("include[]", []) + request.query.getall("include", [])
    for value in values:
        if value != FILE_SEARCH_CONTENT:
            raise ApiError(
                400,
                f"Invalid value: '{value}'. Supported values are: '{FILE_SEARCH_CONTENT}'.",
                param="include",
                code="invalid_value",
            )
    return bool(values)


def _with_include(step: JSON, include: bool) -> JSON:
    """Search result ``content`` only appears when asked for with ``include[]``."""
    if include or step["type"] != "tool_calls":
        return step
    calls = step["step_details"]["tool_calls"]
    if not any(call["type"] == "file_search" for call in calls):
        return step
    stripped: JSON = json.loads(json.dumps(step))
    for call in stripped["step_details"]["tool_calls"]:
        if call["type"] == "file_search":
            for result in call["file_search"].get("results") or []:
                result.pop("content", None)
    return stripped
