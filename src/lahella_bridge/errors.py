"""One error family; each error knows the HTTP status it maps to."""

from __future__ import annotations


class BridgeError(Exception):
    """An expected failure with a message for people and an HTTP status for clients."""

    status: int = 500
    title: str = "Internal error"

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status


class NotFound(BridgeError):
    status = 404
    title = "Not found"


class InvalidParameter(BridgeError):
    status = 422
    title = "Invalid parameter"


class Conflict(BridgeError):
    status = 409
    title = "Conflict"
