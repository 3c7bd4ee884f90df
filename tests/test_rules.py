"""Rules that need no database: grant calendar and states, the budget an application holds,
cost plans, reminder times across daylight-saving changes. Milliseconds each; the scenario
tests drive the same rules through the store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from core.events.timing import due_at, grace, is_due, lead_text, normalise_offsets
from core.grants.applications import check_may_apply, missing_fields, set_costs, set_purpose
from core.grants.budget import held_amount
from core.grants.costs import parse_lines, total
from core.grants.programme import GrantProgramme
from core.kernel.arguments import number, number_and_rest
from core.kernel.errors import UserError
from core.kernel.paging import page_number
from core.store.models import GrantApplication, Member

BERLIN = ZoneInfo("Europe/Berlin")
PROGRAMME = GrantProgramme()
NOW = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)


def _application(**values) -> GrantApplication:
    defaults = dict(
        state="draft",
        purpose=None,
        title="",
        description="",
        cost_lines=[],
        requested_cents=0,
        approved_cents=None,
        paid_cents=None,
    )
    return GrantApplication(**{**defaults, **values})


# --- the programme's calendar ---------------------------------------------------------


def test_the_budget_year_is_the_calendar_year_in_berlin():
    new_years_eve = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)  # 00:30 on 1 January in Berlin
    assert PROGRAMME.year_of(new_years_eve) == 2027


def test_applications_are_open_until_the_end_of_the_deadline_day_in_berlin():
    last_minute = datetime(2026, 9, 30, 21, 59, tzinfo=UTC)  # 23:59 in Berlin (summer time)
    too_late = datetime(2026, 9, 30, 22, 0, tzinfo=UTC)  # midnight in Berlin
    assert PROGRAMME.applications_open(last_minute)
    assert not PROGRAMME.applications_open(too_late)


def test_only_verified_members_may_apply_and_only_before_the_deadline():
    unverified = Member(verified_at=None)
    with pytest.raises(UserError):
        check_may_apply(unverified, PROGRAMME, NOW)
    verified = Member(verified_at=NOW)
    check_may_apply(verified, PROGRAMME, NOW)
    with pytest.raises(UserError, match=r"30\.09\.2026"):
        check_may_apply(verified, PROGRAMME, datetime(2026, 10, 2, tzinfo=UTC))


# --- an application's fields and the budget it holds -------------------------------------


def test_a_new_draft_misses_everything_a_complete_one_nothing():
    application = _application()
    assert missing_fields(application) == ["purpose", "title", "description", "costs"]
    set_purpose(application, "consulting", NOW)
    application.title, application.description = "Werkstatt", "Moderation eines Workshops"
    set_costs(
        application, parse_lines("Moderation 2 Tage à 800 €", 850_00), PROGRAMME.cap_cents, NOW
    )
    assert missing_fields(application) == []
    assert application.requested_cents == 1_600_00


def test_an_unknown_purpose_is_refused():
    with pytest.raises(UserError):
        set_purpose(_application(), "Dienstwagen", NOW)


@pytest.mark.parametrize(
    ("state", "held"),
    [
        ("draft", 0),
        ("submitted", 3_000_00),
        ("info_requested", 3_000_00),
        ("approved", 2_500_00),
        ("proof_submitted", 2_500_00),
        ("paid", 2_400_00),
        ("rejected", 0),
        ("withdrawn", 0),
    ],
)
def test_what_an_application_holds_in_the_budget_follows_its_state(state, held):
    application = _application(
        state=state, requested_cents=3_000_00, approved_cents=2_500_00, paid_cents=2_400_00
    )
    assert held_amount(application) == held


def test_a_cost_plan_adds_up_in_cents():
    lines = parse_lines("Fahrt nach Görlitz 86,40 €\nBeratung 1,5 Tage à 850 €", 850_00)
    assert total(lines) == 86_40 + 1_275_00


def test_a_day_rate_above_the_maximum_is_refused():
    with pytest.raises(UserError):
        parse_lines("Beratung 1 Tag à 900 €", 850_00)


# --- reminder times ----------------------------------------------------------------------


def test_a_day_before_stays_a_calendar_day_across_the_change_to_summer_time():
    starts = datetime(2026, 3, 29, 8, 0, tzinfo=UTC)  # Sunday 10:00, the first summer time day
    due = due_at(starts, "P1D", BERLIN)
    assert due.astimezone(BERLIN).hour == 10  # Saturday 10:00, still winter time
    assert starts - due == timedelta(hours=23)


def test_an_hour_before_is_sixty_minutes_whatever_the_clock_does():
    # 02:30 in the hour that happens twice when winter time begins: the second 02:30 (CET)
    starts = datetime(2026, 10, 25, 1, 30, tzinfo=UTC)
    assert starts - due_at(starts, "PT1H", BERLIN) == timedelta(hours=1)
    # and the first one (CEST)
    starts = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    assert starts - due_at(starts, "PT1H", BERLIN) == timedelta(hours=1)


def test_a_reminder_is_due_within_its_grace_window_and_never_after_the_start():
    starts = datetime(2026, 6, 10, 8, 0, tzinfo=UTC)
    due = due_at(starts, "PT1H", BERLIN)
    assert is_due(starts, "PT1H", BERLIN, due)
    assert is_due(starts, "PT1H", BERLIN, due + grace("PT1H") - timedelta(seconds=1))
    assert not is_due(starts, "PT1H", BERLIN, due + grace("PT1H"))
    assert not is_due(starts, "P1D", BERLIN, starts + timedelta(minutes=1))


def test_offsets_are_checked_deduplicated_and_longest_first():
    assert normalise_offsets(["PT1H", "P7D", "-P1D", "PT1H", " "]) == ["P7D", "P1D", "PT1H"]
    with pytest.raises(UserError):
        normalise_offsets(["P90D"])
    with pytest.raises(UserError):
        normalise_offsets(["morgen"])


def test_the_lead_reads_as_german():
    assert lead_text("P1D") == "morgen"
    assert lead_text("PT1H") == "in einer Stunde"


# --- a command's number ------------------------------------------------------------------


def test_a_number_is_decimal_digits_and_no_longer_than_an_id():
    assert number_and_rest("12 zu teuer") == (12, "zu teuer")
    for text in ("¹", "²3", "", "zwölf", "1⁰"):
        with pytest.raises(UserError):
            number_and_rest(text, "grants.number_missing")
    with pytest.raises(UserError, match="gibt es in der Wissenssammlung nicht"):
        number("99999999999", "knowledge.number_missing", "knowledge.not_found")


def test_a_page_number_is_decimal_digits_of_a_sensible_length():
    assert page_number("") == 1 and page_number("3") == 3
    for text in ("¹", "0", "1" * 5000):
        with pytest.raises(UserError):
            page_number(text)
