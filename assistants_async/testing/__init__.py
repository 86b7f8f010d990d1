"""The loopback Assistants v2 server for tests, examples, the demo and benchmarks.

``AssistantsServer`` speaks the Assistants API over real HTTP on 127.0.0.1 with in-memory
state, a pluggable model (``DefaultModel``, ``ScriptedModel`` or your own ``Model``) and fault
injection (``server.faults.add(...)``). The pytest plugin (``pytest_plugin``) gives the
``assistants_server`` and ``assistants_client`` fixtures.
"""

from __future__ import annotations

from .actions import (
    Action,
    CodeInterpreter,
    Delay,
    Fail,
    FileCitation,
    FilePath,
    FileSearch,
    FileSearchResult,
    FunctionCall,
    FunctionCalls,
    Incomplete,
    Refusal,
    Text,
    ToolOutput,
    TurnContext,
)
from .faults import (
    ByteByByte,
    CutStream,
    Disconnect,
    DripEvents,
    EndlessLine,
    ErrorEvent,
    FaultRegistry,
    FaultRule,
    InjectRaw,
    KeepAliveOnly,
    MalformedEvent,
    OversizedEvent,
    RecordedRequest,
    RequestLog,
    Respond,
    Stall,
    StallStream,
    StreamRecord,
    TruncatedChunk,
    UnknownEvents,
)
from .model import DefaultModel, Model, Rule, ScriptedModel, parse_calls
from .server import AssistantsServer

__all__ = [
    "Action",
    "AssistantsServer",
    "ByteByByte",
    "CodeInterpreter",
    "CutStream",
    "DefaultModel",
    "Delay",
    "Disconnect",
    "DripEvents",
    "EndlessLine",
    "ErrorEvent",
    "Fail",
    "FaultRegistry",
    "FaultRule",
    "FileCitation",
    "FilePath",
    "FileSearch",
    "FileSearchResult",
    "FunctionCall",
    "FunctionCalls",
    "Incomplete",
    "InjectRaw",
    "KeepAliveOnly",
    "MalformedEvent",
    "Model",
    "OversizedEvent",
    "RecordedRequest",
    "Refusal",
    "RequestLog",
    "Respond",
    "Rule",
    "ScriptedModel",
    "Stall",
    "StallStream",
    "StreamRecord",
    "Text",
    "ToolOutput",
    "TruncatedChunk",
    "TurnContext",
    "UnknownEvents",
    "parse_calls",
]
