"""A running count of large sends (a digest to thousands, an announcement to every member)
for the operator log of ``zukunftsraum run``.

A dispatcher notes each final outcome of a message (delivered, failed, moved to the
member's other channel) with the message's kind; after a batch it asks ``report``, which
looks at how many messages of that kind are still waiting. A kind with at least ``LARGE``
messages in all is a large send: it gets a line at about every tenth of it and a last line
when nothing of it waits any more. Lines carry the kind, the channel, counts and the range
of outbox ids; never an address or a text. Interactive answers are never a large send.

The counts are this process's deliveries; with several processes on one database each
logs its own share, against the same number still waiting.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

from core.store.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

LARGE = 100  # messages of one kind, delivered and still waiting, that make a large send
STEPS = 10  # a line at about every tenth of it
PROBE = 10  # outcomes of a kind not yet known to be large before the queue is asked
NEVER = frozenset({"answer"})  # replies to one member, however many there are

DELIVERED, FAILED, MOVED = "delivered", "failed", "moved"


@dataclass
class _Send:
    delivered: int = 0
    failed: int = 0
    moved: int = 0
    first_id: int | None = None
    last_id: int | None = None
    total: int = 0  # 0: not (yet) known to be large
    next_line: int = 0

    @property
    def done(self) -> int:
        return self.delivered + self.failed + self.moved


class SendProgress:
    """The running count of one channel's large sends, by message kind."""

    def __init__(self, channel: str, *, large: int = LARGE, steps: int = STEPS) -> None:
        self.channel = channel
        self.large = large
        self.steps = steps
        self._sends: dict[str, _Send] = {}

    def note(self, kind: str, message_id: int, outcome: str) -> None:
        """A message of ``kind`` reached a final outcome here: DELIVERED, FAILED or MOVED."""
        if kind in NEVER:
            return
        send = self._sends.setdefault(kind, _Send())
        if outcome == DELIVERED:
            send.delivered += 1
        elif outcome == MOVED:
            send.moved += 1
        else:
            send.failed += 1
        send.first_id = message_id if send.first_id is None else min(send.first_id, message_id)
        send.last_id = message_id if send.last_id is None else max(send.last_id, message_id)

    def _due(self, send: _Send) -> bool:
        if send.total == 0:
            return send.done >= PROBE
        return send.done >= send.next_line or send.done >= send.total

    async def report(self, uow: UnitOfWork) -> list[str]:
        """Log (and return) the lines that are due; asks the queue only when one may be."""
        lines = []
        for kind, send in list(self._sends.items()):
            if not self._due(send):
                continue
            waiting = await uow.outbox.waiting_count(self.channel, kind)
            total = send.done + waiting
            if send.total == 0 and total < self.large:
                del self._sends[kind]  # a few messages of this kind: no running count
                continue
            send.total = total
            if waiting == 0:
                lines.append(self._line(kind, send, "done"))
                del self._sends[kind]
                continue
            step = max(1, math.ceil(send.total / self.steps))
            if send.done >= send.next_line:
                lines.append(self._line(kind, send, "sending"))
                send.next_line = (send.done // step + 1) * step
        for line in lines:
            log.info("%s", line)
        return lines

    def _line(self, kind: str, send: _Send, state: str) -> str:
        of = "" if state == "done" else f" of {send.total}"
        line = (
            f"{self.channel} {kind} broadcast {state}: {send.delivered}{of} delivered, "
            f"{send.failed} failed"
        )
        if send.moved:
            line += f", {send.moved} moved to another channel"
        return f"{line} (outbox ids {send.first_id}-{send.last_id})"
