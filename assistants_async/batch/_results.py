"""The results file: one JSON line per finished item, appended as items finish.

Each result is written with one ``write`` of a whole line and flushed, so cancelling the batch
(which can only happen between awaits) never leaves half a line. A process killed mid-write can:
on resume, an unreadable *last* line is such a torn write; it is cut off and its bytes are kept
in ``<name>.torn`` (nothing is thrown away silently). An unreadable line anywhere else is not a
torn write but a damaged or foreign file, and raises ``BatchResultsFileError`` without touching
the file.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import BinaryIO

from pydantic import ValidationError

from .._errors import AssistantsError
from ._models import BatchResult

__all__ = ["BatchResultsFileError", "ResultsFile"]

log = logging.getLogger("assistants_async.batch")


class BatchResultsFileError(AssistantsError, ValueError):
    """A line of an existing results file (other than a torn last one) is not a result."""

    def __init__(self, path: Path, line_number: int, reason: str) -> None:
        super().__init__(f"{path}, line {line_number}: not a batch result ({reason})")
        self.path = path
        self.line_number = line_number


class ResultsFile:
    """Reads what an earlier run of the batch left, then appends new results."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._file: BinaryIO | None = None

    def load(self) -> dict[str, BatchResult]:
        """The latest result per item id; repairs a torn last line first."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return {}
        results: dict[str, BatchResult] = {}
        lines = data.split(b"\n")
        # split() leaves b"" after a final newline; anything else there is an unterminated line
        tail = lines.pop()
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                result = BatchResult.model_validate_json(line)
            except ValidationError as exc:
                reason = exc.errors()[0]["msg"] if exc.errors() else str(exc)
                raise BatchResultsFileError(self.path, number, reason) from None
            results[result.id] = result
        if tail.strip(b"\x00 \t\r"):
            try:
                result = BatchResult.model_validate_json(tail)
            except ValidationError:
                self._cut(len(data) - len(tail), data)
            else:  # whole but for its newline
                results[result.id] = result
                with self.path.open("ab") as file:
                    file.write(b"\n")
        elif tail:  # only padding (zeros a crash can leave): drop it
            self._cut(len(data) - len(tail), data)
        return results

    def _cut(self, keep: int, data: bytes) -> None:
        torn = data[keep:]
        side = self.path.with_name(self.path.name + ".torn")
        with side.open("ab") as file:
            file.write(torn if torn.endswith(b"\n") else torn + b"\n")
        os.truncate(self.path, keep)
        log.warning(
            "%s: cut off a torn last line (%d bytes, kept in %s)", self.path, len(torn), side
        )

    def append(self, result: BatchResult) -> None:
        if self._file is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = self.path.open("ab")
        self._file.write(result.model_dump_json().encode() + b"\n")
        self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
