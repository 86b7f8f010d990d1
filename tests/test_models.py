"""The pydantic models: representative payloads, forward compatibility, recorded real streams.

Round-trip rule (documented in ``assistants_async.types``): ``model_dump(mode="json",
exclude_unset=True)`` of a validated object equals the JSON it was validated from, because
unknown fields are kept and defaults the server did not send are not dumped.
"""

from __future__ import annotations

import json
import re
import typing
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, TypeAdapter, ValidationError

import assistants_async.types as t
from assistants_async.types import (
    EVENT_DATA_MODELS,
    AssistantStreamEvent,
    Message,
    MessageDeltaEvent,
    Run,
    RunStep,
    RunStepDeltaEvent,
)

EVENT_ADAPTER: TypeAdapter[Any] = TypeAdapter(AssistantStreamEvent)


# --------------------------------------------------------------------------- helpers


def parse_sse(raw: str) -> list[tuple[str, str]]:
    """A deliberately tiny SSE reader for fixtures (the real decoder lives in streaming/)."""
    events = []
    text = raw.replace("\r\n", "\n").replace("\r", "\n")
    for block in text.split("\n\n"):
        name = "message"
        data: list[str] = []
        for line in block.split("\n"):
            field, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if field == "event":
                name = value
            elif field == "data":
                data.append(value)
        if data:
            events.append((name, "\n".join(data)))
    return events


def recorded_streams(shared: Path) -> list[Path]:
    files = sorted((shared / "recorded-streams").glob("*.sse"))
    assert len(files) >= 6
    return files


def roundtrip(model: BaseModel) -> Any:
    return model.model_dump(mode="json", exclude_unset=True)


RUN: dict[str, Any] = {
    "id": "run_1",
    "object": "thread.run",
    "created_at": 1,
    "thread_id": "thread_1",
    "assistant_id": "asst_1",
    "status": "requires_action",
    "required_action": {
        "type": "submit_tool_outputs",
        "submit_tool_outputs": {
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city": "Oslo"}'},
                }
            ]
        },
    },
    "last_error": None,
    "expires_at": 100,
    "started_at": 2,
    "cancelled_at": None,
    "failed_at": None,
    "completed_at": None,
    "incomplete_details": None,
    "model": "gpt-4o",
    "instructions": None,
    "tools": [
        {"type": "code_interpreter"},
        {
            "type": "file_search",
            "file_search": {
                "max_num_results": 5,
                "ranking_options": {"ranker": "auto", "score_threshold": 0.5},
            },
        },
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "Weather for a city",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
                "strict": None,
            },
        },
    ],
    "metadata": {"k": "v"},
    "usage": None,
    "temperature": None,
    "top_p": 1.0,
    "max_prompt_tokens": None,
    "max_completion_tokens": 256,
    "truncation_strategy": {"type": "last_messages", "last_messages": 10},
    "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
    "parallel_tool_calls": False,
    "response_format": {
        "type": "json_schema",
        "json_schema": {"name": "w", "schema": {"type": "object"}, "strict": True},
    },
}

MESSAGE: dict[str, Any] = {
    "id": "msg_1",
    "object": "thread.message",
    "created_at": 1,
    "thread_id": "thread_1",
    "status": "incomplete",
    "incomplete_details": {"reason": "max_tokens"},
    "completed_at": None,
    "incomplete_at": 5,
    "role": "assistant",
    "content": [
        {
            "type": "text",
            "text": {
                "value": "See [1] and sandbox:/a.csv",
                "annotations": [
                    {
                        "type": "file_citation",
                        "text": "[1]",
                        "file_citation": {"file_id": "file_1"},
                        "start_index": 4,
                        "end_index": 7,
                    },
                    {
                        "type": "file_path",
                        "text": "sandbox:/a.csv",
                        "file_path": {"file_id": "file_2"},
                        "start_index": 12,
                        "end_index": 26,
                    },
                ],
            },
        },
        {"type": "image_file", "image_file": {"file_id": "file_3", "detail": "high"}},
        {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}},
        {"type": "refusal", "refusal": "I cannot do that."},
    ],
    "assistant_id": "asst_1",
    "run_id": "run_1",
    "attachments": [
        {"file_id": "file_4", "tools": [{"type": "code_interpreter"}, {"type": "file_search"}]}
    ],
    "metadata": None,
}

