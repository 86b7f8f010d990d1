from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from assistants_async._errors import ServerStreamError, StreamDecodeError, StreamError
from assistants_async.sse import ServerSentEvent, SSEDecoder
from assistants_async.streaming.events import parse_event, server_error
from assistants_async.types import (
    EVENT_DATA_MODELS,
    Message,
    MessageDeltaEvent,
    Run,
    RunStep,
    RunStepDeltaEvent,
    Thread,
    ThreadMessageDelta,
    ThreadRunFailed,
    UnknownEvent,
)

E = ServerSentEvent


def recorded_events(shared_dir: Path) -> list[ServerSentEvent]:
    events: list[ServerSentEvent] = []
    for path in sorted((shared_dir / "recorded-streams").glob("*.sse")):
        decoder = SSEDecoder()
        events += decoder.decode(path.read_bytes())
        events += decoder.flush()
    assert len(events) > 300
    return events


def test_every_recorded_event_parses_to_its_model(shared_dir: Path) -> None:
    seen: set[str] = set()
    for sse in recorded_events(shared_dir):
        parsed = parse_event(sse)
        if sse.event == "done":
            assert parsed is None
            continue
        assert parsed is not None
        assert type(parsed) is EVENT_DATA_MODELS[sse.event][0], sse.event
        assert parsed.event == sse.event
        # Nothing the server sent was lost or invented on the way.
        assert parsed.data.model_dump(mode="json", exclude_unset=True) == json.loads(sse.data)
        seen.add(sse.event)
    assert {"thread.message.delta", "thread.run.step.delta", "thread.run.completed"} <= seen


def test_every_known_name_has_a_validator(shared_dir: Path) -> None:
    # A sample payload of each data type, taken from the recordings, under every event name.
    samples: dict[object, str] = {}
    by_first_event = {
        "thread.created": Thread,
        "thread.run.created": Run,
        "thread.run.step.created": RunStep,
        "thread.message.created": Message,
        "thread.message.delta": MessageDeltaEvent,
        "thread.run.step.delta": RunStepDeltaEvent,
    }
    for sse in recorded_events(shared_dir):
        if sse.event in by_first_event:
            samples.setdefault(by_first_event[sse.event], sse.data)
    assert len(samples) == len(by_first_event)
    checked = 0
    for name, (event_model, data_type) in EVENT_DATA_MODELS.items():
        if name in ("error", "done"):
            continue
        parsed = parse_event(E(name, samples[data_type]))
        assert type(parsed) is event_model
        assert isinstance(parsed.data, data_type)  # type: ignore[union-attr]
        # Built without re-validation, yet the same as the validating constructor's model.
        validated = event_model(event=name, data=parsed.data)
        assert parsed == validated
        assert parsed.model_fields_set == validated.model_fields_set
        assert parsed.model_extra == validated.model_extra
        assert parsed.model_dump() == validated.model_dump()
        assert parsed.model_copy(update={}) == validated
        checked += 1
    assert checked == len(EVENT_DATA_MODELS) - 2


def test_unknown_fields_are_kept() -> None:
    data = {
        "id": "msg_1",
        "object": "thread.message.delta",
        "delta": {"content": []},
        "brand_new": {"x": 1},
    }
    parsed = parse_event(E("thread.message.delta", json.dumps(data)))
    assert isinstance(parsed, ThreadMessageDelta)
    assert parsed.data.model_extra == {"brand_new": {"x": 1}}


# -- end of stream ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "sse",
    [E("done", "[DONE]"), E("done", ""), E("message", "[DONE]"), E("thread.whatever", "[DONE]")],
)
def test_done_ends_the_stream(sse: ServerSentEvent) -> None:
    assert parse_event(sse) is None


def test_done_text_inside_a_known_event_is_not_the_end() -> None:
    with pytest.raises(StreamDecodeError):
        parse_event(E("thread.run.completed", "[DONE]"))


# -- unknown events -----------------------------------------------------------------------------


def test_unknown_name_with_json_data() -> None:
    parsed = parse_event(E("thread.run.step.teleported", '{"id": "step_1", "where": [1, 2]}'))
    assert parsed == UnknownEvent(
        event="thread.run.step.teleported", data={"id": "step_1", "where": [1, 2]}
    )


