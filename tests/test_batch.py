"""run_batch end to end against the loopback server: results file, resume, concurrency,
rate limits, faults, timeouts, cancellation and fatal errors."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import anyio
import pytest

from assistants_async import (
    AsyncAssistants,
    AuthenticationError,
    InsufficientQuotaError,
    NotFoundError,
    RetryPolicy,
)
from assistants_async.batch import (
    BatchItem,
    BatchProgress,
    BatchResult,
    ResultsFile,
    run_batch,
)
from assistants_async.testing import (
    Action,
    AssistantsServer,
    DefaultModel,
    Disconnect,
    Fail,
    Respond,
    ScriptedModel,
    TurnContext,
)
from assistants_async.tools import Toolbox, function_tool

ACTIVE = {"queued", "in_progress", "requires_action", "cancelling"}


class GatedModel:
    """The default model, except that turns whose text contains ``hold`` wait for ``gate``.

    ``waiting`` counts turns held right now and ``peak`` the most at once, so tests see how
    many runs the batch really had in flight on the server.
    """

    chunk_size = 8
    chunk_delay = 0.0

    def __init__(self, hold: str = "") -> None:
        self.hold = hold
        self.inner = DefaultModel()
        self.gate = asyncio.Event()
        self.changed = asyncio.Condition()
        self.waiting = 0
        self.peak = 0

    async def _count(self, delta: int) -> None:
        async with self.changed:
            self.waiting += delta
            self.peak = max(self.peak, self.waiting)
            self.changed.notify_all()

    async def respond(self, context: TurnContext) -> Sequence[Action]:
        if self.hold in context.last_user_text and context.round == 0:
            await self._count(+1)
            try:
                await self.gate.wait()
            finally:
                await asyncio.shield(self._count(-1))
        return await self.inner.respond(context)

    async def until_waiting(self, n: int) -> None:
        with anyio.fail_after(10):
            async with self.changed:
                await self.changed.wait_for(lambda: self.waiting >= n)


def items(n: int, text: str = "hello") -> list[dict[str, Any]]:
    return [{"id": f"item-{i:03d}", "prompt": f"{text} {i}"} for i in range(n)]


def lines(path: Path) -> list[dict[str, Any]]:
    raw = path.read_bytes()
    assert raw.endswith(b"\n")
    return [json.loads(line) for line in raw.splitlines() if line.strip()]


async def setup(server: AssistantsServer, **client_options: Any) -> tuple[AsyncAssistants, str]:
    client = AsyncAssistants(api_key="sk-batch", base_url=server.url, **client_options)
    assistant = await client.assistants.create(model="gpt-4o")
    return client, assistant.id


@pytest.fixture
async def server() -> AsyncIterator[AssistantsServer]:
    async with AssistantsServer(step_delay=0.0) as running:
        yield running


class Sleeps:
    """An injected sleep that records the delays asked for and returns at once."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)
        await anyio.lowlevel.checkpoint()


# ------------------------------------------------------------------------------ the basics


async def test_every_item_runs_once_and_lands_in_the_results_file(
    server: AssistantsServer, tmp_path: Path
) -> None:
    client, assistant_id = await setup(server)
    seen: list[BatchProgress] = []
    async with client:
        summary = await run_batch(
            client,
            items(25),
            assistant_id=assistant_id,
            results=tmp_path / "out.jsonl",
            concurrency=4,
            on_progress=seen.append,
        )
    assert summary.total == 25 and summary.skipped == 0
    assert summary.finished == 25 and summary.completed == 25 and summary.failed == 0
    assert summary.statuses == {"completed": 25}
    assert summary.results_path == tmp_path / "out.jsonl"
    by_id = {r.id: r for r in summary.results}
    assert by_id["item-007"].output == "Echo: hello 7"
    assert by_id["item-007"].usage is not None and by_id["item-007"].usage["total_tokens"] > 0
    assert all(r.attempts == 1 and r.rate_limited == 0 and r.error is None for r in by_id.values())

    written = lines(tmp_path / "out.jsonl")
    assert sorted(line["id"] for line in written) == sorted(by_id)
    assert {line["output"] for line in written} == {f"Echo: hello {i}" for i in range(25)}
    # one thread and one run per item, the ids written down
    assert len(server.store.threads) == 25
    assert {line["run_id"] for line in written} == {r.id for r in server.store.all_runs()}

    # progress: once at the start, then once per item, monotonically
    assert [p.finished for p in seen] == list(range(26))
    assert seen[0].last is None and seen[-1].remaining == 0
    assert {p.last.id for p in seen[1:] if p.last} == set(by_id)
    assert all(p.in_flight <= p.limit <= 4 for p in seen)