STEP: dict[str, Any] = {
    "id": "step_1",
    "object": "thread.run.step",
    "created_at": 1,
    "assistant_id": "asst_1",
    "thread_id": "thread_1",
    "run_id": "run_1",
    "type": "tool_calls",
    "status": "completed",
    "step_details": {
        "type": "tool_calls",
        "tool_calls": [
            {
                "id": "call_ci",
                "type": "code_interpreter",
                "code_interpreter": {
                    "input": "print(1)",
                    "outputs": [
                        {"type": "logs", "logs": "1\n"},
                        {"type": "image", "image": {"file_id": "file_img"}},
                    ],
                },
            },
            {
                "id": "call_fs",
                "type": "file_search",
                "file_search": {
                    "ranking_options": {"ranker": "default_2024_08_21", "score_threshold": 0.0},
                    "results": [
                        {
                            "file_id": "file_1",
                            "file_name": "a.pdf",
                            "score": 0.7,
                            "content": [{"type": "text", "text": "quoted"}],
                        }
                    ],
                },
            },
            {
                "id": "call_fn",
                "type": "function",
                "function": {"name": "f", "arguments": "{}", "output": None},
            },
        ],
    },
    "last_error": {"code": "server_error", "message": "boom"},
    "expired_at": None,
    "cancelled_at": None,
    "failed_at": None,
    "completed_at": 3,
    "metadata": {},
    "usage": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3},
}


# --------------------------------------------------------------------------- full objects


def test_run_payload_validates_into_typed_parts() -> None:
    run = Run.model_validate(RUN)
    assert run.required_action is not None
    call = run.required_action.submit_tool_outputs.tool_calls[0]
    assert (call.id, call.function.name) == ("call_1", "get_weather")
    assert [type(tool) for tool in run.tools] == [
        t.CodeInterpreterTool,
        t.FileSearchTool,
        t.FunctionTool,
    ]
    file_search = run.tools[1]
    assert isinstance(file_search, t.FileSearchTool) and file_search.file_search is not None
    assert file_search.file_search.ranking_options is not None
    assert file_search.file_search.ranking_options.score_threshold == 0.5
    assert isinstance(run.tool_choice, t.AssistantToolChoice)
    assert run.tool_choice.function is not None and run.tool_choice.function.name == "get_weather"
    assert isinstance(run.truncation_strategy, t.TruncationStrategy)
    assert run.truncation_strategy.last_messages == 10
    assert isinstance(run.response_format, t.ResponseFormatJSONSchema)
    assert run.response_format.json_schema.schema_ == {"type": "object"}
    assert run.parallel_tool_calls is False
    assert roundtrip(run) == RUN


def test_message_payload_validates_every_content_and_annotation_type() -> None:
    message = Message.model_validate(MESSAGE)
    expected: list[type] = [
        t.TextContentBlock,
        t.ImageFileContentBlock,
        t.ImageURLContentBlock,
        t.RefusalContentBlock,
    ]
    assert [type(block) for block in message.content] == expected
    text = message.content[0]
    assert isinstance(text, t.TextContentBlock)
    citation, path = text.text.annotations
    assert isinstance(citation, t.FileCitationAnnotation)
    assert citation.file_citation.file_id == "file_1"
    assert isinstance(path, t.FilePathAnnotation) and path.file_path.file_id == "file_2"
    assert message.incomplete_details is not None
    assert message.incomplete_details.reason == "max_tokens"
    assert message.attachments is not None and message.attachments[0].tools is not None
    assert [type(x) for x in message.attachments[0].tools] == [
        t.CodeInterpreterTool,
        t.FileSearchTool,
    ]
    assert roundtrip(message) == MESSAGE


def test_run_step_payload_validates_every_tool_call_and_output_type() -> None:
    step = RunStep.model_validate(STEP)
    details = step.step_details
    assert isinstance(details, t.ToolCallsStepDetails)
    ci, fs, fn = details.tool_calls
    assert isinstance(ci, t.CodeInterpreterToolCall)
    logs, image = ci.code_interpreter.outputs
    assert isinstance(logs, t.CodeInterpreterOutputLogs) and logs.logs == "1\n"
    assert isinstance(image, t.CodeInterpreterImageOutput) and image.image.file_id == "file_img"
    assert isinstance(fs, t.FileSearchToolCall)
    assert fs.file_search.ranking_options is not None
    assert fs.file_search.ranking_options.ranker == "default_2024_08_21"
    assert fs.file_search.results is not None
    assert fs.file_search.results[0].content is not None
    assert fs.file_search.results[0].content[0].text == "quoted"
    assert isinstance(fn, t.FunctionToolCall) and fn.function.output is None
    assert step.last_error is not None and step.last_error.code == "server_error"
    assert step.usage is not None and step.usage.total_tokens == 3
    assert roundtrip(step) == STEP


