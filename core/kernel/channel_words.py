"""Command references in texts, in the words of the channel that shows them.

The catalogue names a command as the chat does ("Mit /daten erhalten Sie …"). A mail has no
slash commands: the email channel shows the word a member writes in a mail instead
("Mit DATEN erhalten Sie …"). A choice label that names its command in brackets ("Etwas
anbieten (/biete)") loses the bracket in a mail, which shows the reply word beside it.
"""

from __future__ import annotations

import re

from core.kernel.grammar import Command, Grammar

# A slash command in running text; not part of a path, an address or a link.
REFERENCE = re.compile(r"(?<![\w/.:@\-])/([A-Za-z_]+)\b")
_LABEL_HINT = re.compile(r"\s*\(/[A-Za-z_]+\)\s*$")
# Email words are written with their umlauts; the parser accepts both spellings.
_SPELLING = {"loeschen": "LÖSCHEN", "verknuepfen": "VERKNÜPFEN"}


def email_word(command: Command) -> str:
    """The word that names ``command`` in a mail: BIETE, HILFE, LÖSCHEN …"""
    return _SPELLING.get(command.name, command.name.upper())


def for_email(text: str, grammar: Grammar) -> str:
    """``text`` with every chat command reference ("/daten") as its email word ("DATEN")."""

    def word(match: re.Match[str]) -> str:
        command = grammar.find(match.group(1))
        return email_word(command) if command is not None else match.group(0)

    return REFERENCE.sub(word, text)


def email_label(label: str, grammar: Grammar) -> str:
    """A choice label for a mail: without a "(/biete)" hint, command words as email words."""
    return for_email(_LABEL_HINT.sub("", label), grammar)