async def test_concurrency_bounds_the_runs_in_flight_on_the_server(tmp_path: Path) -> None:
    model = GatedModel()
    async with AssistantsServer(model, step_delay=0.0) as server:
        client, assistant_id = await setup(server)
        async with client, anyio.create_task_group() as tg:

            async def batch() -> None:
                summary = await run_batch(
                    client, items(12), assistant_id=assistant_id, concurrency=3
                )
                assert summary.completed == 12

            tg.start_soon(batch)
            await model.until_waiting(3)
            model.gate.set()
    assert model.peak == 3
    assert server.requests.count("POST", "/threads/*/runs") == 12


async def test_without_a_results_file_results_are_returned_only(server: AssistantsServer) -> None:
    client, assistant_id = await setup(server)
    async with client:
        summary = await run_batch(
            client, [BatchItem(id="only", prompt="hi")], assistant_id=assistant_id
        )
    assert summary.results_path is None
    assert [(r.id, r.status, r.output) for r in summary.results] == [
        ("only", "completed", "Echo: hi")
    ]


async def test_message_lists_and_metadata(server: AssistantsServer) -> None:
    client, assistant_id = await setup(server)
    item = BatchItem(
        id="conv",
        prompt=[
            {"role": "user", "content": "first"},
            {"role": "assistant", "content": "noted"},
            {"role": "user", "content": "second"},
        ],
        metadata={"source": "test"},
    )
    async with client:
        summary = await run_batch(client, [item], assistant_id=assistant_id)
        (result,) = summary.results
        thread = await client.threads.retrieve(result.thread_id or "")
    assert result.output == "Echo: second"
    assert thread.metadata == {"source": "test"}


async def test_tool_calls_are_answered_by_the_toolbox(server: AssistantsServer) -> None:
    @function_tool
    def lookup(key: str) -> str:
        """Look a key up."""
        return f"value of {key}"

    @function_tool
    def broken() -> str:
        """Always fails."""
        raise RuntimeError("no luck")

    client, assistant_id = await setup(server)
    work = [
        {"id": "one", "prompt": 'call lookup {"key": "a"}'},
        {"id": "two", "prompt": 'call lookup {"key": "b"}\ncall lookup {"key": "c"}'},
        {"id": "bad", "prompt": "call broken {}"},
    ]
    async with client:
        summary = await run_batch(
            client, work, assistant_id=assistant_id, toolbox=Toolbox([lookup, broken])
        )
    out = {r.id: r for r in summary.results}
    assert out["one"].output == "lookup returned: value of a"
    assert out["two"].output == "lookup returned: value of b\nlookup returned: value of c"
    assert out["bad"].status == "completed"
    assert "no luck" in (out["bad"].output or "")


async def test_a_run_needing_tools_without_a_toolbox_is_recorded_and_cancelled(
    server: AssistantsServer,
) -> None:
    client, assistant_id = await setup(server)
    async with client:
        summary = await run_batch(
            client, [{"id": "t", "prompt": "call lookup {}"}], assistant_id=assistant_id
        )
    (result,) = summary.results
    assert result.status == "requires_action" and result.output is None
    assert server.requests.count("POST", "/threads/*/runs/*/cancel") == 1
    assert all(run.obj["status"] not in ACTIVE for run in server.store.all_runs())


