"""One command grammar for every channel.

The table of commands is data: Telegram's command menu, the email help mail
and ``/hilfe`` are all generated from it, and every channel parses input with
the same ``Grammar.parse``.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

from core.kernel.replies import IncomingFile, Reply
from core.kernel.texts import t

Handler = Callable[..., Awaitable["Reply | list[Reply]"]]
FileCheck = Callable[..., "tuple[list[IncomingFile], list[str]]"]

_FOLD = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})
_WORD = re.compile(r"^/?([^\s@/]+)(?:@\S+)?(?:\s+(.*))?$", re.DOTALL)


def fold(word: str) -> str:
    """Case- and umlaut-insensitive form of a command word: "LÖSCHEN" -> "loeschen"."""
    return word.strip().lower().translate(_FOLD)


@dataclass(frozen=True)
class Command:
    name: str
    handler: Handler
    aliases: tuple[str, ...] = ()
    args: str = ""
    # Listed in menus and help; False for actions reached through choices only.
    listed: bool = True
    needs_member: bool = True
    staff_only: bool = False
    # None: every channel; else the channels where the command makes sense.
    channels: tuple[str, ...] | None = None
    # The command reads files sent along with it (``Ctx.files``); other commands never see them.
    takes_files: bool = False
    # The limits of the files it takes, (ctx) -> (files that pass, a line per file refused):
    # checked before a sender who is not registered yet has them kept for later, so a
    # stranger can keep no more and no larger files than a member may send.
    check_files: FileCheck | None = None
    # Answers from what is stored and changes nothing (help): tried first in a read-only
    # transaction, which waits for no writer; if it would write after all (it ends an
    # open dialogue, say), it runs again as every other command does.
    reads_only: bool = False

    def available_in(self, channel: str | None) -> bool:
        return channel is None or self.channels is None or channel in self.channels

    @property
    def help(self) -> str:
        return t(f"help.{self.name}")

    @property
    def usage(self) -> str:
        return f"/{self.name} {self.args}".rstrip()


@dataclass(frozen=True)
class Parsed:
    command: Command | None
    word: str
    args: str


class Grammar:
    def __init__(self, commands: Iterable[Command]) -> None:
        self.commands = list(commands)
        self._by_word: dict[str, Command] = {}
        for command in self.commands:
            for word in (command.name, *command.aliases):
                key = fold(word)
                if key in self._by_word:
                    raise ValueError(f"command word {word!r} is defined twice")
                self._by_word[key] = command

    def find(self, word: str) -> Command | None:
        return self._by_word.get(fold(word))

    def close_to(self, word: str, limit: int = 3) -> list[Command]:
        """Commands whose words are spelt like ``word`` ("bite" -> biete), closest first."""
        near = difflib.get_close_matches(fold(word), list(self._by_word), n=limit * 2, cutoff=0.7)
        found: list[Command] = []
        for key in near:
            if self._by_word[key] not in found:
                found.append(self._by_word[key])
        return found[:limit]

    def takes_files(self, text: str) -> bool:
        """Whether ``text`` is a command that reads the files sent along with it."""
        parsed = self.parse(text)
        return bool(parsed and parsed.command and parsed.command.takes_files)

    def words(self) -> list[str]:
        return sorted(self._by_word)

    def parse(self, text: str) -> Parsed | None:
        """A leading ``/word`` (Telegram, terminal); None when the text is not a command."""
        text = text.strip()
        if not text.startswith("/"):
            return None
        match = _WORD.match(text)
        if match is None:
            return Parsed(None, text[1:].split(maxsplit=1)[0] if len(text) > 1 else "", "")
        word, args = match.group(1), (match.group(2) or "").strip()
        return Parsed(self.find(word), word, args)

    def menu(self, *, staff: bool = False, channel: str | None = None) -> list[Command]:
        return [
            c
            for c in self.commands
            if c.listed and (staff or not c.staff_only) and c.available_in(channel)
        ]

    def help_text(
        self, *, staff: bool = False, style: str = "slash", channel: str | None = None
    ) -> str:
        """The command overview; ``style="word"`` writes BIETE … for email."""
        lines = []
        for command in self.menu(staff=staff, channel=channel):
            usage = command.usage
            if style == "word":
                usage = f"{command.name.upper()} {command.args}".rstrip()
            lines.append(f"{usage} – {command.help}")
        return "\n".join(lines)
