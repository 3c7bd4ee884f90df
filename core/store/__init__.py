"""Persistence: the database, the unit of work, repositories, models and migrations."""
