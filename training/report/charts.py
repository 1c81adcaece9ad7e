"""The report's figures, drawn on matplotlib's Agg backend so no display is needed, and handed
back as PNG bytes or data URIs: the page embeds its charts instead of fetching them."""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

INK, ACCENT, MUTED = "#1f2937", "#2563eb", "#9ca3af"


def impact_bars(names: Sequence[str], impacts: Sequence[float]) -> str:
    """Each item's average push, given biggest first and drawn biggest at the top."""
    figure, axis = plt.subplots(figsize=(8, 0.35 * len(names) + 1))
    axis.barh(list(names)[::-1], list(impacts)[::-1], color=ACCENT)
    axis.set_xlabel("average push on the score (absolute log-odds)")
    return _data_uri(figure)


def win_rate_bars(values: Sequence[str], win_rates: Sequence[float], average: float) -> str:
    """The win rate of each value against the average (dashed), the first value at the top."""
    figure, axis = plt.subplots(figsize=(8, 0.35 * len(values) + 1))
    axis.barh(list(values)[::-1], list(win_rates)[::-1], color=ACCENT)
    axis.axvline(average, color=INK, linestyle="--", linewidth=1)
    axis.set_xlabel("win rate")
    axis.xaxis.set_major_formatter(PercentFormatter(1.0))
    return _data_uri(figure)


def lift_and_gain(lift: Sequence[float], gain: np.ndarray) -> str:
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
    return _data_uri(figure)


def reliability_png(labels: np.ndarray, probabilities: np.ndarray) -> bytes:
    """The reliability plot as PNG bytes: predicted against actual win rate in ten groups."""
    return _png(_reliability_figure(labels, probabilities))


def reliability_chart(labels: np.ndarray, probabilities: np.ndarray) -> str:
    """The reliability plot as a data URI, for the page."""
    return _data_uri(_reliability_figure(labels, probabilities))


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


def _png(figure: Figure) -> bytes:
    """Closed once saved: pyplot keeps every open figure alive otherwise."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(figure)
    return buffer.getvalue()


def _data_uri(figure: Figure) -> str:
    return "data:image/png;base64," + base64.b64encode(_png(figure)).decode()
