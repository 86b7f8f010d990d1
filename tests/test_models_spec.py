"""Walk the OpenAPI spec's component schemas and check our models cover them.

For every schema the spec defines for a response object (and, recursively, every nested
object, union branch and array item) this fails when a spec property has no field in our
model, when a spec ``enum`` value is rejected by our type, or when a nullable field rejects
null. Unions are matched branch by branch on their ``type``/``event`` tag. A schema added to
the spec without a mapping here fails ``test_every_spec_schema_is_mapped_or_excluded``.
"""

from __future__ import annotations

import functools
import importlib
import json
import types
import typing
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel, TypeAdapter, ValidationError, create_model

import assistants_async.types as t
from assistants_async.types._base import APIModel

Schema = dict[str, Any]

# Spec schema name -> our type (a model class or a type alias).
MAPPING: dict[str, Any] = {
    # objects
    "AssistantObject": t.Assistant,
    "ThreadObject": t.Thread,
    "MessageObject": t.Message,
    "RunObject": t.Run,
    "RunStepObject": t.RunStep,
    "DeleteAssistantResponse": t.AssistantDeleted,
    "DeleteMessageResponse": t.MessageDeleted,
    "DeleteThreadResponse": t.ThreadDeleted,
    "MessageDeltaObject": t.MessageDeltaEvent,
    "RunStepDeltaObject": t.RunStepDeltaEvent,
    "Error": t.ErrorObject,
    # message content and annotations
    "MessageContentImageFileObject": t.ImageFileContentBlock,
    "MessageContentImageUrlObject": t.ImageURLContentBlock,
    "MessageContentRefusalObject": t.RefusalContentBlock,
    "MessageContentTextObject": t.TextContentBlock,
    "MessageContentTextAnnotationsFileCitationObject": t.FileCitationAnnotation,
    "MessageContentTextAnnotationsFilePathObject": t.FilePathAnnotation,
    "MessageDeltaContentImageFileObject": t.ImageFileDeltaBlock,
    "MessageDeltaContentImageUrlObject": t.ImageURLDeltaBlock,
    "MessageDeltaContentRefusalObject": t.RefusalDeltaBlock,
    "MessageDeltaContentTextObject": t.TextDeltaBlock,
    "MessageDeltaContentTextAnnotationsFileCitationObject": t.FileCitationDeltaAnnotation,
    "MessageDeltaContentTextAnnotationsFilePathObject": t.FilePathDeltaAnnotation,
    # run step details and tool calls
    "RunStepDetailsMessageCreationObject": t.MessageCreationStepDetails,
    "RunStepDetailsToolCallsObject": t.ToolCallsStepDetails,
    "RunStepDetailsToolCallsCodeObject": t.CodeInterpreterToolCall,
    "RunStepDetailsToolCallsCodeOutputImageObject": t.CodeInterpreterImageOutput,
    "RunStepDetailsToolCallsCodeOutputLogsObject": t.CodeInterpreterOutputLogs,
    "RunStepDetailsToolCallsFileSearchObject": t.FileSearchToolCall,
    "RunStepDetailsToolCallsFileSearchRankingOptionsObject": t.FileSearchCallRankingOptions,
    "RunStepDetailsToolCallsFileSearchResultObject": t.FileSearchResult,
    "RunStepDetailsToolCallsFunctionObject": t.FunctionToolCall,
    "RunStepDeltaStepDetailsMessageCreationObject": t.RunStepDeltaMessageDelta,
    "RunStepDeltaStepDetailsToolCallsObject": t.ToolCallDeltaObject,
    "RunStepDeltaStepDetailsToolCallsCodeObject": t.CodeInterpreterToolCallDelta,
    "RunStepDeltaStepDetailsToolCallsCodeOutputImageObject": t.CodeInterpreterOutputImage,
    "RunStepDeltaStepDetailsToolCallsCodeOutputLogsObject": t.CodeInterpreterLogs,
    "RunStepDeltaStepDetailsToolCallsFileSearchObject": t.FileSearchToolCallDelta,
    "RunStepDeltaStepDetailsToolCallsFunctionObject": t.FunctionToolCallDelta,
    "RunToolCallObject": t.RequiredActionFunctionToolCall,
    # tools, tool choice, response formats, small shared shapes
    "AssistantToolsCode": t.CodeInterpreterTool,
    "AssistantToolsFileSearch": t.FileSearchTool,
    "AssistantToolsFileSearchTypeOnly": t.FileSearchTool,
    "AssistantToolsFunction": t.FunctionTool,
    "FunctionObject": t.FunctionDefinition,
    "FunctionParameters": dict[str, Any],
    "FileSearchRankingOptions": t.FileSearchRankingOptions,
    "FileSearchRanker": t.FileSearchRanker,
    "AssistantsNamedToolChoice": t.AssistantToolChoice,
    "AssistantsApiToolChoiceOption": t.AssistantToolChoiceOption,
    "AssistantsApiResponseFormatOption": t.AssistantResponseFormatOption,
    "ResponseFormatText": t.ResponseFormatText,
    "ResponseFormatJsonObject": t.ResponseFormatJSONObject,
    "ResponseFormatJsonSchema": t.ResponseFormatJSONSchema,
    "ResponseFormatJsonSchemaSchema": dict[str, Any],
    "RunCompletionUsage": t.Usage | None,
    "RunStepCompletionUsage": t.Usage | None,
    "TruncationObject": t.TruncationStrategy,
    "Metadata": t.Metadata,
    "ParallelToolCalls": bool,
    # stream events
    "AssistantStreamEvent": t.AssistantStreamEvent,
    "ThreadStreamEvent": t.AssistantStreamEvent,
    "RunStreamEvent": t.AssistantStreamEvent,
    "RunStepStreamEvent": t.AssistantStreamEvent,
    "MessageStreamEvent": t.AssistantStreamEvent,
    "ErrorEvent": t.ErrorEvent,
    "DoneEvent": t.DoneEvent,
}

