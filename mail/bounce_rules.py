"""Text rules behind bounce classification: reason phrases, status codes, bounce senders.

Kept apart from ``bounces`` so the phrase lists can grow without touching the control flow.
Phrases are matched case-insensitively on whitespace-normalised text.
"""

from __future__ import annotations

import re

from mail.parsing import IncomingMail

# Order matters: the first reason whose phrase matches wins. Specific reasons (moved, full,
# disabled) come before the broad "does not exist" family, and policy/spam rejections before
# "user unknown" because spam filters often reply with 5.1.1-like wording.
_REASON_PHRASES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("hasmoved", (r"has moved", r"address (has )?changed", r"new (e-?mail )?address is")),
    (
        "mailboxfull",
        (
            r"mailbox (is )?full", r"mailbox (size |storage )?limit", r"over ?quota",
            r"quota (exceeded|full)", r"exceed(s|ed)? (the |his |her |their )?(storage|quota)",
            r"(disk|storage) quota", r"insufficient (disk |storage )?space", r"mail ?box full",
            r"postfach (ist )?(voll|überfüllt)", r"speicherplatz", r"not enough (storage|space)",
            r"user'?s? (mailbox|account) is over", r"out of (disk|storage) space",
            r"mailfolder is full", r"full mailbox", r"exceeded the (storage|quota)",
        ),
    ),
    (
        "mesgtoobig",
        (r"message (size |is )?too (big|large)", r"size limit", r"exceeds? .{0,30}size"),
    ),
    (
        "rejected",
        (
            r"domain of sender", r"sender address (rejected|does not exist)",
            r"sender (domain|address) .{0,40}(does not exist|not found|unknown)",
        ),
    ),
    (
        "notaccept",
        (r"does not accept (e-?)?mail", r"accepts no mail", r"null mx"),
    ),
    (
        "suspend",
        (
            r"(account|mailbox).{0,40}\b(is|has been) (disabled|suspended|deactivated|inactive)",
            r"(account|mailbox|user|address)( has been| is)? (disabled|suspended|deactivated|"
            r"inactive|locked|blocked by the administrator)",
            r"(account|mailbox) (is )?(temporarily )?unavailable due to inactivity",
            r"gesperrt", r"deaktiviert",
        ),
    ),
    (
        "spamdetected",
        (
            r"\bspam\b", r"junk mail", r"unsolicited", r"content (was )?rejected",
            r"message (was )?(classified|identified) as",
        ),
    ),
    ("virusdetected", (r"\bvirus", r"malware", r"infected")),
    (
        "authfailure",
        (r"\bdmarc\b", r"\bspf\b", r"\bdkim\b", r"not authenticated", r"authentication fail"),
    ),
    (
        "blocked",
        (
            r"blacklist", r"blocklist", r"block ?list", r"\brbl\b", r"spamhaus",
            r"(ip|host|sender|client|connection) (address )?(is )?(blocked|rejected|refused)",
            r"poor reputation", r"bad reputation", r"reverse (dns|lookup)", r"\bptr\b",
        ),
    ),
    ("norelaying", (r"relay(ing)? (access )?(denied|not permitted|prohibited)", r"not relay")),
    (
        "hostunknown",
        (
            r"host (or domain name )?not found", r"host unknown", r"unknown host",
            r"domain (name )?(not found|does not exist|doesn'?t exist)", r"no such domain",
            r"name service error", r"unrouteable mail domain", r"unroutable (mail )?domain",
            r"no mx", r"mx (record )?not found", r"nxdomain", r"domain existiert nicht",
            r"unknown domain", r"invalid domain", r"dns (error|lookup fail)",
            r"domain (is )?not (valid|resolvable|reachable)", r"unresolvable",
            r"no (mail|smtp) (servers?|hosts?)", r"could not be resolved", r"\bunknown mail domain",
            r"domain lookup failed", r"(no route|couldn'?t find any host)",
        ),
    ),
    (
        "userunknown",
        (
            r"user unknown", r"unknown user",
            r"no such (user|mailbox|recipient|address|account|person)",
            r"(user|mailbox|recipient|address|account)( name)? (does not|doesn'?t|did not) exist",
            r"(user|mailbox|recipient|address|account) (not found|unknown|invalid|not known)",
            r"(invalid|unknown|bad|unrecognized|non-?existent) "
            r"(recipient|mailbox|user|address|account)",
            r"recipient (address )?rejected", r"address (is )?(rejected|unknown|invalid)",
            r"not a valid (mailbox|recipient|user|address)", r"unrouteable address",
            r"recipientnotfound", r"no mailbox (here|by that name)", r"unknown local[- ]part",
            r"(mailbox|address) unavailable", r"user not (found|exist)",
            r"no longer (exists|valid|in use)",
            r"benutzer unbekannt", r"unbekannte?r? (empfänger|benutzer|adresse)",
            r"empfänger unbekannt", r"existiert nicht", r"ungültige (e-mail-)?adresse",
            r"adresse (ist )?ungültig", r"mailbox not available", r"no account by that name",
            r"is not a known user", r"not listed in", r"couldn'?t be found", r"does not exist",
            r"retry timeout exceeded.{0,80}unknown", r"unknown address",
            r"recipient address .{0,40}(invalid|rejected)", r"this user doesn'?t have",
            r"invalid address", r"address not (found|present)",
        ),
    ),
    (
        "expired",
        (
            r"retry time(out)? (not )?exceeded", r"delivery time expired", r"message expired",
            r"could not be delivered (for|within) \d+", r"(too long|expired) in (the )?queue",
            r"delivery (attempts|period) (will continue|has expired)", r"still being retried",
            r"has not yet been delivered", r"delayed", r"temporar(il)?y (failure|deferred)",
            r"cannot send message for \d", r"giving up", r"timed? ?out",
        ),
    ),
    ("networkerror", (r"connection (refused|reset|timed out)", r"network (is )?unreachable")),
    ("policyviolation", (r"policy", r"not (allowed|permitted)", r"prohibited")),
    ("rejected", (r"rejected", r"refused", r"denied")),
)  # fmt: skip

