"""Turn the bounce conformance material in ../shared into cases for ``classify``.

sisimai lists, per mail, one entry per bounced recipient (status, reply code, reason, hard
flag); ARF reports have no entries, auto-replies have the reason "vacation", and entries with
the reason "delivered" are success notices. flanker marks a few mails as bounces and names the
roles of the others. A case passes when the kind and, for bounces, the hard/soft severity
match; recipient counts and status codes are reported as extra columns.

The fixtures are read at run time and never copied into this repository.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from mail.bounces import Classification, classify
from mail.parsing import parse_mail

REPO_ROOT = Path(__file__).resolve().parents[1]
BOUNCES_DIR = REPO_ROOT.parent / "shared" / "conformance" / "bounces"

# flanker names the role of each fixture; these are the expectations those roles imply.
_FLANKER_ROLES = {
    "mailbox-full.eml": ("bounce", "soft"),
    "delayed.eml": ("bounce", "soft"),
    "delayed-broken.eml": ("bounce", "soft"),
    "no-mx.eml": ("bounce", "soft"),
    "gmail-no-dns.eml": ("bounce", None),
    "gmail-invalid-address.eml": ("bounce", None),
    "broken-mime.eml": ("bounce", None),
}


@dataclass
class Case:
    id: str
    suite: str
    path: Path
    kind: str
    severity: str | None = None
    recipients: int | None = None
    status: str | None = None


@dataclass
class Outcome:
    case: Case
    result: Classification
    kind_ok: bool
    severity_ok: bool
    count_ok: bool | None
    status_ok: bool | None

    @property
    def passed(self) -> bool:
        return self.kind_ok and self.severity_ok


def load_cases() -> list[Case]:
    if not BOUNCES_DIR.is_dir():
        raise FileNotFoundError(BOUNCES_DIR)
    return _sisimai_cases() + _flanker_cases()


def run_case(case: Case) -> Outcome:
    result = classify(parse_mail(case.path.read_bytes()))
    kind_ok = result.kind == case.kind
    severity_ok = kind_ok and (case.severity is None or result.severity == case.severity)
    count_ok = None
    if case.recipients is not None and case.kind == "bounce":
        count_ok = len(result.recipients) == case.recipients
    status_ok = None
    if case.status is not None:
        status_ok = result.status == case.status
    return Outcome(case, result, kind_ok, severity_ok, count_ok, status_ok)


def _sisimai_cases() -> list[Case]:
    data = json.loads((BOUNCES_DIR / "sisimai" / "expectations.json").read_text("utf-8"))
    cases = []
    for name, item in sorted(data["files"].items()):
        path = BOUNCES_DIR / "sisimai" / "maildir" / "bsd" / name
        case = _sisimai_case(name, path, item)
        if case is not None and path.is_file():
            cases.append(case)
    for path in sorted((BOUNCES_DIR / "sisimai" / "maildir" / "not").glob("*.eml")):
        cases.append(Case(f"sisimai:not/{path.name}", "sisimai", path, "other"))
    return cases


def _sisimai_case(name: str, path: Path, item: dict) -> Case | None:
    entries = item["recipients"]
    case_id = f"sisimai:{name}"
    if item["engine"] == "arf":
        return Case(case_id, "sisimai", path, "feedback")
    if not entries:
        return None  # no expectation recorded upstream
    reasons = {e["reason"] for e in entries}
    if reasons == {"vacation"}:
        return Case(case_id, "sisimai", path, "vacation")
    if reasons == {"delivered"}:
        return Case(case_id, "sisimai", path, "other")
    failed = [e for e in entries if e["reason"] != "delivered"]
    severity = "hard" if any(e["hardbounce"] for e in failed) else "soft"
    return Case(
        case_id,
        "sisimai",
        path,
        "bounce",
        severity,
        recipients=len(failed),
        status=_real_status(failed[0]["dsn"]),
    )


def _real_status(dsn: str) -> str | None:
    # sisimai invents X.0.9NN codes for notices without a status; those cannot be matched.
    if not dsn or (dsn.split(".")[-1].startswith("9") and len(dsn.split(".")[-1]) == 3):
        return None
    return dsn


def _flanker_cases() -> list[Case]:
    data = json.loads((BOUNCES_DIR / "flanker" / "expectations.json").read_text("utf-8"))
    cases = []
    for item in data["cases"]:
        path = BOUNCES_DIR / "flanker" / item["fixture"]
        expected = item["expected"]
        kind = "bounce" if expected.get("is_bounce") else "other"
        status = expected.get("status")
        severity = None
        if kind == "bounce" and status:
            severity = "soft" if status.startswith("4") else None
        cases.append(Case(f"flanker:{path.name}", "flanker", path, kind, severity, status=status))
    for name, (kind, severity) in _FLANKER_ROLES.items():
        path = BOUNCES_DIR / "flanker" / "bounce" / name
        if path.is_file():
            cases.append(Case(f"flanker:{name}", "flanker", path, kind, severity))
    return cases