async def test_delete_threads_removes_each_thread_after_its_result(
    server: AssistantsServer, tmp_path: Path
) -> None:
    client, assistant_id = await setup(server)
    async with client:
        summary = await run_batch(
            client,
            items(5),
            assistant_id=assistant_id,
            results=tmp_path / "r.jsonl",
            delete_threads=True,
        )
        for result in summary.results:
            with pytest.raises(NotFoundError):
                await client.threads.retrieve(result.thread_id or "")
    assert summary.completed == 5 and len(lines(tmp_path / "r.jsonl")) == 5


# ------------------------------------------------------------------------- input checks


async def test_bad_input_is_refused_before_any_request(server: AssistantsServer) -> None:
    client, assistant_id = await setup(server)
    before = len(server.requests)
    async with client:
        with pytest.raises(ValueError, match="duplicate batch item id 'x'"):
            await run_batch(
                client,
                [{"id": "x", "prompt": "a"}, {"id": "x", "prompt": "b"}],
                assistant_id=assistant_id,
            )
        with pytest.raises(ValueError):
            await run_batch(client, [{"id": "", "prompt": "a"}], assistant_id=assistant_id)
        with pytest.raises(ValueError):
            await run_batch(
                client, [{"id": "a", "prompt": "a", "extra": 1}], assistant_id=assistant_id
            )
        with pytest.raises(ValueError, match="concurrency"):
            await run_batch(client, items(1), assistant_id=assistant_id, concurrency=0)
    assert len(server.requests) == before


async def test_an_unknown_assistant_fails_once_up_front(server: AssistantsServer) -> None:
    client, _ = await setup(server)
    async with client:
        with pytest.raises(NotFoundError):
            await run_batch(client, items(50), assistant_id="asst_missing")
    assert server.requests.count("POST", "/threads") == 0


# ------------------------------------------------------------------------------- resuming


async def test_a_cancelled_batch_leaves_whole_lines_and_cancels_its_runs(tmp_path: Path) -> None:
    model = GatedModel(hold="slow")
    results = tmp_path / "r.jsonl"
    work = items(4, "fast") + [{"id": f"slow-{i}", "prompt": f"slow {i}"} for i in range(3)]
    fast_done = anyio.Event()

    def progress(p: BatchProgress) -> None:
        if p.finished == 4:
            fast_done.set()

    async with AssistantsServer(model, step_delay=0.0) as server:
        client, assistant_id = await setup(server)
        async with client:
            with anyio.move_on_after(30) as scope:
                async with anyio.create_task_group() as tg:

                    async def cancel_when_only_slow_ones_are_left() -> None:
                        await model.until_waiting(3)
                        await fast_done.wait()
                        tg.cancel_scope.cancel()

                    tg.start_soon(cancel_when_only_slow_ones_are_left)
                    await run_batch(
                        client,
                        work,
                        assistant_id=assistant_id,
                        results=results,
                        concurrency=8,
                        on_progress=progress,
                    )
            assert not scope.cancelled_caught
            written = lines(results)
            assert sorted(line["id"] for line in written) == [f"item-00{i}" for i in range(4)]
            # the three slow runs were cancelled on the server, not left running
            slow_runs = [
                r for r in server.store.all_runs() if r.id not in {w["run_id"] for w in written}
            ]
            assert len(slow_runs) == 3
            assert {r.obj["status"] for r in slow_runs} <= {"cancelling", "cancelled"}

            # resume: only the slow ones run now
            model.gate.set()
            summary = await run_batch(client, work, assistant_id=assistant_id, results=results)
    assert summary.skipped == 4
    assert sorted(r.id for r in summary.results) == ["slow-0", "slow-1", "slow-2"]
    assert summary.completed == 3
    assert sorted(line["id"] for line in lines(results)) == sorted(w["id"] for w in work)


