"""Members: registration, consent, verification, linking, roles, privacy."""
