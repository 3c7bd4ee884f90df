"""Write an outgoing mail: headers for threading and loop safety, text and HTML from templates.

The words come from the outbox row (and the catalogue for the fixed lines); the templates only
lay them out. Choices become numbered lines with the word to reply where one exists.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.policy import default as default_policy
from email.utils import format_datetime, formataddr, make_msgid

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from core.conversation.inbound_mail import header_safe
from core.kernel.channel_words import email_label, for_email
from core.kernel.grammar import Grammar
from core.kernel.reply_words import answer_words
from core.kernel.texts import t
from core.messaging.email_outbox import EmailToSend
from mail.addresses import bounce_address, display_name_of, domain_of, reply_address

UNSUBSCRIBE_WORD = "ABBESTELLEN"

_ENV = Environment(
    loader=PackageLoader("mail", "templates"),
    autoescape=select_autoescape(enabled_extensions=("html", "html.j2"), default=False),
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
    undefined=StrictUndefined,
)

# Folding at 78 characters would RFC 2047-encode long single tokens such as the
# List-Unsubscribe URI, which mail clients then cannot read; RFC 5322 allows 998.
COMPOSE_POLICY = default_policy.clone(max_line_length=998)


@dataclass(frozen=True)
class RenderedChoice:
    number: int
    label: str
    word: str | None
    word_hint: str


def new_message_id(mail_from: str) -> str:
    """A globally unique Message-ID (without angle brackets) in the assistant's domain.

    Random from the operating system (uuid4), unaffected by seeding of ``random``.
    """
    return f"{uuid.uuid4().hex}@{domain_of(mail_from)}"


def _bracketed(message_id: str) -> str:
    return f"<{message_id.strip('<>')}>"


def _choices(item: EmailToSend, grammar: Grammar) -> list[RenderedChoice]:
    words = answer_words(item.choices, grammar)
    return [
        RenderedChoice(
            number=index,
            label=email_label(choice.label, grammar),
            word=word,
            word_hint=t("email.choice_word", word=word) if word else "",
        )
        for index, (choice, word) in enumerate(zip(item.choices, words, strict=True), start=1)
    ]


def _instruction(choices: list[RenderedChoice]) -> str:
    words = [c.word for c in choices if c.word]
    if not words or len(words) < len(choices):
        return t("email.answer_number")
    listed = words[-1]
    if len(words) > 1:
        listed = ", ".join(words[:-1]) + f" {t('email.or')} {listed}"
    return t("email.answer_words", words=listed)


def render(item: EmailToSend, grammar: Grammar, image_cids: Sequence[str] = ()) -> tuple[str, str]:
    """The plain-text and the HTML body; the HTML shows the images of ``image_cids``."""
    choices = _choices(item, grammar)
    body = for_email(item.text.strip(), grammar)
    paragraphs = [p.split("\n") for p in body.split("\n\n") if p.strip()]
    context = {
        "subject": item.subject or t("email.subject_default"),
        "text": body,
        "paragraphs": paragraphs,
        "choices": choices,
        "instruction": _instruction(choices) if choices else "",
        "attachment_names": [a.filename for a in item.attachments],
        "image_cids": [cid.strip("<>") for cid in image_cids],
        "footer": for_email(t("email.footer"), grammar),
    }
    text = _ENV.get_template("message.txt.j2").render(context)
    html = _ENV.get_template("message.html.j2").render(context)
    return text, html


def compose(item: EmailToSend, mail_from: str, grammar: Grammar, now: datetime) -> EmailMessage:
    """The complete mail for one outbox message."""
    address = reply_address(mail_from, item.reply_token)
    msg = EmailMessage(policy=COMPOSE_POLICY)
    msg["From"] = formataddr((display_name_of(mail_from) or t("email.from_name"), address))
    msg["To"] = header_safe(item.address)
    msg["Subject"] = header_safe(item.subject) or t("email.subject_default")
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = _bracketed(item.message_id)
    if item.in_reply_to:
        msg["In-Reply-To"] = _bracketed(item.in_reply_to)
    references = [r for r in item.references if r]
    if references:
        msg["References"] = " ".join(_bracketed(r) for r in references)
    # RFC 3834: never answer us automatically; our answers are auto-replied.
    msg["Auto-Submitted"] = item.auto_submitted
    msg["X-Auto-Response-Suppress"] = "All"
    if item.reply_token:
        msg["List-Unsubscribe"] = f"<mailto:{address}?subject={UNSUBSCRIBE_WORD}>"
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg["Content-Language"] = "de"
    images = [a for a in item.attachments if a.content_type.startswith("image/")]
    cids = [make_msgid(domain=domain_of(mail_from)) for _ in images]
    text, html = render(item, grammar, cids)
    msg.set_content(text, subtype="plain", charset="utf-8", cte="quoted-printable")
    msg.add_alternative(html, subtype="html", charset="utf-8", cte="quoted-printable")
    _embed(msg.get_payload()[1], images, cids)
    # Images are attached as files too, for clients that block inline pictures.
    for attachment in item.attachments:
        maintype, _, subtype = attachment.content_type.partition("/")
        msg.add_attachment(
            attachment.data,
            maintype=maintype or "application",
            subtype=subtype or "octet-stream",
            filename=attachment.filename,
        )
    try:
        serialise(msg)  # fails here, with a reason, rather than half-way into a session
    except Exception as error:
        raise Unsendable(f"{type(error).__name__}: {error}") from None
    return msg


def _embed(html_part: EmailMessage, images: list, cids: list[str]) -> None:
    """multipart/related around the HTML, so the pictures appear inside it (``cid:``)."""
    for image, cid in zip(images, cids, strict=True):
        _, _, subtype = image.content_type.partition("/")
        html_part.add_related(
            image.data,
            maintype="image",
            subtype=subtype or "png",
            cid=cid,
            filename=image.filename,
            disposition="inline",
        )


class Unsendable(ValueError):
    """The message cannot be written as a mail (an address or header that cannot be encoded);
    sending it again would not help."""


def envelope_sender(mail_from: str, item: EmailToSend) -> str:
    """Each message's own bounce address (VERP): only bounces reaching it count."""
    if not item.bounce_token:
        return reply_address(mail_from, None)
    return bounce_address(mail_from, item.bounce_token)


def serialise(msg: EmailMessage) -> bytes:
    """The bytes as they go over SMTP; raises for a header that cannot be encoded."""
    return msg.as_bytes(policy=SMTP_POLICY.clone(max_line_length=998))
