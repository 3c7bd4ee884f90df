"""The staff digest's map of the network: where members are and where they are missing.

Every municipality of the bundled reference list is a faint dot, structurally weak
regions are tinted and member municipalities marked, drawn from the coordinates the
reference list carries. The section reports figures only; it is never news on its own.
"""

from __future__ import annotations

from datetime import datetime
from math import sqrt
from zoneinfo import ZoneInfo

from core.kernel.texts import t
from core.reporting.charts import MapPoints, network_map
from core.reporting.sections import DigestChart, DigestSection
from core.store.unit_of_work import UnitOfWork

MAP_FILE = "zusammenfassung-netzwerkkarte.png"


async def staff_section(
    uow: UnitOfWork, since: datetime, now: datetime, tz: ZoneInfo
) -> DigestSection | None:
    members = await uow.members.per_municipality()
    if not members:
        return None
    points = await uow.municipalities.map_points()
    placed = {ags: (lat, lon, weak) for ags, lat, lon, weak in points}
    weak_members = sum(1 for ags in members if ags in placed and placed[ags][2])
    lines = [
        t(
            "digest.map_line",
            members=sum(members.values()),
            municipalities=len(members),
            weak=weak_members,
        )
    ]
    chart = DigestChart(MAP_FILE, lambda: _draw(points, members, placed), t("digest.map_note"))
    return DigestSection(t("digest.map_title"), lines, 0, key="map", chart=chart)


def _draw(points, members: dict[str, int], placed: dict) -> bytes:
    everywhere = MapPoints([p[2] for p in points], [p[1] for p in points])
    weak = MapPoints([p[2] for p in points if p[3]], [p[1] for p in points if p[3]])
    marked = [(placed[ags], count) for ags, count in members.items() if ags in placed]
    member_points = MapPoints(
        [where[1] for where, _ in marked],
        [where[0] for where, _ in marked],
        [12 * sqrt(count) for _, count in marked],
    )
    return network_map(everywhere, weak, member_points, title=t("digest.map_title"))
