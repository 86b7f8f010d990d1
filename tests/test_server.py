"""Loopback server: every CRUD endpoint, pagination and errors over a real socket.

Every response is validated against the OpenAPI spec and the pydantic models (``Api``)."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from test_server_support import Api, _spec_path

from assistants_async.testing import AssistantsServer
from assistants_async.testing.store import paginate


async def test_assistant_crud(api: Api) -> None:
    tools = [
        {"type": "code_interpreter"},
        {"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}},
    ]
    created = await api.assistant(
        name="A", instructions="Be brief.", tools=tools, metadata={"k": "v"}, temperature=0.5
    )
    assert created["id"].startswith("asst_") and created["object"] == "assistant"
    assert isinstance(created["created_at"], int)
    assert created["tools"] == tools and created["metadata"] == {"k": "v"}
    got = await api.get(f"/assistants/{created['id']}")
    assert got == created
    updated = await api.post(f"/assistants/{created['id']}", {"name": "B", "metadata": {}})
    assert updated["name"] == "B" and updated["metadata"] == {} and updated["tools"] == tools
    deleted = await api.ok("DELETE", f"/assistants/{created['id']}")
    assert deleted == {"id": created["id"], "object": "assistant.deleted", "deleted": True}
    missing = await api.error("GET", f"/assistants/{created['id']}")
    assert missing.status == 404
    assert missing.body["error"]["message"] == f"No assistant found with id '{created['id']}'."


async def test_thread_crud_with_initial_messages(api: Api) -> None:
    thread = await api.post(
        "/threads",
        {
            "messages": [
                {"role": "user", "content": "hi"},
                {"role": "assistant", "content": [{"type": "text", "text": "hello"}]},
            ],
            "metadata": {"a": "1"},
        },
    )
    assert thread["object"] == "thread" and thread["metadata"] == {"a": "1"}
    assert await api.get(f"/threads/{thread['id']}") == thread
    updated = await api.post(f"/threads/{thread['id']}", {"metadata": {"b": "2"}})
    assert updated["metadata"] == {"b": "2"}
    messages = await api.get(f"/threads/{thread['id']}/messages", params={"order": "asc"})
    assert [m["role"] for m in messages["data"]] == ["user", "assistant"]
    assert messages["data"][1]["content"] == [
        {"type": "text", "text": {"value": "hello", "annotations": []}}
    ]
    deleted = await api.ok("DELETE", f"/threads/{thread['id']}")
    assert deleted["object"] == "thread.deleted" and deleted["deleted"] is True
    assert (await api.error("GET", f"/threads/{thread['id']}/messages")).status == 404


async def test_message_crud(api: Api) -> None:
    thread = await api.thread()
    base = f"/threads/{thread['id']}/messages"
    image = {"type": "image_url", "image_url": {"url": "https://example.com/x.png"}}
    message = await api.post(
        base, {"role": "user", "content": [{"type": "text", "text": "look"}, image]}
    )
    assert message["thread_id"] == thread["id"] and message["status"] == "completed"
    assert message["content"][1] == image
    assert await api.get(f"{base}/{message['id']}") == message
    updated = await api.post(f"{base}/{message['id']}", {"metadata": {"x": "y"}})
    assert updated["metadata"] == {"x": "y"}
    deleted = await api.ok("DELETE", f"{base}/{message['id']}")
    assert deleted == {"id": message["id"], "object": "thread.message.deleted", "deleted": True}
    assert (await api.error("GET", f"{base}/{message['id']}")).status == 404


async def test_list_messages_filters_by_run(api: Api) -> None:
    assistant = await api.assistant()
    thread = await api.thread("first")
    run = await api.post(f"/threads/{thread['id']}/runs", {"assistant_id": assistant["id"]})
    await api.wait_run(thread["id"], run["id"], until={"completed"})
    page = await api.get(f"/threads/{thread['id']}/messages", params={"run_id": run["id"]})
    assert [m["role"] for m in page["data"]] == ["assistant"]
    assert page["data"][0]["run_id"] == run["id"]


async def test_pagination_walks_both_directions(api: Api) -> None:
    ids = [(await api.assistant(name=str(i)))["id"] for i in range(7)]
    page = await api.get("/assistants", params={"limit": 3, "order": "asc"})
    assert [a["id"] for a in page["data"]] == ids[:3] and page["has_more"] is True
    page = await api.get("/assistants", params={"limit": 3, "order": "asc", "after": ids[2]})
    assert [a["id"] for a in page["data"]] == ids[3:6] and page["has_more"] is True
    page = await api.get("/assistants", params={"limit": 3, "order": "asc", "after": ids[5]})
    assert [a["id"] for a in page["data"]] == ids[6:] and page["has_more"] is False
    # before: the items just short of the cursor, still in the requested order
    page = await api.get("/assistants", params={"limit": 2, "order": "asc", "before": ids[5]})
    assert [a["id"] for a in page["data"]] == ids[3:5] and page["has_more"] is True
    # default order is desc, default limit 20
    page = await api.get("/assistants")
    assert [a["id"] for a in page["data"]] == ids[::-1] and page["has_more"] is False
    assert page["first_id"] == ids[-1] and page["last_id"] == ids[0]
    page = await api.get("/assistants", params={"limit": 2, "after": ids[3]})
    assert [a["id"] for a in page["data"]] == [ids[2], ids[1]]


@settings(max_examples=200, deadline=None)
@given(
    n=st.integers(0, 12),
    limit=st.integers(1, 5),
    order=st.sampled_from(["asc", "desc"]),
    data=st.data(),
)
def test_paginate_following_after_visits_every_item_once(
    n: int, limit: int, order: str, data: st.DataObject
) -> None:
    items = [{"id": f"x{i}"} for i in range(n)]
    expected = [i["id"] for i in (items if order == "asc" else items[::-1])]
    seen: list[str] = []
    after = None
    while True:
        page = paginate(items, limit=limit, order=order, after=after, before=None)
        seen += [i["id"] for i in page["data"]]
        if not page["has_more"]:
            break
        after = page["last_id"]
    assert seen == expected
    if n:
        cursor = data.draw(st.sampled_from(expected))
        page = paginate(items, limit=limit, order=order, after=None, before=cursor)
        position = expected.index(cursor)
        assert [i["id"] for i in page["data"]] == expected[max(0, position - limit) : position]
        assert page["has_more"] == (position > limit)


@pytest.mark.parametrize(
    ("params", "param", "code"),
    [
        ({"limit": "0"}, "limit", "integer_below_min_value"),
        ({"limit": "101"}, "limit", "integer_above_max_value"),
        ({"limit": "ten"}, "limit", "invalid_type"),
        ({"order": "sideways"}, "order", "invalid_value"),
        ({"after": "asst_nope"}, "after", None),
    ],
)
async def test_list_query_errors(api: Api, params: dict[str, str], param: str, code: Any) -> None:
    reply = await api.error("GET", "/assistants", params=params)
    assert reply.status == 400
    assert reply.body["error"]["param"] == param
    assert reply.body["error"]["code"] == code
    assert reply.body["error"]["type"] == "invalid_request_error"


@pytest.mark.parametrize(
    ("path", "body", "param", "code"),
    [
        ("/assistants", {}, "model", "missing_required_parameter"),
        ("/assistants", {"model": 3}, "model", "invalid_type"),
        ("/assistants", {"model": "m", "temperature": 3}, "temperature", "number_above_max_value"),
        ("/assistants", {"model": "m", "bogus": 1}, "bogus", "unknown_parameter"),
        (
            "/assistants",
            {"model": "m", "tools": [{"type": "web"}]},
            "tools[0].type",
            "invalid_value",
        ),
        (
            "/assistants",
            {"model": "m", "tools": [{"type": "function"}]},
            "tools[0].function",
            "missing_required_parameter",
        ),
        ("/assistants", {"model": "m", "metadata": {"k": 1}}, "metadata.k", "invalid_type"),
        (
            "/threads",
            {"messages": [{"role": "bot", "content": "x"}]},
            "messages[0].role",
            "invalid_value",
        ),
        (
            "/threads",
            {"messages": [{"role": "user"}]},
            "messages[0].content",
            "missing_required_parameter",
        ),
        (
            "/threads",
            {"messages": [{"role": "user", "content": []}]},
            "messages[0].content",
            "empty_array",
        ),
        ("/threads/runs", {}, "assistant_id", "missing_required_parameter"),
    ],
)
async def test_invalid_bodies_name_the_param(
    api: Api, path: str, body: dict[str, Any], param: str, code: str
) -> None:
    reply = await api.error("POST", path, body)
    assert reply.status == 400
    assert (reply.body["error"]["param"], reply.body["error"]["code"]) == (param, code)


async def test_run_body_errors_and_unknown_ids(api: Api) -> None:
    thread = await api.thread("x")
    runs = f"/threads/{thread['id']}/runs"
    missing = await api.error("POST", runs, {})
    assert missing.status == 400 and missing.body["error"]["param"] == "assistant_id"
    assert missing.body["error"]["message"] == "Missing required parameter: 'assistant_id'."
    bad_tokens = await api.error("POST", runs, {"assistant_id": "a", "max_prompt_tokens": 5})
    assert bad_tokens.body["error"]["param"] == "max_prompt_tokens"
    no_assistant = await api.error("POST", runs, {"assistant_id": "asst_missing"})
    assert no_assistant.status == 404
    assert "asst_missing" in no_assistant.body["error"]["message"]
    assert (await api.error("GET", f"{runs}/run_missing")).status == 404
    assert (await api.error("GET", f"{runs}/run_missing/steps")).status == 404
    assert (
        await api.error(
            "POST", "/threads/thread_missing/messages", {"role": "user", "content": "x"}
        )
    ).status == 404


async def test_malformed_json_and_unknown_route(api: Api) -> None:
    async with api.session.post(
        api.server.url + "/assistants", data=b"{oops", headers={"Content-Type": "application/json"}
    ) as response:
        assert response.status == 400
        body = await response.json()
        assert "could not parse the JSON body" in body["error"]["message"]
    reply = await api.error("GET", "/nothing/here")
    assert (
        reply.status == 404
        and reply.body["error"]["message"] == "Invalid URL (GET /v1/nothing/here)"
    )
    # like the live API, a known path with the wrong method is an invalid URL too
    reply = await api.error("PATCH", "/assistants")
    assert reply.status == 404
    assert reply.body["error"]["message"] == "Invalid URL (PATCH /v1/assistants)"


async def test_api_key_and_beta_header_are_enforced_when_configured() -> None:
    async with AssistantsServer(api_key="sk-secret", require_beta_header=True) as server:
        async with aiohttp.ClientSession() as session:
            url = server.url + "/assistants"
            async with session.get(url, headers={"OpenAI-Beta": "assistants=v2"}) as r:
                assert r.status == 401
                assert "sk-secret" not in await r.text()
            good = {"Authorization": "Bearer sk-secret"}
            async with session.get(url, headers=good) as r:
                assert r.status == 400 and "OpenAI-Beta" in (await r.json())["error"]["message"]
            async with session.get(url, headers={**good, "OpenAI-Beta": "assistants=v2"}) as r:
                assert r.status == 200
            azure = {"api-key": "sk-secret", "OpenAI-Beta": "assistants=v2"}
            async with session.get(url, headers=azure, params={"api-version": "2024-05-01"}) as r:
                assert r.status == 200
        assert "sk-secret" not in repr(server)


async def test_custom_prefix_and_standalone_start_stop() -> None:
    server = AssistantsServer(prefix="/openai")
    with pytest.raises(RuntimeError):
        _ = server.url
    await server.start()
    try:
        assert server.url.endswith("/openai")
        async with aiohttp.ClientSession() as session:
            async with session.get(server.url + "/assistants") as r:
                assert r.status == 200
    finally:
        await server.stop()
    with pytest.raises(RuntimeError):
        _ = server.url


async def test_serve_forever_reports_url_and_stops_on_cancel() -> None:
    server = AssistantsServer()
    ready: asyncio.Queue[str] = asyncio.Queue()
    task = asyncio.create_task(server.serve_forever(ready=ready.put_nowait))
    url = await asyncio.wait_for(ready.get(), 5)
    async with aiohttp.ClientSession() as session:
        async with session.get(url + "/assistants") as r:
            assert r.status == 200
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    with pytest.raises(RuntimeError):
        _ = server.url


async def test_request_log_and_counters(api: Api) -> None:
    assistant = await api.assistant()
    thread = await api.thread("hi")
    await api.post(f"/threads/{thread['id']}/runs", {"assistant_id": assistant["id"]})
    log = api.server.requests
    assert log.count("POST", "/threads/*/runs") == 1
    assert log.count("POST", "/threads") == 1
    assert log.count("*", "/assistants") == 1
    entry = log.matching("POST", "/threads/*/runs")[0]
    assert entry.json() == {"assistant_id": assistant["id"]}
    assert entry.status == 200 and entry.peer_port is not None
    assert entry.headers["Content-Type"] == "application/json"
    assert api.server.runs_created(thread["id"]) == 1
    assert api.server.runs_created() == 1


def _reference_page(
    ids: list[str], *, limit: int, order: str, after: str | None, before: str | None
) -> tuple[list[str], bool]:
    """The API's cursor semantics written as a filter over positions (independent of paginate):
    strictly past ``after`` and strictly short of ``before`` in the requested order; with only
    ``before`` the page is the ``limit`` items nearest to it."""
    ordered = ids if order == "asc" else ids[::-1]
    position = {item: i for i, item in enumerate(ordered)}
    window = [
        item
        for item in ordered
        if (after is None or position[item] > position[after])
        and (before is None or position[item] < position[before])
    ]
    page = window[-limit:] if before is not None and after is None else window[:limit]
    return page, len(window) > limit


@settings(max_examples=300, deadline=None)
@given(
    n=st.integers(0, 15),
    limit=st.integers(1, 100),
    order=st.sampled_from(["asc", "desc"]),
    data=st.data(),
)
def test_paginate_matches_the_reference_for_any_cursors(
    n: int, limit: int, order: str, data: st.DataObject
) -> None:
    ids = [f"x{i:02d}" for i in range(n)]
    cursor = st.none() | st.sampled_from(ids) if ids else st.none()
    after = data.draw(cursor, label="after")
    before = data.draw(cursor, label="before")
    page = paginate([{"id": i} for i in ids], limit=limit, order=order, after=after, before=before)
    expected, has_more = _reference_page(ids, limit=limit, order=order, after=after, before=before)
    got = [item["id"] for item in page["data"]]
    assert got == expected
    assert page["has_more"] is has_more
    assert page["first_id"] == (got[0] if got else None)
    assert page["last_id"] == (got[-1] if got else None)


async def test_limit_bounds_over_http(api: Api) -> None:
    store = api.server.store
    for i in range(101):  # straight into the store: 101 POSTs would only slow the test down
        store.add_assistant({"model": f"m{i}"})
    ids = list(store.assistants)
    page = await api.get("/assistants", params={"limit": 100, "order": "asc"})
    assert [a["id"] for a in page["data"]] == ids[:100] and page["has_more"] is True
    page = await api.get("/assistants", params={"limit": 100, "order": "asc", "after": ids[99]})
    assert [a["id"] for a in page["data"]] == ids[100:] and page["has_more"] is False
    page = await api.get("/assistants", params={"limit": 1, "before": ids[50]})
    assert [a["id"] for a in page["data"]] == [ids[51]] and page["has_more"] is True
    page = await api.get(
        "/assistants", params={"limit": 5, "order": "asc", "after": ids[10], "before": ids[13]}
    )
    assert [a["id"] for a in page["data"]] == ids[11:13] and page["has_more"] is False
    for bad in ("0", "101", "-1"):
        reply = await api.error("GET", "/assistants", params={"limit": bad})
        assert reply.status == 400 and reply.body["error"]["param"] == "limit"
    bad_before = await api.error("GET", "/assistants", params={"before": "asst_nope"})
    assert bad_before.status == 400 and bad_before.body["error"]["param"] == "before"


def _request_fields() -> list[tuple[str, str]]:
    """(request schema, field) for every POST body field the spec defines."""
    spec = yaml.safe_load(_spec_path().read_text())
    pairs = []
    for operations in spec["paths"].values():
        body = (operations.get("post") or {}).get("requestBody")
        if body is None:
            continue
        name = body["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
        pairs += [(name, field) for field in spec["components"]["schemas"][name]["properties"]]
    return pairs


@pytest.mark.parametrize(("schema", "field"), _request_fields())
async def test_every_spec_field_is_known_and_checked(api: Api, schema: str, field: str) -> None:
    # -1 is wrong for every field of every request body (a type error or below a minimum), so
    # the server must name exactly that field, and never call a spec field unknown.
    assistant = await api.assistant()
    thread = await api.thread("call f {}")
    tid = thread["id"]
    run = await api.post(f"/threads/{tid}/runs", {"assistant_id": assistant["id"]})
    message_id = (await api.get(f"/threads/{tid}/messages"))["data"][0]["id"]
    base: dict[str, tuple[str, dict[str, Any]]] = {
        "CreateAssistantRequest": ("/assistants", {"model": "m"}),
        "ModifyAssistantRequest": (f"/assistants/{assistant['id']}", {}),
        "CreateThreadRequest": ("/threads", {}),
        "ModifyThreadRequest": (f"/threads/{tid}", {}),
        "CreateMessageRequest": (f"/threads/{tid}/messages", {"role": "user", "content": "x"}),
        "ModifyMessageRequest": (f"/threads/{tid}/messages/{message_id}", {}),
        "CreateRunRequest": (f"/threads/{tid}/runs", {"assistant_id": assistant["id"]}),
        "ModifyRunRequest": (f"/threads/{tid}/runs/{run['id']}", {}),
        "CreateThreadAndRunRequest": ("/threads/runs", {"assistant_id": assistant["id"]}),
        "SubmitToolOutputsRunRequest": (
            f"/threads/{tid}/runs/{run['id']}/submit_tool_outputs",
            {"tool_outputs": []},
        ),
    }
    path, body = base[schema]
    reply = await api.error("POST", path, {**body, field: -1})
    assert reply.status == 400
    assert reply.body["error"]["param"] == field
    assert reply.body["error"]["code"] != "unknown_parameter"
