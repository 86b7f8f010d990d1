"""Command line: ``python -m assistants_async demo | serve | chat | batch``.

The console script ``assistants-async`` points at :func:`main`. Imports of the client and the
server happen inside the commands so that ``--help`` stays fast.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import sys
from collections.abc import Sequence

from .._version import __version__

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="assistants-async",
        description="Assistants API v2 client: demo, loopback server, streaming chat, batches.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "--plain", action="store_true", help="plain text output even on a terminal (no colours)"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser(
        "demo",
        help="stream a run with a tool call against the embedded server (no key, no network)",
    )
    serve = commands.add_parser("serve", help="run the loopback Assistants server until Ctrl-C")
    serve.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    serve.add_argument(
        "--port", type=int, default=8000, help="port to bind, 0 for any free one (default 8000)"
    )
    chat = commands.add_parser("chat", help="interactive streaming chat; /quit or EOF ends")
    _add_server_options(chat)
    batch = commands.add_parser(
        "batch",
        help="run a file of prompts at bounded concurrency; resumable JSONL results",
        description='Each INPUT line is a JSON object {"id": ..., "prompt": ...} or a plain '
        "prompt (id line-N). Running the same command again resumes where it stopped.",
    )
    batch.add_argument("input", metavar="INPUT", help="JSONL or text file of prompts, - for stdin")
    batch.add_argument(
        "--results", help="results file (default: INPUT.results.jsonl, batch-results.jsonl for -)"
    )
    batch.add_argument(
        "--concurrency", type=_positive_int, default=8, help="most runs at once (default 8)"
    )
    batch.add_argument(
        "--retry-failed", action="store_true", help="also rerun items whose result is not completed"
    )
    batch.add_argument(
        "--item-timeout", type=float, help="seconds per item before its run is cancelled"
    )
    batch.add_argument(
        "--delete-threads", action="store_true", help="delete each item's thread once recorded"
    )
    _add_server_options(batch)
    return parser


def _add_server_options(command: argparse.ArgumentParser) -> None:
    """Where to connect and which assistant to use: shared by ``chat`` and ``batch``."""
    command.add_argument(
        "--base-url", help="a compatible server's base URL (default: start the embedded one)"
    )
    command.add_argument("--assistant-id", help="an existing assistant (default: create one)")
    command.add_argument("--api-key", help="API key (default: $OPENAI_API_KEY)")
    command.add_argument("--model", default="gpt-4o", help="model for a new assistant")


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


async def _dispatch(args: argparse.Namespace) -> int:
    from .._errors import AssistantsError
    from ._batch import batch
    from ._commands import chat, demo, serve
    from ._render import make_printer

    out = make_printer(plain=args.plain)
    try:
        if args.command == "demo":
            return await demo(out)
        if args.command == "serve":
            return await serve(out, host=args.host, port=args.port)
        if args.command == "batch":
            return await batch(
                out,
                source=args.input,
                results=args.results,
                concurrency=args.concurrency,
                base_url=args.base_url,
                assistant_id=args.assistant_id,
                api_key=args.api_key,
                model=args.model,
                retry_failed=args.retry_failed,
                item_timeout=args.item_timeout,
                delete_threads=args.delete_threads,
            )
        return await chat(
            out,
            base_url=args.base_url,
            assistant_id=args.assistant_id,
            api_key=args.api_key,
            model=args.model,
        )
    except AssistantsError as exc:
        out.error(f"{type(exc).__name__}: {exc}")
        return 1


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m assistants_async`` and the ``assistants-async`` script."""
    args = build_parser().parse_args(argv)
    for stream in (sys.stdout, sys.stderr):
        # Replies may hold any Unicode; a legacy console encoding must not crash the CLI.
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="replace")
    try:
        return asyncio.run(_dispatch(args))
    except KeyboardInterrupt:
        return 130