def test_message_creation_step_details() -> None:
    step = RunStep.model_validate(
        {
            **STEP,
            "type": "message_creation",
            "step_details": {"type": "message_creation", "message_creation": {"message_id": "m"}},
        }
    )
    assert isinstance(step.step_details, t.MessageCreationStepDetails)
    assert step.step_details.message_creation.message_id == "m"


def test_assistant_thread_and_deleted_objects() -> None:
    assistant = t.Assistant.model_validate(
        {
            "id": "asst_1",
            "object": "assistant",
            "created_at": 1,
            "name": None,
            "description": None,
            "model": "gpt-4o",
            "instructions": None,
            "tools": [],
            "tool_resources": {
                "code_interpreter": {"file_ids": ["f"]},
                "file_search": {"vector_store_ids": ["vs"]},
            },
            "metadata": {},
            "temperature": None,
            "top_p": None,
            "response_format": "auto",
        }
    )
    assert assistant.response_format == "auto"
    assert assistant.tool_resources is not None
    assert assistant.tool_resources.file_search is not None
    assert assistant.tool_resources.file_search.vector_store_ids == ["vs"]
    thread = t.Thread.model_validate(
        {"id": "th", "object": "thread", "created_at": 1, "tool_resources": None, "metadata": None}
    )
    assert thread.metadata is None and thread.tool_resources is None
    deleted_cases: list[tuple[type[Any], str]] = [
        (t.AssistantDeleted, "assistant.deleted"),
        (t.ThreadDeleted, "thread.deleted"),
        (t.MessageDeleted, "thread.message.deleted"),
    ]
    for cls, obj in deleted_cases:
        deleted = cls.model_validate({"id": "x", "object": obj, "deleted": True})
        assert deleted.deleted is True
        with pytest.raises(ValidationError):
            cls.model_validate({"id": "x", "object": "something.else", "deleted": True})


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("auto", str),
        ({"type": "text"}, t.ResponseFormatText),
        ({"type": "json_object"}, t.ResponseFormatJSONObject),
        ({"type": "json_schema", "json_schema": {"name": "n"}}, t.ResponseFormatJSONSchema),
        ({"type": "grammar", "grammar": "x"}, t.UnknownResponseFormat),
        (None, type(None)),
    ],
)
def test_response_format_union(value: Any, expected: type) -> None:
    run = Run.model_validate({**RUN, "response_format": value})
    assert type(run.response_format) is expected
    assert roundtrip(run)["response_format"] == value


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("none", str),
        ("auto", str),
        ("required", str),
        ("any", str),  # a string a newer server might add is kept, not rejected
        ({"type": "file_search"}, t.AssistantToolChoice),
        ({"type": "function", "function": {"name": "f"}}, t.AssistantToolChoice),
        (None, type(None)),
    ],
)
def test_tool_choice_union(value: Any, expected: type) -> None:
    run = Run.model_validate({**RUN, "tool_choice": value})
    assert type(run.tool_choice) is expected
    assert roundtrip(run)["tool_choice"] == value


def test_json_schema_field_dumps_under_its_wire_name() -> None:
    fmt = t.ResponseFormatJSONSchema.model_validate(
        {"type": "json_schema", "json_schema": {"name": "n", "schema": {"a": 1}}}
    )
    assert fmt.json_schema.schema_ == {"a": 1}
    assert fmt.model_dump()["json_schema"]["schema"] == {"a": 1}
    built = t.JSONSchema(name="n", schema_={"b": 2})
    assert built.model_dump(exclude_unset=True) == {"name": "n", "schema": {"b": 2}}


# --------------------------------------------------------------------------- leniency


def test_nullable_fields_accept_null() -> None:
    nulls = {
        key: None
        for key in [
            "required_action",
            "last_error",
            "expires_at",
            "started_at",
            "cancelled_at",
            "failed_at",
            "completed_at",
            "incomplete_details",
            "usage",
            "temperature",
            "top_p",
            "max_prompt_tokens",
            "max_completion_tokens",
            "truncation_strategy",
            "tool_choice",
            "response_format",
            "metadata",
            "instructions",
        ]
    }
    run = Run.model_validate({**RUN, **nulls})
    for key in nulls:
        assert getattr(run, key) is None, key
    message = Message.model_validate(
        {
            **MESSAGE,
            **{
                k: None
                for k in [
                    "incomplete_details",
                    "completed_at",
                    "incomplete_at",
                    "assistant_id",
                    "run_id",
                    "attachments",
                    "metadata",
                ]
            },
        }
    )
    assert message.attachments is None and message.run_id is None
    fn = {"id": "c", "type": "function", "function": {"name": "f", "arguments": "", "output": None}}
    assert t.FunctionToolCall.model_validate(fn).function.output is None


