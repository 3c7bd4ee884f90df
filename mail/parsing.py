"""Turn the raw bytes of an incoming mail into an :class:`IncomingMail`.

Members write from every kind of client, and bounces come from every kind of mail server, so the
parser is defensive: each header and each part is read on its own and a failure there only loses
that piece. The only error raised is :class:`MailParseError`, for bytes that are not a mail at all.
"""

from __future__ import annotations

import contextlib
import email
import itertools
import re
from dataclasses import dataclass, field
from datetime import datetime
from email import policy
from email.header import decode_header, make_header
from email.headerregistry import HeaderRegistry
from email.message import Message
from email.utils import getaddresses, parsedate_to_datetime

from charset_normalizer import from_bytes

from mail.html_text import html_to_text

MAX_TEXT_CHARS = 100_000
MAX_PARTS = 500
MAX_HEADERS = 500
MAX_REPORT_CHARS = 50_000
MAX_DEPTH = 20
MAX_FROM_CHARS = 500
LENIENT_FROM_CHARS = 4 * MAX_FROM_CHARS

_HEADER_LINE = re.compile(rb"^[!-9;-~]+:", re.MULTILINE)
# C0 controls (tab aside), DEL and C1 controls: never part of a header we store or echo.
_CONTROLS = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f]")
_SURROGATES = re.compile(r"[\ud800-\udfff]")
_NEEDS_CLEANING = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f\ud800-\udfff]")
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
# A plain addr-spec: dot-atom local part, a host name with at least two labels (no quoted
# local parts, no domain literals: nobody writes them, and they are where parsers disagree).
_ADDR_SPEC = re.compile(rf"^{_ATEXT}(?:\.{_ATEXT})*@(?:{_LABEL}\.)+{_LABEL}$")
_ADDR = rf"{_ATEXT}(?:\.{_ATEXT})*@(?:{_LABEL}\.)+{_LABEL}"
# A header value that is one bare dot-atom address, which ``getaddresses`` returns unchanged.
_BARE_ADDR = re.compile(rf"[ \t]*({_ATEXT}(?:\.{_ATEXT})*@{_ATEXT}(?:\.{_ATEXT})*)[ \t]*")
# The forms nearly every mail has, which the strict parser reads without defect and with this
# address: a bare or bracketed address, after a quoted name or a name of plain words. Anything
# else goes to the parser. The one form accepted beyond it: dots in a name of plain words
# ("Dr. Anna Müller <a@b.de>", an obsolete but common phrase every parser reads alike).
_WORD = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.\-\u00a0-\ud7ff\ue000-\uffff]+"
_SIMPLE_FROM = re.compile(
    rf'^[ \t]*(?:({_ADDR})|<({_ADDR})>|"[^"\\\x00-\x1f\x7f]*"[ \t]*<({_ADDR})>'
    rf"|(?:{_WORD}[ \t]+)*{_WORD}[ \t]*<({_ADDR})>)[ \t]*$"
)
# The registry makes a new header class on every lookup; the From class is made once.
_FROM_HEADER = HeaderRegistry()["from"]
_FOLD = re.compile(r"\r?\n[ \t]+")
_SPACES = re.compile(r"\s+")
# Headers are decoded here from ``raw_items`` (RFC 2047, addresses split before decoding), so the
# parser only needs the MIME structure: compat32 keeps header values as plain strings instead of
# building the structured header objects of ``policy.default`` on every access, which made up
# most of the parsing time. MIME parameters (boundary, charset, filename) are read by the same
# ``Message`` methods under both policies.
_POLICY = policy.compat32


class MailParseError(ValueError):
    """The input is not an email message (no header block at all, or not bytes)."""


@dataclass(frozen=True)
class Attachment:
    filename: str | None
    content_type: str
    size: int
    data: bytes = field(default=b"", repr=False)  # the decoded content (not for mails within)


@dataclass(frozen=True)
class ReportPart:
    """A machine-readable report part (delivery-status, feedback-report, returned headers)."""

    content_type: str
    text: str


