"""Every text key used in code exists in the catalogue, with matching placeholders."""

from __future__ import annotations

import re
from pathlib import Path

from core.kernel import texts

ROOT = Path(__file__).resolve().parents[1]
CALL = re.compile(r'\b(?:t|UserError\.of)\(\s*"([a-z_.]+)"')


def _arguments(source: str, start: int) -> str:
    """The text of a call's arguments, up to its balanced closing parenthesis."""
    depth = 1
    for position in range(start, len(source)):
        depth += {"(": 1, ")": -1}.get(source[position], 0)
        if depth == 0:
            return source[start:position]
    return source[start:]


def _calls():
    for path in ROOT.glob("*/**/*.py"):
        if ".venv" in path.parts or "tests" in path.parts or path.name == "texts.py":
            continue
        source = path.read_text("utf-8")
        for match in CALL.finditer(source):
            names = set(re.findall(r"\b(\w+)=", _arguments(source, match.end())))
            yield path.relative_to(ROOT), match.group(1), names


def test_used_keys_exist_with_their_placeholders():
    known = set(texts.all_keys())
    problems = []
    for path, key, names in _calls():
        if key not in known:
            problems.append(f"{path}: unknown key {key}")
        elif names and texts.placeholders(key) - names:
            problems.append(f"{path}: {key} needs {texts.placeholders(key) - names}")
    assert problems == []


def test_catalogue_is_formal_german():
    informal = re.compile(r"\b(du|dich|dir|dein|deine)\b", re.IGNORECASE)
    assert [key for key in texts.all_keys() if informal.search(texts.raw(key))] == []
