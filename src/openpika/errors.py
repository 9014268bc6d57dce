"""A small exception tree. Each error maps to an HTTP status and a fal ``error_type``.

Engines and input handling raise these; the API layer turns them into fal's response shapes
(422 with FastAPI's ``detail`` list, or ``{"detail": str, "error_type": str}``).
"""

from __future__ import annotations

from typing import Any


class OpenPikaError(Exception):
    """Base class. ``status_code`` and ``error_type`` decide how the API reports it."""

    status_code: int = 500
    error_type: str = "internal_error"

    def __init__(
        self, message: str, *, error_type: str | None = None, status_code: int | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        if error_type is not None:
            self.error_type = error_type
        if status_code is not None:
            self.status_code = status_code

    def to_body(self) -> dict[str, Any]:
        return {"detail": self.message, "error_type": self.error_type}


class InputError(OpenPikaError):
    """The request's input is wrong in a way schema validation could not see (a URL that
    cannot be fetched, an image that is not an image...). Reported as a FastAPI-style 422
    whose ``loc`` names the field, e.g. ``("body", "image_url")``."""

    status_code = 422
    error_type = "validation_error"

    def __init__(
        self, loc: tuple[str | int, ...], message: str, *, kind: str = "value_error", input: Any = None
    ) -> None:
        super().__init__(message)
        self.loc = tuple(loc)
        self.kind = kind
        self.input = input

    def to_detail_item(self) -> dict[str, Any]:
        item: dict[str, Any] = {"loc": list(self.loc), "msg": self.message, "type": self.kind}
        if self.input is not None:
            item["input"] = self.input
        return item

    def to_body(self) -> dict[str, Any]:
        return {"detail": [self.to_detail_item()]}


class Cancelled(OpenPikaError):
    """The job was cancelled while it ran. Raised by ``RunContext.check_cancelled``."""

    status_code = 499
    error_type = "cancelled"

    def __init__(self, message: str = "Request was cancelled") -> None:
        super().__init__(message)


class EngineUnavailable(OpenPikaError):
    """No usable engine for this endpoint (missing weights, missing extra, not implemented)."""

    status_code = 503
    error_type = "engine_unavailable"


class EngineError(OpenPikaError):
    """The engine failed on valid input."""

    status_code = 500
    error_type = "engine_error"


class StorageError(OpenPikaError):
    """Output could not be stored (disk full, unwritable directory...)."""

    status_code = 507
    error_type = "storage_error"


class RequestTimeout(OpenPikaError):
    """The start deadline passed before a worker took the job."""

    status_code = 504
    error_type = "request_timeout"
