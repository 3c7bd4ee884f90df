"""Keep only what a person newly wrote in a reply mail.

Members answer the assistant's mails with "Ja", "Anmelden" or a few sentences on top of the
quoted original. Everything else — the quoted history, the header block a client puts above it,
phone footers and signatures — must go before the text reaches a command parser or is stored in a
post (signatures carry phone numbers and addresses that are shared only by mutual consent).

The approach is line based: find the first line where quoted history starts, then drop quoted
lines and the signature from what remains. Texts converted from HTML render ``<blockquote>`` as
"> " lines, so the same rules apply to them.
"""

from __future__ import annotations

import re

# A reply header such as "On Tue, 3 Mar 2024, Anna <a@b.de> wrote:" or "Am 03.03.2024 um 10:15
# schrieb Anna:". Clients wrap it over two or three lines, so it is tested on joined lines.
_WROTE_VERBS = (
    r"wrote|writes|schrieb|schreibt|a\s+écrit|escribió|ha\s+scritto|scrisse|schreef|escreveu|"
    r"napisał\(a\)|napisała|napisał|pisze|skrev|skriver|kirjoitti|написал\(а\)|написала|"
    r"написал|scrie|napsal|yazdı|geschreven|đã viết|sent"
)
_WROTE_START = re.compile(
    r"^\s*(on|am|le|el|il|op|em|w\s+dniu|dnia|den|på|pe|dne|vào|\d{1,4}[./-]\d{1,2}[./-]\d{1,4})\b",
    re.IGNORECASE,
)
_WROTE_VERB = re.compile(rf"(?:^|[\s,>\"')\]])(?:{_WROTE_VERBS})(?:\s|:|$)", re.IGNORECASE)
_WROTE_END = re.compile(r":\s*$")
# Without a verb, some clients write "2016-03-14 14:57 GMT+01:00 Anna <a@b.de>:" or put the
# date first in their own language ("ср, 30 апр. 2025 г. в 15:19, Anna <a@b.de>:").
_DATE_ADDRESS_HEADER = re.compile(
    r"^\s*\d{1,4}[./-]\d{1,2}[./-]\d{1,4}[^\n]*<[^<>\s]+@[^<>\s]+>\s*:?\s*$"
)
_TIME_ADDRESS_COLON = re.compile(r"\d{1,2}:\d{2}.*<\s*[^<>\s]+@[^<>\s]+\s*>\s*:\s*$")
# "reply text On Wed, Apr 4, 2012 at 3:59 PM, bob@example.com wrote:" on one line.
_MIDLINE_HEADER = re.compile(
    rf"(?:-{{2,}}\s*)?\b(?:on|am)\s+\S.{{0,200}}\d.{{0,200}}(?:{_WROTE_VERBS})\s*:\s*$",
    re.IGNORECASE,
)
_MAX_HEADER_CHARS = 400

# Outlook style header blocks: "Von: …", "Gesendet: …", "An: …", "Betreff: …" (one per line, or
# all on one line after HTML conversion), optionally bold ("*From:*").
_FROM_FIELD = re.compile(
    r"^\s*[*_]*(from|von|de|van|fra|från|od|da|lähettäjä|от|absender)\s*[*_]*\s*:", re.IGNORECASE
)
_OTHER_FIELD = re.compile(
    r"^\s*[*_]*(sent|date|to|cc|subject|gesendet|datum|an|betreff|envoyé|à|objet|verzonden|aan|"
    r"onderwerp|sendt|til|emne|skickat|till|ämne|wysłano|do|temat|data|inviato|oggetto|enviado|"
    r"para|assunto|asunto|fecha|lähetetty|vastaanottaja|aihe|отправлено|кому|тема|gesendet am|"
    r"a|sujet|copie à|dato|from|von|de|fra|van|od|da)"
    r"\s*[*_]*\s*:",
    re.IGNORECASE,
)
# Some clients start the block with the date instead of the sender.
_FIRST_FIELD = re.compile(r"^\s*[*_]*(date|datum|sent|gesendet|envoyé)\s*[*_]*\s*:", re.IGNORECASE)
_INLINE_HEADER = re.compile(
    r"(from|von)\s*:.{1,200}?(sent|gesendet|date|datum)\s*:.{1,200}?(to|an|subject|betreff)\s*:",
    re.IGNORECASE,
)

