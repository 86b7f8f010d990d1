"""Public home of the server-sent-event decoder (implemented in ``streaming/sse.py``)."""

from __future__ import annotations

from .streaming.sse import ServerSentEvent, SSEDecoder

__all__ = ["SSEDecoder", "ServerSentEvent"]
