"""The command line, run as users run it: ``python -m assistants_async ...`` in a subprocess."""

from __future__ import annotations

import asyncio
import functools
import io
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import pytest

from assistants_async.cli import build_parser, main
from assistants_async.cli._render import Printer, make_printer
from assistants_async.cli._turns import demo_toolbox
from assistants_async.testing import AssistantsServer

REPO = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-m", "assistants_async"]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("OPENAI_API_KEY", None)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _run_cli(*args: str, stdin: str = "", timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=_env(),
        cwd=REPO,
    )


# -- demo ------------------------------------------------------------------------------------


@pytest.mark.timeout(45)
def test_demo_streams_a_tool_call_and_completes() -> None:
    started = time.monotonic()
    proc = _run_cli("demo")
    wall = time.monotonic() - started
    out = proc.stdout
    assert proc.returncode == 0, proc.stderr + out
    assert "Traceback" not in proc.stderr
    # the tool call requested by the model and executed locally
    assert 'tool call: get_weather({"city": "Paris"})' in out
    assert "tool output: get_weather -> sunny, 21 C in Paris" in out
    # the streamed continuation quotes the tool output (default model contract)
    assert "get_weather returned: sunny, 21 C in Paris" in out
    # second and third turns: a citation and a code interpreter step
    assert re.search(r'citation: ".+" -> \S+', out)
    assert "code interpreter: print(6 * 7)" in out
    assert out.count("run status: completed") == 3
    tokens = re.findall(r"^tokens: (\d+) ", out, flags=re.M)
    assert len(tokens) == 3 and all(int(t) > 0 for t in tokens)
    assert "\x1b[" not in out  # piped output is plain text
    # the summary of each run: status (above), tokens (above), events streamed and time
    events = re.findall(r"^events: (\d+)$", out, flags=re.M)
    assert len(events) == 3 and all(int(n) > 10 for n in events)
    assert len(re.findall(r"^time: \d+ ms$", out, flags=re.M)) == 3
    assert re.search(r"^demo finished in \d+\.\d\d s$", out, flags=re.M)
    # "in seconds on a fresh machine": ~0.6 s here, including interpreter start-up
    assert wall < 10, wall


# -- serve -----------------------------------------------------------------------------------


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
async def test_serve_answers_requests_and_stops_cleanly_on_signal(sig: signal.Signals) -> None:
    proc = await asyncio.create_subprocess_exec(
        *CLI,
        "serve",
        "--port",
        "0",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=_env(),
        cwd=REPO,
    )
    try:
        assert proc.stdout is not None and proc.stderr is not None
        first = (await asyncio.wait_for(proc.stdout.readline(), 20)).decode()
        match = re.search(r"(http://127\.0\.0\.1:(\d+)/v1)\s*$", first)
        assert match, first
        url, port = match.group(1), int(match.group(2))
        assert port != 0
        async with aiohttp.ClientSession() as session:
            headers = {"Authorization": "Bearer sk-anything", "OpenAI-Beta": "assistants=v2"}
            async with session.get(f"{url}/assistants", headers=headers) as resp:
                assert resp.status == 200
                body = await resp.json()
        assert body["object"] == "list"
        proc.send_signal(sig)
        code = await asyncio.wait_for(proc.wait(), 15)
        stderr = (await proc.stderr.read()).decode()
        assert code == 0, stderr
        assert "Traceback" not in stderr
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


# -- chat ------------------------------------------------------------------------------------


@pytest.mark.timeout(45)
def test_chat_with_piped_stdin_streams_replies_until_quit() -> None:
    proc = _run_cli(
        "chat",
        stdin='hello from a pipe\ncall get_weather {"city": "Rome"}\n/quit\nnever sent\n',
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert re.search(r"^assistant> .*hello from a pipe", out, flags=re.M)
    assert "get_weather returned: sunny, 21 C in Rome" in out
    assert "never sent" not in out


@pytest.mark.timeout(45)
def test_chat_ends_at_end_of_input_and_reports_unknown_tools_to_the_model() -> None:
    proc = _run_cli("chat", stdin="call launch_rocket {}\n")  # no trailing /quit
    assert proc.returncode == 0, proc.stderr
    assert "tool output: launch_rocket -> Error: there is no tool named 'launch_rocket'" in (
        proc.stdout
    )
    assert "launch_rocket returned: Error: there is no tool named" in proc.stdout


def _read_until(fd: int, token: bytes, seen: bytearray, timeout: float = 20) -> bool:
    import select
    import time

    deadline = time.monotonic() + timeout
    while token not in seen and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                seen += os.read(fd, 4096)
            except OSError:  # the other side closed
                break
    return token in seen


@pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")
@pytest.mark.timeout(45)
def test_chat_on_a_terminal_uses_rich_and_stops_at_once_on_ctrl_c() -> None:
    import pty

    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [*CLI, "chat"],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=_env(),
        cwd=REPO,
        # A terminal delivers Ctrl-C; a test run started in the background inherits SIGINT
        # ignored, and Python would then keep it ignored in the child.
        preexec_fn=functools.partial(signal.signal, signal.SIGINT, signal.SIG_DFL),
    )
    os.close(slave)
    try:
        seen = bytearray()
        assert _read_until(master, b"you> ", seen), bytes(seen)
        os.write(master, b"hello terminal\n")
        assert _read_until(master, b"Echo: hello terminal", seen), bytes(seen)
        assert b"\x1b[" in seen  # a terminal gets colours
        del seen[:]
        assert _read_until(master, b"you> ", seen), bytes(seen)
        # Ctrl-C while input() waits for a line: must not wait for Enter.
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 130
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)


