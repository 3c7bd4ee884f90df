"""Authentication-Results (RFC 8601) of a trusted server: parsing, verdicts, the pipeline."""

from __future__ import annotations

import logging
import random

import pytest
from sqlalchemy import func, select

from core.feature_set import all_features
from core.store.models import InboundMail, OutboxMessage, Post
from mail.authentication import (
    FAIL,
    NONE,
    PASS,
    AuthResults,
    MethodResult,
    check,
    parse_header,
    topmost_trusted,
    verdict,
)
from mail.incoming import read_mail
from tests.email_world import MAIL_FROM, MailWorld
from tests.support import mailclients
from zukunftsraum.bootstrap import App
from zukunftsraum.email_channel import build_email_channel
from zukunftsraum.settings import ConfigError, load_settings

GRAMMAR = all_features().grammar  # the one grammar, as the service assembles it

TRUSTED = "mx.zukunftsraum.example"
ANNA = "anna.schmidt@prenzlau.example"

GMAIL_STYLE = (
    "mx.zukunftsraum.example;\r\n"
    "       dkim=pass header.i=@prenzlau.example header.s=2024 header.b=Zm+9/xQa;\r\n"
    "       spf=pass (mx.zukunftsraum.example: domain of anna.schmidt@prenzlau.example\r\n"
    "        designates 192.0.2.7 as permitted sender) smtp.mailfrom=anna.schmidt@prenzlau.example;"
    "\r\n       dmarc=pass (p=QUARANTINE sp=QUARANTINE dis=NONE) header.from=prenzlau.example"
)


def _headers(*values: str) -> list[tuple[str, str]]:
    """Authentication-Results headers top to bottom, between the usual others."""
    return [
        ("Return-Path", f"<{ANNA}>"),
        *[("Authentication-Results", v) for v in values],
        ("Received", "from mail.prenzlau.example by mx.zukunftsraum.example"),
        ("From", ANNA),
    ]


def _verdict(results: str, from_address: str | None = ANNA) -> str:
    return check(_headers(f"{TRUSTED}; {results}"), from_address, [TRUSTED]).verdict


# -- parsing --------------------------------------------------------------------------------------


def test_several_methods_in_one_folded_header_with_comments():
    parsed = parse_header(GMAIL_STYLE)
    assert parsed is not None and parsed.authserv_id == TRUSTED and parsed.version is None
    assert [(r.method, r.result) for r in parsed.results] == [
        ("dkim", "pass"),
        ("spf", "pass"),
        ("dmarc", "pass"),
    ]
    dkim, spf, dmarc = parsed.results
    assert dkim.get("header.i") == "@prenzlau.example" and dkim.get("header.b") == "Zm+9/xQa"
    assert spf.get("smtp.mailfrom") == ANNA  # the comment before it is skipped
    assert dmarc.properties == (("header.from", "prenzlau.example"),)


def test_comments_may_nest_and_hold_semicolons_and_escapes():
    parsed = parse_header(
        "(the MX) mx.example.org (v (nested; deep) \\) still) ; "
        'dkim=fail (bad signature; key (2048-bit)) reason="body hash; changed" header.d=x.example'
    )
    assert parsed is not None and parsed.authserv_id == "mx.example.org"
    (dkim,) = parsed.results
    assert (dkim.method, dkim.result) == ("dkim", "fail")
    assert dkim.reason == "body hash; changed" and dkim.get("header.d") == "x.example"


def test_quoted_values_and_quoted_authserv_id():
    parsed = parse_header(
        '"mx.example.org"; spf=pass smtp.mailfrom="anna \\"a\\" schmidt"@prenzlau.example'
        ' reason="SPF record \\"-all\\" matched"'
    )
    assert parsed is not None and parsed.authserv_id == "mx.example.org"
    (spf,) = parsed.results
    assert spf.get("smtp.mailfrom") == 'anna "a" schmidt@prenzlau.example'
    assert spf.reason == 'SPF record "-all" matched'