_COMPILED = tuple(
    (reason, re.compile("|".join(f"(?:{p})" for p in phrases), re.IGNORECASE))
    for reason, phrases in _REASON_PHRASES
)

# RFC 3463 status subject.detail -> reason, for notices whose text says nothing usable.
_STATUS_REASONS = {
    "1.1": "userunknown", "1.0": "userunknown", "1.3": "userunknown", "1.2": "hostunknown",
    "1.6": "hasmoved", "1.10": "notaccept", "1.7": "rejected", "1.8": "rejected",
    "3.2": "notaccept", "2.1": "suspend",
    "2.2": "mailboxfull", "2.3": "exceedlimit", "2.4": "systemerror", "3.1": "systemfull",
    "3.4": "mesgtoobig", "4.1": "networkerror", "4.2": "networkerror", "4.4": "hostunknown",
    "4.6": "networkerror", "4.7": "expired", "5.0": "mailererror", "7.1": "rejected",
    "7.0": "policyviolation", "7.26": "authfailure", "7.25": "requireptr", "7.23": "authfailure",
}  # fmt: skip

_STATUS = re.compile(r"(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?![\d.]*\d)")
_REPLY_CODE = re.compile(r"(?<!\d)([45])\d\d(?=[ -])")


def normalise_status(value: str) -> str | None:
    match = _STATUS.search(value or "")
    return ".".join(match.groups()) if match else None


def status_in(text: str) -> str | None:
    """First enhanced status code in a text; else the class of an SMTP reply code as X.0.0."""
    status = normalise_status(text)
    if status:
        return status
    match = _REPLY_CODE.search(text or "")
    return f"{match.group(1)}.0.0" if match else None


def reason_for(text: str, status: str | None) -> str | None:
    flat = re.sub(r"\s+", " ", text or "")
    for reason, pattern in _COMPILED:
        if pattern.search(flat):
            return reason
    return None


_SPECIFIC_STATUSES = frozenset({"1.1", "1.2", "1.6", "1.10", "2.2", "3.4", "1.7", "1.8", "2.1"})


def specific_reason_from_status(status: str | None) -> str | None:
    """Reason for status codes precise enough to beat phrases found in free text."""
    if not status or status.split(".", 1)[-1] not in _SPECIFIC_STATUSES:
        return None
    return reason_from_status(status)


_RETURNED_MESSAGE = re.compile(
    r"^\s*(-{2,}\s*)?(original message|below this line is a copy|this is a copy of the message|"
    r"(the )?(original|returned|undelivered) message( follows| headers)?|"
    r"message headers follow|copy of (the )?(original )?message|ursprüngliche nachricht|"
    r"originalnachricht|received: |return-path: |dkim-signature: )",
    re.IGNORECASE | re.MULTILINE,
)


def notice_text(text: str) -> str:
    """The notice itself, without the returned original that many servers append inline."""
    text = text[:50_000]
    match = _RETURNED_MESSAGE.search(text, 40)
    return text[: match.start()] if match else text


def reason_from_status(status: str | None) -> str | None:
    if not status:
        return None
    subject_detail = status.split(".", 1)[1] if "." in status else ""
    return _STATUS_REASONS.get(subject_detail)


# -- is this a bounce at all? --------------------------------------------------------------------

