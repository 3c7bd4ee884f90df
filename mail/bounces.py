"""Classify machine-generated mail: bounces (hard or soft), auto-replies and abuse reports.

A hard bounce means the address is dead and further mail is pointless; a soft bounce is a
temporary or policy problem at the receiving side. Only hard bounces count towards suspending an
address, so the mapping errs on the side of "soft" when unsure.

Hard (permanent, status class 5 and one of):
  - ``userunknown``  mailbox does not exist (X.1.1, "user unknown", "no such user", …)
  - ``hostunknown``  domain does not exist or has no mail host (X.1.2, X.4.4, "host not found")
  - ``hasmoved``     the address moved (X.1.6)
  - ``notaccept``    the domain accepts no mail at all (X.1.10 null MX, X.3.2)
Soft: every other reason (mailboxfull, suspend, expired/delayed, spam, policy, blocked,
mesgtoobig, networkerror, systemerror, …), and every 4.X.X status whatever the text says.

This follows the hard-bounce notion of sisimai, whose reason names are reused here, with one
deliberate difference: sisimai files some "User unknown" rejections as "filtered" (soft) when it
infers a content filter from the SMTP phase; here the text wins and such bounces count as hard,
since an address that the receiving server calls unknown is not worth retrying.

Recipients and status codes come from RFC 3464 delivery-status parts when present; otherwise
from X-Failed-Recipients and the human-readable text of the usual mail servers (Postfix, Exim,
qmail, Sendmail, Exchange, German providers).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mail import bounce_rules as rules
from mail.parsing import IncomingMail

HARD_REASONS = frozenset({"userunknown", "hostunknown", "hasmoved", "notaccept"})

_FAILED_ACTIONS = ("failed", "delayed", "expired")  # "expired" is non-standard but used


@dataclass(frozen=True)
class FailedRecipient:
    address: str | None
    status: str | None
    reason: str
    severity: str  # "hard" | "soft"
    diagnostic: str = ""


@dataclass(frozen=True)
class Classification:
    kind: str  # "bounce" | "vacation" | "feedback" | "other"
    severity: str | None = None  # "hard" | "soft" for bounces
    recipients: tuple[FailedRecipient, ...] = ()
    status: str | None = None
    reason: str | None = None

    @property
    def failed_addresses(self) -> tuple[str, ...]:
        return tuple(r.address for r in self.recipients if r.address)


def classify(mail: IncomingMail) -> Classification:
    if _is_feedback_report(mail):
        return Classification(kind="feedback", reason="feedback")
    dsn = _dsn_recipients(mail)
    if dsn is not None:
        if dsn:
            return _bounce(dsn)
        return Classification(kind="other", reason="delivered")
    # Bounce evidence is checked first: mailer daemons often mark bounces "auto-replied" too.
    if rules.looks_like_bounce(mail):
        return _bounce(_text_recipients(mail))
    if rules.looks_like_vacation(mail):
        return Classification(kind="vacation", reason="vacation")
    return Classification(kind="other")


def severity_for(reason: str, status: str | None) -> str:
    """Hard only for a permanent failure whose reason says the address itself is dead."""
    if status and status.startswith("4"):
        return "soft"
    return "hard" if reason in HARD_REASONS else "soft"


def _bounce(recipients: list[FailedRecipient]) -> Classification:
    if not recipients:
        recipients = [FailedRecipient(None, None, "undefined", "soft")]
    severity = "hard" if any(r.severity == "hard" for r in recipients) else "soft"
    first = next((r for r in recipients if r.severity == severity), recipients[0])
    return Classification(
        kind="bounce",
        severity=severity,
        recipients=tuple(recipients),
        status=first.status,
        reason=first.reason,
    )


# -- feedback reports (RFC 5965) -----------------------------------------------------------------


def _is_feedback_report(mail: IncomingMail) -> bool:
    content_type = (mail.header("Content-Type") or "").lower()
    if "feedback-report" in content_type:
        return True
    if rules.FEEDBACK_SUBJECT.search(mail.subject):
        return True
    return any(part.content_type == "message/feedback-report" for part in mail.reports)


# -- delivery status notifications (RFC 3464) ----------------------------------------------------


def _dsn_recipients(mail: IncomingMail) -> list[FailedRecipient] | None:
    """Failed recipients of a DSN; [] when it only reports success; None when there is no DSN."""
    blocks = [
        block
        for part in mail.reports
        if part.content_type.endswith("delivery-status")
        for block in _fields_blocks(part.text)
    ]
    per_recipient = [b for b in blocks if "final-recipient" in b or "original-recipient" in b]
    if not per_recipient:
        return None
    failed = [b for b in per_recipient if _is_failure(b)]
    if not failed:
        return []
    return [_recipient_from_block(block, mail) for block in failed]


def _fields_blocks(text: str) -> list[dict[str, str]]:
    blocks: list[dict[str, str]] = []
    for chunk in re.split(r"\n\s*\n", text.replace("\r\n", "\n")):
        fields: dict[str, str] = {}
        last = None
        for line in chunk.split("\n"):
            if line[:1] in (" ", "\t") and last:
                fields[last] += " " + line.strip()
                continue
            name, sep, value = line.partition(":")
            if sep and re.fullmatch(r"[A-Za-z0-9-]+", name.strip()):
                last = name.strip().lower()
                fields.setdefault(last, value.strip())
        if fields:
            blocks.append(fields)
    return blocks


def _is_failure(block: dict[str, str]) -> bool:
    action = block.get("action", "").strip().lower()
    status = block.get("status", "").strip()
    if action:
        return action.split()[0] in _FAILED_ACTIONS
    return status[:1] in ("4", "5")


def _recipient_from_block(block: dict[str, str], mail: IncomingMail) -> FailedRecipient:
    address = _address_of(block.get("final-recipient") or block.get("original-recipient", ""))
    diagnostic = block.get("diagnostic-code", "")
    status = rules.normalise_status(block.get("status", "")) or rules.status_in(diagnostic)
    delayed = block.get("action", "").lower().startswith("delayed")
    if delayed and status and status.startswith("5"):
        # A delay is temporary by definition, whatever status the server put on it.
        status = "4" + status[1:]
    reason = (
        rules.reason_for(diagnostic, status)
        or rules.specific_reason_from_status(status)
        or rules.reason_for(_human_text_about(mail, address), status)
        or rules.reason_from_status(status)
        or "undefined"
    )
    return FailedRecipient(address, status, reason, severity_for(reason, status), diagnostic)


def _address_of(value: str) -> str | None:
    value = value.split(";", 1)[-1]
    match = re.search(r"[^\s<>;\"']+@[^\s<>;\"']+", value)
    return match.group(0).lower().rstrip(".") if match else None


def _human_text_about(mail: IncomingMail, address: str | None) -> str:
    """The part of the human-readable notice that talks about ``address`` (or all of it)."""
    text = rules.notice_text(mail.text)
    if not address:
        return text
    position = text.lower().find(address)
    if position < 0:
        return text
    return text[position : position + 1500]


# -- bounces without a DSN -----------------------------------------------------------------------


def _text_recipients(mail: IncomingMail) -> list[FailedRecipient]:
    text = rules.notice_text(mail.text)
    addresses = rules.failed_addresses(mail, text)
    if not addresses:
        return [_text_recipient(None, text)]
    return [_text_recipient(address, _text_near(text, address)) for address in addresses]


def _text_recipient(address: str | None, text: str) -> FailedRecipient:
    status = rules.status_in(text)
    reason = (
        rules.specific_reason_from_status(status)
        or rules.reason_for(text, status)
        or rules.reason_from_status(status)
        or "undefined"
    )
    return FailedRecipient(address, status, reason, severity_for(reason, status), "")


def _text_near(text: str, address: str) -> str:
    position = text.lower().find(address)
    if position < 0:
        return text
    # The explanation is usually right after the address, sometimes in the lines before it.
    return text[max(0, position - 300) : position + 1200]
