"""pytest plugin: fixtures for a running loopback server and a client bound to it.

Installed with the package (entry point ``pytest11``), so any project that depends on
``assistants-async`` gets these fixtures without configuration. They are async fixtures and need
pytest-asyncio (``asyncio_mode = "auto"``, or mark the tests ``@pytest.mark.asyncio``).

``assistants_server``
    A started :class:`~assistants_async.testing.AssistantsServer` on 127.0.0.1 (a free port),
    one per test, stopped afterwards. Its ``url`` ends in ``/v1``; ``faults``, ``requests`` and
    ``runs_created()`` are there for assertions. Configure it per test with the marker::

        @pytest.mark.assistants_server(model=ScriptedModel(Text("hi")), step_delay=0)
        async def test_x(assistants_server): ...

    or for a whole module/directory by overriding the ``assistants_server_options`` fixture
    (a dict of ``AssistantsServer`` keyword arguments; the marker's keywords win).

``assistants_client``
    An ``assistants_async.AsyncAssistants`` with ``base_url=assistants_server.url`` and a dummy
    API key, closed after the test.

``assistants_server_options``
    ``{}`` by default; see above.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from assistants_async._client import AsyncAssistants

    from .server import AssistantsServer

__all__ = ["assistants_client", "assistants_server", "assistants_server_options"]

TEST_API_KEY = "sk-loopback-test"

try:  # pytest-asyncio runs async fixtures; without it the plugin still imports
    from pytest_asyncio import fixture as _async_fixture
except ImportError:  # pragma: no cover - depends on the environment
    _async_fixture = pytest.fixture  # type: ignore[assignment]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "assistants_server(**kwargs): keyword arguments for the assistants_server fixture's "
        "AssistantsServer (model=..., step_delay=..., api_key=...)",
    )


@pytest.fixture
def assistants_server_options() -> dict[str, Any]:
    """Keyword arguments for ``AssistantsServer``; override this fixture to change them."""
    return {}


@_async_fixture
async def assistants_server(
    request: pytest.FixtureRequest, assistants_server_options: dict[str, Any]
) -> AsyncIterator[AssistantsServer]:
    from .server import AssistantsServer

    options: dict[str, Any] = {"step_delay": 0.002, "poll_after_ms": 5}
    options.update(assistants_server_options)
    marker = request.node.get_closest_marker("assistants_server")
    if marker is not None:
        options.update(marker.kwargs)
    async with AssistantsServer(**options) as server:
        yield server


@_async_fixture
async def assistants_client(
    assistants_server: AssistantsServer,
) -> AsyncIterator[AsyncAssistants]:
    from assistants_async._client import AsyncAssistants

    api_key = assistants_server.api_key or TEST_API_KEY
    client = AsyncAssistants(api_key=api_key, base_url=assistants_server.url)
    try:
        yield client
    finally:
        await client.aclose()