def test_unknown_fields_are_kept_and_dumped() -> None:
    run = Run.model_validate({**RUN, "reasoning_effort": "low", "brand_new": {"x": [1, 2]}})
    assert run.model_extra == {"reasoning_effort": "low", "brand_new": {"x": [1, 2]}}
    assert roundtrip(run)["brand_new"] == {"x": [1, 2]}
    usage = t.Usage.model_validate(
        {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2, "prompt_token_details": {}}
    )
    assert usage.model_extra == {"prompt_token_details": {}}


@pytest.mark.parametrize("ranker", ["auto", "default_2024_08_21", "default-2024-08-21", "new"])
def test_file_search_ranker_accepts_any_string(ranker: str) -> None:
    options = t.FileSearchCallRankingOptions.model_validate(
        {"ranker": ranker, "score_threshold": 0.0}
    )
    assert options.ranker == ranker


def test_enum_like_strings_extended_by_servers_are_accepted() -> None:
    run = Run.model_validate(
        {**RUN, "status": "paused", "last_error": {"code": "quota", "message": "m"}}
    )
    assert run.status == "paused"
    assert run.last_error is not None and run.last_error.code == "quota"
    step = RunStep.model_validate({**STEP, "status": "skipped", "type": "reasoning"})
    assert (step.status, step.type) == ("skipped", "reasoning")


def test_message_validates_without_fields_older_servers_omit() -> None:
    minimal = {
        "id": "msg_1",
        "object": "thread.message",
        "created_at": 1,
        "thread_id": "thread_1",
        "role": "user",
        "content": [],
    }
    message = Message.model_validate(minimal)
    assert message.status is None and message.metadata is None
    assert roundtrip(message) == minimal


def test_wrong_object_and_missing_required_fields_still_fail() -> None:
    with pytest.raises(ValidationError):
        Run.model_validate({**RUN, "object": "thread.message"})
    with pytest.raises(ValidationError):
        Run.model_validate({k: v for k, v in RUN.items() if k != "id"})
    with pytest.raises(ValidationError):  # known type, malformed body: not "unknown"
        Message.model_validate({**MESSAGE, "content": [{"type": "text", "text": 3}]})


# --------------------------------------------------------------------------- Unknown* fallbacks

