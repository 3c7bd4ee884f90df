"""Micro-grants end to end through ``Assistant.handle``: a Telegram-style and an
email-style applicant, staff deciding by button and by reply, notifications in the outbox."""

from __future__ import annotations

import json

from core.conversation.assistant import Assistant
from core.kernel.context import Sender
from tests.conftest import Person
from tests.grant_support import (
    SPRING,
    add_staff,
    application,
    assert_balanced,
    outbox,
    transitions,
    verify,
)

PRENZLAU = "12073452"
FULL_PATH = [
    ("draft", "submitted"),
    ("submitted", "info_requested"),
    ("info_requested", "submitted"),
    ("submitted", "approved"),
    ("approved", "proof_submitted"),
    ("proof_submitted", "paid"),
]


async def test_telegram_application_through_every_state(db, services, clock, person):
    clock.now = SPRING
    await add_staff(db, email="gs@example.org", telegram=9001)
    await add_staff(db, email="gs2@example.org")
    anna = person("4711", "telegram")
    await anna.register("Anna Schmidt", "Prenzlau")
    await verify(db, "4711")
    staff = person("9001", "telegram")

    await anna.say("/antrag")
    assert "noch 5.000,00 € von 5.000,00 €" in anna.text
    await anna.say(anna.choice("Beratung"))
    await anna.say("Zukunftswerkstatt Pflege im Quartier")
    assert "Beschreiben Sie" in anna.text

    # A restart in the middle of the dialogue: a new assistant over the same database.
    anna = Person(Assistant(db, services), Sender("telegram", "4711"))
    await anna.say("Eine moderierte Werkstatt mit Pflegediensten und Ortsbeiräten.")
    assert "Partnerkommunen" in anna.text
    await anna.say("Templin")
    assert "Templin (Stadt)" in anna.text
    await anna.say(anna.choice("Fertig"))
    assert "noch 5.000,00 € verfügbar" in anna.text
    await anna.say("Moderation 2 Tage à 800 €")
    await anna.say("Fahrt Prenzlau–Templin 45,50 €")
    assert "Summe: 1.645,50 €" in anna.text
    assert "noch verfügbar: 3.354,50 €" in anna.text
    await anna.say(anna.choice("Fertig"))
    assert "Beantragt: 1.645,50 €" in anna.text
    await anna.say(anna.choice("Einreichen"))
    assert "Antrag Nr. 1" in anna.text and "eingereicht" in anna.text
    assert await assert_balanced(db, PRENZLAU) == 164550

    staff_news = [m for m in await outbox(db) if "Neuer Förderantrag Nr. 1" in m.text]
    assert sorted(m.address for m in staff_news) == ["9001", "gs2@example.org"]
    assert {c["command"] for c in staff_news[-1].choices} >= {"/bewilligen 1", "/rueckfrage 1"}

    await staff.say("/pruefen")
    assert "Zukunftswerkstatt Pflege" in staff.text and "strukturschwache Region" in staff.text
    await staff.say(staff.choice("Rückfrage"))
    await staff.say("Wer moderiert die Werkstatt?")
    assert "Rückfrage zu Antrag Nr. 1 ist verschickt" in staff.text
    question = (await outbox(db, kind_prefix="grant_info_requested"))[-1]
    assert question.address == "4711" and "Wer moderiert" in question.text
    assert question.choices[0]["command"] == "/ergaenzen 1"

    # The applicant simply answers the message.
    await anna.say("Frau Dr. Weber aus Eberswalde, sie hat das schon in Templin gemacht.")
    assert "wieder in Prüfung" in anna.text
    answered = [m for m in await outbox(db, kind_prefix="grant_staff") if "Antwort" in m.text]
    assert "Frau Dr. Weber" in answered[-1].text

    await staff.say("/bewilligen 1 1.500")
    assert "1.500,00 €" in staff.text
    approved = (await outbox(db, kind_prefix="grant_approved"))[-1]
    assert "1.500,00 € statt der beantragten 1.645,50 €" in approved.text
    assert "30.11.2026" in approved.text
    assert await assert_balanced(db, PRENZLAU) == 150000  # the difference went back

    await anna.say(approved.choices[0]["command"])
    await anna.say("1.480,00 €")
    await anna.say("Rechnung 2026-17 Weber, 12.06.2026; Bahnticket 45,50 €")
    assert "Ausgezahlt werden nach Prüfung 1.480,00 €" in anna.text
    staff_mail = await outbox(db, kind_prefix="grant_staff")
    proof = [m for m in staff_mail if "Verwendungsnachweis" in m.text]
    assert proof[-1].choices[0]["command"] == "/auszahlen 1"

    await staff.say("/auszahlen 1")
    paid = (await outbox(db, kind_prefix="grant_paid"))[-1]
    assert "ausgezahlt: 1.480,00 €" in paid.text and paid.address == "4711"
    assert await assert_balanced(db, PRENZLAU) == 148000

    assert await transitions(db, 1) == FULL_PATH
    await anna.say("/antraege")
    assert "Status: ausgezahlt" in anna.text and "ausgezahlt 1.480,00 €" in anna.text


FORM = """Zweck: Vernetzung
Titel: Besuch der Seniorengenossenschaft Zschopau
Beschreibung: Drei Gemeinderätinnen besuchen Zschopau,
um das Modell der Seniorengenossenschaft kennenzulernen.
Partnerkommunen: Zschopau
Kosten:
Fahrt Prenzlau–Zschopau 3 Personen 240 €
Übernachtung 2 Zimmer 180,-

> Zweck:
> Titel:
"""


