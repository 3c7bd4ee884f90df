"""Errors that use cases raise for the member, already phrased in German."""

from __future__ import annotations

from core.kernel.texts import t


class UserError(Exception):
    """Bad input or a wrong state: the member gets ``message``, nothing is written."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    @classmethod
    def of(cls, key: str, **values: object) -> UserError:
        return cls(t(key, **values))


class ImportFileError(Exception):
    """A file cannot be imported; ``str()`` is one line naming the place."""
