"""One module per API object; each method builds a path, a body and a query, nothing more."""

from __future__ import annotations

from .assistants import Assistants
from .messages import Messages
from .runs import Runs
from .steps import Steps
from .threads import Threads

__all__ = ["Assistants", "Messages", "Runs", "Steps", "Threads"]