async def test_cancel_runs_on_exit_false_leaves_the_runs_alone(tmp_path: Path) -> None:
    model = GatedModel(hold="slow")
    async with AssistantsServer(model, step_delay=0.0) as server:
        client, assistant_id = await setup(server)
        async with client:
            async with anyio.create_task_group() as tg:

                async def cancel_when_waiting() -> None:
                    await model.until_waiting(2)
                    tg.cancel_scope.cancel()

                tg.start_soon(cancel_when_waiting)
                await run_batch(
                    client, items(2, "slow"), assistant_id=assistant_id, cancel_runs_on_exit=False
                )
            assert server.requests.count("POST", "/threads/*/runs/*/cancel") == 0
            assert {r.obj["status"] for r in server.store.all_runs()} == {"in_progress"}
            model.gate.set()


async def test_resume_repairs_a_torn_last_line(server: AssistantsServer, tmp_path: Path) -> None:
    results = tmp_path / "r.jsonl"
    client, assistant_id = await setup(server)
    async with client:
        await run_batch(client, items(3), assistant_id=assistant_id, results=results)
        whole = results.read_bytes()
        torn = BatchResult(id="item-003", status="completed", output="lost").model_dump_json()
        results.write_bytes(whole + torn.encode()[:20])  # killed mid-write
        summary = await run_batch(client, items(5), assistant_id=assistant_id, results=results)
    assert summary.skipped == 3
    assert sorted(r.id for r in summary.results) == ["item-003", "item-004"]
    assert [line["id"] for line in lines(results)][:3] == [
        json.loads(x)["id"] for x in whole.splitlines()
    ]
    assert len(lines(results)) == 5
    assert (tmp_path / "r.jsonl.torn").read_bytes() == torn.encode()[:20] + b"\n"


async def test_retry_failed_reruns_only_items_that_did_not_complete(tmp_path: Path) -> None:
    results = tmp_path / "r.jsonl"
    model = ScriptedModel(rules=[("doomed", Fail("it broke", code="server_error"))])
    async with AssistantsServer(model, step_delay=0.0) as server:
        client, assistant_id = await setup(server)
        work = items(3) + [{"id": "d", "prompt": "doomed"}]
        async with client:
            first = await run_batch(client, work, assistant_id=assistant_id, results=results)
            failed = {r.id: r for r in first.results}["d"]
            assert failed.status == "failed" and failed.output is None
            assert failed.error is not None and failed.error["code"] == "server_error"
            assert first.statuses == {"completed": 3, "failed": 1}

            again = await run_batch(client, work, assistant_id=assistant_id, results=results)
            assert again.skipped == 4 and again.finished == 0

            model.rules.clear()  # the cause is fixed
            retried = await run_batch(
                client, work, assistant_id=assistant_id, results=results, retry_failed=True
            )
    assert retried.skipped == 3
    assert [(r.id, r.status, r.output) for r in retried.results] == [
        ("d", "completed", "Echo: doomed")
    ]
    assert ResultsFile(results).load()["d"].status == "completed"
    assert len(lines(results)) == 5  # history kept: the failed line stays, the new one wins


# ---------------------------------------------------------------------- rate limits, faults


async def test_429s_shrink_concurrency_and_the_items_are_retried(
    server: AssistantsServer, tmp_path: Path
) -> None:
    server.faults.add("POST", "/threads/*/runs", Respond(429, retry_after=3), times=6)
    client, assistant_id = await setup(server, max_retries=0)
    sleeps = Sleeps()
    async with client:
        summary = await run_batch(
            client,
            items(20),
            assistant_id=assistant_id,
            results=tmp_path / "r.jsonl",
            concurrency=8,
            sleep=sleeps,
        )
    assert summary.completed == 20
    assert summary.rate_limited == 6
    assert summary.min_limit < 8
    assert sleeps.delays == [3.0] * 6  # the server's retry-after, honoured
    assert sum(r.rate_limited for r in summary.results) == 6
    assert all(r.attempts == 1 for r in summary.results)  # a refused create is not an attempt
    assert server.requests.count("POST", "/threads/*/runs") == 26


