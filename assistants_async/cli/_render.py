"""Terminal output for the CLI: rich colours on a terminal, plain text everywhere else.

Plain text is the contract the tests (and anyone piping the output) rely on; rich only adds
colour and panels on top of the same words, so both paths print the same information.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["Printer", "make_printer"]


class Printer:
    """Writes the CLI's output; ``console`` is a rich Console, or None for plain text."""

    def __init__(self, file: TextIO, console: Console | None = None) -> None:
        self._file = file
        self._console = console
        self._mid_line = False  # a streamed reply has been started but not ended with "\n"

    @property
    def console(self) -> Console | None:
        return self._console

    @property
    def rich(self) -> bool:
        return self._console is not None

    @property
    def interactive(self) -> bool:
        return self._file.isatty()

    def _line(self, text: str, style: str = "") -> None:
        self.end_text()
        if self._console is not None:
            self._console.print(text, style=style or None, markup=False, highlight=False)
        else:
            print(text, file=self._file, flush=True)

    def heading(self, text: str) -> None:
        if self._console is not None:
            self.end_text()
            self._console.rule(text, style="cyan")
        else:
            self._line(f"== {text} ==")

    def info(self, text: str) -> None:
        self._line(text, "dim")

    def user(self, text: str) -> None:
        self._line(f"user> {text}", "bold green")

    def text(self, delta: str) -> None:
        """One streamed piece of the assistant's reply, printed as it arrives."""
        if not delta:
            return
        if not self._mid_line:
            self._write("assistant> ", "bold magenta")
        self._write(delta, "")
        self._mid_line = not delta.endswith("\n")

    def _write(self, text: str, style: str) -> None:
        if self._console is not None:
            self._console.print(
                text, style=style or None, end="", markup=False, highlight=False, soft_wrap=True
            )
            self._console.file.flush()
        else:
            self._file.write(text)
            self._file.flush()

    def end_text(self) -> None:
        if self._mid_line:
            self._mid_line = False
            self._write("\n", "")

    def tool_call(self, name: str, arguments: str) -> None:
        self._line(f"tool call: {name}({arguments})", "yellow")

    def tool_output(self, name: str, output: str) -> None:
        self._line(f"tool output: {name} -> {output}", "yellow")

    def code(self, source: str) -> None:
        self._line(f"code interpreter: {source}", "blue")

    def logs(self, logs: str) -> None:
        self._line(f"code interpreter logs: {logs.rstrip()}", "blue")

    def citation(self, quote: str, file_id: str) -> None:
        self._line(f'citation: "{quote}" -> {file_id}', "cyan")

    def summary(self, title: str, rows: list[tuple[str, str]]) -> None:
        if self._console is not None:
            from rich.panel import Panel
            from rich.table import Table

            self.end_text()
            table = Table.grid(padding=(0, 2))
            for key, value in rows:
                table.add_row(f"[bold]{key}[/bold]", value)
            self._console.print(Panel(table, title=title, expand=False))
        else:
            self._line(f"-- {title} --")
            for key, value in rows:
                self._line(f"{key}: {value}")

    def error(self, text: str) -> None:
        self.end_text()
        print(f"error: {text}", file=sys.stderr, flush=True)


def make_printer(file: TextIO | None = None, *, plain: bool = False) -> Printer:
    """Rich output when rich is installed and ``file`` is a terminal, else plain text."""
    out = sys.stdout if file is None else file
    if plain or not out.isatty():
        return Printer(out)
    try:
        from rich.console import Console
    except ImportError:  # rich is the optional "cli" extra
        return Printer(out)
    return Printer(out, Console(file=out, highlight=False, soft_wrap=True))