# "-----Original Message-----", "-------- Ursprüngliche Nachricht --------", forwards.
_SEPARATOR = re.compile(
    r"^\s*[-_=*>\s]*\s*(original message|ursprüngliche nachricht|originalnachricht|"
    r"original-nachricht|oprindelig meddelelse|message d'origine|mensaje original|"
    r"messaggio originale|oorspronkelijk bericht|originalmeddelande|opprinnelig melding|"
    r"wiadomość oryginalna|alkuperäinen viesti|исходное сообщение|forwarded message|"
    r"weitergeleitete nachricht|message transféré|mensaje reenviado|doorgestuurd bericht)"
    r"\s*[-_=*\s]*$",
    re.IGNORECASE,
)
# Any short phrase between dashes: "-------- Oprindelig besked --------", "-----Reply Message-----".
_DASHED_PHRASE = re.compile(r"^\s*-{3,}\s*[^\W\d_][\w .'’]{2,40}?\s*-{3,}\s*$")
_FORWARD_INTRO = re.compile(
    r"^\s*(begin forwarded message|anfang der weitergeleiteten (e-mail|nachricht)|"
    r"début du message réexpédié)\s*:\s*$",
    re.IGNORECASE,
)

# Footers of mobile clients: "Sent from my iPhone", "Von meinem iPhone gesendet".
_MOBILE_FOOTER = re.compile(
    r"^\s*(sent from|sent with|sent using|sent via|get outlook for|gesendet von|gesendet mit|"
    r"gesendet vom|von meinem|envoyé de|enviado desde|enviado do|inviato da|verzonden met|"
    r"skickat från|sendt fra|wysłane z)\b[^,;!?\n]{0,80}$",
    re.IGNORECASE,
)
_MOBILE_TRAILER = re.compile(r"\b(gesendet|sent)\s*\.?\s*$", re.IGNORECASE)

# "-- " is the standard signature delimiter; long underscore lines are mailing-list footers.
_SIGNATURE_DELIMITER = re.compile(r"^(--|-- |__+|—|–)\s*$")
_LIST_FOOTER = re.compile(r"^\s*_{10,}\s*$")
_SIGN_OFF = re.compile(
    r"^\s*(mit freundlichen grüßen|mit freundlichen grüssen|mit freundlichem gruß|"
    r"freundliche grüße|freundliche grüsse|viele grüße|viele grüsse|beste grüße|beste grüsse|"
    r"liebe grüße|liebe grüsse|herzliche grüße|herzliche grüsse|schöne grüße|schöne grüsse|"
    r"mit besten grüßen|mit besten grüssen|mit herzlichen grüßen|mit herzlichen grüssen|"
    r"grüße|grüsse|mfg|lg|vg|gruß|gruss|best regards|kind regards|warm regards|regards|best wishes|"
    r"med venlig hilsen|med vänlig hälsning|med vennlig hilsen|mvh|pozdrawiam|z poważaniem|"
    r"z powazaniem|cordialement|saludos|cordiali saluti|met vriendelijke groet)\s*[,.!]?\s*$",
    re.IGNORECASE,
)
_MAX_SIGNATURE_LINES = 8
# A municipal signature block below a sign-off (name, office, municipality, street, town,
# phone, fax, mail, web) is often longer than what cutting a reply allows; reading the
# signature accepts it when the sign-off is the mail's last.
_MAX_SIGNATURE_BLOCK = 14
_TRAILING_RULE = re.compile(r"^\s*[-_=*~]{3,}\s*$")


