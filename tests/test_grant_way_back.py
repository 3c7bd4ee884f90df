"""From the grant summary back to any step, and from the budget refusal to the cost plan."""

from __future__ import annotations

from tests.grant_support import SPRING, application, assert_balanced, verify

PRENZLAU = "12073452"


async def _draft_at_summary(person, chat: str, name: str, costs: list[str]):
    member = person(chat, "telegram")
    await member.register(name, "Prenzlau")
    return member


async def _fill(member, title: str, costs: list[str]) -> None:
    await member.say("/antrag")
    await member.say(member.choice("Beratung"))
    await member.say(title)
    await member.say("Eine moderierte Werkstatt mit Pflegediensten und Ortsbeiräten.")
    await member.say("Templin")
    await member.say(member.choice("Fertig"))
    for line in costs:
        await member.say(line)
    await member.say(member.choice("Fertig"))
    assert "Einreichen" in [c.label for r in member.last for c in r.choices]


async def test_budget_refusal_leads_back_to_the_cost_plan(db, clock, person):
    clock.now = SPRING
    anna = await _draft_at_summary(person, "4711", "Anna Schmidt", [])
    bea = await _draft_at_summary(person, "4712", "Bea Berg", [])
    await verify(db, "4711")
    await verify(db, "4712")
    await _fill(anna, "Zukunftswerkstatt Pflege", ["Moderation 2 Tage à 800 €"])
    # Meanwhile a colleague from the same municipality takes most of the budget.
    await _fill(bea, "Dorfladen-Beratung", ["Beratung 5 Tage à 800 €"])
    await bea.say(bea.choice("Einreichen"))
    assert "eingereicht" in bea.text

    await anna.say(anna.choice("Einreichen"))
    assert "Bitte verringern Sie die Kosten" in anna.text and "Was möchten Sie ändern?" in anna.text
    labels = [c.label for r in anna.last for c in r.choices]
    assert labels[:3] == ["Kosten ändern", "Partnerkommunen ändern", "Zweck ändern"]
    await anna.say(anna.choice("Kosten ändern"))
    assert "Moderation" in anna.text and "Summe: 1.600,00 €" in anna.text
    await anna.say(anna.choice("Kosten neu erfassen"))
    await anna.say("Moderation 1 Tag à 800 €")
    await anna.say(anna.choice("Fertig"))
    assert "Beantragt: 800,00 €" in anna.text  # back at the summary
    await anna.say(anna.choice("Einreichen"))
    assert "eingereicht" in anna.text
    assert (await application(db, 1)).state == "submitted"
    assert await assert_balanced(db, PRENZLAU) == 480000


async def test_summary_goes_back_to_purpose_and_partners(db, clock, person):
    clock.now = SPRING
    anna = await _draft_at_summary(person, "4711", "Anna Schmidt", [])
    await verify(db, "4711")
    await _fill(anna, "Zukunftswerkstatt Pflege", ["Fahrt Prenzlau–Templin 45,50 €"])
    await anna.say(anna.choice("Zweck ändern"))
    await anna.say(anna.choice("Vernetzung"))
    assert "Zweck: Vernetzung" in anna.text and "Einreichen" in [
        c.label for r in anna.last for c in r.choices
    ]
    await anna.say(anna.choice("Partnerkommunen ändern"))
    assert "Templin" in anna.text
    await anna.say(anna.choice("neu eingeben"))
    await anna.say(anna.choice("Fertig"))
    draft = await application(db, 1)
    assert draft.purpose == "networking" and draft.partners == []
    assert "Einreichen" in [c.label for r in anna.last for c in r.choices]
