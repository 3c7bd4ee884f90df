"""The operator log of ``zukunftsraum run``: one line per handled item, to stderr.

Lines carry ids, statuses and counts. Message bodies are never logged; email addresses are
masked ("a…@example.org") by a filter on the handler, also where a library or a future log
line passes one by mistake. ``--verbose`` adds the debug lines.
"""

from __future__ import annotations

import logging
import re
import sys

from core.conversation.inbound_mail import masked

_ADDRESS = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Libraries that would otherwise log every HTTP request at INFO.
QUIET = ("httpx", "httpcore", "telegram", "apscheduler", "aiosqlite", "asyncio")


class MaskAddresses(logging.Filter):
    """Replace every email address in a record's message by its masked form."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = _ADDRESS.sub(lambda m: masked(m.group(0)), message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def configure(verbose: bool = False, stream=None) -> logging.Handler:
    """Send log lines to ``stream`` (stderr), INFO and up, or DEBUG with ``verbose``."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(logging.Formatter(FORMAT, datefmt="%Y-%m-%d %H:%M:%S"))
    handler.addFilter(MaskAddresses())
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.INFO if verbose else logging.WARNING)
    return handler
