"""Getting updates in safely: one update PTB cannot decode must not stop the others.

PTB decodes a getUpdates batch as a whole; if one update fails (e.g. a newer Bot API field it
does not know yet is required), it drops the batch, does not confirm the offset and asks again,
forever. ``GuardedUpdatesRequest`` is the request object PTB uses for getUpdates only; it checks
each update of the answer and replaces an undecodable one by an empty update with the same id,
so the offset moves on and the neighbours are handled. What was skipped is logged without its
content.
"""

from __future__ import annotations

import logging
from typing import Any

from telegram import Update
from telegram.request import HTTPXRequest

log = logging.getLogger(__name__)


def sanitise_updates(result: Any) -> Any:
    """Return the getUpdates result with every undecodable update emptied."""
    if not isinstance(result, list):
        return result
    clean: list[Any] = []
    for raw in result:
        try:
            Update.de_json(raw, None)
            clean.append(raw)
        except Exception as error:  # any decoding error: skip this one update only
            update_id = raw.get("update_id") if isinstance(raw, dict) else None
            kinds = sorted(k for k in raw if k != "update_id") if isinstance(raw, dict) else []
            log.warning(
                "skipped update %s (%s) that could not be decoded: %s",
                update_id,
                ",".join(kinds) or "?",
                type(error).__name__,
            )
            if isinstance(update_id, int):
                clean.append({"update_id": update_id})
    return clean


class GuardedUpdatesRequest(HTTPXRequest):
    async def post(self, url: str, request_data=None, **timeouts: Any):
        result = await super().post(url, request_data, **timeouts)
        return sanitise_updates(result)


class _NoUpdateContent(logging.Filter):
    """PTB logs a rejected webhook update with its full content; keep only the notice."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str) and "Received data was" in record.msg:
            record.msg = record.msg.split("Received data was")[0] + "content not logged"
            record.args = ()
        return True


def quiet_sensitive_loggers() -> None:
    """No message bodies and no bot token in the logs."""
    # httpx logs every request URL at INFO, and the Bot API URL contains the token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # The webhook handler logs as "telegram.ext.Updater"; get_updates as the bot class.
    for name in ("telegram.ext.Updater", "telegram.Bot", "telegram.ext.ExtBot"):
        target = logging.getLogger(name)
        if not any(isinstance(f, _NoUpdateContent) for f in target.filters):
            target.addFilter(_NoUpdateContent())