UNKNOWN_CASES: list[tuple[str, Any, dict[str, Any], type[BaseModel]]] = [
    # (label, container model, payload with an unknown tagged member, expected member class)
    (
        "content block",
        Message,
        {**MESSAGE, "content": [{"type": "audio", "audio": {"id": "a"}}]},
        t.UnknownContentBlock,
    ),
    (
        "annotation",
        Message,
        {
            **MESSAGE,
            "content": [
                {
                    "type": "text",
                    "text": {"value": "x", "annotations": [{"type": "url_citation", "url": "u"}]},
                }
            ],
        },
        t.UnknownAnnotation,
    ),
    ("tool", Run, {**RUN, "tools": [{"type": "web_search", "web_search": {}}]}, t.UnknownTool),
    (
        "attachment tool",
        Message,
        {**MESSAGE, "attachments": [{"file_id": "f", "tools": [{"type": "x", "x": {}}]}]},
        t.UnknownTool,
    ),
    (
        "response format",
        Run,
        {**RUN, "response_format": {"type": "grammar", "g": "x"}},
        t.UnknownResponseFormat,
    ),
    (
        "step details",
        RunStep,
        {**STEP, "step_details": {"type": "reasoning", "summary": "s"}},
        t.UnknownStepDetails,
    ),
    (
        "tool call",
        RunStep,
        {
            **STEP,
            "step_details": {
                "type": "tool_calls",
                "tool_calls": [{"id": "c", "type": "mcp", "mcp": {"server": "s"}}],
            },
        },
        t.UnknownToolCall,
    ),
    (
        "code interpreter output",
        RunStep,
        {
            **STEP,
            "step_details": {
                "type": "tool_calls",
                "tool_calls": [
                    {
                        "id": "c",
                        "type": "code_interpreter",
                        "code_interpreter": {
                            "input": "",
                            "outputs": [{"type": "chart", "chart": {"id": 1}}],
                        },
                    }
                ],
            },
        },
        t.UnknownCodeInterpreterOutput,
    ),
    (
        "content delta",
        MessageDeltaEvent,
        {
            "id": "m",
            "object": "thread.message.delta",
            "delta": {"content": [{"index": 0, "type": "audio", "audio": {"b": "..."}}]},
        },
        t.UnknownContentDeltaBlock,
    ),
    (
        "annotation delta",
        MessageDeltaEvent,
        {
            "id": "m",
            "object": "thread.message.delta",
            "delta": {
                "content": [
                    {
                        "index": 0,
                        "type": "text",
                        "text": {"annotations": [{"index": 0, "type": "url_citation", "url": "u"}]},
                    }
                ]
            },
        },
        t.UnknownAnnotationDelta,
    ),
    (
        "step details delta",
        RunStepDeltaEvent,
        {
            "id": "s",
            "object": "thread.run.step.delta",
            "delta": {"step_details": {"type": "reasoning", "x": 1}},
        },
        t.UnknownStepDetailsDelta,
    ),
    (
        "tool call delta",
        RunStepDeltaEvent,
        {
            "id": "s",
            "object": "thread.run.step.delta",
            "delta": {
                "step_details": {
                    "type": "tool_calls",
                    "tool_calls": [{"index": 1, "type": "mcp", "mcp": {"a": 1}}],
                }
            },
        },
        t.UnknownToolCallDelta,
    ),
    (
        "code interpreter output delta",
        RunStepDeltaEvent,
        {
            "id": "s",
            "object": "thread.run.step.delta",
            "delta": {
                "step_details": {
                    "type": "tool_calls",
                    "tool_calls": [
                        {
                            "index": 0,
                            "type": "code_interpreter",
                            "code_interpreter": {
                                "outputs": [{"index": 0, "type": "chart", "c": 1}]
                            },
                        }
                    ],
                }
            },
        },
        t.UnknownCodeInterpreterOutputDelta,
    ),
]


def _instances(value: Any) -> list[BaseModel]:
    found: list[BaseModel] = []
    if isinstance(value, BaseModel):
        found.append(value)
        for name in type(value).model_fields:
            found.extend(_instances(getattr(value, name)))
    elif isinstance(value, list):
        for item in value:
            found.extend(_instances(item))
    return found


@pytest.mark.parametrize(
    ("container", "payload", "expected"),
    [case[1:] for case in UNKNOWN_CASES],
    ids=[case[0] for case in UNKNOWN_CASES],
)
def test_unknown_tag_becomes_unknown_model_keeping_data(
    container: type[BaseModel], payload: dict[str, Any], expected: type[BaseModel]
) -> None:
    model = container.model_validate(payload)
    unknown = [m for m in _instances(model) if type(m) is expected]
    assert len(unknown) == 1
    assert unknown[0].model_extra  # the member's own data is kept, not dropped
    # Serialising an Unknown* member through the discriminated union must neither fail nor
    # warn (filterwarnings=error would turn a serializer warning into a failure).
    assert roundtrip(model) == payload
    assert container.model_validate_json(model.model_dump_json(exclude_unset=True)) == model


JSON_LEAF = st.none() | st.booleans() | st.integers() | st.text(max_size=10)
JSON = st.recursive(
    JSON_LEAF,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=8,
)
KNOWN_CONTENT_TYPES = {"text", "image_file", "image_url", "refusal"}


@settings(max_examples=75, deadline=None)
@given(
    tag=st.text(min_size=1, max_size=20).filter(lambda s: s not in KNOWN_CONTENT_TYPES),
    extra=st.dictionaries(
        st.text(min_size=1, max_size=8).filter(lambda s: s not in {"type", "index"}), JSON
    ),
)
def test_any_unknown_content_type_round_trips(tag: str, extra: dict[str, Any]) -> None:
    block = {"type": tag, **extra}
    message = Message.model_validate({**MESSAGE, "content": [block]})
    assert isinstance(message.content[0], t.UnknownContentBlock)
    assert roundtrip(message)["content"] == [block]
    delta = MessageDeltaEvent.model_validate(
        {"id": "m", "object": "thread.message.delta", "delta": {"content": [{"index": 2, **block}]}}
    )
    assert delta.delta.content is not None
    assert isinstance(delta.delta.content[0], t.UnknownContentDeltaBlock)
    assert delta.delta.content[0].index == 2