@pytest.mark.parametrize("data", ["", "pong", "{not json", "1 2"])
def test_unknown_name_with_non_json_data_keeps_the_text(data: str) -> None:
    parsed = parse_event(E("ping", data))
    assert isinstance(parsed, UnknownEvent)
    assert (parsed.event, parsed.data) == ("ping", data)


def test_unnamed_event_with_an_object_is_tolerated_as_unknown() -> None:
    parsed = parse_event(E("message", '{"object": "thread.run", "id": "run_1"}'))
    assert isinstance(parsed, UnknownEvent)
    assert parsed.event == "message"
    assert parsed.data == {"object": "thread.run", "id": "run_1"}


# -- error events -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "code", "message"),
    [
        ('{"code": "server_error", "message": "boom"}', "server_error", "boom"),
        (
            '{"error": {"code": "rate_limit_exceeded", "message": "slow down"}}',
            "rate_limit_exceeded",
            "slow down",
        ),
        ('{"message": "no code"}', None, "no code"),
        ('{"error": {"message": "x", "type": "server_error"}}', None, "x"),
        ('{"code": 503, "message": "numeric code"}', "503", "numeric code"),
        ("upstream exploded", None, "upstream exploded"),
        ('"a json string"', None, "a json string"),
        ("[1, 2]", None, "[1, 2]"),
        ("{}", None, "{}"),
        ("", None, "the server sent an error event"),
    ],
)
def test_error_event_raises_whatever_the_payload(data: str, code: str | None, message: str) -> None:
    with pytest.raises(ServerStreamError) as info:
        parse_event(E("error", data))
    exc = info.value
    assert isinstance(exc, StreamError)
    assert exc.code == code
    assert message in str(exc)


def test_error_event_keeps_the_parsed_payload() -> None:
    payload = {"error": {"code": "c", "message": "m", "param": None}}
    exc = server_error(json.dumps(payload))
    assert exc.data == payload
    assert str(exc) == "stream error from the server: m (code=c)"


def test_huge_non_json_error_body_is_truncated_in_the_message() -> None:
    exc = server_error("<html>" + "x" * 100_000)
    assert len(str(exc)) < 700
    assert exc.data == "<html>" + "x" * 100_000


# -- invalid data for a known event -------------------------------------------------------------


def test_invalid_json_raises_stream_decode_error_with_context() -> None:
    with pytest.raises(StreamDecodeError) as info:
        parse_event(E("thread.message.delta", "{not json"))
    exc = info.value
    assert exc.event == "thread.message.delta"
    assert exc.data == "{not json"
    assert "not valid JSON" in str(exc)
    assert isinstance(exc.__cause__, ValidationError)


def test_empty_data_for_a_known_event_is_invalid() -> None:
    with pytest.raises(StreamDecodeError):
        parse_event(E("thread.run.created", ""))


def test_validation_failure_names_the_model_and_the_field() -> None:
    with pytest.raises(StreamDecodeError) as info:
        parse_event(E("thread.run.failed", '{"id": 12, "object": "thread.run"}'))
    exc = info.value
    assert exc.event == "thread.run.failed"
    assert "Run" in str(exc)
    assert "id" in str(exc)
    assert isinstance(exc.__cause__, ValidationError)


def test_decode_error_data_is_truncated() -> None:
    big = '{"id": "' + "a" * 50_000
    with pytest.raises(StreamDecodeError) as info:
        parse_event(E("thread.message.delta", big))
    assert info.value.data is not None
    assert len(info.value.data) < 700
    assert len(str(info.value)) < 1000


def test_known_event_with_valid_data_returns_typed_models() -> None:
    run = {
        "id": "run_1",
        "object": "thread.run",
        "created_at": 1,
        "assistant_id": "asst_1",
        "thread_id": "thread_1",
        "status": "failed",
        "last_error": {"code": "server_error", "message": "boom"},
        "model": "gpt-4o",
        "instructions": "",
        "tools": [],
        "metadata": {},
    }
    try:
        parsed = parse_event(E("thread.run.failed", json.dumps(run)))
    except StreamDecodeError as exc:  # pragma: no cover - shows which field the model wants
        pytest.fail(f"a minimal run did not validate: {exc}")
    assert isinstance(parsed, ThreadRunFailed)
    assert parsed.data.id == "run_1"
    assert parsed.data.status == "failed"
