"""Answering a message by word or number instead of pressing a button.

Email has no buttons: a message's choices are listed with numbers, and a choice whose command
can be named by one word (JA, NEIN, BIETE …) also gets that word. This module decides the
words when a message is written and maps an answer back to a choice's command when the answer
arrives, so both directions always agree.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from core.kernel.grammar import Command, Grammar
from core.kernel.replies import Choice

# Answers that leave an optional question of a dialogue blank (no email, no description).
SKIP_WORDS = frozenset({"-", "ueberspringen", "überspringen", "weiter", "ohne"})
_NUMBER = re.compile(r"^\s*(\d{1,2})\s*[.)]?(?:\s|$)")
# "3 PAUSIEREN", "3: ja", "3.2": an action on item 3 of a mail that lists several items.
_ITEM = re.compile(r"^\s*(\d{1,3})\s*(?:\.(\d{1,2})(?!\d)|[:)]?\s+([^\W\d_][\w-]*))")


def _command_of(choice: Choice, grammar: Grammar) -> Command | None:
    parsed = grammar.parse(choice.command)
    return parsed.command if parsed is not None else None


def _word_for(command: Command) -> str:
    # Actions on a numbered item have short answer aliases ("ja" for annehmen).
    if command.args == "NR" and command.aliases:
        return command.aliases[0]
    return command.name


def answer_words(choices: Sequence[Choice], grammar: Grammar) -> list[str | None]:
    """The reply word for each choice, or None where only its number identifies it.

    A word is given only when no other choice of the same message uses that command, so
    the word alone says which choice is meant.
    """
    commands = [_command_of(c, grammar) for c in choices]
    names = [c.name if c else None for c in commands]
    return [
        _word_for(command).upper() if command and names.count(command.name) == 1 else None
        for command in commands
    ]


def picked_by_number(text: str, choices: Sequence[Choice]) -> Choice | None:
    """The choice named by a leading number ("2", "2.", "2) bitte")."""
    match = _NUMBER.match(text or "")
    if not match:
        return None
    number = int(match.group(1))
    return choices[number - 1] if 1 <= number <= len(choices) else None


def picked_by_item(text: str, stored: Sequence[dict], grammar: Grammar) -> str | None:
    """The command of an item's choice named as "3 PAUSIEREN" or "3.2", or None.

    ``stored`` are a mail's choices as stored, those about an item carrying its "item" number.
    """
    match = _ITEM.match(text or "")
    if not match:
        return None
    number = int(match.group(1))
    item = [Choice(c["label"], c["command"]) for c in stored if c.get("item") == number]
    if not item:
        return None
    if match.group(2):
        index = int(match.group(2))
        return item[index - 1].command if 1 <= index <= len(item) else None
    wanted = _normalised(match.group(3))
    for choice, word in zip(item, answer_words(item, grammar), strict=True):
        if word and _normalised(word) == wanted:
            return choice.command
    # The command's name or an alias, as written in the help ("annehmen" for "ja").
    command = grammar.find(match.group(3))
    same = [c for c in item if command is not None and _command_of(c, grammar) is command]
    return same[0].command if len(same) == 1 else None


def _normalised(word: str) -> str:
    return word.strip().lower()


def command_for_word(
    word: str, rest: str, choices: Sequence[Choice], grammar: Grammar
) -> str | None:
    """The input for a command word written as an answer, or None if it is no command here.

    "JA" (or "Ja, gern!") on a message whose choices include "/annehmen 12" becomes exactly
    that command. A command that needs a number and gets none from the text or the choices
    is not taken as a command: "ja" may just as well answer a dialogue's question.
    """
    command = grammar.find(word)
    if command is None:
        return None
    first = rest.split()[0] if rest.split() else ""
    if command.args == "NR" and first.isdecimal():
        return f"/{command.name} {rest}".strip()
    same = [c for c in choices if _command_of(c, grammar) is command]
    if len(same) == 1 and (command.args == "NR" or not rest):
        return same[0].command
    if command.args == "NR":
        return None
    return f"/{command.name} {rest}".strip()
