"""Was the From address vouched for? Read the receiving server's ``Authentication-Results``.

The mail server that accepts a mail checks SPF, DKIM and DMARC and prepends its findings as an
``Authentication-Results`` header (RFC 8601), naming itself by its authserv-id. Anybody can write
such a header into a mail they send, so only headers with the authserv-id of a server the
operator trusts count, and of those only the topmost: the trusted server prepends its own above
everything the sender wrote. A server that spreads its results over several headers (one per
filter) is judged by the top one alone; that loses results (the verdict tends towards "none")
rather than inventing them.

The verdict is used to refuse mails whose sender was shown to be forged. "pass" grants nothing
beyond what a mail gets with the check switched off, so a forged header can at most get a
mail treated as if the check were off.

Alignment is relaxed, as in DMARC, with the organisational domain approximated: a domain is
aligned with the From domain when one is the other or a subdomain of it (the shorter of the
two needs at least two labels, so that ``de`` never aligns with ``gemeinde.de``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

HEADER = "authentication-results"
PASS, FAIL, NONE = "pass", "fail", "none"

# Results that answer the method's question; none, neutral, temperror, permerror and policy do
# not (no signature, no record, a DNS hiccup, a broken record at the sender's domain).
_CONCLUSIVE = {"dkim": {"pass", "fail"}, "spf": {"pass", "fail", "softfail"}}

_SPACE = re.compile(r"[ \t\r\n]*")
_ID = re.compile(r'[^ \t\r\n;()"]*')
_METHOD = re.compile(r'[^ \t\r\n;()"=/]*')
_NAME = re.compile(r'[^ \t\r\n;()"=]*')
_VALUE = re.compile(r'[^ \t\r\n;()"]*')  # property values may hold "=" (base64) and "/"
_DIGITS = re.compile(r"[0-9]{0,9}")  # a longer run is garbage, not a version
_PLAIN = re.compile(r'[^;("]*')  # text to jump over when skipping to the next ";"


@dataclass(frozen=True)
class MethodResult:
    """One ``method=result`` item with its reason and ``ptype.property=value`` properties."""

    method: str  # lower case, without a method version ("dkim/1" -> "dkim")
    result: str  # lower case
    reason: str = ""
    properties: tuple[tuple[str, str], ...] = ()  # names in lower case, values as written

    def get(self, name: str) -> str | None:
        return next((v for k, v in self.properties if k == name), None)


@dataclass(frozen=True)
class AuthResults:
    """One parsed ``Authentication-Results`` header."""

    authserv_id: str
    version: int | None = None
    results: tuple[MethodResult, ...] = ()  # empty for "none" (nothing was checked)


@dataclass(frozen=True)
class Verdict:
    verdict: str  # PASS | FAIL | NONE
    reason: str  # short, for logs


def check(
    headers: Iterable[tuple[str, str]], from_address: str | None, authserv_ids: Iterable[str]
) -> Verdict:
    """The verdict on a mail's From address from its (name, value) headers, top to bottom."""
    return verdict(topmost_trusted(headers, authserv_ids), from_address)


def topmost_trusted(
    headers: Iterable[tuple[str, str]], authserv_ids: Iterable[str]
) -> AuthResults | None:
    """The first ``Authentication-Results`` header written by a trusted server, parsed."""
    trusted = {i.strip().lower() for i in authserv_ids if i.strip()}
    if not trusted:
        return None
    for name, value in headers:
        if name.strip().lower() != HEADER:
            continue
        scanner = _Scanner(value)
        authserv_id = _read_authserv_id(scanner)
        if authserv_id.lower() in trusted:
            return _read_rest(scanner, authserv_id)
    return None


def parse_header(value: str) -> AuthResults | None:
    """One header value; None when not even an authserv-id can be read. Never raises."""
    scanner = _Scanner(value)
    authserv_id = _read_authserv_id(scanner)
    return _read_rest(scanner, authserv_id) if authserv_id else None


def verdict(results: AuthResults | None, from_address: str | None) -> Verdict:
    """pass: DMARC passed for the From domain, or DKIM/SPF passed for a domain aligned with it.

    fail: DMARC failed for the From domain or judged another domain, or (without a DMARC
    pass or fail) both DKIM and SPF gave a conclusive answer and neither passed aligned.
    none: anything less certain.
    """
    if results is None:
        return Verdict(NONE, "no trusted Authentication-Results")
    from_domain = domain_of(from_address or "")
    # The server knows the public suffixes and the domain's policy: its DMARC result decides,
    # but only a result about this mail's From domain ("header.from"): a pass for evil.test
    # says nothing about a mail whose From is the member's domain.
    judged = {domain_of(r.get("header.from") or "") for r in results.results if r.method == "dmarc"}
    others = sorted(judged - {"", from_domain})
    if from_domain and others:
        # The server read another From than we did (two From headers, an address that
        # parsers split differently): whatever it found, it is not about this sender.
        return Verdict(FAIL, f"dmarc judged {others[0]}, not {from_domain}")
    dmarc = {r.result for r in results.results if r.method == "dmarc" and _about(r, from_domain)}
    if PASS in dmarc:
        return Verdict(PASS, f"dmarc=pass for {from_domain}")
    if FAIL in dmarc:
        return Verdict(FAIL, f"dmarc=fail for {from_domain or 'the From domain'}")
    if not from_domain:
        return Verdict(NONE, "no From domain")
    for result in results.results:
        if result.result == PASS and _aligned(_authenticated_domain(result), from_domain):
            return Verdict(PASS, f"{result.method}=pass aligned with {from_domain}")
    if all(_conclusive(results, method) for method in _CONCLUSIVE):
        return Verdict(FAIL, f"neither dkim nor spf passed for {from_domain}")
    return Verdict(NONE, "no conclusive result")


