"""Match proposals as data, with their rank on each side (format in README.md)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from core.store.models import Match, Post
from core.store.unit_of_work import UnitOfWork


def _post_ref(post: Post) -> str | int:
    return post.external_id if post.external_id is not None else post.id


def _ranks(matches: list[Match], key: str) -> dict[int, int]:
    groups: dict[int, list[Match]] = defaultdict(list)
    for match in matches:
        groups[getattr(match, key)].append(match)
    ranks: dict[int, int] = {}
    for group in groups.values():
        group.sort(key=lambda m: (-m.score, m.id))
        ranks.update({m.id: position for position, m in enumerate(group, start=1)})
    return ranks


async def export_rows(uow: UnitOfWork, statuses: tuple[str, ...] | None = None) -> Iterator[dict]:
    matches = list(await uow.matches.all(statuses))
    by_request = _ranks(matches, "request_id")
    by_offer = _ranks(matches, "offer_id")
    return (
        {
            "offer": _post_ref(m.offer),
            "request": _post_ref(m.request),
            "score": m.score,
            "rank_for_request": by_request[m.id],
            "rank_for_offer": by_offer[m.id],
            "reason": m.reason,
            "status": m.status,
        }
        for m in sorted(matches, key=lambda m: (m.request_id, by_request[m.id]))
    )
