"""AdaptiveLimit: additive increase, multiplicative decrease, one decrease per burst."""

from __future__ import annotations

import anyio
import pytest
from hypothesis import given
from hypothesis import strategies as st

from assistants_async.batch import AdaptiveLimit


def test_concurrency_must_be_positive() -> None:
    with pytest.raises(ValueError, match="concurrency"):
        AdaptiveLimit(0)


async def test_acquire_waits_for_a_release_beyond_the_limit() -> None:
    limit = AdaptiveLimit(2)
    await limit.acquire()
    await limit.acquire()
    got_third = anyio.Event()

    async def third() -> None:
        await limit.acquire()
        got_third.set()

    async with anyio.create_task_group() as tg:
        tg.start_soon(third)
        await anyio.wait_all_tasks_blocked()
        assert not got_third.is_set() and limit.in_flight == 2
        limit.release()
        await got_third.wait()
    assert limit.in_flight == 2


def test_a_burst_of_rate_limits_halves_once() -> None:
    limit = AdaptiveLimit(16)
    epoch = limit.epoch
    tickets = [epoch] * 5  # five items started in the same epoch all hit a 429
    new_epochs = [limit.rate_limited(t) for t in tickets]
    assert limit.limit == 8
    assert set(new_epochs) == {epoch + 1}
    # the same item hitting another 429 after its retry halves again
    limit.rate_limited(new_epochs[0])
    assert limit.limit == 4
    for _ in range(10):
        limit.rate_limited(limit.epoch)
    assert limit.limit == 1 and limit.lowest == 1


def test_successes_grow_the_limit_by_one_per_limit_items_up_to_the_maximum() -> None:
    limit = AdaptiveLimit(4)
    limit.rate_limited(limit.epoch)
    assert limit.limit == 2
    limit.succeeded()
    assert limit.limit == 2
    limit.succeeded()
    assert limit.limit == 3
    for _ in range(3):
        limit.succeeded()
    assert limit.limit == 4
    for _ in range(20):
        limit.succeeded()
    assert limit.limit == 4 and limit.lowest == 2


async def test_a_raised_limit_wakes_a_waiter() -> None:
    limit = AdaptiveLimit(2)
    limit.rate_limited(limit.epoch)  # limit 1
    await limit.acquire()
    woke = anyio.Event()

    async def second() -> None:
        await limit.acquire()
        woke.set()

    async with anyio.create_task_group() as tg:
        tg.start_soon(second)
        await anyio.wait_all_tasks_blocked()
        assert not woke.is_set()
        limit.succeeded()  # one success at limit 1 grows it to 2
        await woke.wait()
    assert limit.in_flight == 2


@given(
    maximum=st.integers(min_value=1, max_value=64),
    events=st.lists(st.sampled_from(["limited", "limited-old", "ok"]), max_size=300),
)
def test_the_limit_stays_within_bounds_and_moves_as_aimd(maximum: int, events: list[str]) -> None:
    limit = AdaptiveLimit(maximum)
    stale = limit.epoch
    for event in events:
        before, epoch = limit.limit, limit.epoch
        if event == "ok":
            limit.succeeded()
            assert limit.limit in (before, min(maximum, before + 1))
        elif event == "limited":
            limit.rate_limited(limit.epoch)
            assert limit.limit == max(1, before // 2) and limit.epoch == epoch + 1
        else:  # a 429 for work started before the last decrease changes nothing
            if stale != epoch:
                limit.rate_limited(stale)
                assert (limit.limit, limit.epoch) == (before, epoch)
        stale = epoch
        assert 1 <= limit.lowest <= limit.limit <= maximum
