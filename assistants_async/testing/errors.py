"""Errors the loopback server answers with, in the API's envelope."""

from __future__ import annotations

from typing import Any

__all__ = ["ApiError", "error_body", "not_found"]


def error_body(
    message: str,
    *,
    type: str = "invalid_request_error",
    param: str | None = None,
    code: str | None = None,
) -> dict[str, Any]:
    return {"error": {"message": message, "type": type, "param": param, "code": code}}


class ApiError(Exception):
    """Raised inside the server; the middleware turns it into a JSON error response."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.param = param
        self.code = code

    def body(self) -> dict[str, Any]:
        return error_body(self.message, type=self.type, param=self.param, code=self.code)


def not_found(kind: str, object_id: str) -> ApiError:
    # The real API's wording, e.g. "No thread found with id 'thread_x'."
    return ApiError(404, f"No {kind} found with id '{object_id}'.")
