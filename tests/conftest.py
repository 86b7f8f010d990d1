from __future__ import annotations

from pathlib import Path

import pytest

# A copy of ../shared (the OpenAPI spec subset and the recorded streams) lives in the repo so a
# fresh clone tests on its own; tests/data/shared/openai-openapi/SOURCE.md says where it is from.
SHARED = Path(__file__).resolve().parent / "data" / "shared"


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    return SHARED


# The `api` fixture (a thin HTTP helper over the loopback server) is shared by server tests.
from test_server_support import api  # noqa: E402, F401
