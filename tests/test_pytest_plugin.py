"""The pytest plugin as a third-party project sees it: a separate pytest run (pytester) whose
test files use ``assistants_server`` / ``assistants_client`` and the marker with no conftest;
and every test in docs/testing.md, run the same way."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

DOC = Path(__file__).resolve().parents[1] / "docs" / "testing.md"

# What a user's project would have: pytest-asyncio in auto mode, warnings as errors.
INI = """
[pytest]
asyncio_mode = auto
asyncio_default_fixture_loop_scope = function
addopts = --strict-markers -p no:cacheprovider
filterwarnings =
    error
"""


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeini(INI)
    return pytester


def test_fixtures_marker_and_teardown_in_a_third_party_project(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_user="""
        import aiohttp
        import pytest

        from assistants_async import AsyncAssistants
        from assistants_async.testing import AssistantsServer, ScriptedModel, Text

        SEEN = []


        async def test_fixtures(assistants_server, assistants_client):
            assert isinstance(assistants_server, AssistantsServer)
            assert isinstance(assistants_client, AsyncAssistants)
            assert assistants_server.url.startswith("http://127.0.0.1:")
            assert assistants_server.url.endswith("/v1")
            assistant = await assistants_client.assistants.create(model="gpt-4o")
            assert assistants_server.requests.count("POST", "/assistants") == 1
            assert assistant.id in assistants_server.store.assistants
            SEEN.append(assistants_server)


        @pytest.mark.assistants_server(
            model=ScriptedModel(Text("from the marker")), api_key="sk-marker", poll_after_ms=77
        )
        async def test_marker(assistants_server, assistants_client):
            assert assistants_server.api_key == "sk-marker"
            assert assistants_server.poll_after_ms == 77
            assistant = await assistants_client.assistants.create(model="gpt-4o")
            thread = await assistants_client.threads.create(
                messages=[{"role": "user", "content": "hi"}]
            )
            run = await assistants_client.threads.runs.create_and_poll(
                thread_id=thread.id, assistant_id=assistant.id
            )
            page = await assistants_client.threads.messages.list(thread_id=thread.id)
            assert page.data[0].content[0].text.value == "from the marker"
            # the key is enforced: a client without it is refused
            async with aiohttp.ClientSession() as session:
                async with session.get(assistants_server.url + "/assistants") as r:
                    assert r.status == 401
            SEEN.append(assistants_server)


        async def test_servers_were_stopped():
            assert len(SEEN) == 2 and SEEN[0] is not SEEN[1]
            for server in SEEN:
                with pytest.raises(RuntimeError):
                    server.url  # no longer bound
                assert server._runner is None
        """
    )
    result = project.runpytest("-v")
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(["*test_fixtures PASSED*", "*test_marker PASSED*"])


def test_a_stopped_server_no_longer_accepts_connections(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_stop="""
        import aiohttp
        import pytest

        URLS = []


        async def test_remember(assistants_server):
            URLS.append(assistants_server.url)


        async def test_connection_refused():
            async with aiohttp.ClientSession() as session:
                with pytest.raises(aiohttp.ClientConnectionError):
                    await session.get(URLS[0] + "/assistants")
        """
    )
    project.runpytest("-p", "no:randomly").assert_outcomes(passed=2)


def test_options_fixture_override_and_marker_precedence(project: pytest.Pytester) -> None:
    project.makeconftest(
        """
        import pytest


        @pytest.fixture
        def assistants_server_options():
            return {"poll_after_ms": 42, "prefix": "/openai"}
        """
    )
    project.makepyfile(
        test_opts="""
        import pytest


        async def test_from_options(assistants_server):
            assert assistants_server.poll_after_ms == 42
            assert assistants_server.url.endswith("/openai")


        @pytest.mark.assistants_server(poll_after_ms=9)
        async def test_marker_wins(assistants_server, assistants_client):
            assert assistants_server.poll_after_ms == 9
            assert assistants_server.url.endswith("/openai")
            assert (await assistants_client.assistants.list()).data == []
        """
    )
    project.runpytest().assert_outcomes(passed=2)


def test_the_marker_is_registered_for_strict_markers(project: pytest.Pytester) -> None:
    result = project.runpytest("--markers")
    result.stdout.fnmatch_lines(["@pytest.mark.assistants_server(**kwargs):*"])


def test_a_failing_user_test_still_stops_the_server(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_fail="""
        SEEN = []


        async def test_fails(assistants_server):
            SEEN.append(assistants_server)
            raise AssertionError("user bug")


        def test_after():
            assert SEEN[0]._runner is None
        """
    )
    project.runpytest().assert_outcomes(passed=1, failed=1)


# -- docs/testing.md ---------------------------------------------------------------------------


def doc_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.DOTALL)


def test_every_python_block_in_the_testing_doc_compiles() -> None:
    blocks = doc_blocks()
    assert len(blocks) >= 5
    for block in blocks:
        ast.parse(block)


def test_the_testing_doc_examples_pass_as_user_tests(project: pytest.Pytester) -> None:
    runnable = [block for block in doc_blocks() if "def test_" in block]
    files = {f"test_doc_{i}": block for i, block in enumerate(runnable)}
    project.makepyfile(**files)
    expected = sum(block.count("async def test_") for block in runnable)
    assert expected >= 9
    result = project.runpytest()
    result.assert_outcomes(passed=expected)


def test_the_fixtures_come_from_the_installed_entry_point(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_ep="""
        async def test_needs_the_plugin(assistants_server):
            pass
        """
    )
    project.runpytest().assert_outcomes(passed=1)
    # disabling the entry point by its name removes the fixtures
    result = project.runpytest("-p", "no:assistants_async")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*fixture 'assistants_server' not found*"])
