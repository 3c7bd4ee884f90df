"""Seminars, courses and network meetings: calendar, registrations, reminders."""