@settings(max_examples=75, deadline=None)
@given(extra=st.dictionaries(st.from_regex(r"x_[a-z]{1,8}", fullmatch=True), JSON, max_size=4))
def test_any_extra_fields_round_trip_on_a_run(extra: dict[str, Any]) -> None:
    payload = {**RUN, **extra}
    run = Run.model_validate_json(json.dumps(payload))
    assert run.model_extra == extra
    assert roundtrip(run) == payload


# --------------------------------------------------------------------------- deltas

HOT_MODELS = [
    t.MessageDeltaEvent,
    t.MessageDelta,
    t.TextDeltaBlock,
    t.TextDelta,
    t.ImageFileDeltaBlock,
    t.ImageURLDeltaBlock,
    t.RefusalDeltaBlock,
    t.FileCitationDeltaAnnotation,
    t.FilePathDeltaAnnotation,
    t.RunStepDeltaEvent,
    t.RunStepDelta,
    t.ToolCallDeltaObject,
    t.FunctionToolCallDelta,
    t.CodeInterpreterToolCallDelta,
    t.FileSearchToolCallDelta,
    t.CodeInterpreterLogs,
    t.CodeInterpreterOutputImage,
]


@pytest.mark.parametrize("model", HOT_MODELS, ids=lambda m: m.__name__)
def test_hot_delta_models_have_no_python_validators(model: type[BaseModel]) -> None:
    decorators = model.__pydantic_decorators__
    assert not decorators.validators
    assert not decorators.field_validators
    assert not decorators.model_validators
    assert not decorators.computed_fields


def test_message_delta_of_every_kind() -> None:
    event = MessageDeltaEvent.model_validate_json(
        json.dumps(
            {
                "id": "msg_1",
                "object": "thread.message.delta",
                "delta": {
                    "role": "assistant",
                    "content": [
                        {
                            "index": 0,
                            "type": "text",
                            "text": {
                                "value": "Hi",
                                "annotations": [
                                    {
                                        "index": 0,
                                        "type": "file_citation",
                                        "text": "[1]",
                                        "file_citation": {"file_id": "f", "quote": "q"},
                                        "start_index": 0,
                                        "end_index": 3,
                                    },
                                    {"index": 1, "type": "file_path", "file_path": {}},
                                ],
                            },
                        },
                        {"index": 1, "type": "image_file", "image_file": {"file_id": "f"}},
                        {"index": 2, "type": "image_url", "image_url": {"url": "u"}},
                        {"index": 3, "type": "refusal", "refusal": "no"},
                    ],
                },
            }
        )
    )
    content = event.delta.content
    assert content is not None
    assert [type(c) for c in content] == [
        t.TextDeltaBlock,
        t.ImageFileDeltaBlock,
        t.ImageURLDeltaBlock,
        t.RefusalDeltaBlock,
    ]
    text = content[0]
    assert isinstance(text, t.TextDeltaBlock) and text.text is not None
    assert text.text.annotations is not None
    citation, path = text.text.annotations
    assert isinstance(citation, t.FileCitationDeltaAnnotation)
    assert citation.file_citation is not None and citation.file_citation.quote == "q"
    assert isinstance(path, t.FilePathDeltaAnnotation) and path.file_path is not None


def test_run_step_delta_of_every_kind() -> None:
    event = RunStepDeltaEvent.model_validate(
        {
            "id": "step_1",
            "object": "thread.run.step.delta",
            "delta": {
                "step_details": {
                    "type": "tool_calls",
                    "tool_calls": [
                        {
                            "index": 0,
                            "id": "c0",
                            "type": "code_interpreter",
                            "code_interpreter": {
                                "input": "pri",
                                "outputs": [
                                    {"index": 0, "type": "logs", "logs": "1"},
                                    {"index": 1, "type": "image", "image": {"file_id": "i"}},
                                ],
                            },
                        },
                        {"index": 1, "type": "file_search", "file_search": {}},
                        {"index": 2, "type": "function", "function": {"arguments": "{"}},
                    ],
                }
            },
        }
    )
    details = event.delta.step_details
    assert isinstance(details, t.ToolCallDeltaObject) and details.tool_calls is not None
    ci, fs, fn = details.tool_calls
    assert isinstance(ci, t.CodeInterpreterToolCallDelta) and ci.code_interpreter is not None
    assert ci.code_interpreter.outputs is not None
    assert [type(o) for o in ci.code_interpreter.outputs] == [
        t.CodeInterpreterLogs,
        t.CodeInterpreterOutputImage,
    ]
    assert isinstance(fs, t.FileSearchToolCallDelta)
    assert isinstance(fn, t.FunctionToolCallDelta) and fn.function is not None
    assert fn.function.arguments == "{" and fn.function.name is None
    message_creation = RunStepDeltaEvent.model_validate(
        {
            "id": "s",
            "object": "thread.run.step.delta",
            "delta": {"step_details": {"type": "message_creation", "message_creation": {}}},
        }
    )
    assert isinstance(message_creation.delta.step_details, t.RunStepDeltaMessageDelta)


