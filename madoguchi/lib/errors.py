"""The one exception every parser in ``madoguchi.lib`` raises.

Callers (forms, the CSV import, the identification engine) catch ``InputError`` and show
``message`` to the person who typed the value. The message is Japanese and written for a
resident or an operator; it never repeats the rejected value, so it is safe to show next to
a field and to keep in a row-level import report (no personal data in error texts).
"""

from __future__ import annotations


class InputError(ValueError):
    """A value that cannot be accepted, with a resident-friendly Japanese message.

    ``code`` is a stable machine-readable reason (e.g. ``"invalid_date"``) for tests, form
    error codes and import reports; ``line`` is set by readers that know where it happened.
    """

    def __init__(self, message: str, *, code: str = "invalid", line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.line = line

    def __str__(self) -> str:
        if self.line is not None:
            return f"{self.line}行目: {self.message}"
        return self.message
