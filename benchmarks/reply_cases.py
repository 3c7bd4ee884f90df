"""Turn the reply-parsing conformance material in ../shared into cases for ``extract_reply``.

The fixtures come from other libraries whose tests assert on their own data model (fragments
with quoted/hidden/signature flags, lists of replies with body and signatures). Only assertions
that say something about the *visible new text* are translated into checks on our single output
string; assertions about fragment counts, flags or the quoted part are not applicable. A case
without any applicable assertion is reported as "n/a" and not counted.

The fixtures are read at run time and never copied into this repository.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from mail.html_text import html_to_text
from mail.parsing import parse_mail
from mail.replies import extract_reply

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED = REPO_ROOT.parent / "shared"
REPLIES_DIR = SHARED / "conformance" / "email-replies"

Check = Callable[[str, float], bool]
_FINAL_OUTPUTS = {
    "parse_reply(text)",
    "parseReply(text)",
    "visible_text",
    "visible_text.trim()",
    "reply",
    "reply.strip()",
    "replies[0].body",
}
_MAX_SECONDS = 1.0


@dataclass
class Case:
    id: str
    suite: str
    text: str
    checks: list[tuple[str, Check]] = field(default_factory=list)

    @property
    def applicable(self) -> bool:
        return bool(self.checks)


@dataclass
class Outcome:
    case: Case
    passed: bool
    output: str
    failed: list[str]


def run_case(case: Case) -> Outcome:
    started = time.perf_counter()
    output = extract_reply(case.text)
    elapsed = time.perf_counter() - started
    failed = [name for name, check in case.checks if not _safe_check(check, output, elapsed)]
    return Outcome(case=case, passed=not failed, output=output, failed=failed)


def _safe_check(check: Check, output: str, elapsed: float) -> bool:
    try:
        return bool(check(output, elapsed))
    except re.error:
        return False


def load_cases() -> list[Case]:
    """All cases of all suites; raises FileNotFoundError if ../shared is absent."""
    if not REPLIES_DIR.is_dir():
        raise FileNotFoundError(REPLIES_DIR)
    cases: list[Case] = []
    for suite, fixture_dir in (
        ("github-ruby", "emails"),
        ("zapier-python", "emails"),
        ("alfonsrv-mailparser-reply", "emails"),
    ):
        data = json.loads((REPLIES_DIR / suite / "expectations.json").read_text("utf-8"))
        cases.extend(_fragment_suite(suite, REPLIES_DIR / suite / fixture_dir, data))
    crisp = json.loads((REPLIES_DIR / "crisp-js" / "expectations.json").read_text("utf-8"))
    cases.extend(_fragment_suite("crisp-js", REPLIES_DIR / "crisp-js" / "fixtures", crisp["tests"]))
    cases.extend(_talon_cases(REPLIES_DIR / "mailgun-talon"))
    return cases


# -- fragment based suites (github, zapier, crisp, alfonsrv) ---------------------------------------


def _fragment_suite(suite: str, fixtures: Path, tests: list[dict]) -> Iterator[Case]:
    seen: dict[str, int] = {}
    for test in tests:
        text = _input_text(test, fixtures)
        if text is None:
            continue
        name = test["test"]
        seen[name] = seen.get(name, 0) + 1
        case_id = f"{suite}:{name}" + (f"#{seen[name]}" if seen[name] > 1 else "")
        yield Case(case_id, suite, text, _translate(test["checks"]))


def _input_text(test: dict, fixtures: Path) -> str | None:
    if "inline_input" in test:
        return test["inline_input"]
    names = test.get("fixtures") or []
    if len(names) != 1 or not (fixtures / names[0]).is_file():
        return None
    return (fixtures / names[0]).read_bytes().decode("utf-8", errors="replace")


_INDEXED = re.compile(r"^fragments\[(\d+)\](?:\.content|\.trim\(\))?$")
_HIDDEN_ALL = re.compile(r"^fragments\[\*\]\.(hidden\?|hidden|isHidden)$")
_HIDDEN_ONE = re.compile(r"^fragments\[(\d+)\]\.isHidden$")


def _translate(checks: list[dict]) -> list[tuple[str, Check]]:
    hidden = _hidden_flags(checks)
    visible_known = hidden is not None and len(hidden) > 0
    out: list[tuple[str, Check]] = []
    for check in checks:
        actual = check.get("actual", "")
        op = check["op"]
        label = f"{op} {actual} {check.get('expected', check.get('value', check.get('pattern')))!r}"
        if op in ("max_seconds", "less_than") and "expected" in check:
            limit = float(check["expected"]) if op == "max_seconds" else _MAX_SECONDS
            out.append((label, lambda _o, t, limit=limit: t <= limit))
            continue
        if actual in _FINAL_OUTPUTS:
            made = _final_check(check)
        elif actual.startswith("replies[0].signatures"):
            made = _absent_check(check)
        elif actual == "len(latest_reply.split('\\n'))":
            made = lambda o, _t, n=check["expected"]: len(o.split("\n")) == n  # noqa: E731
        else:
            match = _INDEXED.match(actual)
            made = (
                _fragment_check(check, int(match.group(1)), hidden, visible_known)
                if match
                else None
            )
        if made is not None:
            out.append((label, made))
    return out


def _hidden_flags(checks: list[dict]) -> dict[int, bool] | None:
    flags: dict[int, bool] = {}
    for check in checks:
        actual = check.get("actual", "")
        if _HIDDEN_ALL.match(actual) and isinstance(check.get("expected"), list):
            flags.update(enumerate(check["expected"]))
        elif (m := _HIDDEN_ONE.match(actual)) and isinstance(check.get("expected"), bool):
            flags[int(m.group(1))] = check["expected"]
    return flags or None


def _final_check(check: dict) -> Check | None:
    op = check["op"]
    if op == "equals" and isinstance(check.get("expected"), str):
        return lambda o, _t, e=check["expected"]: o.strip() == e.strip()
    if op == "contains":
        return lambda o, _t, v=check["value"]: v in o
    if op == "not_contains":
        return lambda o, _t, v=check["value"]: v not in o
    if op in ("regex_test", "regex_match"):
        return lambda o, _t, p=check["pattern"]: re.search(p, o, re.M) is not None
    if op == "not_regex_test":
        return lambda o, _t, p=check["pattern"]: re.search(p, o, re.M) is None
    return None


def _absent_check(check: dict) -> Check | None:
    """Text the other library files under signatures must not be in our visible text."""
    value = check.get("value", check.get("expected"))
    if check["op"] not in ("contains", "equals", "startswith") or not value:
        return None
    return lambda o, _t, v=value: v not in o


def _fragment_check(
    check: dict, index: int, hidden: dict[int, bool] | None, visible_known: bool
) -> Check | None:
    # The first fragment is the new text unless flagged otherwise; later fragments whose flags
    # are not given are quoted history or signatures in every suite here.
    is_hidden = hidden.get(index, index > 0) if hidden else index > 0
    if is_hidden:
        return _hidden_fragment_check(check)
    alone = index == 0 and (
        not visible_known or all(h for i, h in (hidden or {}).items() if i != 0)
    )
    return _visible_fragment_check(check, alone)


def _visible_fragment_check(check: dict, alone: bool) -> Check | None:
    op = check["op"]
    if op == "equals" and isinstance(check.get("expected"), str):
        expected = check["expected"].strip()
        if alone:
            return lambda o, _t, e=expected: o.strip() == e
        return lambda o, _t, e=expected: e in o
    if op == "contains":
        return lambda o, _t, v=check["value"]: v in o
    if op in ("regex_test", "regex_match"):
        return lambda o, _t, p=check["pattern"]: re.search(p, o, re.M) is not None
    return None


def _hidden_fragment_check(check: dict) -> Check | None:
    op = check["op"]
    if op == "equals" and isinstance(check.get("expected"), str) and check["expected"].strip():
        return lambda o, _t, e=check["expected"].strip(): e not in o
    if op == "contains" and len(check["value"]) >= 3:
        return lambda o, _t, v=check["value"]: v not in o
    if op in ("regex_test", "regex_match") and len(check["pattern"].lstrip("^")) >= 2:
        return lambda o, _t, p=check["pattern"]: re.search(p, o, re.M) is None
    return None


# -- talon ---------------------------------------------------------------------------------------


def _talon_cases(root: Path) -> Iterator[Case]:
    suite = "mailgun-talon"
    data = json.loads((root / "expectations.json").read_text("utf-8"))
    for item in data["standard_replies"]:
        text = parse_mail((root / item["fixture"]).read_bytes()).text
        case = Case(f"{suite}:standard:{Path(item['fixture']).name}", suite, text)
        case.checks.append(("equals expected", _equals_stripped(item["expected"])))
        yield case
    for item in data["html_replies"]:
        html = (root / item["fixture"]).read_bytes().decode("utf-8", errors="replace")
        case = Case(f"{suite}:html:{Path(item['fixture']).name}", suite, html_to_text(html))
        case.checks.append(("equals expected (whitespace ignored)", _equals_no_space(item)))
        yield case
    yield from _talon_signatures(root, suite, data["signature_stripped"])
    inline = json.loads((root / "inline_text_cases.json").read_text("utf-8"))
    for item in inline["cases"]:
        case = Case(f"{suite}:inline:{item['test']}:{item['line']}", suite, item["input"])
        case.checks.append(("equals expected", _equals_stripped(item["expected"])))
        yield case


def _talon_signatures(root: Path, suite: str, items: list[dict]) -> Iterator[Case]:
    for item in items:
        body = (root / item["body"]).read_bytes().decode("utf-8", errors="replace").strip()
        signature = item["expected_signature"].strip()
        if signature and not body.endswith(signature):
            continue
        expected = body[: len(body) - len(signature)].strip() if signature else body
        case = Case(f"{suite}:signature:{Path(item['body']).name}", suite, body)
        case.checks.append(("equals body without signature", _equals_stripped(expected)))
        yield case


def _equals_stripped(expected: str) -> Check:
    return lambda o, _t: o.strip() == expected.strip()


def _equals_no_space(item: dict) -> Check:
    expected = re.sub(r"\s+", "", item["expected"])
    return lambda o, _t: re.sub(r"\s+", "", o) == expected
