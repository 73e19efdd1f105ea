"""One error family; each error knows the HTTP status it maps to."""

from __future__ import annotations

from http import HTTPStatus


class BridgeError(Exception):
    """An expected failure with a message for people and an HTTP status for clients.
    The title is the class's own, else the status's standard phrase ("Forbidden" for 403)."""

    status: int = 500
    title: str = ""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
        if not self.title:
            self.title = HTTPStatus(self.status).phrase


class NotFound(BridgeError):
    status = 404
    title = "Not found"


class InvalidParameter(BridgeError):
    status = 422
    title = "Invalid parameter"


class Conflict(BridgeError):
    status = 409
    title = "Conflict"