@dataclass(frozen=True)
class IncomingMail:
    message_id: str | None
    in_reply_to: str | None
    references: tuple[str, ...]
    from_address: str | None  # read leniently (for telling machines apart), lower case
    from_name: str
    to_addresses: tuple[str, ...]
    delivered_to: tuple[str, ...]
    subject: str
    date: datetime | None
    text: str
    text_from_html: bool = False
    text_cut_chars: int = 0
    content_type: str = "text/plain"
    attachments: tuple[Attachment, ...] = ()
    reports: tuple[ReportPart, ...] = ()
    headers: tuple[tuple[str, str], ...] = ()
    notes: tuple[str, ...] = field(default=())
    # The one sender, read strictly: exactly one From header holding exactly one plain
    # addr-spec without any parsing defect; None otherwise (see ``sender_problem``).
    sender: str | None = None
    sender_problem: str | None = None

    def header(self, name: str) -> str | None:
        """First value of a top-level header (case-insensitive), or None."""
        wanted = name.lower()
        return next((v for k, v in self.headers if k.lower() == wanted), None)

    def header_all(self, name: str) -> list[str]:
        wanted = name.lower()
        return [v for k, v in self.headers if k.lower() == wanted]


# -- entry point ---------------------------------------------------------------------------------


def parse_mail(raw: bytes) -> IncomingMail:
    """Parse raw RFC 5322 bytes. Raises MailParseError only if ``raw`` is not a mail."""
    if not isinstance(raw, bytes | bytearray):
        raise MailParseError("expected bytes")
    raw = bytes(raw)
    if not _looks_like_mail(raw):
        raise MailParseError("no header block found")
    msg = _repair_boundary(raw, email.message_from_bytes(raw, policy=_POLICY))
    items = list(_safe(msg.raw_items, []))  # every header: a second From counts wherever it is
    # The body's charset only matters for headers that arrived as 8-bit bytes (few mails);
    # finding it walks the MIME tree, which is costly for deeply nested mails.
    charset = _body_charset(msg) if any(_SURROGATES.search(str(v)) for _, v in items) else None
    headers = _decoded_headers(items, charset)
    if not headers:
        raise MailParseError("no header block found")
    body = _Body()
    body.collect(msg, depth=0)
    text, cut = _cap(body.best_text())
    notes = list(body.notes)
    if cut:
        notes.append(f"text cut after {MAX_TEXT_CHARS} characters ({cut} characters dropped)")
    return _build(msg, items, headers, body, text, cut, notes, charset)


def _build(
    msg: Message,
    items: list[tuple[str, str]],
    headers: tuple[tuple[str, str], ...],
    body: _Body,
    text: str,
    cut: int,
    notes: list[str],
    charset: str | None,
) -> IncomingMail:
    def first(name: str) -> str | None:
        return next((v for k, v in headers if k.lower() == name), None)

    def every(name: str) -> list[str]:
        return [v for k, v in headers if k.lower() == name]

    def raw(name: str) -> list[str]:
        # Addresses are split before RFC 2047 decoding: a decoded "Müller, Anna" has a comma.
        return [
            _FOLD.sub(" ", text_of_header(str(v), charset)) for k, v in items if k.lower() == name
        ]

    froms = raw("from")
    # The lenient reading only needs the first address: a From of 2,000 addresses (never a
    # sender: see ``strict_sender``) is not parsed to the end for it.
    from_name, from_address = _first_address([v[:LENIENT_FROM_CHARS] for v in froms[:1]])
    sender, sender_problem = strict_sender(froms)
    return IncomingMail(
        message_id=_msg_id(first("message-id")),
        in_reply_to=_msg_id(first("in-reply-to")),
        references=tuple(_msg_ids(" ".join(every("references")))),
        from_address=from_address,
        from_name=from_name,
        to_addresses=_addresses(raw("to") + raw("cc")),
        delivered_to=_addresses(raw("delivered-to") + raw("x-original-to")),
        subject=_one_line(first("subject") or ""),
        date=_date(first("date")),
        text=text,
        text_from_html=body.text_from_html,
        text_cut_chars=cut,
        content_type=_safe(lambda: msg.get_content_type(), "text/plain"),
        attachments=tuple(body.attachments),
        reports=tuple(body.reports),
        headers=headers,
        notes=tuple(notes),
        sender=sender,
        sender_problem=sender_problem,
    )


