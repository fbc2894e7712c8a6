"""The subcommands of `madoguchi lifecycle`: one module each (see the command's docstring)."""

from __future__ import annotations


class Refused(Exception):
    """A subcommand refused: a Japanese message for stderr and a non-zero exit status."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code