def extract_reply(text: str) -> str:
    """Return the newly written part of a reply, without quotes, headers and signature."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    kept = _drop_quoted_history(lines)
    kept = _cut_signature(kept)
    return _tidy(kept)


# -- quoted history ------------------------------------------------------------------------------

# Removed lines are kept as None until the end so that the blank lines around a removed block
# collapse into one instead of leaving a hole in the text.
_Lines = list[str | None]


def _drop_quoted_history(lines: list[str]) -> _Lines:
    kept: _Lines = []
    in_quote = False  # after "… wrote:" followed by ">" lines
    index = 0
    while index < len(lines):
        line = lines[index]
        if _is_quoted(line) or (in_quote and _is_quote_continuation(lines, index)):
            kept.append(None)
            index += 1
            continue
        if _starts_history(lines, index):
            break
        prefix = _text_before_midline_header(line)
        header_end = None if prefix is not None else _reply_header_end(lines, index)
        if header_end is not None:
            # After "… wrote:" the original follows. Only when it is ">"-quoted can new text
            # follow it (inline or bottom posting); unquoted originals run to the end.
            if not _next_content_is_quoted(lines, header_end):
                break
            in_quote = True
            kept.extend([None] * (header_end - index))
            index = header_end
            continue
        if prefix is not None:
            kept.append(prefix)
            if not _next_content_is_quoted(lines, index + 1):
                break
            in_quote = True
        else:
            kept.append(line)
        index += 1
    return kept


def _is_quoted(line: str) -> bool:
    return line.lstrip().startswith(">")


def _is_quote_continuation(lines: list[str], index: int) -> bool:
    """Clients wrap long quoted lines without repeating ">".

    Such a line directly follows a quoted one and either continues a long line or does not start
    like a new sentence; an answer written right below a short quote is kept.
    """
    line = lines[index]
    if index == 0 or not line.strip() or not _is_quoted(lines[index - 1]):
        return False
    first = line[0]
    return len(lines[index - 1]) >= 60 or not (first.isupper() or first.isdigit())


def _next_content_is_quoted(lines: list[str], start: int) -> bool:
    # Walks by index: slicing the rest of the mail for every reply header made a mail of
    # many headers cost the square of its length.
    for index in range(start, len(lines)):
        if lines[index].strip():
            return _is_quoted(lines[index])
    return False


def _starts_history(lines: list[str], index: int) -> bool:
    line = lines[index]
    if _is_separator(line) or _is_outlook_block(lines, index):
        return True
    # A rule line ("_____", "-----") directly above a header block.
    if _TRAILING_RULE.match(line):
        following = [i for i in range(index + 1, min(index + 3, len(lines))) if lines[i].strip()]
        return bool(following) and _is_outlook_block(lines, following[0])
    return False


def _reply_header_end(lines: list[str], index: int) -> int | None:
    """If a reply header starts at ``index``, the index of the line after it, else None."""
    first = lines[index]
    if not first.strip():
        return None
    if _DATE_ADDRESS_HEADER.match(first):
        return index + 1
    end = _joined_header_end(lines, index)
    # "Hi,\nOn … wrote:" joins into a header too; the header starts on the later line then.
    if end is None:
        return None
    for later in range(index + 1, end):
        if _MIDLINE_HEADER.search(lines[later]):
            return None
        if _WROTE_START.match(lines[later]) and _joined_header_end(lines, later) == end:
            return None
    return end


def _joined_header_end(lines: list[str], index: int) -> int | None:
    joined = ""
    for offset in range(3):
        if index + offset >= len(lines) or not lines[index + offset].strip():
            break
        if offset and _is_quoted(lines[index + offset]):
            break
        joined = f"{joined} {lines[index + offset].strip()}".strip()
        if len(joined) > _MAX_HEADER_CHARS:
            break
        if _is_wrote_header(joined):
            return index + offset + 1
    return None


def _is_wrote_header(joined: str) -> bool:
    dashed = joined.startswith("--") and joined.endswith("--")
    if dashed:
        # Zoho and Android: "---- On Wed, 24 Feb 2021 … wrote ----".
        joined = joined.strip("- ") + ":"
    if _TIME_ADDRESS_COLON.search(joined) and len(joined) < 250:
        return True
    if not _WROTE_END.search(joined) or not _WROTE_VERB.search(joined):
        return False
    if _WROTE_START.match(joined) or dashed:
        return True
    # Headers without a leading preposition ("Anna Muster <a@b.de> kirjoitti:") must at least
    # name an address or a time, so that a sentence ending in "wrote:" is kept.
    return bool(re.search(r"@|\d{1,2}[:.]\d{2}", joined))


def _text_before_midline_header(line: str) -> str | None:
    match = _MIDLINE_HEADER.search(line)
    if not match or match.start() == 0 or not line[: match.start()].strip():
        return None
    return line[: match.start()].rstrip(" -")


def _is_outlook_block(lines: list[str], index: int) -> bool:
    line = lines[index]
    if _INLINE_HEADER.search(line) and len(line) < 1000:
        return True
    if not (_FROM_FIELD.match(line) or _FIRST_FIELD.match(line)):
        return False
    window = [candidate for candidate in lines[index + 1 : index + 7] if candidate.strip()]
    return any(_OTHER_FIELD.match(candidate) for candidate in window[:2])


def _is_separator(line: str) -> bool:
    return bool(_SEPARATOR.match(line) or _FORWARD_INTRO.match(line) or _DASHED_PHRASE.match(line))


# -- signatures ----------------------------------------------------------------------------------


def _cut_signature(lines: _Lines) -> _Lines:
    start = _signature_start(lines)
    return lines if start is None else lines[:start]


def _signature_start(lines: _Lines) -> int | None:
    after = _content_lines_after(lines)
    for index, line in enumerate(lines):
        if line is None:
            continue
        if _SIGNATURE_DELIMITER.match(line) or _LIST_FOOTER.match(line):
            return index
        if _is_mobile_footer(line):
            return index
        # A sign-off starts a signature only near the end; otherwise it is part of the text.
        if _SIGN_OFF.match(line) and after[index] <= _MAX_SIGNATURE_LINES:
            return index
    return None


def _content_lines_after(lines: _Lines) -> list[int]:
    """For each line, how many non-blank lines follow it.

    Counted once from the end: recounting the rest for every sign-off line made a mail of
    many short "lg" lines take quadratic time.
    """
    after = [0] * len(lines)
    seen = 0
    for index in range(len(lines) - 1, -1, -1):
        after[index] = seen
        line = lines[index]
        if line and line.strip():
            seen += 1
    return after


def extract_signature(text: str) -> str:
    """The sender's own signature below the reply (name, office, address), without quotes.

    Registration by mail reads the name and the municipality from it; it never reaches a post.
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    kept = _drop_quoted_history(lines)
    start = _signature_start(kept)
    if start is None:
        start = _last_sign_off(kept)
    if start is None:
        return ""
    return _tidy(_signature_block(kept[start:]))


