"""The errors a user may see.

    AssistantError            user_message: safe to show; detail: for logs only
     ├── BadInput             empty, too long, unknown user, unreadable text
     ├── GuardRejected        the SQL guard refused a statement (reason included)
     ├── QueryTimeout         statement_timeout reached
     ├── SqlError             the database refused a checked statement
     ├── ProviderError        the model endpoint failed (timeout, 429, 5xx, bad answer)
     ├── RetrievalError       the document index cannot be searched
     └── StoreError           a log or feedback row could not be written
Pages and the CLI catch AssistantError and show `user_message`; nothing else reaches a user.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg


class AssistantError(Exception):
    """Base of every error that is turned into a plain sentence for the user."""

    def __init__(self, user_message: str, detail: str | None = None) -> None:
        super().__init__(user_message)
        self.user_message = user_message
        self.detail = detail or user_message


class BadInput(AssistantError):
    pass


class GuardRejected(AssistantError):
    pass


class QueryTimeout(AssistantError):
    pass


class SqlError(AssistantError):
    pass


class ProviderError(AssistantError):
    pass


class RetrievalError(AssistantError):
    pass


class StoreError(AssistantError):
    pass


class ConfigError(AssistantError):
    """A configuration file is malformed: the message names the file, the line and the problem."""


@contextmanager
def store_errors(message: str, *, unknown: str | None = None) -> Iterator[None]:
    """A database failure inside becomes a StoreError with `message` (what the user sees).

    With `unknown`, a foreign-key violation (the row referred to does not exist) is the
    user's input, not an outage: it becomes BadInput with that message.
    """
    try:
        yield
    except psycopg.errors.ForeignKeyViolation as exc:
        if unknown is None:
            raise StoreError(message, detail=str(exc)) from exc
        raise BadInput(unknown) from exc
    except psycopg.Error as exc:
        raise StoreError(message, detail=str(exc)) from exc
