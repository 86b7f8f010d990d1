"""The streaming path: bytes -> ``sse`` (events on the wire) -> ``events`` (typed models) ->
accumulation and the ``AssistantStream`` API.

Only the dependency-free decoder names are re-exported here, so importing the decoder does not
pull in the models; import the other modules by their path.
"""

from __future__ import annotations

from .sse import ServerSentEvent, SSEDecoder

__all__ = ["SSEDecoder", "ServerSentEvent"]