async def test_email_application_with_form_and_replies(db, clock, person):
    clock.now = SPRING
    await add_staff(db, email="gs@example.org")
    bea = person("bea@example.org", "email")
    await bea.register("Bea Krüger", "Prenzlau", "volunteer")
    await verify(db, "bea@example.org")
    staff = person("gs@example.org", "email")

    await bea.say("/antrag")
    for field in ("Zweck:", "Titel:", "Beschreibung:", "Partnerkommunen:", "Kosten:"):
        assert f"\n{field}" in bea.text
    assert "noch 5.000,00 €" in bea.text

    await bea.say(FORM)
    assert "Antworten Sie mit JA" in bea.text
    assert "Zschopau (Stadt)" in bea.text and "Beantragt: 420,00 €" in bea.text
    await bea.say("JA")
    assert "Antrag Nr. 1" in bea.text and "eingereicht" in bea.text
    news = (await outbox(db, kind_prefix="grant_staff"))[-1]
    assert news.channel == "email" and news.address == "gs@example.org"

    await staff.say("/rueckfrage 1 Reisen alle drei mit dem Auto?")
    question = (await outbox(db, kind_prefix="grant_info_requested"))[-1]
    assert question.channel == "email" and question.address == "bea@example.org"
    await bea.say("Ja, in einem Auto, die 240 € sind die Kilometerpauschale.")
    assert "wieder in Prüfung" in bea.text

    await staff.say("/bewilligen 1")
    approved = (await outbox(db, kind_prefix="grant_approved"))[-1]
    assert "über 420,00 € bewilligt" in approved.text and approved.channel == "email"
    await bea.say("/nachweis 1 410,80 € Rechnungen 88/2026 Hotel Post, Fahrtenbuch")
    assert "Ausgezahlt werden nach Prüfung 410,80 €" in bea.text
    await staff.say("/auszahlen 1")
    assert "410,80 €" in (await outbox(db, kind_prefix="grant_paid"))[-1].text
    assert await transitions(db, 1) == FULL_PATH
    assert await assert_balanced(db, PRENZLAU) == 41080

    # A second application, rejected by email with a reason typed after the command.
    await bea.say("/antrag")
    await bea.say(FORM.replace("Besuch der", "Zweiter Besuch der"))
    await bea.say("ja")
    await staff.say("/ablehnen_antrag 2")
    assert "Mit welcher Begründung" in staff.text
    await staff.say("Der gleiche Besuch wurde bereits gefördert.")
    rejected = (await outbox(db, kind_prefix="grant_rejected"))[-1]
    assert "Begründung: Der gleiche Besuch wurde bereits gefördert." in rejected.text
    assert await transitions(db, 2) == [("draft", "submitted"), ("submitted", "rejected")]

    # A third one, withdrawn by the applicant after submission: the budget is released.
    await bea.say("/antrag " + FORM.replace("Besuch der", "Dritter Besuch der"))
    await bea.say("JA")
    assert await assert_balanced(db, PRENZLAU) == 41080 + 42000
    await bea.say("/antraege")
    await bea.say(bea.choice("Zurückziehen"))
    assert "zurückgezogen" in bea.text
    assert await transitions(db, 3) == [("draft", "submitted"), ("submitted", "withdrawn")]
    staff_mail = await outbox(db, kind_prefix="grant_staff")
    withdrawn = [m for m in staff_mail if "zurückgezogen" in m.text]
    assert withdrawn, "staff learn about the withdrawal"
    assert await assert_balanced(db, PRENZLAU) == 41080


async def test_terminal_draft_resumes_and_erasure_keeps_accounting(db, clock, person):
    clock.now = SPRING
    await add_staff(db, email="gs@example.org")
    carl = person("carl@example.org", "terminal")
    await carl.register("Carl Neumann", "Görlitz")
    await verify(db, "carl@example.org")
    await carl.say("/antrag")
    await carl.say("1")
    await carl.say("Demografie-Check mit externer Begleitung")
    await carl.say("/hilfe")  # a detour ends the dialogue, the draft stays
    await carl.say("/antrag")
    assert "Ich setze Ihren Antragsentwurf Nr. 1 fort" in carl.text
    assert "Beschreiben Sie" in carl.text
    await carl.say("Ein Beratungstag zur Auswertung der Bevölkerungsprognose.")
    await carl.say("fertig")
    await carl.say("Beratung 1 Tag à 850 €")
    await carl.say("fertig")
    await carl.say("ja")
    assert "eingereicht" in carl.text
    await carl.say("/bewilligen 1")
    assert "Geschäftsstelle vorbehalten" in carl.text
    staff = person("gs@example.org", "email")
    await staff.say("/bewilligen 1")

    # A draft that is never submitted, then the member erases their data.
    await carl.say("/antrag")
    await carl.say("beratung")
    await carl.say("/loeschen")
    await carl.say(carl.choice("endgültig"))
    kept = await application(db, 1)
    assert kept.state == "approved" and kept.approved_cents == 85000
    assert kept.description == "" and kept.title.startswith("Demografie-Check")
    assert kept.applicant.name.startswith("Gelöschtes Mitglied")
    assert await application(db, 2) is None  # the draft is gone
    assert await assert_balanced(db, "14626110") == 85000


async def test_data_export_lists_applications(db, clock, person):
    clock.now = SPRING
    dora = person("dora@example.org", "terminal")
    await dora.register("Dora Lange", "Templin")
    await verify(db, "dora@example.org")
    await dora.say("/antrag")
    await dora.say("vernetzung")
    await dora.say("Netzwerktreffen Leipzig")
    await dora.say("/daten")
    data = json.loads(dora.last[0].attachments[0].data)
    assert data["grants"][0]["title"] == "Netzwerktreffen Leipzig"
    assert data["grants"][0]["state"] == "draft"