def test_version_numbers_of_header_and_method():
    parsed = parse_header("mx.example.org 1; dkim/1=pass header.d=example.org; spf = fail")
    assert parsed == AuthResults(
        "mx.example.org",
        1,
        (
            MethodResult("dkim", "pass", properties=(("header.d", "example.org"),)),
            MethodResult("spf", "fail"),
        ),
    )


def test_none_means_nothing_was_checked():
    parsed = parse_header("mx.example.org 1; none")
    assert parsed == AuthResults("mx.example.org", 1, ())
    assert verdict(parsed, ANNA).verdict == NONE


def test_items_that_are_not_rfc_8601_are_skipped_not_fatal():
    parsed = parse_header(
        "mx.example.org; spf=fail smtp.mailfrom=a@b.example junk here; "
        "dmarc=fail action=none header.from=b.example; ; nonsense; dkim=fail"
    )
    assert parsed is not None
    assert [(r.method, r.result) for r in parsed.results] == [
        ("spf", "fail"),
        ("dmarc", "fail"),
        ("dkim", "fail"),
    ]
    assert parsed.results[1].properties == (("header.from", "b.example"),)


def test_header_names_ids_methods_and_results_are_case_insensitive():
    headers = [
        (
            "AUTHENTICATION-results",
            "MX.ZukunftsRaum.Example; DMARC=FAIL header.From=Prenzlau.Example",
        )
    ]
    found = topmost_trusted(headers, ["mx.zukunftsraum.EXAMPLE"])
    assert found is not None and found.results[0] == MethodResult(
        "dmarc", "fail", properties=(("header.from", "Prenzlau.Example"),)
    )
    assert check(headers, ANNA, [" Mx.Zukunftsraum.Example "]).verdict == FAIL


def test_headers_of_other_servers_are_ignored():
    headers = _headers("mx.elsewhere.example; dmarc=fail", "attacker.example; dmarc=fail")
    assert topmost_trusted(headers, [TRUSTED]) is None
    assert check(headers, ANNA, [TRUSTED]) == check([], ANNA, [TRUSTED])
    assert check(headers, ANNA, [TRUSTED]).verdict == NONE
    assert check(headers, ANNA, ["mx.elsewhere.example"]).verdict == FAIL
    assert check(headers, ANNA, []).verdict == NONE  # no trusted server: nothing counts


def test_only_the_topmost_trusted_header_counts():
    # The sender wrote a header with the trusted id into the mail; the server's own is above it.
    forged_pass = _headers(f"{TRUSTED}; dmarc=fail header.from=prenzlau.example")
    forged_pass.insert(
        -1, ("Authentication-Results", f"{TRUSTED}; dmarc=pass header.from=prenzlau.example")
    )
    assert check(forged_pass, ANNA, [TRUSTED]).verdict == FAIL
    forged_fail = _headers(
        f"{TRUSTED}; dmarc=pass header.from=prenzlau.example", f"{TRUSTED}; dmarc=fail"
    )
    assert check(forged_fail, ANNA, [TRUSTED]).verdict == PASS
    # A header of another server above the trusted one is skipped, not taken as the top.
    above = _headers("relay.example; dmarc=pass", f"{TRUSTED}; dmarc=fail")
    assert check(above, ANNA, [TRUSTED]).verdict == FAIL


def test_any_of_several_trusted_ids_counts():
    headers = _headers("mx2.provider.example; dmarc=fail", "mx1.provider.example; dmarc=pass")
    ids = ["mx1.provider.example", "mx2.provider.example"]
    assert check(headers, ANNA, ids).verdict == FAIL


@pytest.mark.parametrize(
    "value",
    [
        "",
        "   ",
        ";",
        ";;;=;=",
        "(((((",
        "mx.example.org (unterminated",
        'mx.example.org; spf="unterminated',
        "mx.example.org; dkim=pass header.d=\\",
        "mx.example.org " + "9" * 5000 + "; spf=pass",
        "mx.example.org; =pass; spf=; /1=x; dkim/=pass",
        "\x00\x01\x7f\r\n\t",
        ")" * 50 + "(" * 50,
    ],
)
def test_garbage_never_raises(value):
    parsed = parse_header(value)
    assert parsed is None or isinstance(parsed, AuthResults)
    assert check([("Authentication-Results", value)], ANNA, ["mx.example.org"]).verdict in (
        PASS,
        FAIL,
        NONE,
    )


