"""Talking with members: the assistant, the command table, the dialogues, incoming mail."""
