"""Reading a command's arguments: the number of an item and what follows it."""

from __future__ import annotations

from core.kernel.errors import UserError

# Longer than any id: the database's integer would overflow.
MAX_DIGITS = 9


def number_and_rest(
    args: str, missing: str = "common.number_missing", unknown: str | None = None
) -> tuple[int, str]:
    """ "12 Begründung" -> (12, "Begründung").

    Only decimal digits count: ``isdigit()`` also takes "¹", which ``int()`` refuses. A number
    longer than any id is refused with ``unknown`` (it names no item), else like a missing one.
    """
    first, _, rest = args.strip().partition(" ")
    if not first.isdecimal():
        raise UserError.of(missing)
    if len(first) > MAX_DIGITS:
        raise UserError.of(unknown or missing, id=first[:20])
    return int(first), rest.strip()


def number(args: str, missing: str = "common.number_missing", unknown: str | None = None) -> int:
    return number_and_rest(args, missing, unknown)[0]