def test_random_garbage_never_raises():
    rng = random.Random(8601)
    alphabet = 'mx.eorg;=()"\\/@ \t\r\n0123456789dkimspfpassfail.'
    for _ in range(2000):
        value = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 80)))
        parse_header(value)
        check([("Authentication-Results", value)], ANNA, ["mx.eorg"])


# -- verdicts -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("results", "expected"),
    [
        ("dmarc=pass header.from=prenzlau.example", PASS),
        ("dmarc=fail (p=reject) header.from=prenzlau.example", FAIL),
        # The server's DMARC result decides over what the single methods say.
        ("dkim=pass header.d=prenzlau.example; dmarc=fail", FAIL),
        ("spf=fail; dkim=fail; dmarc=pass header.from=prenzlau.example", PASS),
        # A DMARC pass counts only for the From domain: not for another domain, nor unnamed.
        # A DMARC result about another domain: the server read another From than we did.
        ("dmarc=pass header.from=evil.test", FAIL),
        ("dmarc=pass header.from=evil.test; spf=fail; dkim=fail", FAIL),
        ("dmarc=pass header.from=mail.prenzlau.example", FAIL),
        ("dmarc=pass header.from=prenzlau.example.evil.test", FAIL),
        ("dmarc=fail header.from=evil.test; dkim=pass header.d=prenzlau.example", FAIL),
        ("dmarc=pass header.from=PRENZLAU.example", PASS),
        ("dmarc=pass", NONE),
        # Without a DMARC pass or fail, an aligned DKIM or SPF pass is enough …
        ("dkim=pass header.d=prenzlau.example; spf=fail", PASS),
        ("dkim=pass header.d=mail.prenzlau.example", PASS),
        ("dkim=pass header.i=@prenzlau.example", PASS),
        ("dkim=fail header.d=x.example; dkim=pass header.d=prenzlau.example", PASS),
        ("spf=pass smtp.mailfrom=bounces@prenzlau.example; dkim=none", PASS),
        ("spf=pass smtp.mailfrom=PRENZLAU.example.", PASS),
        ("dmarc=none; spf=pass smtp.mailfrom=prenzlau.example", PASS),
        # … an unaligned one is not.
        ("dkim=pass header.d=esp.example.net; spf=pass smtp.mailfrom=b@esp.example.net", FAIL),
        ("dkim=pass header.d=evilprenzlau.example; spf=fail", FAIL),
        ("dkim=pass header.d=prenzlau.example.evil.test; spf=softfail", FAIL),
        ("dkim=pass header.d=example; spf=fail", FAIL),  # a bare suffix aligns with nothing
        ("spf=pass smtp.helo=prenzlau.example; dkim=fail", FAIL),  # HELO is not the From
        # Both methods answered and neither vouches for the From domain.
        ("spf=fail smtp.mailfrom=prenzlau.example; dkim=fail header.d=prenzlau.example", FAIL),
        ("spf=softfail; dkim=fail", FAIL),
        ("dmarc=none; spf=fail; dkim=fail", FAIL),
        # Anything less certain is no verdict.
        ("spf=fail; dkim=none", NONE),
        ("spf=fail", NONE),
        ("dkim=fail", NONE),
        ("spf=temperror; dkim=temperror", NONE),
        ("spf=neutral; dkim=fail", NONE),
        ("spf=permerror; dkim=fail", NONE),
        ("dmarc=temperror; spf=none; dkim=none", NONE),
        ("arc=pass; iprev=pass", NONE),
        ("none", NONE),
    ],
)
def test_verdict(results, expected):
    assert _verdict(results) == expected


