"""The report's figures, drawn on matplotlib's Agg backend so no display is needed, and handed
back as PNG bytes or as a `Chart`: a data URI the page embeds instead of fetching, with every
text the figure drew, so the page can carry them and a test can read them."""

from __future__ import annotations

import base64
import io
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, PercentFormatter

INK, ACCENT, MUTED, WARM = "#1f2937", "#2563eb", "#9ca3af", "#ea580c"
LABEL_WIDTH = 42  # characters before a long name wraps onto a second line


@dataclass(frozen=True)
class Chart:
    """One embedded figure: what it shows in words, its PNG as a data URI, and its labels."""

    alt: str
    uri: str
    labels: tuple[str, ...]


def impact_bars(names: Sequence[str], points: Sequence[float]) -> Chart:
    """Each item's average push in score points, given biggest first and drawn at the top."""
    figure, axis = plt.subplots(figsize=(8, 0.42 * len(names) + 1))
    axis.barh(_wrapped(names)[::-1], list(points)[::-1], color=ACCENT)
    axis.set_xlabel("average change in the score, in points out of 100")
    return _chart(figure, "How much each item moves the score")


def win_rate_bars(values: Sequence[str], win_rates: Sequence[float], average: float) -> Chart:
    """The win rate of each value against the average (dashed), the first value at the top."""
    figure, axis = plt.subplots(figsize=(8, 0.35 * len(values) + 1))
    axis.barh(_wrapped(values)[::-1], list(win_rates)[::-1], color=ACCENT)
    axis.axvline(average, color=INK, linestyle="--", linewidth=1)
    axis.set_xlabel("win rate")
    axis.xaxis.set_major_formatter(PercentFormatter(1.0))
    return _chart(figure, "Win rate of each value against the average")


def funnel_bars(stages: Sequence[str], counts: Sequence[int]) -> Chart:
    """The funnel's stages as bars, the first at the top, each with its count."""
    figure, axis = plt.subplots(figsize=(8, 0.45 * len(stages) + 0.8))
    bars = axis.barh(list(stages)[::-1], list(counts)[::-1], color=ACCENT)
    axis.bar_label(bars, labels=[f"{c:,}" for c in list(counts)[::-1]], padding=3)
    axis.set_xlabel("leads")
    axis.margins(x=0.12)
    return _chart(figure, "The funnel from leads to wins")


def weekly_trends(
    weeks: Sequence[str], series: dict[str, Sequence[float]], win_rate: Sequence[float | None]
) -> Chart:
    """Counts per week as lines on the left; the week's win rate on the right."""
    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 3.6))
    _lines(left, weeks, series)
    rates = [np.nan if r is None else r for r in win_rate]
    right.plot(np.arange(len(weeks)), rates, marker="o", color=ACCENT)
    right.set_ylabel("win rate")
    right.yaxis.set_major_formatter(PercentFormatter(1.0))
    _week_ticks(right, weeks)
    figure.tight_layout()
    return _chart(figure, "Leads, MQLs, SQLs and wins week by week, and the win rate")


def weekly_counts(weeks: Sequence[str], series: dict[str, Sequence[float]]) -> Chart:
    """Counts per week as lines."""
    figure, axis = plt.subplots(figsize=(8, 3.4))
    _lines(axis, weeks, series)
    figure.tight_layout()
    return _chart(figure, "Leads scored, MQLs, SQLs and wins week by week")


def expected_and_realised(
    weeks: Sequence[str], expected: Sequence[float], realised: Sequence[float]
) -> Chart:
    """Wins the scores promised against wins that came, week by week."""
    figure, axis = plt.subplots(figsize=(8, 3.4))
    positions = np.arange(len(weeks))
    axis.plot(positions, expected, marker="o", color=MUTED, linestyle="--", label="expected wins")
    axis.plot(positions, realised, marker="o", color=ACCENT, label="wins so far")
    axis.set_ylabel("wins")
    axis.legend(frameon=False, ncol=2, loc="lower left", bbox_to_anchor=(0, 1))
    _week_ticks(axis, weeks)
    figure.tight_layout()
    return _chart(figure, "Expected against realised wins week by week")


def accuracy_by_week(
    weeks: Sequence[str], values: Sequence[float | None], intervals: Sequence[tuple[float, float]]
) -> Chart:
    """The realised ranking quality per week with its interval; weeks without one are left out."""
    figure, axis = plt.subplots(figsize=(8, 3.4))
    positions = np.arange(len(weeks))
    shown = np.array([v is not None for v in values])
    middle = np.array([np.nan if v is None else v for v in values])
    low, high = (np.array([pair[i] for pair in intervals]) for i in (0, 1))
    axis.errorbar(
        positions[shown],
        middle[shown],
        yerr=[(middle - low)[shown], (high - middle)[shown]],
        marker="o",
        color=ACCENT,
        capsize=3,
    )
    axis.axhline(0.5, color=MUTED, linestyle="--", linewidth=1)
    axis.set_ylabel("chance a won lead scored above a lost one")
    axis.set_ylim(0, 1)
    _week_ticks(axis, weeks)
    figure.tight_layout()
    return _chart(figure, "How well the scores ranked the leads, week by week")


