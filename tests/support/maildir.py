"""Reading what the Maildir transport delivered, in the order it was delivered."""

from __future__ import annotations

import re
from pathlib import Path

# The standard library names a delivered file "<seconds>.M<microseconds>P<pid>Q<count>.<host>".
_NAME = re.compile(r"^(\d+)\.M(\d+)P(\d+)Q(\d+)\.")


def _order(path: Path) -> tuple[int, ...]:
    match = _NAME.match(path.name)
    return tuple(int(part) for part in match.groups()) if match else (0, 0, 0, 0)


def delivered(new_folder: Path) -> list[Path]:
    """The files in a Maildir's ``new/`` folder, oldest delivery first."""
    if not new_folder.is_dir():
        return []
    return sorted((p for p in new_folder.iterdir() if p.is_file()), key=_order)