# List responses map to the generic cursor page of assistants_async/_pagination.py.
LIST_MAPPING: dict[str, Any] = {
    "ListAssistantsResponse": t.Assistant,
    "ListMessagesResponse": t.Message,
    "ListRunsResponse": t.Run,
    "ListRunStepsResponse": t.RunStep,
}

# Request bodies and other shapes that are not response objects.
EXCLUDED = {
    "AssistantSupportedModels",  # a model-name enum for requests; `model` is a plain str
    "CreateAssistantRequest",
    "CreateMessageRequest",
    "CreateRunRequest",
    "CreateThreadAndRunRequest",
    "CreateThreadRequest",
    "ErrorResponse",  # the HTTP error envelope, parsed by the client's error mapping
    "MessageRequestContentTextObject",
    "ModifyAssistantRequest",
    "ModifyMessageRequest",
    "ModifyRunRequest",
    "ModifyThreadRequest",
    "ReasoningEffort",  # request-only here; a Run echoes it as a kept extra field
    "SubmitToolOutputsRunRequest",
}


# --------------------------------------------------------------------------- spec access


@pytest.fixture(scope="module")
def spec(shared_dir: Path) -> Schema:
    path = shared_dir / "openai-openapi" / "openapi.assistants.yaml"
    with path.open(encoding="utf-8") as fh:
        loaded: Schema = yaml.safe_load(fh)
    return loaded