def _signature_block(lines: _Lines) -> _Lines:
    """The first line and at most as many non-blank lines below it as a block may have.

    The limit counts non-blank lines, like ``_last_sign_off``: counting blank ones too cut the
    town off a signature that puts a blank line between its lines.
    """
    block: _Lines = []
    content = 0
    for line in lines:
        if line is None:
            continue
        if line.strip():
            if content > _MAX_SIGNATURE_BLOCK:
                break
            content += 1
        block.append(line)
    return block


def _last_sign_off(lines: _Lines) -> int | None:
    """The mail's last sign-off line, when a signature block of moderate length follows."""
    for index in range(len(lines) - 1, -1, -1):
        line = lines[index]
        if line is not None and _SIGN_OFF.match(line):
            tail = [rest for rest in lines[index + 1 :] if rest and rest.strip()]
            return index if len(tail) <= _MAX_SIGNATURE_BLOCK else None
    return None


def _is_mobile_footer(line: str) -> bool:
    stripped = re.sub(r"<[^>]*>|\(https?://[^)]*\)|https?://\S+", "", line).strip()
    if len(stripped.split()) > 8:
        return False
    if _MOBILE_FOOTER.match(stripped):
        return True
    # "Von meinem iPhone gesendet" puts the verb last.
    return stripped.lower().startswith("von meinem") and bool(_MOBILE_TRAILER.search(stripped))


def _tidy(lines: _Lines) -> str:
    out: list[str] = []
    removed_gap = False
    for line in lines:
        if line is None:
            removed_gap = True
            continue
        line = line.rstrip()
        if removed_gap and not line:
            continue
        if removed_gap and out and out[-1]:
            out.append("")
        removed_gap = False
        out.append(line)
    while out and (not out[-1] or _TRAILING_RULE.match(out[-1])):
        out.pop()
    while out and not out[0]:
        out.pop(0)
    return "\n".join(out)