def strict_sender(values: list[str]) -> tuple[str | None, str | None]:
    """The one sender address of the From header values, or (None, why not).

    Only exactly one From header with exactly one address counts, parsed by the standard
    library's header registry (``policy.default``) without any defect: forms such as
    ``victim@example.org <attacker@evil.test>`` or ``victim@example.org)<attacker@evil.test>``,
    which lenient parsers read as the victim's address, are refused.
    """
    if len(values) != 1:
        return None, f"{len(values)} From headers"
    if len(values[0]) > MAX_FROM_CHARS:
        # One name and one address fit easily; the strict parser takes ever longer on more.
        return None, f"From longer than {MAX_FROM_CHARS} characters"
    simple = _SIMPLE_FROM.match(values[0])
    if simple:
        addr_spec = next(group for group in simple.groups() if group)
        if len(addr_spec) <= 254:
            return addr_spec.lower(), None
    try:
        header = _FROM_HEADER("from", values[0])
        groups, addresses, defects = header.groups, header.addresses, header.defects
    except Exception as error:
        return None, f"From unreadable ({type(error).__name__})"
    if defects:
        return None, f"From has defects ({type(defects[0]).__name__})"
    if len(groups) != 1 or groups[0].display_name is not None:
        return None, "From holds a group"
    if len(addresses) != 1:
        return None, f"From holds {len(addresses)} addresses"
    address = addresses[0]
    domain = _idna(address.domain)
    addr_spec = f"{address.username}@{domain}"
    if domain is None or not _ADDR_SPEC.match(addr_spec) or len(addr_spec) > 254:
        return None, "From is no plain address"
    return addr_spec.lower(), None


def _idna(domain: str) -> str | None:
    try:
        return domain.encode("idna").decode("ascii") if not domain.isascii() else domain
    except UnicodeError:
        return None


def _repair_boundary(raw: bytes, msg: Message) -> Message:
    """Re-parse a multipart whose declared boundary never occurs but another one does.

    Some mail servers rewrite the boundary in the header and not in the body; without the
    repair the whole mail would be one opaque blob.
    """
    ctype = _safe(msg.get_content_type, "")
    if not ctype.startswith("multipart/") or _safe(msg.is_multipart, True):
        return msg
    split = re.search(rb"\r?\n\r?\n", raw)
    if not split:
        return msg
    head, sep, body = raw[: split.start()], split.group(0), raw[split.end() :]
    found = re.search(rb"^--([^\s]{1,200}?)(?:--)?\r?$", body, re.MULTILINE)
    if not found:
        return msg
    fixed = re.sub(
        rb'boundary\s*=\s*(?:"[^"]*"|[^\s;]+)',
        b'boundary="' + found.group(1).replace(b"\\", b"\\\\") + b'"',
        head,
        count=1,
        flags=re.IGNORECASE,
    )
    return email.message_from_bytes(fixed + sep + body, policy=_POLICY)


def _looks_like_mail(raw: bytes) -> bool:
    head = raw[:65536].lstrip(b"\r\n")
    if head.startswith(b"From "):  # mbox separator line before the real headers
        head = head.split(b"\n", 1)[-1]
    return bool(_HEADER_LINE.match(head))


# -- headers -------------------------------------------------------------------------------------


def _decoded_headers(
    items: list[tuple[str, str]], charset: str | None
) -> tuple[tuple[str, str], ...]:
    out: list[tuple[str, str]] = []
    for name, value in items[:MAX_HEADERS]:
        name = clean_header_text(text_of_header(str(name), None))
        out.append((name, decode_header_value(text_of_header(str(value), charset))))
    return tuple(out)


def text_of_header(value: str, charset: str | None) -> str:
    """A header as text, whatever bytes it arrived as.

    The parser keeps raw 8-bit bytes (RFC 6532 mail, sloppy clients) as surrogate escapes,
    which no database, log or outgoing header can take. They are decoded here: as UTF-8
    first, then in the charset the body declares, then as Latin-1 (which never fails).
    """
    if not _SURROGATES.search(value):
        return value
    data = value.encode("utf-8", "surrogateescape")
    for candidate in ("utf-8", charset, "latin-1"):
        if not candidate:
            continue
        try:
            return data.decode(candidate)
        except (LookupError, UnicodeDecodeError):
            continue
    return data.decode("latin-1")  # not reached: Latin-1 decodes every byte


def clean_header_text(value: str) -> str:
    """Without NUL and other control characters (folded lines become spaces)."""
    return _CONTROLS.sub(lambda m: " " if m.group() in "\r\n" else "", _FOLD.sub(" ", value))