async def test_a_run_failed_by_rate_limit_is_rerun_on_the_same_thread(tmp_path: Path) -> None:
    model = ScriptedModel(Fail("Rate limit reached", code="rate_limit_exceeded"))
    async with AssistantsServer(model, step_delay=0.0) as server:
        client, assistant_id = await setup(server)
        sleeps = Sleeps()
        async with client:
            summary = await run_batch(client, items(1), assistant_id=assistant_id, sleep=sleeps)
    (result,) = summary.results
    assert (result.status, result.output) == ("completed", "Echo: hello 0")
    assert result.attempts == 2 and result.rate_limited == 1 and len(sleeps.delays) == 1
    assert result.error is None
    (thread,) = server.store.threads.values()
    assert [r.obj["status"] for r in thread.runs.values()] == ["failed", "completed"]


async def test_rate_limits_beyond_the_retry_policy_are_recorded(server: AssistantsServer) -> None:
    server.faults.add("POST", "/threads/*/runs", Respond(429), times=None)
    client, assistant_id = await setup(server, max_retries=0)
    async with client:
        summary = await run_batch(
            client,
            items(2),
            assistant_id=assistant_id,
            concurrency=1,
            retry=RetryPolicy(max_retries=2, jitter=0.0, initial_delay=0.5),
            sleep=Sleeps(),
        )
    assert summary.statuses == {"error": 2}
    for result in summary.results:
        assert result.error is not None and result.error["type"] == "RateLimitError"
        assert result.rate_limited == 3 and result.run_id is None


async def test_server_errors_and_dropped_connections_are_retried(server: AssistantsServer) -> None:
    server.faults.add("GET", "/threads/*/runs/*", Respond(502, html_size=50_000), times=2)
    server.faults.add("POST", "/threads", Disconnect(when="before"), times=1)
    client, assistant_id = await setup(server, max_retries=0)
    sleeps = Sleeps()
    async with client:
        summary = await run_batch(
            client,
            items(3),
            assistant_id=assistant_id,
            concurrency=1,
            retry=RetryPolicy(max_retries=5, initial_delay=1.0, jitter=0.0),
            sleep=sleeps,
        )
    assert summary.completed == 3
    assert summary.rate_limited == 0
    # all three faults hit the first item (concurrency 1): its backoff doubles per retry
    assert sleeps.delays == [1.0, 2.0, 4.0]
    assert [r.attempts for r in summary.results] == [1, 1, 1]
    assert len(server.store.threads) == 3


async def test_a_lost_run_creation_response_adopts_the_run_instead_of_starting_another(
    server: AssistantsServer,
) -> None:
    server.faults.add("POST", "/threads/*/runs", Disconnect(when="after"), times=1)
    client, assistant_id = await setup(server)
    async with client:
        summary = await run_batch(client, items(1), assistant_id=assistant_id, sleep=Sleeps())
    (result,) = summary.results
    assert (result.status, result.output) == ("completed", "Echo: hello 0")
    (thread,) = server.store.threads.values()
    assert len(thread.runs) == 1 and result.run_id in thread.runs