@pytest.mark.timeout(45)
async def test_chat_against_a_given_base_url_and_assistant() -> None:
    async with AssistantsServer() as server:
        async with aiohttp.ClientSession() as session:
            async with session.post(
                f"{server.url}/assistants",
                json={"model": "gpt-4o", "name": "external"},
                headers={"Authorization": "Bearer sk-x", "OpenAI-Beta": "assistants=v2"},
            ) as resp:
                assert resp.status == 200
                assistant_id = (await resp.json())["id"]
        proc = await asyncio.create_subprocess_exec(
            *CLI,
            "chat",
            "--base-url",
            server.url,
            "--assistant-id",
            assistant_id,
            "--api-key",
            "sk-x",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=_env(),
            cwd=REPO,
        )
        stdout, stderr = await asyncio.wait_for(proc.communicate(b"ping over base url\n"), 30)
    assert proc.returncode == 0, stderr.decode()
    assert assistant_id in stdout.decode()
    assert "ping over base url" in stdout.decode().split("/quit to end", 1)[1]


@pytest.mark.timeout(45)
def test_chat_against_an_unreachable_server_fails_with_a_short_error() -> None:
    proc = _run_cli("chat", "--base-url", "http://127.0.0.1:9/v1", "--api-key", "sk-secret-xyz")
    assert proc.returncode == 1
    assert proc.stderr.startswith("error: ")
    assert "Traceback" not in proc.stderr
    assert "sk-secret-xyz" not in proc.stderr + proc.stdout


# -- in-process pieces -----------------------------------------------------------------------


def test_parser_requires_a_command_and_knows_the_options() -> None:
    with pytest.raises(SystemExit) as exc:
        main([])
    assert exc.value.code == 2
    args = build_parser().parse_args(["serve", "--port", "0"])
    assert (args.command, args.host, args.port) == ("serve", "127.0.0.1", 0)
    args = build_parser().parse_args(["--plain", "chat", "--base-url", "http://x/v1"])
    assert args.plain and args.base_url == "http://x/v1" and args.assistant_id is None


def test_printer_plain_and_rich_print_the_same_words() -> None:
    from rich.console import Console

    def drive(printer: Printer) -> None:
        printer.heading("turn")
        printer.text("Hel")
        printer.text("lo")
        printer.tool_call("f", "{}")
        printer.summary("run", [("run status", "completed")])

    plain = io.StringIO()
    drive(Printer(plain))
    assert plain.getvalue().splitlines() == [
        "== turn ==",
        "assistant> Hello",
        "tool call: f({})",
        "-- run --",
        "run status: completed",
    ]
    fancy = io.StringIO()
    drive(Printer(fancy, Console(file=fancy, force_terminal=True, width=80)))
    text = fancy.getvalue()
    assert "\x1b[" in text  # coloured
    for words in ("turn", "assistant> ", "Hello", "tool call: f({})", "run status", "completed"):
        assert words in re.sub(r"\x1b\[[0-9;]*m", "", text)


def test_make_printer_is_plain_when_not_a_terminal() -> None:
    assert not make_printer(io.StringIO()).rich


async def test_demo_toolbox_prints_calls_and_turns_failures_into_outputs() -> None:
    buf = io.StringIO()
    toolbox = demo_toolbox(Printer(buf))
    outputs = await toolbox.run_calls(
        [
            {"id": "c1", "type": "function", "function": {"name": "get_weather", "arguments": "{"}},
            {"id": "c2", "type": "function", "function": {"name": "nope", "arguments": "{}"}},
            {
                "id": "c3",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city": "Oslo"}'},
            },
        ]
    )
    assert [o["tool_call_id"] for o in outputs] == ["c1", "c2", "c3"]
    assert outputs[0]["output"].startswith("Error: invalid arguments")
    assert outputs[1]["output"].startswith("Error: there is no tool named 'nope'")
    assert outputs[2]["output"] == "sunny, 21 C in Oslo"
    printed = buf.getvalue()
    assert 'tool call: get_weather({"city": "Oslo"})' in printed
    assert "tool output: get_weather -> sunny, 21 C in Oslo" in printed