_BOUNCE_SENDER = re.compile(
    r"^(mailer-daemon|post_?master|mail-daemon|mailerdaemon|maildelivery|mail\.delivery|"
    r"mdaemon|nobody|bounce[s]?)\b",
    re.IGNORECASE,
)
_BOUNCE_SUBJECT = re.compile(
    r"(undeliver|undelivered|returned mail|delivery (status notification|failure|failed|has failed"
    r"|problem|notification)|failure notice|mail delivery (failed|system|subsystem)|"
    r"could not (be )?deliver|non[- ]?delivery|nicht zustellbar|unzustellbar|"
    r"zustellung fehlgeschlagen|fehlgeschlagen|delayed mail|warning: could not send|"
    r"returned to sender|message not delivered|delivery report|mail system error|"
    r"unable to deliver|nondeliverable|rejected|error sending|bounce|mail failed|"
    r"mail failure|delivery notification)",
    re.IGNORECASE,
)
_BOUNCE_TEXT = re.compile(
    r"(could not be delivered|couldn'?t be delivered|was not delivered|delivery (to the following|"
    r"has failed|failed)|permanent (error|failure|fatal)|undeliverable|unable to deliver|"
    r"the following address(es)? (had|failed)|returned to sender|i'?m sorry to have to inform you|"
    r"this is the mail system at host|hi\. this is the qmail-send|nicht zugestellt|"
    r"konnte nicht zugestellt|unzustellbar|the original message was received|"
    r"did not reach (some or all of )?the intended recipients?|could not deliver)",
    re.IGNORECASE,
)


def looks_like_bounce(mail: IncomingMail) -> bool:
    sender = mail.from_address or ""
    if mail.header("X-Failed-Recipients"):
        return True
    automatic_sender = bool(_BOUNCE_SENDER.match(sender)) or (
        (mail.header("Return-Path") or "").replace(" ", "") == "<>"
    )
    subject_hint = bool(_BOUNCE_SUBJECT.search(mail.subject))
    text_hint = bool(_BOUNCE_TEXT.search(mail.text[:20_000]))
    if automatic_sender:
        return subject_hint or text_hint or not mail.subject
    if mail.from_address is None:  # some servers send bounces without any From
        return subject_hint or text_hint
    return subject_hint and text_hint


FEEDBACK_SUBJECT = re.compile(
    r"(complaint about message|abuse report|spam report|feedback report)", re.IGNORECASE
)


# -- auto-replies --------------------------------------------------------------------------------

_VACATION_SUBJECT = re.compile(
    r"(abwesenheit|automatische antwort|auto(matic)?[- ]?reply|autoreply|out of (the )?office|"
    r"vacation|urlaub|away from|auto[- ]?response|réponse automatique|respuesta automática|"
    r"risposta automatica|fuori sede|absence|abwesend)",
    re.IGNORECASE,
)


def looks_like_vacation(mail: IncomingMail) -> bool:
    auto = (mail.header("Auto-Submitted") or "").lower()
    if auto.startswith("auto-replied") and not _BOUNCE_SUBJECT.search(mail.subject):
        return True
    for name in ("X-Autoreply", "X-Autorespond", "X-Autoresponder"):
        if mail.header(name):
            return True
    if (mail.header("Precedence") or "").strip().lower() == "auto_reply":
        return True
    return bool(_VACATION_SUBJECT.search(mail.subject))


# -- failed recipients in free text ----------------------------------------------------------------

_ADDRESS = r"[A-Za-z0-9._%+'=/-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"
_ADDRESS_LINE = re.compile(
    rf"^\s*(?:<({_ADDRESS})>|({_ADDRESS}))\s*(?::|\.{{0,1}}\s*$|\(|\.\.\.|\s+host\s|$)",
    re.MULTILINE,
)
_RCPT_PHRASE = re.compile(
    rf"(?:RCPT TO:?\s*<?|recipient:?\s*<?|to:\s*<|for <|failed:\s*\n?\s*<?|address(?:es)?:?\s*<?|"
    rf"empfänger:?\s*<?|an\s*<)({_ADDRESS})",
    re.IGNORECASE,
)


def failed_addresses(mail: IncomingMail, text: str) -> list[str]:
    header = mail.header("X-Failed-Recipients")
    if header:
        found = re.findall(_ADDRESS, header)
        if found:
            return _unique(a.lower() for a in found)
    own = {mail.from_address, *mail.to_addresses, *mail.delivered_to}
    found = [m.group(1) or m.group(2) for m in _ADDRESS_LINE.finditer(text)]
    found += [m.group(1) for m in _RCPT_PHRASE.finditer(text)]
    candidates = [a.lower().rstrip(".") for a in found]
    return _unique(a for a in candidates if a not in own and not _BOUNCE_SENDER.match(a))


def _unique(items) -> list[str]:
    return list(dict.fromkeys(items))