class Walker:
    def __init__(self, spec: Schema) -> None:
        self.schemas: dict[str, Schema] = spec["components"]["schemas"]
        self.errors: list[str] = []
        self.visited: set[str] = set()
        self.checked_properties = 0
        self.checked_enum_values = 0

    # -- schema normalisation

    def resolve(self, node: Schema) -> Schema:
        while "$ref" in node:
            name = node["$ref"].rsplit("/", 1)[-1]
            self.visited.add(name)
            rest = {k: v for k, v in node.items() if k != "$ref"}
            node = {**self.schemas[name], **rest}
        return node

    def normalize(self, node: Schema) -> tuple[Schema, bool]:
        """Resolve refs, merge allOf, strip null branches; returns (schema, nullable)."""
        node = self.resolve(node)
        nullable = bool(node.get("nullable")) or node.get("type") == "null"
        if "allOf" in node:
            merged: Schema = {k: v for k, v in node.items() if k != "allOf"}
            for part in node["allOf"]:
                sub, sub_nullable = self.normalize(part)
                nullable |= sub_nullable
                props = {**merged.get("properties", {}), **sub.get("properties", {})}
                merged = {**sub, **merged}
                if props:
                    merged["properties"] = props
            node = merged
        for key in ("anyOf", "oneOf"):
            if key not in node:
                continue
            branches = [self.resolve(b) for b in node[key]]
            real = [b for b in branches if b.get("type") != "null"]
            nullable |= len(real) < len(branches)
            rest = {k: v for k, v in node.items() if k != key}
            if len(real) == 1:
                sub, sub_nullable = self.normalize(real[0])
                node = {**rest, **sub}
                nullable |= sub_nullable
            else:
                node = {**rest, key: real}
        return node, nullable

    # -- checks

    def fail(self, path: str, message: str) -> None:
        self.errors.append(f"{path}: {message}")

    def check(self, node: Schema, tp: Any, path: str) -> None:
        node, nullable = self.normalize(node)
        if nullable and not accepts(tp, None):
            self.fail(path, f"spec allows null, {show(tp)} rejects it")
        branches = node.get("oneOf") or node.get("anyOf")
        if branches:
            self.check_union(branches, tp, path)
            return
        if "enum" in node:
            for value in node["enum"]:
                self.checked_enum_values += 1
                if not accepts(tp, value):
                    self.fail(path, f"enum value {value!r} rejected by {show(tp)}")
        kind = node.get("type")
        if kind == "array":
            item = list_item(tp)
            if item is None:
                self.fail(path, f"spec has an array, we have {show(tp)}")
            elif "items" in node:
                self.check(node["items"], item, f"{path}[]")
        elif kind == "object" or "properties" in node:
            self.check_object(node, tp, path)

    def check_object(self, node: Schema, tp: Any, path: str) -> None:
        props: Schema = node.get("properties", {})
        if not props:  # a free-form map (metadata, JSON schema, "always empty" objects)
            sample = {"key": "value"} if node.get("additionalProperties") else {}
            if not accepts(tp, sample):
                self.fail(path, f"map {sample} rejected by {show(tp)}")
            return
        candidates = model_classes(tp)
        tag = discriminator(node)
        if len(candidates) > 1 and tag is not None:  # a one-branch union collapsed by normalize
            member = find_member(tp, *tag)
            candidates = [member] if member is not None else []
        if len(candidates) > 1:
            candidates = [c for c in candidates if not c.__name__.startswith("Unknown")]
        if len(candidates) != 1:
            self.fail(path, f"expected one model for an object, found {show(tp)}")
            return
        model = candidates[0]
        fields = {f.alias or name: f for name, f in model.model_fields.items()}
        for name, sub in props.items():
            self.checked_properties += 1
            field = fields.get(name)
            if field is None:
                self.fail(f"{path}.{name}", f"missing from {model.__name__}")
                continue
            self.check(sub, field.annotation, f"{path}.{name}")

    def check_union(self, branches: list[Schema], tp: Any, path: str) -> None:
        for index, branch in enumerate(branches):
            branch, _ = self.normalize(branch)
            where = f"{path}|{branch.get('title', index)}"
            if "oneOf" in branch or "anyOf" in branch:
                self.check(branch, tp, where)  # a union of unions (stream event groups)
                continue
            tag = discriminator(branch)
            if tag is None:
                self.check(branch, tp, where)  # e.g. the string branch of "auto" | object
                continue
            key, value = tag
            member = find_member(tp, key, value)
            if member is None:
                self.fail(where, f"no member of {show(tp)} has {key}={value!r}")
            else:
                self.check(branch, member, f"{path}|{value}")


def discriminator(branch: Schema) -> tuple[str, str] | None:
    props = branch.get("properties", {})
    for key in ("event", "type"):
        enum = props.get(key, {}).get("enum")
        if enum:
            return key, enum[0]
    return None


# --------------------------------------------------------------------------- type helpers


def unwrap(tp: Any) -> list[Any]:
    """The members of a (possibly annotated, possibly nested) union, Annotated removed."""
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        return unwrap(typing.get_args(tp)[0])
    if origin is typing.Union or origin is types.UnionType:
        return [m for arg in typing.get_args(tp) for m in unwrap(arg)]
    return [tp]


def model_classes(tp: Any) -> list[type[BaseModel]]:
    return [m for m in unwrap(tp) if isinstance(m, type) and issubclass(m, BaseModel)]


def list_item(tp: Any) -> Any:
    for member in unwrap(tp):
        if typing.get_origin(member) is list:
            return typing.get_args(member)[0]
    return None


def literal_values(tp: Any) -> set[Any]:
    values: set[Any] = set()
    for member in unwrap(tp):
        if typing.get_origin(member) is typing.Literal:
            values.update(typing.get_args(member))
    return values


def find_member(tp: Any, key: str, value: str) -> type[BaseModel] | None:
    for cls in model_classes(tp):
        field = cls.model_fields.get(key)
        if field is not None and value in literal_values(field.annotation):
            return cls
    return None


@functools.cache
def _adapter(tp: Any) -> TypeAdapter[Any]:
    return TypeAdapter(tp)


def accepts(tp: Any, value: Any) -> bool:
    try:
        _adapter(tp).validate_python(value)
    except ValidationError:
        return False
    return True


def show(tp: Any) -> str:
    return getattr(tp, "__name__", None) or repr(tp)


# --------------------------------------------------------------------------- tests


@pytest.mark.parametrize("schema_name", sorted(MAPPING))
def test_spec_schema_is_covered_by_our_type(spec: Schema, schema_name: str) -> None:
    walker = Walker(spec)
    walker.check({"$ref": f"#/components/schemas/{schema_name}"}, MAPPING[schema_name], schema_name)
    assert walker.errors == []


