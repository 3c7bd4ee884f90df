"""Settings -> the schedule and reminder defaults core's sweeps use."""

from __future__ import annotations

from core.digests.schedule import DigestSchedule
from core.events.calendar import ReminderDefaults


def digest_schedule(settings) -> DigestSchedule:
    return DigestSchedule(
        tz=settings.tz,
        staff_time=settings.staff_digest_at,
        member_time=settings.member_digest_at,
    )


def reminder_defaults(settings) -> ReminderDefaults:
    return ReminderDefaults(
        online=tuple(settings.reminder_offsets.split(",")),
        in_person=tuple(settings.reminder_offsets_in_person.split(",")),
    )
