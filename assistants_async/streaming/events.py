"""Turn a decoded ``ServerSentEvent`` into a typed event of ``assistants_async.types``.

One dict lookup on the event name picks a validator prepared at import; the data is validated
straight from its JSON text. There is no trial-and-error over a union, so the cost per event is
one pydantic parse.

Rules:

- A known name gives its model (``ThreadMessageDelta``, ``ThreadRunCompleted``, ...).
- ``event: done`` or ``data: [DONE]`` ends the stream: ``parse_event`` returns ``None``.
- ``event: error`` raises ``ServerStreamError`` whatever the payload looks like
  (``{"code", "message"}``, the ``{"error": {...}}`` envelope, or text that is not JSON).
- An unknown name gives ``UnknownEvent(event, data)``, ``data`` being the JSON value when the
  data is JSON and the raw text otherwise; the stream goes on. This includes events with no
  ``event:`` field (named ``message``), which the Assistants protocol never sends.
- A known name whose data is not JSON, or does not fit the model, raises ``StreamDecodeError``
  carrying the event name and the (truncated) data, with the pydantic error as ``__cause__``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any, cast

from pydantic import BaseModel, TypeAdapter, ValidationError

from .._errors import ServerStreamError, StreamDecodeError, truncate
from ..types.events import EVENT_DATA_MODELS, AssistantStreamEvent, UnknownEvent
from .sse import ServerSentEvent

__all__ = ["DONE_DATA", "parse_event", "server_error"]

DONE_DATA = "[DONE]"
"""The data of the final event; a stream is over when it arrives (with any event name)."""

_Validator = Callable[[str], Any]


def _validator(data_type: Any) -> _Validator:
    if isinstance(data_type, type) and issubclass(data_type, BaseModel):
        return data_type.model_validate_json
    return TypeAdapter[Any](data_type).validate_json


_new = object.__new__
_set = object.__setattr__
_Builder = Callable[[str, Any], BaseModel]


def _builder(event_model: type[BaseModel]) -> _Builder:
    """``event_model(event=name, data=data)`` for already validated ``data``.

    For the models declaring exactly ``event`` and ``data`` (all but ``thread.created``)
    this skips validating again what was just validated, as ``model_construct`` does but
    at a third of its cost (it is on every event's path)."""
    if set(event_model.model_fields) != {"event", "data"}:
        return lambda name, data: event_model(event=name, data=data)

    def build(name: str, data: Any) -> BaseModel:
        event = _new(event_model)
        _set(event, "__dict__", {"event": name, "data": data})
        _set(event, "__pydantic_fields_set__", {"event", "data"})
        _set(event, "__pydantic_extra__", {})
        _set(event, "__pydantic_private__", None)
        return event

    return build


# event name -> (event builder, data validator); "error" and "done" are handled before lookup.
_PARSERS: Mapping[str, tuple[_Builder, _Validator]] = {
    name: (_builder(event_model), _validator(data_type))
    for name, (event_model, data_type) in EVENT_DATA_MODELS.items()
    if name not in ("error", "done")
}


def parse_event(sse: ServerSentEvent) -> AssistantStreamEvent | None:
    """The typed event for ``sse``, or ``None`` when it is the end-of-stream marker.

    Raises ``ServerStreamError`` for ``event: error`` and ``StreamDecodeError`` for a known
    event whose data is not valid for its model.
    """
    name = sse.event
    parser = _PARSERS.get(name)
    if parser is not None:
        build, validate = parser
        try:
            data = validate(sse.data)
        except ValidationError as exc:
            raise _decode_error(name, sse.data, exc) from exc
        return cast(AssistantStreamEvent, build(name, data))
    if name == "done" or sse.data == DONE_DATA:
        return None
    if name == "error":
        raise server_error(sse.data)
    try:
        value: object = json.loads(sse.data)
    except ValueError:
        value = sse.data
    return UnknownEvent(event=name, data=value)


def server_error(data: str) -> ServerStreamError:
    """The exception for an ``event: error`` whose data is ``data`` (any shape)."""
    try:
        payload: object = json.loads(data)
    except ValueError:
        payload = data
    error = payload
    if isinstance(error, dict) and isinstance(error.get("error"), dict):
        error = error["error"]
    code: str | None = None
    message: str | None = None
    if isinstance(error, dict):
        code = _text(error.get("code"))
        message = _text(error.get("message"))
    elif isinstance(error, str) and error.strip():
        message = error
    if not message:
        message = truncate(data, 512) if data.strip() else "the server sent an error event"
    return ServerStreamError(
        f"stream error from the server: {truncate(message, 512)}", code=code, data=payload
    )


def _text(value: object) -> str | None:
    if value is None or value == "":
        return None
    return value if isinstance(value, str) else json.dumps(value)


def _decode_error(name: str, data: str, exc: ValidationError) -> StreamDecodeError:
    errors = exc.errors(include_url=False, include_input=False, include_context=False)
    if errors and errors[0]["type"] == "json_invalid":
        reason = f"data is not valid JSON ({errors[0]['msg']})"
    else:
        shown = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '<root>'}: {e['msg']}" for e in errors[:3]
        )
        more = f" (+{len(errors) - 3} more)" if len(errors) > 3 else ""
        reason = f"data does not match the {exc.title} model: {shown}{more}"
    return StreamDecodeError(f"invalid {name!r} event: {reason}", event=name, data=data)