def domain_of(value: str) -> str:
    """The domain of an address (or a bare domain), lower case, in ASCII (IDNA)."""
    domain = value.strip().strip("<>").rsplit("@", 1)[-1].strip().rstrip(".").lower()
    try:
        return domain.encode("idna").decode("ascii")
    except UnicodeError:
        return domain


# -- alignment ------------------------------------------------------------------------------------


def _about(result: MethodResult, from_domain: str) -> bool:
    """Is a DMARC result about ``from_domain``? A pass must name exactly it in ``header.from``;
    a fail counts unless it names another domain (refusing is the safe side)."""
    named = result.get("header.from")
    if named is None:
        return result.result != PASS
    return bool(from_domain) and domain_of(named) == from_domain


def _authenticated_domain(result: MethodResult) -> str:
    """The domain a DKIM or SPF pass vouches for ("" for other methods)."""
    if result.method == "dkim":
        return domain_of(result.get("header.d") or result.get("header.i") or "")
    if result.method == "spf":
        return domain_of(result.get("smtp.mailfrom") or "")
    return ""


def _aligned(domain: str, from_domain: str) -> bool:
    if not domain:
        return False
    if domain == from_domain:
        return True
    shorter, longer = sorted((domain, from_domain), key=len)
    return "." in shorter and longer.endswith("." + shorter)


def _conclusive(results: AuthResults, method: str) -> bool:
    return any(r.method == method and r.result in _CONCLUSIVE[method] for r in results.results)


# -- parsing (RFC 8601 section 2.2, read leniently) ---------------------------------------------


class _Scanner:
    """A cursor over a header value that knows comments, quoted strings and folding."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def peek(self) -> str:
        return self.text[self.pos : self.pos + 1]

    def skip_cfws(self) -> None:
        while True:
            self.pos = _SPACE.match(self.text, self.pos).end()
            if self.peek() != "(":
                return
            self._skip_comment()

    def take(self, char: str) -> bool:
        self.skip_cfws()
        if self.peek() == char:
            self.pos += 1
            return True
        return False

    def match(self, pattern: re.Pattern[str]) -> str:
        self.skip_cfws()
        found = pattern.match(self.text, self.pos)
        assert found is not None  # every pattern here also matches the empty string
        self.pos = found.end()
        return found.group()

    def value(self, pattern: re.Pattern[str]) -> str:
        """A quoted string (unquoted) or a run of characters matching ``pattern``."""
        self.skip_cfws()
        if self.peek() != '"':
            return self.match(pattern)
        text = self._quoted()
        if self.peek() == "@":  # "local part"@domain
            text += self.match(pattern)
        return text

    def skip_to_semicolon(self) -> None:
        """Jump over whatever is left of a result item, up to the next ";" (not in a comment)."""
        while self.pos < len(self.text):
            self.pos = _PLAIN.match(self.text, self.pos).end()
            char = self.peek()
            if char == "(":
                self._skip_comment()
            elif char == '"':
                self._quoted()
            else:
                return  # at ";" or at the end

    def _skip_comment(self) -> None:
        depth = 0  # comments nest; counted rather than recursed into
        while self.pos < len(self.text):
            char = self.text[self.pos]
            self.pos += 2 if char == "\\" else 1
            if char == "(":
                depth += 1
            elif char == ")":
                depth -= 1
                if depth == 0:
                    return

    def _quoted(self) -> str:
        out = []
        self.pos += 1  # the opening quote
        while self.pos < len(self.text):
            char = self.text[self.pos]
            self.pos += 1
            if char == '"':
                break
            if char == "\\" and self.pos < len(self.text):
                char = self.text[self.pos]
                self.pos += 1
            out.append(char)
        return "".join(out)


def _read_authserv_id(scanner: _Scanner) -> str:
    return scanner.value(_ID).strip()


def _read_rest(scanner: _Scanner, authserv_id: str) -> AuthResults:
    """Version and result items after the authserv-id; unreadable items are skipped."""
    digits = scanner.match(_DIGITS)
    version = int(digits) if digits else None
    results = []
    scanner.skip_to_semicolon()
    while scanner.take(";"):
        item = _read_result(scanner)
        if item is not None:
            results.append(item)
        scanner.skip_to_semicolon()
    return AuthResults(authserv_id, version, tuple(results))


def _read_result(scanner: _Scanner) -> MethodResult | None:
    """``method[/version]=result [reason=value] [ptype.property=value ...]``; None for "none"."""
    method = scanner.match(_METHOD).lower()
    if scanner.take("/"):
        scanner.match(_DIGITS)
    if not method or not scanner.take("="):
        return None  # "none", or not a result item
    result = scanner.match(_METHOD).lower()
    if not result:
        return None
    reason = ""
    properties = []
    while True:
        scanner.skip_cfws()
        if scanner.peek() in ("", ";"):
            break
        name = scanner.match(_NAME).lower()
        if not name or not scanner.take("="):
            break  # not a property: the rest of the item is skipped by the caller
        value = scanner.value(_VALUE)
        if name == "reason":
            reason = value
        elif "." in name:
            properties.append((name, value))
        # Other "name=value" pairs are not RFC 8601 (e.g. "action=none") and carry no verdict.
    return MethodResult(method, result, reason, tuple(properties))