# --------------------------------------------------------------------------- events

OPENAI_EVENT_CLASSES = {
    # openai.types.beta.assistant_stream_event (read, not copied): class name -> event name
    "ThreadCreated": "thread.created",
    "ThreadRunCreated": "thread.run.created",
    "ThreadRunQueued": "thread.run.queued",
    "ThreadRunInProgress": "thread.run.in_progress",
    "ThreadRunRequiresAction": "thread.run.requires_action",
    "ThreadRunCompleted": "thread.run.completed",
    "ThreadRunIncomplete": "thread.run.incomplete",
    "ThreadRunFailed": "thread.run.failed",
    "ThreadRunCancelling": "thread.run.cancelling",
    "ThreadRunCancelled": "thread.run.cancelled",
    "ThreadRunExpired": "thread.run.expired",
    "ThreadRunStepCreated": "thread.run.step.created",
    "ThreadRunStepInProgress": "thread.run.step.in_progress",
    "ThreadRunStepDelta": "thread.run.step.delta",
    "ThreadRunStepCompleted": "thread.run.step.completed",
    "ThreadRunStepFailed": "thread.run.step.failed",
    "ThreadRunStepCancelled": "thread.run.step.cancelled",
    "ThreadRunStepExpired": "thread.run.step.expired",
    "ThreadMessageCreated": "thread.message.created",
    "ThreadMessageInProgress": "thread.message.in_progress",
    "ThreadMessageDelta": "thread.message.delta",
    "ThreadMessageCompleted": "thread.message.completed",
    "ThreadMessageIncomplete": "thread.message.incomplete",
    "ErrorEvent": "error",
}


def test_event_models_use_openai_names_and_literal_event_names() -> None:
    for class_name, event_name in {**OPENAI_EVENT_CLASSES, "DoneEvent": "done"}.items():
        cls = getattr(t, class_name)
        assert EVENT_DATA_MODELS[event_name][0] is cls
        assert typing.get_args(cls.model_fields["event"].annotation) == (event_name,)
    assert set(EVENT_DATA_MODELS) == {*OPENAI_EVENT_CLASSES.values(), "done"}


@pytest.mark.parametrize("event_name", sorted(EVENT_DATA_MODELS))
def test_event_data_models_match_event_data_fields(event_name: str) -> None:
    event_cls, data_cls = EVENT_DATA_MODELS[event_name]
    annotation = event_cls.model_fields["data"].annotation
    if event_name == "done":
        assert data_cls is str and typing.get_args(annotation) == ("[DONE]",)
    else:
        assert annotation is data_cls


def test_stream_event_union_routes_by_event_name() -> None:
    created = EVENT_ADAPTER.validate_python({"event": "thread.run.created", "data": RUN})
    assert isinstance(created, t.ThreadRunCreated) and isinstance(created.data, Run)
    done = EVENT_ADAPTER.validate_python({"event": "done", "data": "[DONE]"})
    assert isinstance(done, t.DoneEvent)
    error = EVENT_ADAPTER.validate_python({"event": "error", "data": {}})
    assert isinstance(error, t.ErrorEvent)
    assert error.data == t.ErrorObject()
    full_error = t.ErrorObject.model_validate(
        {"code": None, "message": "m", "param": None, "type": "server_error"}
    )
    assert full_error.message == "m"
    unknown = EVENT_ADAPTER.validate_python({"event": "thread.run.paused", "data": {"x": 1}})
    assert isinstance(unknown, t.UnknownEvent)
    assert (unknown.event, unknown.data) == ("thread.run.paused", {"x": 1})
    # A known event name with the wrong data is an error, not an UnknownEvent.
    with pytest.raises(ValidationError):
        EVENT_ADAPTER.validate_python({"event": "thread.run.created", "data": {"id": 1}})
    # Serialising the union (e.g. for a proxy) picks the right member.
    assert EVENT_ADAPTER.dump_python(unknown) == {"event": "thread.run.paused", "data": {"x": 1}}