def test_subdomain_of_the_from_domain_and_the_other_way_round_align():
    assert _verdict("dkim=pass header.d=prenzlau.example", "a@lists.prenzlau.example") == PASS
    # Siblings share the organisational domain, but the approximation does not see it.
    assert _verdict("dkim=pass header.d=a.prenzlau.example", "a@b.prenzlau.example") == NONE


def test_internationalised_from_domain_aligns_with_its_ascii_form():
    assert _verdict("dkim=pass header.d=xn--mller-kva.example", "anna@müller.example") == PASS


def test_no_from_address_gives_no_verdict():
    assert _verdict("spf=fail; dkim=fail", None) == NONE
    assert _verdict("dmarc=fail", None) == FAIL  # the server found a From domain and its policy


def test_reason_says_why():
    assert check(_headers(GMAIL_STYLE), ANNA, [TRUSTED]).reason == "dmarc=pass for prenzlau.example"
    outcome = check(_headers(f"{TRUSTED}; spf=fail; dkim=fail"), ANNA, [TRUSTED])
    assert outcome.reason == "neither dkim nor spf passed for prenzlau.example"


# -- reading a mail -------------------------------------------------------------------------------


def _received(raw: bytes, results: str) -> bytes:
    """The mail as the trusted server stores it: its folded header prepended."""
    folded = results.replace("; ", ";\r\n\t")
    return f"Authentication-Results: {TRUSTED};\r\n\t{folded}\r\n".encode() + raw


def test_read_mail_judges_only_when_asked():
    raw = _received(
        mailclients.new_mail(ANNA, MAIL_FROM, "MEINE", ""),
        "spf=fail smtp.mailfrom=prenzlau.example; dkim=none; dmarc=fail (p=reject)",
    )
    words = GRAMMAR.words()
    assert read_mail(raw, mail_from=MAIL_FROM, words=words).authentication is None
    judged = read_mail(raw, mail_from=MAIL_FROM, words=words, authserv_ids=(TRUSTED,))
    assert judged.authentication == FAIL
    other = read_mail(raw, mail_from=MAIL_FROM, words=words, authserv_ids=("mx.other.example",))
    assert other.authentication == NONE


@pytest.mark.parametrize(
    ("authserv_ids", "results", "status"),
    [
        ((TRUSTED,), "dmarc=fail (p=reject) header.from=prenzlau.example", "auth_failed"),
        ((TRUSTED,), "dmarc=pass header.from=prenzlau.example", "done"),
        ((), "dmarc=fail (p=reject) header.from=prenzlau.example", "done"),  # check off
    ],
)
async def test_pipeline_drops_a_mail_that_fails_authentication_silently(
    db, assistant, clock, tmp_path, caplog, authserv_ids, results, status
):
    world = MailWorld(db, assistant, clock, tmp_path, authserv_ids=authserv_ids)
    await world.member("Anna Schmidt", ANNA)
    raw = mailclients.new_mail(ANNA, MAIL_FROM, "SUCHE Ideen für Jugendbeteiligung", "Danke!")
    world.drop(_received(raw, results))
    world.drop(_received(mailclients.new_mail(ANNA, MAIL_FROM, "MEINE", ""), results))
    with caplog.at_level(logging.INFO, logger="core.conversation.inbound_mail"):
        await world.round()
    async with db.uow() as uow:
        statuses = list(
            await uow.session.scalars(select(InboundMail.status).order_by(InboundMail.id))
        )
        posts = await uow.session.scalar(select(func.count()).select_from(Post))
        queued = await uow.session.scalar(select(func.count()).select_from(OutboxMessage))
    assert statuses == [status, status]
    answers = world.new_mail_for(ANNA)
    if status == "auth_failed":
        assert (posts, queued, answers) == (0, 0, [])
        logged = [r.getMessage() for r in caplog.records if "authentication" in r.getMessage()]
        assert logged == ["incoming mail from a…@prenzlau.example failed authentication"] * 2
    else:
        assert posts == 1 and "veröffentlicht" in mailclients.plain_text(answers[0])
        mine = [m for m in answers if m["Subject"] == "Re: MEINE"]
        assert any("Ideen für Jugendbeteiligung" in mailclients.plain_text(m) for m in mine)


