"""The project's exceptions. The CLI turns them into messages and exit codes (contract §4)."""

from __future__ import annotations

__all__ = ["GraphFraudError", "InputError", "OutputExistsError", "check_argument"]


class GraphFraudError(Exception):
    """Base class of every error graphfraud raises on purpose."""

    exit_code = 1


class InputError(GraphFraudError):
    """Input that cannot be read at all, or bad usage: exit code 2.

    The message names the file, the row or column, and what to do. ``problems`` holds every
    problem found, when there were several.
    """

    exit_code = 2

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = list(problems or [])


class OutputExistsError(InputError):
    """The output folder exists and ``force`` was not given."""


def check_argument(condition: bool, message: str) -> None:
    """Raise :class:`InputError` with ``message`` unless ``condition`` holds."""
    if not condition:
        raise InputError(message)