def lift_and_gain(lift: Sequence[float], gain: np.ndarray) -> Chart:
    """Lift by score decile beside the cumulative gain curve, which starts from zero."""
    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 3.6))
    left.bar(range(1, 11), lift, color=ACCENT)
    left.axhline(1, color=INK, linestyle="--", linewidth=1)
    left.set_xlabel("score decile (1 = top 10%)")
    left.set_ylabel("lift")
    right.plot(np.arange(0, 11) * 10, np.r_[0, gain] * 100, marker="o", color=ACCENT)
    right.plot([0, 100], [0, 100], color=MUTED, linestyle="--")
    right.set_xlabel("% of leads, best scores first")
    right.set_ylabel("% of wins captured")
    figure.tight_layout()
    return _chart(figure, "Lift by score decile and the share of wins captured")


def reliability_png(labels: np.ndarray, probabilities: np.ndarray) -> bytes:
    """The reliability plot as PNG bytes: predicted against actual win rate in ten groups."""
    return _png(_reliability_figure(labels, probabilities))


def reliability_chart(labels: np.ndarray, probabilities: np.ndarray) -> Chart:
    """The reliability plot for the page."""
    return _chart(
        _reliability_figure(labels, probabilities), "Predicted against actual chance of winning"
    )


def _reliability_figure(labels: np.ndarray, probabilities: np.ndarray) -> Figure:
    order = np.argsort(probabilities, kind="stable")
    bins = [b for b in np.array_split(order, 10) if len(b)]
    predicted = [probabilities[b].mean() for b in bins]
    actual = [labels[b].mean() for b in bins]
    figure, axis = plt.subplots(figsize=(5, 4.2))
    axis.plot([0, 1], [0, 1], color=MUTED, linestyle="--")
    axis.plot(predicted, actual, marker="o", color=ACCENT)
    axis.set_xlabel("predicted chance of winning")
    axis.set_ylabel("actual share won")
    return figure


def _lines(axis: plt.Axes, weeks: Sequence[str], series: dict[str, Sequence[float]]) -> None:
    """One line per series over the weeks, with a legend."""
    for (name, values), color in zip(series.items(), (MUTED, ACCENT, WARM, INK), strict=False):
        axis.plot(np.arange(len(weeks)), values, marker="o", color=color, label=name)
    axis.set_ylabel("leads a week")
    axis.legend(frameon=False, ncol=len(series), loc="lower left", bbox_to_anchor=(0, 1))
    _week_ticks(axis, weeks)


def _week_ticks(axis: plt.Axes, weeks: Sequence[str]) -> None:
    """At most eight week labels, so that they never overlap."""
    axis.xaxis.set_major_locator(MaxNLocator(8, integer=True))
    axis.set_xticks(
        [int(t) for t in axis.get_xticks() if 0 <= t < len(weeks)],
        [weeks[int(t)] for t in axis.get_xticks() if 0 <= t < len(weeks)],
    )
    axis.set_xlabel("week starting")
    axis.tick_params(axis="x", labelrotation=30)


def _wrapped(names: Sequence[str]) -> list[str]:
    return [textwrap.fill(name, LABEL_WIDTH) for name in names]


def _png(figure: Figure) -> bytes:
    """Closed once saved: pyplot keeps every open figure alive otherwise."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(figure)
    return buffer.getvalue()


def _chart(figure: Figure, alt: str) -> Chart:
    """The figure drawn, with every text it drew: titles, axis labels, the ticks in view, bar
    labels and legends."""
    content = _png(figure)
    drawn: list[str] = []
    for axis in figure.axes:
        drawn += [axis.get_title(), axis.get_xlabel(), axis.get_ylabel()]
        drawn += [text.get_text() for text in axis.texts]
        legend = axis.get_legend()
        drawn += [] if legend is None else [text.get_text() for text in legend.get_texts()]
        for scale in (axis.xaxis, axis.yaxis):
            low, high = sorted(scale.get_view_interval())
            drawn += [
                tick.label1.get_text()
                for tick in scale.get_major_ticks()
                if low <= tick.get_loc() <= high and tick.label1.get_visible()
            ]
    labels = tuple(dict.fromkeys(" ".join(text.split()) for text in drawn if text.strip()))
    return Chart(alt, "data:image/png;base64," + base64.b64encode(content).decode(), labels)
