"""Requests kept while their sender registers or consents, in a dialogue's data.

Each is the text of a command and the references of the files it came with (parked in the
knowledge file store). They are carried out in the order they were sent, once the dialogue
ends with a registered, consenting member.
"""

from __future__ import annotations

# More than a few requests before registering is someone trying things; the newest count.
MAX_KEPT = 5

Kept = tuple[str, list[dict]]  # (command text, parked file references)


def kept_requests(data: dict) -> list[Kept]:
    """The requests kept in a dialogue's data, oldest first. Also reads the single
    ``pending`` request that dialogues stored before several were kept."""
    kept = [(k["text"], list(k.get("files") or [])) for k in data.get("kept") or ()]
    if data.get("pending"):
        kept.append((data["pending"], list(data.get("pending_files") or [])))
    return kept


def with_kept(data: dict, text: str, files: list[dict] | None = None) -> dict:
    """``data`` with one more kept request; the same text sent again is kept once."""
    kept = [k for k in kept_requests(data) if k[0] != text] + [(text, list(files or []))]
    rest = {k: v for k, v in data.items() if k not in ("kept", "pending", "pending_files")}
    return {**rest, "kept": [{"text": t, "files": f} for t, f in kept[-MAX_KEPT:]]}


def parked_files(data: dict) -> list[dict]:
    """The file references of every kept request."""
    return [ref for _, files in kept_requests(data) for ref in files]