def test_thread_created_keeps_its_enabled_flag() -> None:
    event = t.ThreadCreated.model_validate(
        {
            "event": "thread.created",
            "enabled": False,
            "data": {"id": "t", "object": "thread", "created_at": 1},
        }
    )
    assert event.enabled is False


# --------------------------------------------------------------------------- recorded streams


def test_recorded_streams_validate_and_round_trip(shared_dir: Path) -> None:
    seen: set[str] = set()
    for path in recorded_streams(shared_dir):
        events = parse_sse(path.read_text(encoding="utf-8"))
        expected = json.loads(path.with_suffix(".expected.json").read_text(encoding="utf-8"))
        # the tiny parser also keeps a final block that lacks its blank line; that is all
        assert len(events) - expected["event_count"] in (0, 1), path.name
        for name, data in events:
            seen.add(name)
            event_cls, data_cls = EVENT_DATA_MODELS[name]
            if name == "done":
                event = EVENT_ADAPTER.validate_python({"event": name, "data": data})
                assert isinstance(event, t.DoneEvent)
                continue
            payload = data_cls.model_validate_json(data)
            event = EVENT_ADAPTER.validate_python({"event": name, "data": payload})
            assert type(event) is event_cls, (path.name, name)
            # The event model wraps the already-validated data without re-validating it.
            assert event_cls(event=name, data=payload).data is payload
            assert roundtrip(payload) == json.loads(data), (path.name, name)
            assert not any(type(m).__name__.startswith("Unknown") for m in _instances(payload)), (
                path.name,
                name,
            )
    assert {"thread.message.delta", "thread.run.step.delta", "done", "thread.created"} <= seen


def test_recorded_file_search_ranker_outside_the_spec_enum(shared_dir: Path) -> None:
    path = shared_dir / "recorded-streams" / "simple-openai_threads_runssteps_delta.sse"
    rankers = []
    for name, data in parse_sse(path.read_text(encoding="utf-8")):
        if name == "thread.run.step.delta":
            delta = RunStepDeltaEvent.model_validate_json(data)
            details = delta.delta.step_details
            assert isinstance(details, t.ToolCallDeltaObject) and details.tool_calls
            call = details.tool_calls[0]
            assert isinstance(call, t.FileSearchToolCallDelta) and call.file_search is not None
            assert call.file_search.ranking_options is not None
            rankers.append(call.file_search.ranking_options.ranker)
    assert rankers == ["auto", "default_2024_08_21", "default-2024-08-21"]


def test_recorded_run_step_keeps_undocumented_expires_at(shared_dir: Path) -> None:
    path = shared_dir / "recorded-streams" / "simple-openai_threads_runssteps_delta.sse"
    steps = [
        RunStep.model_validate_json(data)
        for name, data in parse_sse(path.read_text(encoding="utf-8"))
        if name == "thread.run.step.completed"
    ]
    assert steps and all(step.expires_at == 1741223551 for step in steps)
    assert all(step.expired_at is None for step in steps)


# --------------------------------------------------------------------------- public surface


def test_all_is_complete_and_importable() -> None:
    # ruff's RUF022 keeps __all__ sorted.
    assert len(set(t.__all__)) == len(t.__all__)
    for name in t.__all__:
        assert hasattr(t, name), name
    modules = [
        "assistant",
        "events",
        "message",
        "message_delta",
        "run",
        "run_step",
        "run_step_delta",
        "shared",
        "thread",
        "tools",
    ]
    for module_name in modules:
        module = __import__(f"assistants_async.types.{module_name}", fromlist=["__all__"])
        assert set(module.__all__) <= set(t.__all__), module_name


def test_unknown_models_exist_for_every_discriminated_union() -> None:
    unknown = {name for name in t.__all__ if re.fullmatch(r"Unknown\w+", name)}
    assert unknown >= {
        "UnknownAnnotation",
        "UnknownAnnotationDelta",
        "UnknownCodeInterpreterOutput",
        "UnknownCodeInterpreterOutputDelta",
        "UnknownContentBlock",
        "UnknownContentDeltaBlock",
        "UnknownEvent",
        "UnknownResponseFormat",
        "UnknownStepDetails",
        "UnknownStepDetailsDelta",
        "UnknownTool",
        "UnknownToolCall",
        "UnknownToolCallDelta",
    }
