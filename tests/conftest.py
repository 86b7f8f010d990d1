from __future__ import annotations

from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[2] / "shared"
REPO = Path(__file__).resolve().parents[1]


def _find_shared() -> Path:
    # CI clones the repo with shared/ beside it; a developer's work tree has it one level up too.
    for candidate in (REPO.parent / "shared", REPO / "shared", Path("/work/shared")):
        if (candidate / "openai-openapi").is_dir():
            return candidate
    raise RuntimeError("cannot find the shared/ folder (spec and recorded streams)")


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    return _find_shared()
