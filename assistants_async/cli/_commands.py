"""The CLI's three commands: ``demo``, ``serve`` and ``chat``."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import signal
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable
from typing import TextIO, TypeVar

from .._client import AsyncAssistants
from ..testing import AssistantsServer
from ..types import Run
from ._render import Printer
from ._turns import TurnStats, demo_toolbox, run_turn

__all__ = ["chat", "demo", "in_daemon_thread", "open_client", "serve", "server_or"]

T = TypeVar("T")

LOCAL_KEY = "sk-local-demo"  # the embedded server accepts any key
DEMO_MODEL = "gpt-4o"


def _run_rows(run: Run | None, stats: TurnStats) -> list[tuple[str, str]]:
    rows = [("run status", run.status if run else "unknown")]
    if run is not None and run.usage is not None:
        u = run.usage
        rows.append(
            ("tokens", f"{u.total_tokens} ({u.prompt_tokens} prompt + {u.completion_tokens} out)")
        )
    rows.append(("tool calls", str(stats.tool_calls)))
    rows.append(("events", str(stats.events)))
    if stats.first_text_at is not None:
        rows.append(("first token", f"{stats.first_text_at * 1000:.0f} ms"))
    rows.append(("time", f"{stats.elapsed * 1000:.0f} ms"))
    return rows


async def demo(out: Printer) -> int:
    """Embedded server, one assistant with a function tool, three streamed turns."""
    started = time.perf_counter()
    # On a terminal, slow the embedded model down a little so the streaming can be seen.
    async with AssistantsServer(step_delay=0.03 if out.interactive else 0.01) as server:
        out.info(f"embedded Assistants server at {server.url} (no key, no network)")
        async with AsyncAssistants(api_key=LOCAL_KEY, base_url=server.url) as client:
            toolbox = demo_toolbox(out)
            assistant = await client.assistants.create(
                model=DEMO_MODEL,
                name="Weather helper",
                instructions="Answer briefly; use get_weather for the weather.",
                tools=toolbox.definitions(),
            )
            out.info(f"assistant {assistant.id} with tool get_weather(city)")
            thread = await client.threads.create()
            turns = [
                (
                    "a function tool call, executed locally",
                    'What is the weather in Paris?\ncall get_weather {"city": "Paris"}',
                ),
                ("a reply with a file citation", "Please cite your source for that."),
                ("a code interpreter step", "python: print(6 * 7)"),
            ]
            ok = True
            for title, prompt in turns:
                out.heading(title)
                out.user(prompt)
                await client.threads.messages.create(thread.id, role="user", content=prompt)
                run, stats = await run_turn(
                    client, thread_id=thread.id, assistant_id=assistant.id, out=out, toolbox=toolbox
                )
                out.summary("run", _run_rows(run, stats))
                ok = ok and run is not None and run.status == "completed"
    out.info(f"demo finished in {time.perf_counter() - started:.2f} s")
    return 0 if ok else 1


async def serve(out: Printer, *, host: str, port: int) -> int:
    """Run the loopback server until SIGINT or SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # Windows: Ctrl-C raises instead
            loop.add_signal_handler(sig, stop.set)
    try:
        async with AssistantsServer(host=host, port=port) as server:
            # The URL line is what scripts parse: keep it first, plain and flushed.
            print(f"Assistants server listening on {server.url}", flush=True)
            out.info("any API key is accepted; press Ctrl-C to stop")
            await stop.wait()
            out.info("shutting down")
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.remove_signal_handler(sig)
    return 0


@contextlib.asynccontextmanager
async def server_or(base_url: str | None) -> AsyncIterator[str]:
    if base_url is not None:
        yield base_url
        return
    async with AssistantsServer() as server:
        yield server.url


def open_client(
    out: Printer, url: str, *, base_url: str | None, api_key: str | None
) -> AsyncAssistants | None:
    """A client for ``url`` (from ``server_or``), or None after saying why there is none."""
    # None: the client falls back to $OPENAI_API_KEY; the embedded server takes any key.
    key = api_key or (LOCAL_KEY if base_url is None else None)
    try:
        return AsyncAssistants(api_key=key, base_url=url)
    except ValueError as exc:  # no key, or a base URL the client refuses
        out.error(str(exc))
        return None


async def _read_line(prompt: str, stdin: TextIO) -> str | None:
    """One line from stdin without blocking the loop; None at end of input."""
    if stdin.isatty():
        line = await in_daemon_thread(lambda: _input(prompt))
    else:
        line = await in_daemon_thread(stdin.readline)
        if line == "":
            return None
    return None if line is None else line.rstrip("\r\n")


async def in_daemon_thread(read: Callable[[], T]) -> T:
    # Not asyncio.to_thread: on Ctrl-C, asyncio.run() would wait for the executor thread,
    # which sits in input() until the user presses Enter. A daemon thread is abandoned.
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def settle(action: Callable[[], None]) -> None:
        if not future.done():  # the awaiting task may have been cancelled
            action()

    def work() -> None:
        action: Callable[[], None]
        try:
            action = functools.partial(future.set_result, read())
        except BaseException as exc:  # handed over to the awaiting task
            action = functools.partial(future.set_exception, exc)
        with contextlib.suppress(RuntimeError):  # the loop may be closed by now
            loop.call_soon_threadsafe(settle, action)

    threading.Thread(target=work, name="assistants-async-stdin", daemon=True).start()
    return await future


def _input(prompt: str) -> str | None:
    try:
        return input(prompt)
    except EOFError:
        return None


async def chat(
    out: Printer,
    *,
    base_url: str | None,
    assistant_id: str | None,
    api_key: str | None,
    model: str,
    stdin: TextIO | None = None,
) -> int:
    """Read a line, stream the reply, repeat; ``/quit`` or end of input stops."""
    source = sys.stdin if stdin is None else stdin
    async with server_or(base_url) as url:
        client = open_client(out, url, base_url=base_url, api_key=api_key)
        if client is None:
            return 2
        async with client:
            toolbox = demo_toolbox(out)
            if assistant_id is None:
                assistant = await client.assistants.create(
                    model=model,
                    instructions="You are a helpful assistant.",
                    tools=toolbox.definitions(),
                )
                assistant_id = assistant.id
            thread = await client.threads.create()
            out.info(f"chatting with {assistant_id} on {url} (thread {thread.id}); /quit to end")
            while True:
                line = await _read_line("you> ", source)
                if line is None or line.strip() in ("/quit", "/exit"):
                    break
                if not line.strip():
                    continue
                await client.threads.messages.create(thread.id, role="user", content=line)
                run, _ = await run_turn(
                    client, thread_id=thread.id, assistant_id=assistant_id, out=out, toolbox=toolbox
                )
                if run is None or run.status != "completed":
                    status = run.status if run else "unknown"
                    detail = f": {run.last_error.message}" if run and run.last_error else ""
                    out.error(f"run ended {status}{detail}")
    return 0
