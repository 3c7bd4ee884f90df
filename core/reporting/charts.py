"""The staff digest's charts: activity of the last four weeks and the grant budget in use.

Drawn with matplotlib's Agg canvas directly (no global backend, no display needed).
Counts have integer axes that start at 0; a chart with nothing to show says so in
words instead of drawing an empty plot.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from core.kernel.texts import t

GRANTED_COLOUR = "#1f5f8b"
PENDING_COLOUR = "#9cc3de"
CAP_COLOUR = "#c0392b"


@dataclass(frozen=True)
class BudgetBar:
    """One bar of the budget chart, in euros."""

    label: str
    granted: float
    pending: float


def _figure(width: float, height: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=110)
    FigureCanvasAgg(figure)
    return figure


def _png(figure, *, layout: bool = True) -> bytes:
    """The figure as a PNG with a small palette: a fraction of the size, the same look."""
    from PIL import Image

    if layout:
        figure.tight_layout()
    drawn = io.BytesIO()
    figure.savefig(drawn, format="png", metadata={"Software": None})
    drawn.seek(0)
    small = io.BytesIO()
    with Image.open(drawn) as image:
        image.convert("RGB").quantize(colors=64).save(small, format="PNG", optimize=True)
    return small.getvalue()


def _empty(axes, title: str) -> None:
    axes.set_title(title)
    axes.text(0.5, 0.5, t("digest.chart_empty"), ha="center", va="center", fontsize=13)
    axes.set_axis_off()


def _counts_axis(axes) -> None:
    from matplotlib.ticker import MaxNLocator

    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_ylim(bottom=0)


def activity_chart(days: Sequence[date], posts: Sequence[int], matches: Sequence[int]) -> bytes:
    """A PNG with two bar series per day, German labels."""
    figure = _figure(8, 3.6)
    axes = figure.add_subplot()
    if not any(posts) and not any(matches):
        _empty(axes, t("digest.chart_title"))
        return _png(figure)
    positions = range(len(days))
    width = 0.4
    axes.bar([p - width / 2 for p in positions], posts, width, label=t("digest.chart_posts"))
    axes.bar([p + width / 2 for p in positions], matches, width, label=t("digest.chart_matches"))
    labels = [
        d.strftime("%d.%m.") if i % 7 == 0 or i == len(days) - 1 else "" for i, d in enumerate(days)
    ]
    axes.set_xticks(list(positions), labels)
    _counts_axis(axes)
    axes.set_title(t("digest.chart_title"))
    axes.set_ylabel(t("digest.chart_ylabel"))
    axes.set_xlabel(t("digest.chart_xlabel"))
    axes.legend(loc="upper left", frameon=False)
    axes.spines[["top", "right"]].set_visible(False)
    axes.grid(axis="y", alpha=0.3)
    return _png(figure)


def budget_chart(
    towns: Sequence[BudgetBar], lands: Sequence[BudgetBar], *, cap_euros: float, year: int
) -> bytes:
    """Budget in use per municipality (against the cap) and per Land, granted vs. pending."""
    figure = _figure(9, 1.5 + 0.38 * max(len(towns), len(lands), 3))
    left, right = figure.subplots(1, 2, gridspec_kw={"width_ratios": [3, 2]})
    _budget_bars(left, towns, t("digest.grants_chart_towns", year=year))
    if cap_euros:
        left.axvline(cap_euros, color=CAP_COLOUR, linestyle="--", linewidth=1.2)
        left.text(
            cap_euros, -0.6, t("digest.grants_chart_cap"), color=CAP_COLOUR, ha="right", va="top"
        )
        widest = max([cap_euros, *(b.granted + b.pending for b in towns)])
        left.set_xlim(0, widest * 1.08)  # a bar above the cap (caps may differ) stays whole
    _budget_bars(right, lands, t("digest.grants_chart_lands", year=year))
    handles, labels = left.get_legend_handles_labels()
    figure.legend(handles, labels, loc="lower center", ncol=2, frameon=False, fontsize=8)
    figure.tight_layout(rect=(0, 0.08, 1, 1))
    return _png(figure, layout=False)


def _budget_bars(axes, bars: Sequence[BudgetBar], title: str) -> None:
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    positions = list(range(len(bars)))
    granted = [b.granted for b in bars]
    pending = [b.pending for b in bars]
    axes.barh(positions, granted, color=GRANTED_COLOUR, label=t("digest.grants_chart_granted"))
    axes.barh(
        positions,
        pending,
        left=granted,
        color=PENDING_COLOUR,
        label=t("digest.grants_chart_pending"),
    )
    axes.set_yticks(positions, [_short(b.label) for b in bars], fontsize=8)
    axes.invert_yaxis()
    axes.set_xlim(left=0)
    axes.xaxis.set_major_locator(MaxNLocator(nbins=3))
    axes.xaxis.set_major_formatter(FuncFormatter(lambda x, _pos: _euros(x)))
    axes.set_title(title, fontsize=10)
    axes.spines[["top", "right"]].set_visible(False)
    axes.grid(axis="x", alpha=0.3)


def _euros(value: float) -> str:
    """Axis labels that stay short: 4.500 €, 150 T€, 1,2 Mio. €."""
    if value >= 1_000_000:
        return f"{value / 1_000_000:.1f} Mio. €".replace(".", ",", 1)
    if value >= 100_000:
        return f"{value / 1000:.0f} T€"
    return f"{value:,.0f} €".replace(",", ".")


def _short(label: str, width: int = 28) -> str:
    head = label.split(",")[0]
    return head if len(head) <= width else head[: width - 1] + "…"


@dataclass(frozen=True)
class MapPoints:
    """Longitudes and latitudes of one layer of the network map."""

    lon: Sequence[float]
    lat: Sequence[float]
    sizes: Sequence[float] = ()


def network_map(everywhere: MapPoints, weak: MapPoints, members: MapPoints, *, title: str) -> bytes:
    """Germany as dots: every municipality faint, structurally weak regions tinted, member
    municipalities marked (bigger with more members), so staff see where the network is thin."""
    figure = _figure(5.2, 6.4)
    axes = figure.add_subplot()
    axes.scatter(everywhere.lon, everywhere.lat, s=0.6, color="#c8c8c8", linewidths=0)
    axes.scatter(weak.lon, weak.lat, s=0.8, color="#f0b27a", linewidths=0,
                 label=t("digest.map_weak"))  # fmt: skip
    axes.scatter(members.lon, members.lat, s=members.sizes or 14, color=GRANTED_COLOUR,
                 edgecolors="white", linewidths=0.4, label=t("digest.map_members"))  # fmt: skip
    # Degrees of longitude are shorter than degrees of latitude at Germany's latitude (~51°).
    axes.set_aspect(1 / 0.63)
    axes.set_axis_off()
    axes.set_title(title, fontsize=10)
    axes.legend(loc="lower left", frameon=False, fontsize=8, markerscale=3)
    return _png(figure)
