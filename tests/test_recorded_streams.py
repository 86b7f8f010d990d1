"""Accumulation and the stream API on real server output (shared/recorded-streams/*.sse)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistants_async._transport import Response
from assistants_async.streaming.accumulate import RunAccumulator
from assistants_async.streaming.events import parse_event
from assistants_async.streaming.sse import SSEDecoder
from assistants_async.streaming.stream import AssistantStream

# The six recordings described in shared/recorded-streams/sources.md (checked below against the
# folder, which is found through the shared_dir fixture).
RECORDED = [
    "ruby-openai_runs_streamed_create_1.sse",
    "ruby-openai_runs_streamed_create_2.sse",
    "simple-openai_threads_runs_create_stream_1.sse",
    "simple-openai_threads_runs_createthreadandrun_stream_1.sse",
    "simple-openai_threads_runs_submittool_stream_2.sse",
    "simple-openai_threads_runssteps_delta.sse",
]

# This fixture keeps 3 of the message's deltas ("Aqui", " estão", "!"), while its completed
# message carries the whole answer: the publisher trimmed the deltas. Its snapshot is checked
# against the deltas it does hold instead.
ABRIDGED_DELTAS = {"simple-openai_threads_runssteps_delta.sse"}


def events_of(raw: bytes) -> list[Any]:
    decoder = SSEDecoder()
    out = []
    for sse in decoder.decode(raw) + decoder.flush():
        event = parse_event(sse)
        if event is not None:
            out.append(event)
    return out


@pytest.fixture(params=RECORDED)
def recorded(request: pytest.FixtureRequest, shared_dir: Path) -> tuple[str, bytes]:
    name = str(request.param)
    return name, (shared_dir / "recorded-streams" / name).read_bytes()


def test_there_are_recorded_streams(shared_dir: Path) -> None:
    assert sorted(p.name for p in (shared_dir / "recorded-streams").glob("*.sse")) == RECORDED


def test_message_snapshot_equals_the_servers_final_message(recorded: tuple[str, bytes]) -> None:
    name, raw = recorded
    acc = RunAccumulator()
    checked = 0
    fragments: dict[str, list[str]] = {}
    for event in events_of(raw):
        if event.event == "thread.message.delta":
            for part in event.data.delta.content or ():
                fragments.setdefault(event.data.id, []).append(part.text.value or "")
        if event.event in ("thread.message.completed", "thread.message.incomplete"):
            snapshot = acc.messages[event.data.id].model()  # before the server's copy replaces it
            assert not acc.messages[event.data.id].is_final
            server = event.data
            assert len(snapshot.content) == len(server.content)
            for mine, theirs in zip(snapshot.content, server.content, strict=True):
                assert mine.type == theirs.type == "text"
                if name in ABRIDGED_DELTAS:
                    assert mine.text.value == "".join(fragments[server.id])
                    assert mine.text.value != theirs.text.value
                else:
                    assert mine.text.value == theirs.text.value
                    assert mine.text.annotations == theirs.text.annotations
            assert (snapshot.id, snapshot.thread_id, snapshot.run_id, snapshot.role) == (
                server.id,
                server.thread_id,
                server.run_id,
                server.role,
            )
            checked += 1
        acc.accumulate(event)
        if event.event in ("thread.message.completed", "thread.message.incomplete"):
            assert acc.messages[event.data.id].model() == event.data
    assert checked >= 1


def test_run_step_snapshot_matches_the_servers_step(recorded: tuple[str, bytes]) -> None:
    _, raw = recorded
    acc = RunAccumulator()
    for event in events_of(raw):
        if event.event == "thread.run.step.completed" and event.data.id in acc.run_steps:
            mine = acc.run_steps[event.data.id].model()
            theirs = event.data
            assert (mine.id, mine.type, mine.run_id) == (theirs.id, theirs.type, theirs.run_id)
            if theirs.type == "message_creation":
                assert mine.step_details == theirs.step_details
            else:
                # results arrive only in the completed step; what streamed must agree with it
                for a, b in zip(
                    mine.step_details.tool_calls, theirs.step_details.tool_calls, strict=True
                ):
                    assert (a.id, a.type) == (b.id, b.type)
                    if a.type == "file_search":
                        assert a.file_search.ranking_options == b.file_search.ranking_options
        acc.accumulate(event)
    for step in acc.final_run_steps():
        assert step.status == "completed"


def test_file_search_ranker_takes_the_last_value(shared_dir: Path) -> None:
    raw = (
        shared_dir / "recorded-streams" / "simple-openai_threads_runssteps_delta.sse"
    ).read_bytes()
    acc = RunAccumulator()
    for event in events_of(raw):
        if event.event == "thread.run.step.completed" and event.data.type == "tool_calls":
            call = acc.run_steps[event.data.id].model().step_details.tool_calls[0]
            # sent as "auto", then "default_2024_08_21", then "default-2024-08-21"
            assert call.file_search.ranking_options.ranker == "default-2024-08-21"
        acc.accumulate(event)


def _response(chunks: list[bytes]) -> Response:
    async def body() -> AsyncIterator[bytes]:
        for chunk in chunks:
            yield chunk

    return Response(200, headers={"content-type": "text/event-stream"}, stream=body())


def _opener(chunks: list[bytes]) -> Any:
    async def open_() -> Response:
        return _response(chunks)

    return open_


async def _finals(chunks: list[bytes]) -> tuple[list[Any], list[Any], Any, list[str]]:
    async with AssistantStream(_opener(chunks)) as stream:
        names = [event.event async for event in stream]
        return (
            [m.model_dump() for m in await stream.final_messages()],
            [s.model_dump() for s in await stream.final_run_steps()],
            (await stream.final_run()).model_dump(),
            names,
        )


async def test_stream_over_recorded_bytes(recorded: tuple[str, bytes]) -> None:
    _, raw = recorded
    messages, steps, run, names = await _finals([raw])
    expected = events_of(raw)
    assert names == [e.event for e in expected]
    # (one recording's thread.run.completed event carries status "incomplete": real data)
    last_run = [
        e.data for e in expected if e.event.startswith("thread.run.") and "step" not in e.event
    ]
    assert run == last_run[-1].model_dump()
    servers = [
        e.data.model_dump()
        for e in expected
        if e.event in ("thread.message.completed", "thread.message.incomplete")
    ]
    assert messages == servers
    assert all(s["status"] == "completed" for s in steps)


async def test_text_deltas_of_recorded_stream(recorded: tuple[str, bytes]) -> None:
    name, raw = recorded
    async with AssistantStream(_opener([raw])) as stream:
        text = "".join([t async for t in stream.text_deltas])
        [message] = await stream.final_messages()
    if name not in ABRIDGED_DELTAS:
        assert text == message.content[0].text.value
    assert text


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
async def test_any_split_gives_the_same_snapshots(
    recorded: tuple[str, bytes], data: st.DataObject
) -> None:
    _, raw = recorded
    cuts = sorted(data.draw(st.sets(st.integers(1, len(raw) - 1), max_size=40)))
    chunks = [raw[a:b] for a, b in zip([0, *cuts], [*cuts, len(raw)], strict=True)]
    assert await _finals(chunks) == await _finals([raw])