def test_walk_reaches_every_property_and_enum(spec: Schema) -> None:
    walker = Walker(spec)
    for name in sorted(MAPPING):
        walker.check({"$ref": f"#/components/schemas/{name}"}, MAPPING[name], name)
    assert walker.errors == []
    # Guard against a walker that silently checks nothing.
    assert walker.checked_properties > 300
    assert walker.checked_enum_values > 100


def test_every_spec_schema_is_mapped_or_excluded(spec: Schema) -> None:
    walker = Walker(spec)
    for name in MAPPING:
        walker.check({"$ref": f"#/components/schemas/{name}"}, MAPPING[name], name)
    every = set(spec["components"]["schemas"])
    assert not (EXCLUDED & set(MAPPING))
    unmapped = every - set(MAPPING) - set(LIST_MAPPING) - EXCLUDED - walker.visited
    assert unmapped == set()
    assert set(MAPPING) <= every and set(LIST_MAPPING) <= every and EXCLUDED <= every


def test_spec_enums_are_accepted_by_our_literals(spec: Schema) -> None:
    schemas = spec["components"]["schemas"]
    run_statuses = schemas["RunObject"]["properties"]["status"]["enum"]
    assert len(run_statuses) == 9
    for status in run_statuses:
        assert t.Run.model_fields["status"].annotation is not None
        assert status in literal_values(t.RunStatus)
    step_statuses = schemas["RunStepObject"]["properties"]["status"]["enum"]
    assert set(step_statuses) == literal_values(t.RunStepStatus)
    message_statuses = schemas["MessageObject"]["properties"]["status"]["enum"]
    assert set(message_statuses) == literal_values(t.MessageStatus)
    assert set(schemas["FileSearchRanker"]["enum"]) == literal_values(t.FileSearchRanker)


def test_stream_event_names_match_the_spec(spec: Schema) -> None:
    walker = Walker(spec)
    names: set[str] = set()

    def collect(node: Schema) -> None:
        node, _ = walker.normalize(node)
        tag = discriminator(node)
        if tag is not None:  # a one-branch group, collapsed by normalize
            names.add(tag[1])
        for branch in node.get("oneOf", []):
            tag = discriminator(walker.resolve(branch))
            if tag is None:
                collect(branch)
            else:
                names.add(tag[1])

    collect({"$ref": "#/components/schemas/AssistantStreamEvent"})
    assert len(names) == 25
    assert names == set(t.EVENT_DATA_MODELS)


EXAMPLE_MODELS: dict[str, type[BaseModel]] = {
    "AssistantObject": t.Assistant,
    "RunObject": t.Run,
    "RunStepObject": t.RunStep,
    "MessageObject": t.Message,
    "ThreadObject": t.Thread,
    "MessageDeltaObject": t.MessageDeltaEvent,
    "RunStepDeltaObject": t.RunStepDeltaEvent,
}


@pytest.mark.parametrize("schema_name", sorted(EXAMPLE_MODELS))
def test_spec_examples_validate_and_round_trip(spec: Schema, schema_name: str) -> None:
    example = json.loads(spec["components"]["schemas"][schema_name]["x-oaiMeta"]["example"])
    model = EXAMPLE_MODELS[schema_name].model_validate(example)
    assert model.model_dump(mode="json", exclude_unset=True) == example


# --------------------------------------------------------------------------- list responses


@pytest.mark.parametrize("schema_name", sorted(LIST_MAPPING))
def test_list_responses_map_to_the_cursor_page(spec: Schema, schema_name: str) -> None:
    pagination = importlib.import_module("assistants_async._pagination")
    item = LIST_MAPPING[schema_name]
    page_type = pagination.AsyncCursorPage[item]
    assert isinstance(page_type, type) and issubclass(page_type, BaseModel)
    walker = Walker(spec)
    walker.check({"$ref": f"#/components/schemas/{schema_name}"}, page_type, schema_name)
    assert walker.errors == []
    assert list_item(page_type.model_fields["data"].annotation) is item


def test_walker_detects_missing_fields_rejected_enums_and_nulls(spec: Schema) -> None:
    """The walker itself must be able to fail: feed it a deliberately broken Run model."""
    fields: dict[str, Any] = {
        name: (field.annotation, field)
        for name, field in t.Run.model_fields.items()
        if name != "usage"
    }
    fields["completed_at"] = (int, 0)  # not nullable
    fields["status"] = (typing.Literal["queued", "completed"], "queued")  # enum too narrow
    broken = create_model("BrokenRun", __base__=APIModel, **fields)
    walker = Walker(spec)
    walker.check({"$ref": "#/components/schemas/RunObject"}, broken, "RunObject")
    joined = "\n".join(walker.errors)
    assert "RunObject.usage: missing from BrokenRun" in joined
    assert "RunObject.completed_at: spec allows null" in joined
    assert "RunObject.status: enum value 'failed' rejected" in joined