def decode_header_value(value: str) -> str:
    """Decode RFC 2047 words; unknown charsets and broken words fall back to the raw text.

    The result holds no control characters and no surrogates, so it can be stored and echoed.
    """
    if "=?" not in value and not _NEEDS_CLEANING.search(value):
        return value.strip()  # most headers: nothing to decode, fold or remove
    value = _FOLD.sub(" ", value)
    if "=?" in value:  # encoded words; LookupError, HeaderParseError etc. keep the raw text
        with contextlib.suppress(Exception):
            value = str(make_header(decode_header(value)))
    value = _SURROGATES.sub("\ufffd", value)
    return clean_header_text(value).strip()


def _body_charset(msg: Message) -> str | None:
    """The charset the mail's first text part declares (for undeclared 8-bit headers)."""
    parts = _safe(lambda: list(itertools.islice(msg.walk(), MAX_PARTS)), [])
    for part in parts:
        charset = _safe(part.get_content_charset, None)
        if charset:
            return charset
    return None


def _one_line(value: str) -> str:
    return _SPACES.sub(" ", value).strip()


def _first_address(values: list[str]) -> tuple[str, str | None]:
    pairs = _parse_addresses(values)
    if not pairs:
        return "", None
    name, address = pairs[0]
    return decode_header_value(name).strip('"'), address.lower()


def _addresses(values: list[str]) -> tuple[str, ...]:
    """Recipient addresses as written: the tag after "+" is case-sensitive (reply tokens)."""
    seen: dict[str, str] = {}
    for _, address in _parse_addresses(values):
        seen.setdefault(address.lower(), address)
    return tuple(seen.values())


def _parse_addresses(values: list[str]) -> list[tuple[str, str]]:
    bare = [_BARE_ADDR.fullmatch(value) for value in values]
    if all(bare):  # the usual To, Delivered-To: no parsing needed
        pairs = [("", match.group(1)) for match in bare if match]
    else:
        try:
            pairs = getaddresses(values)
        except Exception:
            pairs = []
    out = []
    for name, address in pairs:
        address = clean_header_text(address).strip().strip("<>")
        if "@" in address:
            out.append((name.strip(), address))
    if not out:  # getaddresses gives up on some malformed lists; fall back to a plain scan
        for address in re.findall(r"[\w.+'=-]+@[\w-]+(?:\.[\w-]+)+", " ".join(values)):
            out.append(("", address))
    return out


def _msg_ids(value: str) -> list[str]:
    ids = re.findall(r"<([^<>\s]+)>", value)
    return ids or value.split()


def _msg_id(value: str | None) -> str | None:
    if not value:
        return None
    ids = _msg_ids(value)
    return ids[0] if ids else None


def _date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return parsedate_to_datetime(value)
    except Exception:
        return None


# -- body ----------------------------------------------------------------------------------------


class _Body:
    """Walks the MIME tree once and remembers text candidates, attachments and reports."""

    def __init__(self) -> None:
        self.plain: list[str] = []
        self.html: list[str] = []
        self.attachments: list[Attachment] = []
        self.reports: list[ReportPart] = []
        self.notes: list[str] = []
        self.text_from_html = False
        self._parts = 0

    def collect(self, part: Message, depth: int) -> None:
        self._parts += 1
        if self._parts > MAX_PARTS or depth > MAX_DEPTH:
            if "too many MIME parts" not in self.notes:
                self.notes.append("too many MIME parts; the rest was ignored")
            return
        ctype = _safe(part.get_content_type, "text/plain")
        if ctype.startswith("multipart/"):
            if _safe(part.is_multipart, False):
                for child in _safe(part.get_payload, []) or []:
                    if isinstance(child, Message):
                        self.collect(child, depth + 1)
                return
            # A multipart without usable boundaries: its body is all there is to read.
            self.notes.append("broken multipart structure read as plain text")
            ctype = "text/plain"
        self._leaf(part, ctype)

    def _leaf(self, part: Message, ctype: str) -> None:
        if ctype in ("message/delivery-status", "message/global-delivery-status"):
            self.reports.append(ReportPart(ctype, _header_blocks_text(part)))
            return
        if ctype in ("message/feedback-report", "text/rfc822-headers", "message/rfc822-headers"):
            self.reports.append(ReportPart(ctype, _leaf_text(part)[:MAX_REPORT_CHARS]))
            return
        if ctype in ("message/rfc822", "message/global"):
            self._returned_message(part, ctype)
            return
        if _is_attachment(part) or not ctype.startswith("text/"):
            self.attachments.append(_attachment(part, ctype))
            return
        if ctype == "text/html":
            self.html.append(_leaf_text(part))
        elif ctype in ("text/plain", "text/enriched") or ctype.startswith("text/x-"):
            self.plain.append(_leaf_text(part))
        else:
            self.attachments.append(_attachment(part, ctype))

    def _returned_message(self, part: Message, ctype: str) -> None:
        # Bounces carry the original mail; keep its headers for the report, never its body text.
        inner = _safe(part.get_payload, None)
        if isinstance(inner, list) and inner and isinstance(inner[0], Message):
            items = _safe(inner[0].raw_items, [])
            lines = [f"{k}: {decode_header_value(str(v))}" for k, v in items]
            if lines:
                self.reports.append(ReportPart("text/rfc822-headers", "\n".join(lines)))
        self.attachments.append(_attachment(part, ctype))

    def best_text(self) -> str:
        plain = [t for t in self.plain if t.strip()]
        if plain:
            return "\n\n".join(plain)
        html = [t for t in self.html if t.strip()]
        if html:
            self.text_from_html = True
            return "\n\n".join(html_to_text(h) for h in html)
        return ""


