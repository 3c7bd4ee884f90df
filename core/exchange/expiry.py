"""The post expiry sweep: ask a week before a post lapses, then let it expire.

Idempotent: the question is recorded on the post (``renewal_asked_at``) and carries a
dedupe key with the expiry date, so a renewed post is asked again before its new
expiry. An expired post's proposals become stale; ``updated_at`` moves so every
process's match index drops the post on its next refresh.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from core.exchange.posts import ACTION_COMMANDS
from core.kernel.clock import aware
from core.kernel.replies import Choice, Reply
from core.kernel.texts import t
from core.messaging.outbox import enqueue
from core.store.models import Post
from core.store.unit_of_work import UnitOfWork

ASK_BEFORE = timedelta(days=7)
LIVE = ("open", "paused")


def renewal_question(post: Post, tz: ZoneInfo) -> Reply:
    expires = aware(post.expires_at).astimezone(tz).strftime("%d.%m.%Y")
    return Reply(
        t("expiry.question", title=post.title, expires=expires),
        [
            Choice(t("posts.action.renew"), f"/{ACTION_COMMANDS['renew']} {post.id}"),
            Choice(t("posts.action.close"), f"/{ACTION_COMMANDS['close']} {post.id}"),
        ],
        ref=f"post:{post.id}",
    )


async def sweep_expiry(uow: UnitOfWork, now: datetime, tz: ZoneInfo) -> tuple[int, int]:
    """Returns (questions queued, posts expired)."""
    asked = expired = 0
    for post in await uow.posts.expiring(LIVE, now + ASK_BEFORE):
        if aware(post.expires_at) <= now:
            post.status = "expired"
            post.updated_at = now
            await uow.matches.stale_for_post(post.id)
            expired += 1
        elif post.renewal_asked_at is None:
            post.renewal_asked_at = now
            stamp = int(aware(post.expires_at).timestamp())
            message = enqueue(
                uow,
                post.author,
                renewal_question(post, tz),
                kind="post_renewal",
                subject=t("expiry.subject", title=post.title),
                now=now,
                dedupe_key=f"post:{post.id}:renewal:{stamp}",
            )
            asked += message is not None
    return asked, expired
