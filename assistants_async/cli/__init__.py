"""Command line: ``python -m assistants_async demo | serve | chat``.

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
        description="Assistants API v2 client: demo, loopback server and streaming chat.",
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
    chat.add_argument(
        "--base-url", help="a compatible server's base URL (default: start the embedded one)"
    )
    chat.add_argument("--assistant-id", help="an existing assistant (default: create one)")
    chat.add_argument("--api-key", help="API key (default: $OPENAI_API_KEY)")
    chat.add_argument("--model", default="gpt-4o", help="model for a new assistant")
    return parser


async def _dispatch(args: argparse.Namespace) -> int:
    from .._errors import AssistantsError
    from ._commands import chat, demo, serve
    from ._render import make_printer

    out = make_printer(plain=args.plain)
    try:
        if args.command == "demo":
            return await demo(out)
        if args.command == "serve":
            return await serve(out, host=args.host, port=args.port)
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
