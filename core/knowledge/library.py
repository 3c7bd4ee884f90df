"""What the knowledge collection needs of a process: where its files are, its search
index and its size limits (set from ``ZR_DATA_DIR`` and friends by the bootstrap)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from core.knowledge.files import FileStore
from core.knowledge.index import KnowledgeIndex

MB = 1024 * 1024
# The Bot API takes documents up to 50 MB from a bot, and gives a bot files up to 20 MB.
TELEGRAM_DOCUMENT_LIMIT = 50 * MB
TELEGRAM_DOWNLOAD_LIMIT = 20 * MB


@dataclass
class KnowledgeLibrary:
    files: FileStore = field(default_factory=lambda: FileStore(Path("var") / "data"))
    index: KnowledgeIndex = field(default_factory=KnowledgeIndex)
    # Largest file taken into the collection.
    max_bytes: int = 50 * MB
    # Largest file sent as an email attachment; a larger one is offered as a link.
    mail_attachment_bytes: int = 10 * MB

    def send_limit(self, channel: str) -> int:
        if channel == "email":
            return self.mail_attachment_bytes
        if channel == "telegram":
            return TELEGRAM_DOCUMENT_LIMIT
        return self.max_bytes

    def receive_limit(self, channel: str) -> int:
        """Largest file a member can suggest through ``channel``."""
        if channel == "email":
            return min(self.max_bytes, self.mail_attachment_bytes)
        if channel == "telegram":
            return min(self.max_bytes, TELEGRAM_DOWNLOAD_LIMIT)
        return self.max_bytes
