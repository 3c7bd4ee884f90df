"""Find a command word in the subject or the first line of a mail reply.

The command table itself lives in core; this module only normalises text so that "LÖSCHEN",
"Löschen" and "loeschen" all match the name "loeschen", and strips the reply and forward
prefixes clients put in front of a subject.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from functools import lru_cache

# "Re:", "AW:", "WG:", "Fwd:", "Antw:" and friends, possibly repeated or numbered ("Re[2]:").
_PREFIX = re.compile(
    r"^\s*(?:(?:re|aw|wg|fw|fwd|antw|antwort|sv|vs|tr|rif|r|ref|wtr|enc|odp|přes|res)"
    r"(?:\s*\[\d+\]|\s*\(\d+\))?\s*:\s*|\[[^\]]{1,40}\]\s*)+",
    re.IGNORECASE,
)
_TRANSLITERATE = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "æ": "ae", "ø": "oe"})
_WORD = re.compile(r"^\s*[/!#]?([^\W\d_][\w-]*)[.!:,;]?(?=\s|$)(.*)$", re.DOTALL)


@lru_cache(maxsize=4096)
def normalize_word(word: str) -> str:
    """Lower-case ASCII form: umlauts as "ae/oe/ue", "ß" as "ss", other accents dropped."""
    word = unicodedata.normalize("NFC", word.strip()).lower().translate(_TRANSLITERATE)
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch) and ch.isascii())


def strip_subject_prefixes(subject: str) -> str:
    return _PREFIX.sub("", subject or "").strip()


def detect_command(
    subject: str,
    body_text: str,
    commands: Iterable[str] | Mapping[str, str],
) -> tuple[str, str] | None:
    """Find a known command word; return (normalised command, rest) or None.

    ``commands`` is either an iterable of names or a mapping alias -> command name (aliases may
    be written with umlauts; they are normalised here). The first non-empty line of
    ``body_text`` wins over the subject, because a reply keeps the subject of the assistant's
    mail while the person's intent is in what they wrote. The rest is the remainder of that
    line plus, for a body command, the following lines.
    """
    table = _normalised_table(commands)
    found = _from_body(body_text or "", table)
    if found:
        return found
    return _from_line(strip_subject_prefixes(subject or ""), table, "")


def _normalised_table(commands: Iterable[str] | Mapping[str, str]) -> dict[str, str]:
    if isinstance(commands, Mapping):
        pairs = [(alias, name) for alias, name in commands.items()]
        pairs += [(name, name) for name in commands.values()]
    else:
        pairs = [(name, name) for name in commands]
    return _table(tuple(pairs))


@lru_cache(maxsize=32)
def _table(pairs: tuple[tuple[str, str], ...]) -> dict[str, str]:
    # Built once per command table; callers only read it.
    return {normalize_word(alias): normalize_word(name) for alias, name in pairs}


def _from_body(body: str, table: dict[str, str]) -> tuple[str, str] | None:
    lines = body.replace("\r\n", "\n").split("\n")
    for index, line in enumerate(lines):
        if line.strip():
            following = "\n".join(lines[index + 1 :]).strip()
            return _from_line(line, table, following)
    return None


def _from_line(line: str, table: dict[str, str], following: str) -> tuple[str, str] | None:
    match = _WORD.match(line)
    if not match:
        return None
    command = table.get(normalize_word(match.group(1)))
    if command is None:
        return None
    rest = match.group(2).strip()
    if following:
        rest = f"{rest}\n{following}".strip()
    return command, rest