async def test_a_bad_request_is_recorded_on_its_item_and_the_batch_goes_on(
    server: AssistantsServer,
) -> None:
    server.faults.add("POST", "/threads/*/runs", Respond(400), times=1)
    client, assistant_id = await setup(server)
    async with client:
        summary = await run_batch(client, items(4), assistant_id=assistant_id, concurrency=1)
    results = [(r.id, r.status) for r in summary.results]
    assert results == [("item-000", "error")] + [(f"item-00{i}", "completed") for i in (1, 2, 3)]
    first = summary.results[0]
    assert first.error is not None and first.error["type"] == "BadRequestError"
    assert first.thread_id is not None and first.run_id is None


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        (Respond(401), AuthenticationError),
        (
            Respond(
                429,
                json={
                    "error": {
                        "message": "quota",
                        "type": "insufficient_quota",
                        "code": "insufficient_quota",
                        "param": None,
                    }
                },
            ),
            InsufficientQuotaError,
        ),
    ],
)
async def test_errors_that_doom_every_item_stop_the_batch(
    tmp_path: Path, fault: Respond, error: type[Exception]
) -> None:
    model = GatedModel(hold="slow")
    results = tmp_path / "r.jsonl"
    async with AssistantsServer(model, step_delay=0.0) as server:
        client, assistant_id = await setup(server, max_retries=0)
        work = [{"id": "slow", "prompt": "slow"}] + items(20)
        async with client:

            async def fault_once_slow_waits() -> None:
                await model.until_waiting(1)
                server.faults.add("POST", "/threads", fault)

            helper = asyncio.ensure_future(fault_once_slow_waits())
            with pytest.raises(error):  # the error itself, not a group
                await run_batch(
                    client,
                    work,
                    assistant_id=assistant_id,
                    results=results,
                    concurrency=2,
                    sleep=Sleeps(),
                )
            await helper
            model.gate.set()
    written = lines(results) if results.exists() else []
    assert all(line["status"] == "completed" for line in written)
    assert len(written) < 21
    # the run held in flight was cancelled when the batch stopped
    assert server.requests.count("POST", "/threads/*/runs/*/cancel") == 1


async def test_an_item_timeout_cancels_its_run_and_is_recorded(tmp_path: Path) -> None:
    model = GatedModel(hold="slow")
    async with AssistantsServer(model, step_delay=0.0) as server:
        client, assistant_id = await setup(server)
        work = [{"id": "slow", "prompt": "slow"}, *items(3)]
        async with client:
            summary = await run_batch(client, work, assistant_id=assistant_id, item_timeout=1.0)
        model.gate.set()
    out = {r.id: r for r in summary.results}
    assert out["slow"].status == "error"
    assert out["slow"].error == {
        "type": "TimeoutError",
        "message": "the item did not finish within 1.0 s",
    }
    assert out["slow"].run_id is not None
    slow_run = next(r for r in server.store.all_runs() if r.id == out["slow"].run_id)
    assert slow_run.obj["status"] in {"cancelling", "cancelled"}
    assert [out[f"item-00{i}"].status for i in range(3)] == ["completed"] * 3


async def test_run_options_reach_every_run_and_a_wrong_one_stops_the_batch(
    server: AssistantsServer,
) -> None:
    client, assistant_id = await setup(server)
    async with client:
        summary = await run_batch(
            client,
            items(3),
            assistant_id=assistant_id,
            run_options={"instructions": "Be brief.", "temperature": 0.5},
        )
        assert summary.completed == 3
        runs = server.store.all_runs()
        assert [(r.obj["instructions"], r.obj["temperature"]) for r in runs] == [
            ("Be brief.", 0.5)
        ] * 3
        with pytest.raises(TypeError):  # a programming error, raised as itself
            await run_batch(client, items(3), assistant_id=assistant_id, run_options={"bogus": 1})


async def test_an_exception_in_on_progress_stops_the_batch_and_is_raised_as_itself(
    server: AssistantsServer, tmp_path: Path
) -> None:
    class Boom(Exception):
        pass

    def progress(p: BatchProgress) -> None:
        if p.finished == 2:
            raise Boom

    client, assistant_id = await setup(server)
    async with client:
        with pytest.raises(Boom):
            await run_batch(
                client,
                items(10),
                assistant_id=assistant_id,
                results=tmp_path / "r.jsonl",
                concurrency=1,
                on_progress=progress,
            )
    assert len(lines(tmp_path / "r.jsonl")) == 2
