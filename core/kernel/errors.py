"""Errors that use cases raise for the member, already phrased in German."""

from __future__ import annotations

from typing import TypeVar

from core.kernel.texts import t

Found = TypeVar("Found")


class UserError(Exception):
    """Bad input or a wrong state: the member gets ``message``, nothing is written."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
        # The catalogue key and values, so another audience (staff in the shell) can be
        # told the same in its own words.
        self.key: str | None = None
        self.values: dict[str, object] = {}

    @classmethod
    def of(cls, key: str, **values: object) -> UserError:
        error = cls(t(key, **values))
        error.key, error.values = key, values
        return error


def found(record: Found | None, key: str, **values: object) -> Found:
    """``record``, or the user error ``key`` when there is none (an unknown number)."""
    if record is None:
        raise UserError.of(key, **values)
    return record


class ImportFileError(Exception):
    """A file cannot be imported; ``str()`` is one line naming the place."""