def _is_attachment(part: Message) -> bool:
    disposition = (_safe(part.get_content_disposition, None) or "").lower()
    return disposition == "attachment"


def _attachment(part: Message, ctype: str) -> Attachment:
    filename = _safe(part.get_filename, None)
    if filename:
        filename = decode_header_value(filename)
    payload = _safe(lambda: part.get_payload(decode=True), None)
    if isinstance(payload, bytes):
        return Attachment(filename, ctype, len(payload), payload)
    return Attachment(filename=filename, content_type=ctype, size=len(_safe(part.as_bytes, b"")))


def _header_blocks_text(part: Message) -> str:
    """Text of a delivery-status part, which the parser splits into header blocks."""
    payload = _safe(part.get_payload, None)
    if isinstance(payload, list):
        blocks = []
        for block in payload:
            if isinstance(block, Message):
                items = _safe(block.raw_items, [])
                blocks.append("\n".join(f"{k}: {decode_header_value(str(v))}" for k, v in items))
        return "\n\n".join(blocks)[:MAX_REPORT_CHARS]
    return _leaf_text(part)[:MAX_REPORT_CHARS]


def _leaf_text(part: Message) -> str:
    payload = _safe(lambda: part.get_payload(decode=True), None)
    if not isinstance(payload, bytes):
        raw = _safe(part.get_payload, "")
        return raw if isinstance(raw, str) else ""
    charset = _safe(part.get_content_charset, None)
    return decode_bytes(payload, charset)


def decode_bytes(payload: bytes, charset: str | None) -> str:
    """Decode with the declared charset; fall back to detection when it is unknown or wrong."""
    for candidate in _charset_candidates(charset):
        try:
            return payload.decode(candidate).replace("\r\n", "\n")
        except (LookupError, UnicodeDecodeError):
            continue
    best = _safe(lambda: from_bytes(payload[:200_000]).best(), None)
    if best is not None and best.encoding:
        return payload.decode(best.encoding, errors="replace").replace("\r\n", "\n")
    return payload.decode("cp1252", errors="replace").replace("\r\n", "\n")


def _charset_candidates(charset: str | None) -> list[str]:
    label = (charset or "").strip().strip("\"'").lower()
    if not label or label in ("us-ascii", "ascii", "iso-8859-1", "latin-1", "latin1"):
        # Mislabelled 8-bit text is usually UTF-8 or Windows-1252 (a superset of Latin-1 that
        # also has € and typographic quotes); valid UTF-8 is almost never accidental.
        return ["utf-8", "cp1252"]
    return [label, "utf-8"]


def _cap(text: str) -> tuple[str, int]:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    if len(text) <= MAX_TEXT_CHARS:
        return text, 0
    return text[:MAX_TEXT_CHARS], len(text) - MAX_TEXT_CHARS


def _safe(func, default):
    """Call ``func``; the email package raises odd errors on broken input, keep going."""
    try:
        return func()
    except Exception:
        return default
