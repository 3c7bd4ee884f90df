"""Every catalogue text, through both channels: command words and plural forms.

A mail names commands by their email words (DATEN), a chat by the slash (/daten); a count in
front of a noun takes the noun's plural rule ("1 Angebot", "2 Angebote").
"""

from __future__ import annotations

import re
from datetime import datetime
from string import Formatter

import pytest

from core.feature_set import all_features
from core.kernel.channel_words import REFERENCE, email_label, for_email
from core.kernel.german_format import counted, day_and_time, euro, number
from core.kernel.grammar import fold
from core.kernel.replies import Choice
from core.kernel.texts import all_keys, raw, t
from core.messaging.email_outbox import EmailToSend
from mail.compose import render

GRAMMAR = all_features().grammar  # the one grammar, as the service assembles it

# Placeholders that hold a count. A count right before a noun needs the noun's plural rule.
COUNTS = {
    *("count", "n", "days", "offers", "requests", "matches", "accepted", "members"),
    *("municipalities", "weak", "found", "expected", "runs", "queued", "pending", "verify"),
    *("posts_week", "matches_week", "free", "capacity", "max", "length", "payable"),
}
# Words after a count that are no noun, or a noun alike in singular and plural.
NOT_A_NOUN = {"von", "bis", "und", "aus", "statt", "in", "angemeldet", "liegen", "weitere"}
NOT_A_NOUN |= {"Zeichen", "Kostenposten", "Uhr"}
BARE_COUNT = re.compile(r"\{(\w+)\}[ ]+([^\W\d_]+)")
PLURAL_HACK = re.compile(r"[^\W\d_]\((?:en|n|e|s|er)\)")
# Texts that name the other channel's words on purpose ("per E-Mail: VERKNUEPFEN …").
NAMES_EMAIL_WORDS = {"link.code"}
EMAIL_ONLY = ("email.", "register_mail.")


def _values(key: str, count: int) -> dict[str, object]:
    values: dict[str, object] = {}
    for _, field, spec, _ in Formatter().parse(raw(key)):
        if field:
            values[field] = count if (spec and "|" in spec) or field in COUNTS else "X"
    return values


@pytest.mark.parametrize("key", all_keys())
def test_every_text_in_both_channels(key):
    for count in (1, 2, 1250):
        chat = t(key, **_values(key, count))
        mail = for_email(chat, GRAMMAR)
        leftover = [m.group(0) for m in REFERENCE.finditer(mail) if GRAMMAR.find(m.group(1))]
        assert not leftover, f"{key}: {leftover} in an email text"
        if not key.startswith(EMAIL_ONLY) and key not in NAMES_EMAIL_WORDS:
            words = re.findall(r"\b[A-ZÄÖÜ]{4,}\b", chat)
            email_words = [w for w in words if GRAMMAR.find(fold(w))]
            assert not email_words, f"{key}: email words {email_words} in a chat text"


@pytest.mark.parametrize("key", all_keys())
def test_no_bare_count_before_a_noun(key):
    text = raw(key)
    assert not PLURAL_HACK.search(text), f"{key}: write both forms, not „(en)“"
    for field, word in BARE_COUNT.findall(text):
        if field in COUNTS and word not in NOT_A_NOUN:
            pytest.fail(f"{key}: {{{field}}} {word} needs a plural form {{{field}:#…|…}}")


def test_plural_forms_follow_the_german_rule():
    assert t("events.lead_days", n=1) == "in 1 Tag"
    assert t("events.lead_days", n=3) == "in 3 Tagen"
    counts = t("digest.exchange_counts", offers=1, requests=2, matches=1, accepted=0)
    assert counts == "1 Angebot, 2 Gesuche, 1 Treffervorschlag, 0 hergestellte Kontakte"
    assert t("digest.failed_line", channel="E-Mail", count=1).endswith("1 Nachricht")
    assert counted(12500, "Zusammenfassung", "Zusammenfassungen") == "12.500 Zusammenfassungen"
    assert "Im Jahr 2026" in t(
        "grants.intro", town="X", year=2026, remaining="1", cap="2", rate="3", deadline="4"
    )


def test_numbers_money_and_dates_are_german():
    assert number(1234567) == "1.234.567" and number(2.5) == "2,5"
    assert euro(125050) == "1.250,50 €" and euro(80000) == "800,00 €"
    assert day_and_time(datetime(2026, 3, 5, 9, 30)) == "05.03.2026 09:30"


def test_a_mail_names_email_words_and_no_doubled_brackets():
    item = EmailToSend(
        id=1,
        address="anna@example.org",
        subject="Test",
        message_id="m1@example.org",
        reply_token=None,
        text="Mit /daten erhalten Sie alles, mit /loeschen löschen Sie es. Link: https://t.me/bot",
        choices=[Choice(t("welcome.choice_offer"), "/biete")],
    )
    text, html = render(item, GRAMMAR)
    assert "Mit DATEN erhalten Sie alles, mit LÖSCHEN löschen" in text
    assert "https://t.me/bot" in text and "/daten" not in html
    assert "Etwas anbieten (Antwort: BIETE)" in text and "(/biete)" not in text
    assert email_label("Alle Befehle (/hilfe)", GRAMMAR) == "Alle Befehle"
