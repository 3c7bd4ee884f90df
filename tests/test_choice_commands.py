"""Every command word core emits (choices, hints, catalogue texts) exists in the grammar.

Choices carry commands as text ("/annehmen 12"); a word that is not in the command table
would give the member "unknown command" when they press the button or reply by mail.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from core.feature_set import all_features
from core.kernel.texts import all_keys, template

GRAMMAR = all_features().grammar  # the one grammar, as the service assembles it

CORE = Path(__file__).resolve().parents[1] / "core"
COMMAND = re.compile(r"^/([a-z_]+)(?=\s|$)")
IN_TEXT = re.compile(r"(?<![\w/.:])/([a-z_]{3,})\b")


def _command_literals() -> dict[str, list[str]]:
    """Leading ``/word`` of every string literal and f-string in core, with its places."""
    found: dict[str, list[str]] = {}
    for path in sorted(CORE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                text = node.value
            elif isinstance(node, ast.JoinedStr) and node.values:
                first = node.values[0]
                text = first.value if isinstance(first, ast.Constant) else ""
            else:
                continue
            if match := COMMAND.match(text):
                place = f"{path.relative_to(CORE.parent)}:{node.lineno}"
                found.setdefault(match.group(1), []).append(place)
    return found


def test_every_command_literal_in_core_is_a_grammar_word():
    literals = _command_literals()
    assert len(literals) >= 20  # the scan finds the choices (a broken scan would pass vacuously)
    unknown = {word: places for word, places in literals.items() if GRAMMAR.find(word) is None}
    assert unknown == {}


def test_every_choice_literal_parses_to_its_command():
    for word in _command_literals():
        parsed = GRAMMAR.parse(f"/{word} 1")
        assert parsed is not None and parsed.command is not None, word
        assert parsed.command is GRAMMAR.find(word)


def test_every_slash_word_in_the_catalogue_is_a_command():
    mentioned: dict[str, list[str]] = {}
    for key in all_keys():
        for word in IN_TEXT.findall(template(key)):
            mentioned.setdefault(word, []).append(key)
    assert {"treffer", "hilfe", "biete"} <= set(mentioned)
    unknown = {word: keys for word, keys in mentioned.items() if GRAMMAR.find(word) is None}
    assert unknown == {}
