"""Errors the services raise; each carries a Vietnamese `message_vi` the UI shows as is."""

from __future__ import annotations


class ServiceError(ValueError):
    """Base class: an action the service refuses. English message for logs, Vietnamese for users."""

    def __init__(self, message: str, message_vi: str) -> None:
        super().__init__(message)
        self.message_vi = message_vi


class ScopeError(ServiceError):
    """The acting user may not see or touch this record/book/page/unit (role or unit scope)."""


class NotFoundError(ServiceError):
    """The record/book/page/unit/user does not exist."""


class ConflictError(ServiceError):
    """Someone else changed the record since it was loaded (optimistic lock on Record.version)."""


class InvalidActionError(ServiceError):
    """The action does not apply in the record's/page's current state or its arguments are wrong."""


class ConfirmationRequiredError(ServiceError):
    """A bulk action was called without its explicit `confirm=True`."""
