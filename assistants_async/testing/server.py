"""The loopback Assistants v2 server: all 23 operations on in-memory state, over real HTTP.

::

    async with AssistantsServer() as server:          # 127.0.0.1, a free port
        client = AsyncAssistants(api_key="test", base_url=server.url)   # .../v1
        ...
        assert server.requests.count("POST", "/threads/*/runs") == 1

Standalone (what ``python -m assistants_async serve`` runs)::

    await AssistantsServer(host="0.0.0.0", port=8080).serve_forever()
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from .context import CURRENT, RequestContext
from .engine import RunEngine, Sleep, encode_event
from .errors import ApiError, error_body
from .faults import (
    Disconnect,
    FaultAction,
    FaultRegistry,
    RecordedRequest,
    RequestLog,
    Respond,
    Stall,
    StreamRecord,
)
from .model import DefaultModel, Model
from .routes import Routes
from .sse import EventWriter, abort_connection, sleep_watching
from .store import IdFactory, RunRecord, Store

__all__ = ["AssistantsServer"]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class AssistantsServer:
    """An ``aiohttp.web`` Assistants API on ``host:port`` (``port=0``: a free one).

    ``model`` decides what runs do (default: ``DefaultModel``); ``step_delay`` is the pause
    between run steps (so polling sees intermediate states); ``poll_after_ms`` is sent as
    ``openai-poll-after-ms`` on run responses; ``run_expiry`` is how long a run waits for tool
    outputs before it expires. ``api_key`` (if given) is required as ``Authorization: Bearer``
    or ``api-key``; ``require_beta_header`` demands ``OpenAI-Beta: assistants=v2``.
    ``clock`` (seconds, for ``created_at`` & co.) and ``sleep`` (every pause a run takes: step
    delays, chunk delays, ``Delay`` actions, run expiry) can be replaced so tests control time.
    """

    def __init__(
        self,
        model: Model | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        prefix: str = "/v1",
        step_delay: float = 0.01,
        poll_after_ms: int = 10,
        run_expiry: float = 600.0,
        api_key: str | None = None,
        require_beta_header: bool = False,
        seed: int | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.model: Model = model if model is not None else DefaultModel()
        self.host = host
        self.port = port
        self.prefix = "/" + prefix.strip("/") if prefix.strip("/") else ""
        self.poll_after_ms = poll_after_ms
        self._api_key = api_key
        self.require_beta_header = require_beta_header
        self.store = Store(ids=IdFactory(seed), clock=clock)
        self.engine = RunEngine(
            self.store, self.model, step_delay=step_delay, run_expiry=run_expiry, sleep=sleep
        )
        self.faults = FaultRegistry()
        self.requests = RequestLog()
        self.app = self._build_app()
        self._runner: web.AppRunner | None = None
        self._bound_port: int | None = None

    def __repr__(self) -> str:
        where = self.url if self._bound_port is not None else "not started"
        return f"<AssistantsServer {where}>"

    @property
    def api_key(self) -> str | None:
        """The key the server demands (None: any or none is accepted)."""
        return self._api_key

    # -- lifecycle ----------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The base URL, e.g. ``http://127.0.0.1:54321/v1``."""
        if self._bound_port is None:
            raise RuntimeError("the server is not started")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self._bound_port}{self.prefix}"

    async def start(self) -> None:
        if self._runner is not None:
            raise RuntimeError("the server is already started")
        runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=0.5)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        await site.start()
        self._runner = runner
        server = site._server  # the asyncio.Server, to learn the port picked for port=0
        assert isinstance(server, asyncio.Server)
        self._bound_port = int(server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is None:
            return
        await self.engine.aclose()
        await runner.cleanup()
        self._bound_port = None

    async def __aenter__(self) -> AssistantsServer:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def serve_forever(self, *, ready: Callable[[str], object] | None = None) -> None:
        """Start, call ``ready(url)``, and serve until cancelled (Ctrl-C); then stop."""
        await self.start()
        try:
            if ready is not None:
                ready(self.url)
            await asyncio.Event().wait()
        finally:
            await self.stop()

    # -- conveniences for tests ---------------------------------------------------------------

    def runs_created(self, thread_id: str | None = None) -> int:
        """Runs ever created on ``thread_id`` (or on all threads)."""
        if thread_id is None:
            return sum(self.store.runs_created.values())
        return self.store.runs_created[thread_id]

    def reset(self) -> None:
        """Forget the request log and fault rules (objects stay)."""
        self.requests.clear()
        self.faults.clear()

    # -- plumbing -----------------------------------------------------------------------------

    def _build_app(self) -> web.Application:
        app = web.Application(middlewares=[self._middleware], client_max_size=64 * 1024 * 1024)
        Routes(self).register(app.router, self.prefix)
        app.router.add_route("*", "/{tail:.*}", self._unknown_route)
        return app

    async def _unknown_route(self, request: web.Request) -> web.StreamResponse:
        raise ApiError(404, f"Invalid URL ({request.method} {request.path})")

    def _relative(self, path: str) -> str:
        if self.prefix and path.startswith(self.prefix):
            return path[len(self.prefix) :] or "/"
        return path

    def _check_auth(self, request: web.Request) -> None:
        if self.require_beta_header and request.headers.get("OpenAI-Beta") != "assistants=v2":
            raise ApiError(
                400,
                "You must provide the 'OpenAI-Beta' header to access the Assistants API. "
                "Please try again by setting the header 'OpenAI-Beta: assistants=v2'.",
                code="invalid_beta",
            )
        if self._api_key is None:
            return
        bearer = request.headers.get("Authorization", "")
        given = bearer[7:] if bearer.startswith("Bearer ") else request.headers.get("api-key")
        if given != self._api_key:
            # never echo the key back, not even the wrong one
            raise ApiError(401, "Incorrect API key provided.", code="invalid_api_key")

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        request_id = "req_" + uuid.uuid4().hex
        body = await request.read()
        peer = request.transport.get_extra_info("peername") if request.transport else None
        record = RecordedRequest(
            method=request.method,
            path=self._relative(request.path),
            query=dict(request.query),
            headers=dict(request.headers),
            body=body,
            time=asyncio.get_running_loop().time(),
            peer_port=int(peer[1]) if peer else None,
        )
        self.requests.append(record)
        rule = self.faults.take(request.method, record.path)
        action = rule.request_action if rule is not None else None
        context = RequestContext(
            record=record,
            request_id=request_id,
            stream_actions=rule.stream_actions if rule is not None else [],
            after_action=action if _is_after(action) else None,
        )
        CURRENT.set(context)

        response: web.StreamResponse | None = None
        if action is not None and not _is_after(action):
            response = await self._apply_before(request, action)
            if response is None and client_left(request):
                return _dead_response()
        if response is None:
            try:
                self._check_auth(request)
                response = await handler(request)
            except ApiError as exc:
                response = web.json_response(exc.body(), status=exc.status)
            except web.HTTPException as exc:
                message = exc.reason if exc.status != 405 else f"Invalid method {request.method}"
                response = web.json_response(error_body(message), status=exc.status)
        if not response.prepared:
            response.headers["x-request-id"] = request_id
            late = context.after_action
            if late is not None and not await self.apply_after(request, late):
                return _dead_response()
        if record.status is None and not client_left(request):
            record.status = response.status
        return response

    async def _apply_before(
        self, request: web.Request, action: FaultAction
    ) -> web.StreamResponse | None:
        if isinstance(action, Respond):
            return _fault_response(action)
        if isinstance(action, Disconnect):
            abort_connection(request, reset=action.reset)
            return None
        assert isinstance(action, Stall)
        if action.headers_first:
            return await self._stall_after_headers(request, action)
        await sleep_watching(request, action.seconds)
        return None

    async def apply_after(self, request: web.Request, action: FaultAction) -> bool:
        """A ``when="after"`` fault, once the request has been handled; False: no response."""
        CURRENT.get().after_action = None
        if isinstance(action, Disconnect):
            abort_connection(request, reset=action.reset)
            return False
        if isinstance(action, Stall):
            return await sleep_watching(request, action.seconds)
        return True

    async def _stall_after_headers(
        self, request: web.Request, action: Stall
    ) -> web.StreamResponse | None:
        # headers now, the body (if the client is still there) once the stall is over
        stream = web.StreamResponse(
            status=200,
            headers={"Content-Type": "application/json", "x-request-id": CURRENT.get().request_id},
        )
        await stream.prepare(request)
        CURRENT.get().record.status = 200
        if not await sleep_watching(request, action.seconds):
            return stream
        try:
            inner = await self.app_handler(request)
        except ApiError as exc:
            inner = web.json_response(exc.body(), status=exc.status)
        if isinstance(inner, web.Response) and inner.body is not None:
            body = inner.body
            await stream.write(body if isinstance(body, bytes) else str(body).encode())
        await stream.write_eof()
        return stream

    async def app_handler(self, request: web.Request) -> web.StreamResponse:
        match = await self.app.router.resolve(request)
        return await match.handler(request)

    # -- streaming ----------------------------------------------------------------------------

    async def stream_run(
        self,
        request: web.Request,
        run: RunRecord,
        start: Callable[[], None],
        first: list[tuple[str, str]] | None = None,
    ) -> web.StreamResponse:
        """Attach to ``run``, call ``start`` (which begins the segment), stream until it pauses
        or ends, then ``done``."""
        queue: asyncio.Queue[tuple[str, str] | None] = asyncio.Queue()
        run.listeners.append(queue)
        start()
        context = CURRENT.get()
        late = context.after_action
        if late is not None and not await self.apply_after(request, late):
            _detach(run, queue)
            return _dead_response()
        response = web.StreamResponse(
            status=200,
            headers={
                "Content-Type": "text/event-stream; charset=utf-8",
                "Cache-Control": "no-cache",
                "X-Accel-Buffering": "no",
                "x-request-id": context.request_id,
            },
        )
        record = context.record
        record.stream = StreamRecord()
        record.status = 200
        writer = EventWriter(request, response, context.stream_actions, record.stream)
        try:
            await response.prepare(request)
            for name, data in first or []:
                if not await writer.send(name, data):
                    return response
            while True:
                event = await queue.get()
                if event is None:
                    break
                if not await writer.send(*event):
                    return response
            if await writer.done():
                await response.write_eof()
        except (ConnectionError, RuntimeError):
            writer.open = False
        finally:
            _detach(run, queue)
        return response

    def thread_created_event(self, thread: dict[str, Any]) -> tuple[str, str]:
        return encode_event("thread.created", thread)


def client_left(request: web.BaseRequest) -> bool:
    transport = request.transport
    return transport is None or transport.is_closing()


def _detach(run: RunRecord, queue: asyncio.Queue[tuple[str, str] | None]) -> None:
    if queue in run.listeners:
        run.listeners.remove(queue)


def _is_after(action: FaultAction | None) -> bool:
    return isinstance(action, Disconnect | Stall) and action.when == "after"


def _dead_response() -> web.StreamResponse:
    # the connection is already closed; aiohttp discards whatever is returned
    return web.Response(status=499)


_DEFAULT_ERRORS = {
    400: ("invalid_request_error", None),
    401: ("invalid_request_error", "invalid_api_key"),
    403: ("invalid_request_error", None),
    404: ("invalid_request_error", None),
    409: ("invalid_request_error", None),
    422: ("invalid_request_error", None),
    429: ("requests", "rate_limit_exceeded"),
}


def _fault_response(action: Respond) -> web.Response:
    headers = dict(action.headers)
    if action.retry_after is not None:
        headers["retry-after"] = str(action.retry_after)
    if action.retry_after_ms is not None:
        headers["retry-after-ms"] = str(action.retry_after_ms)
    if action.should_retry is not None:
        headers["x-should-retry"] = "true" if action.should_retry else "false"
    if action.html_size is not None:
        page = f"<html><body><h1>{action.status}</h1>"
        page += "x" * max(0, action.html_size - len(page) - len("</body></html>"))
        page += "</body></html>"
        return web.Response(
            status=action.status,
            body=page.encode(),
            headers=headers,
            content_type=action.content_type or "text/html",
        )
    if action.text is not None:
        return web.Response(
            status=action.status,
            text=action.text,
            headers=headers,
            content_type=action.content_type or "text/plain",
        )
    payload = action.json
    if payload is None:
        kind, code = _DEFAULT_ERRORS.get(action.status, ("server_error", None))
        payload = error_body(f"Injected fault: HTTP {action.status}.", type=kind, code=code)
    return web.Response(
        status=action.status,
        body=json.dumps(payload).encode(),
        headers=headers,
        content_type=action.content_type or "application/json",
    )
