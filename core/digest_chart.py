"""The staff digest's chart: new posts and match proposals per day, last four weeks.

Drawn with matplotlib's Agg canvas directly (no global backend, no display needed).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date

from core.texts import t


def activity_chart(days: Sequence[date], posts: Sequence[int], matches: Sequence[int]) -> bytes:
    """A PNG with two bar series per day, German labels."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    figure = Figure(figsize=(8, 3.6), dpi=110)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    positions = range(len(days))
    width = 0.4
    axes.bar([p - width / 2 for p in positions], posts, width, label=t("digest.chart_posts"))
    axes.bar([p + width / 2 for p in positions], matches, width, label=t("digest.chart_matches"))
    labels = [
        d.strftime("%d.%m.") if i % 7 == 0 or i == len(days) - 1 else "" for i, d in enumerate(days)
    ]
    axes.set_xticks(list(positions), labels)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_title(t("digest.chart_title"))
    axes.set_ylabel(t("digest.chart_ylabel"))
    axes.set_xlabel(t("digest.chart_xlabel"))
    axes.legend(loc="upper left", frameon=False)
    axes.spines[["top", "right"]].set_visible(False)
    axes.grid(axis="y", alpha=0.3)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()
