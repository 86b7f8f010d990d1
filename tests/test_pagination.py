"""Cursor pagination: ``await list()`` is the first page, ``async for`` walks every item and
fetches lazily; ``next_page()`` / ``iter_pages()``; limit/order/before kept on every page. Unit
tests with MockTransport, then the same over real sockets against the loopback server."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assistants_async import AsyncAssistants
from assistants_async._errors import BadRequestError
from assistants_async._pagination import AsyncCursorPage
from assistants_async._transport import MockTransport, Request, Response
from assistants_async.testing import AssistantsServer

IDS = [f"asst_{i:02d}" for i in range(7)]


def assistant_json(ident: str) -> dict[str, Any]:
    return {
        "id": ident,
        "object": "assistant",
        "created_at": 1,
        "name": None,
        "description": None,
        "model": "m",
        "instructions": None,
        "tools": [],
        "metadata": {},
    }


class Pager:
    """Serves IDS in pages of ``limit`` (default 3) after the ``after`` cursor."""

    def __init__(self, *, last_id: bool = True) -> None:
        self.queries: list[dict[str, list[str]]] = []
        self.last_id = last_id

    def __call__(self, request: Request) -> Response:
        query = parse_qs(urlsplit(request.url).query)
        self.queries.append(query)
        limit = int(query.get("limit", ["3"])[0])
        start = IDS.index(query["after"][0]) + 1 if "after" in query else 0
        chunk = IDS[start : start + limit]
        body: dict[str, Any] = {
            "object": "list",
            "data": [assistant_json(i) for i in chunk],
            "first_id": chunk[0] if chunk else None,
            "has_more": start + limit < len(IDS),
        }
        if self.last_id:
            body["last_id"] = chunk[-1] if chunk else None
        return Response(200, json=body)


def client_for(handler: Any) -> AsyncAssistants:
    return AsyncAssistants(
        api_key="k", base_url="http://127.0.0.1:1/v1", transport=MockTransport(handler)
    )


async def test_async_for_walks_every_page_lazily() -> None:
    pager = Pager()
    client = client_for(pager)
    paginator = client.assistants.list(limit=3, order="asc")
    assert pager.queries == []  # nothing sent until awaited or iterated
    seen = []
    async for assistant in paginator:
        seen.append(assistant.id)
        # a page is fetched only when the previous one is used up
        assert len(pager.queries) == -(-len(seen) // 3)
    assert seen == IDS
    assert [q.get("after") for q in pager.queries] == [None, ["asst_02"], ["asst_05"]]
    # limit and order ride along on every page
    assert all(q["limit"] == ["3"] and q["order"] == ["asc"] for q in pager.queries)


async def test_breaking_early_fetches_no_further_page() -> None:
    pager = Pager()
    client = client_for(pager)
    async for assistant in client.assistants.list(limit=3):
        assert assistant.id == "asst_00"
        break
    assert len(pager.queries) == 1


async def test_await_gives_the_first_page() -> None:
    pager = Pager()
    client = client_for(pager)
    page = await client.assistants.list(limit=3)
    assert isinstance(page, AsyncCursorPage)
    assert [a.id for a in page.data] == IDS[:3]
    assert (page.first_id, page.last_id, page.has_more) == ("asst_00", "asst_02", True)
    assert len(page) == 3 and page.has_next_page()
    second = await page.next_page()
    assert second is not None and [a.id for a in second.data] == IDS[3:6]
    third = await second.next_page()
    assert third is not None and [a.id for a in third.data] == IDS[6:]
    assert third.has_more is False and not third.has_next_page()
    assert await third.next_page() is None
    assert len(pager.queries) == 3


async def test_iter_pages_and_each_async_for_starts_over() -> None:
    pager = Pager()
    client = client_for(pager)
    paginator = client.assistants.list(limit=4)
    sizes = [len(p.data) async for p in paginator.iter_pages()]
    assert sizes == [4, 3]
    first = [a.id async for a in paginator]
    second = [a.id async for a in paginator]
    assert first == second == IDS
    assert len(pager.queries) == 6


async def test_missing_last_id_falls_back_to_the_last_item() -> None:
    pager = Pager(last_id=False)
    client = client_for(pager)
    assert [a.id async for a in client.assistants.list(limit=3)] == IDS
    assert [q.get("after") for q in pager.queries] == [None, ["asst_02"], ["asst_05"]]


async def test_has_more_with_an_empty_page_stops() -> None:
    calls = 0

    def handler(request: Request) -> Response:
        nonlocal calls
        calls += 1
        return Response(200, json={"object": "list", "data": [], "has_more": True})

    client = client_for(handler)
    assert [a async for a in client.assistants.list()] == []
    assert calls == 1


async def test_before_and_extra_query_are_kept_on_every_page() -> None:
    pager = Pager()
    client = client_for(pager)
    items = [
        a.id async for a in client.assistants.list(limit=3, before="zzz", extra_query={"x": "1"})
    ]
    assert items == IDS
    assert all(q["before"] == ["zzz"] and q["x"] == ["1"] for q in pager.queries)


@settings(max_examples=40, deadline=None)
@given(total=st.integers(min_value=0, max_value=25), limit=st.integers(min_value=1, max_value=10))
async def test_any_size_and_limit_walks_every_item_once(total: int, limit: int) -> None:
    ids = [f"asst_{i:03d}" for i in range(total)]
    queries: list[dict[str, list[str]]] = []

    def handler(request: Request) -> Response:
        query = parse_qs(urlsplit(request.url).query)
        queries.append(query)
        start = ids.index(query["after"][0]) + 1 if "after" in query else 0
        chunk = ids[start : start + limit]
        return Response(
            200,
            json={
                "object": "list",
                "data": [assistant_json(i) for i in chunk],
                "first_id": chunk[0] if chunk else None,
                "last_id": chunk[-1] if chunk else None,
                "has_more": start + limit < total,
            },
        )

    client = client_for(handler)
    assert [a.id async for a in client.assistants.list(limit=limit)] == ids
    assert len(queries) == max(1, -(-total // limit))


# -- over real sockets ---------------------------------------------------------------------------


async def test_loopback_assistants_across_pages(
    assistants_server: AssistantsServer, assistants_client: AsyncAssistants
) -> None:
    created = [
        (await assistants_client.assistants.create(model="m", name=f"a{i}")).id for i in range(7)
    ]
    walked = [a.id async for a in assistants_client.assistants.list(limit=2)]
    assert walked == created[::-1]  # default order: newest first
    asc = [a.id async for a in assistants_client.assistants.list(limit=3, order="asc")]
    assert asc == created
    lists = assistants_server.requests.matching("GET", "/assistants")
    assert len(lists) == 4 + 3  # 7 items at 2 per page, then at 3 per page

    page = await assistants_client.assistants.list(limit=3, order="asc")
    assert [a.id for a in page.data] == created[:3]
    assert (page.first_id, page.last_id, page.has_more) == (created[0], created[2], True)
    after = await assistants_client.assistants.list(order="asc", after=created[4])
    assert [a.id for a in after.data] == created[5:] and after.has_more is False
    before = await assistants_client.assistants.list(order="asc", before=created[2])
    assert [a.id for a in before.data] == created[:2]
    nxt = await page.next_page()
    assert nxt is not None and [a.id for a in nxt.data] == created[3:6]


async def test_loopback_messages_runs_and_steps_lists(
    assistants_client: AsyncAssistants,
) -> None:
    assistant = await assistants_client.assistants.create(model="m")
    thread = await assistants_client.threads.create()
    texts = [f"message {i}" for i in range(5)]
    for text in texts:
        await assistants_client.threads.messages.create(thread.id, role="user", content=text)
    walked = [
        m.content[0].text.value  # type: ignore[union-attr]
        async for m in assistants_client.threads.messages.list(thread.id, limit=2, order="asc")
    ]
    assert walked == texts
    runs = []
    for _ in range(3):
        run = await assistants_client.threads.runs.create_and_poll(
            thread_id=thread.id, assistant_id=assistant.id
        )
        runs.append(run.id)
    assert [r.id async for r in assistants_client.threads.runs.list(thread.id, limit=1)] == runs[
        ::-1
    ]
    replies = await assistants_client.threads.messages.list(thread.id, run_id=runs[1])
    assert len(replies.data) == 1 and replies.data[0].run_id == runs[1]
    steps = [
        s
        async for s in assistants_client.threads.runs.steps.list(
            runs[0], thread_id=thread.id, limit=1
        )
    ]
    assert [s.run_id for s in steps] == [runs[0]]


async def test_loopback_bad_limit_is_a_400_with_param(
    assistants_client: AsyncAssistants,
) -> None:
    with pytest.raises(BadRequestError) as info:
        await assistants_client.assistants.list(limit=0)
    assert info.value.param == "limit"
    with pytest.raises(BadRequestError) as info:
        await assistants_client.assistants.list(after="asst_nope")
    assert info.value.param == "after"


async def test_the_page_class_survives_garbage_collection() -> None:
    # pydantic caches AsyncCursorPage[Assistant] weakly and the class sits in reference cycles:
    # without a strong reference, a full collection dropped it and the next list() call built
    # it again (milliseconds of CPU per call).
    import gc
    import weakref

    async with client_for(Pager()) as client:
        page = await client.assistants.list()
        page_class = weakref.ref(type(page))
        del page
        gc.collect()
        assert page_class() is not None
        again = await client.assistants.list()
        assert type(again) is page_class()