# -- configuration ------------------------------------------------------------------------------


def test_setting_takes_a_list_and_rejects_a_bad_value_in_one_line():
    assert load_settings().mail_authserv_ids == ()
    settings = load_settings(mail_authserv_id=" mx1.provider.example , MX2.provider.example ")
    assert settings.mail_authserv_ids == ("mx1.provider.example", "MX2.provider.example")
    for bad in ("mx.example.org; spf=pass", "mx1.example,,mx2.example", "mx one", "a,"):
        with pytest.raises(ConfigError) as error:
            load_settings(mail_authserv_id=bad)
        message = str(error.value)
        assert message.startswith("ZR_MAIL_AUTHSERV_ID: ") and "\n" not in message


def test_email_channel_hands_the_setting_to_the_pipeline(db, services, assistant, tmp_path):
    settings = load_settings(mail_authserv_id="mx1.example,mx2.example", mail_dir=tmp_path)
    channel = build_email_channel(App(settings, db, services, assistant))
    assert channel.inbox.pipeline.authserv_ids == ("mx1.example", "mx2.example")


def test_mail_from_may_carry_a_display_name():
    named = load_settings(mail_from="Zukunftsraum Assistent <assistent@example.org>")
    assert named.mail_from == "Zukunftsraum Assistent <assistent@example.org>"
    assert load_settings(mail_from=" assistent@example.org ").mail_from == "assistent@example.org"
    for bad in (
        "assistent",
        "Name <>",
        "assistent+x@example.org",
        "a@localhost",
        "a@b.org\r\nBcc: x",
    ):
        with pytest.raises(ConfigError, match="ZR_MAIL_FROM"):
            load_settings(mail_from=bad)


def test_start_up_says_when_mail_senders_are_not_checked(assistant, db, services, monkeypatch):
    from zukunftsraum.runner import components

    monkeypatch.delenv("ZR_MAIL_AUTHSERV_ID", raising=False)
    _, hints = components(App(load_settings(), db, services, assistant))
    (warning,) = [h for h in hints if "ZR_MAIL_AUTHSERV_ID" in h]
    assert "ungeprüft" in warning and "\n" not in warning
    # Without the mail intake role this process reads no mail: nothing to warn about.
    _, hints = components(
        App(load_settings(), db, services, assistant), roles=frozenset({"outbox"})
    )
    assert not [h for h in hints if "ZR_MAIL_AUTHSERV_ID" in h]
    monkeypatch.setenv("ZR_MAIL_AUTHSERV_ID", "mx.example.org")
    _, hints = components(App(load_settings(), db, services, assistant))
    assert not [h for h in hints if "ZR_MAIL_AUTHSERV_ID" in h]


def _read_capped(raw: bytes):
    from mail.incoming import MAX_MAIL_BYTES

    assert len(raw) > MAX_MAIL_BYTES
    # The inbox reads a larger mail only up to MAX_MAIL_BYTES.
    return read_mail(raw[:MAX_MAIL_BYTES], mail_from=MAIL_FROM, words=GRAMMAR.words())


def test_a_large_attachment_is_no_reason_to_say_the_text_was_cut():
    from email.message import EmailMessage

    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "anna@prenzlau.example", MAIL_FROM, "Konzept"
    msg.set_content("Anbei unser Konzept als eine Zeile.")
    msg.add_attachment(
        random.Random(4).randbytes(11 * 1024 * 1024), "application", "pdf", filename="konzept.pdf"
    )
    mail = _read_capped(msg.as_bytes())
    assert mail.text.startswith("Anbei unser Konzept")
    assert "email.text_cut" not in mail.notes
    # A mail whose text alone is that large was cut in its text: then the note is given.
    long = EmailMessage()
    long["From"], long["To"], long["Subject"] = "anna@prenzlau.example", MAIL_FROM, "Lang"
    long.set_content("Wort " * (3 * 1024 * 1024))
    assert "email.text_cut" in _read_capped(long.as_bytes()).notes
