"""The base model and the forward-compatible discriminator shared by every API model."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ConfigDict, Discriminator

__all__ = ["UNKNOWN_TAG", "APIModel", "tag_discriminator"]

UNKNOWN_TAG = "unknown"


class APIModel(BaseModel):
    """Base of every Assistants API model.

    Unknown fields are kept (``model_extra``) so that data a newer server sends survives a
    round trip; ``model_dump(mode="json", exclude_unset=True)`` gives back the JSON that was
    validated.
    """

    model_config = ConfigDict(extra="allow")


def tag_discriminator(key: str, known: frozenset[str]) -> Discriminator:
    """A cheap callable discriminator: the value of ``key`` if it is known, else ``"unknown"``.

    Works on raw dicts (validation) and on model instances (serialisation). Routing unknown
    tags to an ``Unknown*`` member is what keeps old clients working against newer servers.
    """

    def tag(value: Any) -> str:
        found = value.get(key) if isinstance(value, dict) else getattr(value, key, None)
        if isinstance(found, str) and found in known:
            return found
        return UNKNOWN_TAG

    fn: Callable[[Any], str] = tag
    return Discriminator(fn)
