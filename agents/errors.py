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
