"""The marketer's report: one self-contained HTML page on what drives conversion and which
sources bring leads that close. Charts are embedded PNGs; nothing is fetched from the network."""

from __future__ import annotations

import base64
import html
import io
from datetime import UTC, datetime

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from scoring import LeadScorer
from training.evaluate import expected_calibration_error
from training.examples import Dataset
from training.train import LeadScoreTrainer

TOP_FEATURES = 6
GROUP_WORDS = {
    "fit": "who the lead is (industry, size, seniority)",
    "engagement": "what the lead did (visits, demo requests, meetings)",
    "source": "where the lead came from (channel, campaign)",
}
INK, ACCENT, MUTED = "#1f2937", "#2563eb", "#9ca3af"


def render_report(
    trainer: LeadScoreTrainer,
    dataset: Dataset,
    *,
    model_name: str,
    version: str,
    baseline_roc_auc: float | None = None,
) -> str:
    """The whole report as one HTML string."""
    scorer = trainer.scorer_
    holdout_rows = trainer.splits_rows_["holdout"]
    features = dataset.features.iloc[holdout_rows]
    labels = dataset.labels[holdout_rows]
    probabilities = trainer.holdout_["probability"].to_numpy()
    scores = np.round(probabilities * 100).astype(int)
    contributions = scorer.contributions(scorer.encoder.transform(features))[:, :-1]
    importance = pd.DataFrame(
        {
            "feature": scorer.feature_set.names,
            "group": [f.group for f in scorer.feature_set],
            "description": [f.description for f in scorer.feature_set],
            "impact": np.abs(contributions).mean(axis=0),
        }
    ).sort_values("impact", ascending=False)
    sections = [
        _summary(labels, probabilities, scorer.policy.sql_threshold, scores),
        _importance_section(importance),
        _insights_section(importance, dataset),
        _source_section(scorer, features, labels, scores),
        _lift_section(labels, probabilities),
        _calibration_section(labels, probabilities),
        _what_if_section(trainer.what_if_),
        _model_card(trainer, model_name, version, baseline_roc_auc),
    ]
    return _page(f"Lead scoring report: {model_name} v{version}", "\n".join(sections))


def _summary(labels: np.ndarray, probabilities: np.ndarray, sql: int, scores: np.ndarray) -> str:
    top = scores >= sql
    return _section(
        "In short",
        f"<p>On the {len(labels):,} most recent leads the model had not seen, "
        f"{labels.mean():.1%} were won. The leads it recommends to sales (score {sql} or more, "
        f"{top.mean():.0%} of all leads) were won {labels[top].mean():.1%} of the time, "
        f"against {labels[~top].mean():.1%} for the others.</p>"
        if top.any() and (~top).any()
        else f"<p>{len(labels):,} recent leads, {labels.mean():.1%} won.</p>",
    )


def _importance_section(importance: pd.DataFrame) -> str:
    top = importance.head(15).iloc[::-1]
    figure, axis = plt.subplots(figsize=(8, 0.35 * len(top) + 1))
    axis.barh(top["feature"], top["impact"], color=ACCENT)
    axis.set_xlabel("average push on the score (absolute log-odds)")
    by_group = importance.groupby("group")["impact"].sum().sort_values(ascending=False)
    share = by_group / by_group.sum()
    groups = "".join(
        f"<tr><td>{html.escape(group)}</td><td>{GROUP_WORDS.get(group, '')}</td>"
        f"<td class=num>{value:.0%}</td></tr>"
        for group, value in share.items()
    )
    rows = "".join(
        f"<tr><td>{html.escape(r.feature)}</td><td>{html.escape(r.group)}</td>"
        f"<td>{html.escape(r.description)}</td><td class=num>{r.impact:.3f}</td></tr>"
        for r in importance.head(15).itertuples()
    )
    return _section(
        "What drives conversion",
        "<p>Each lead's score is built from pushes up or down by each of its attributes and "
        "actions. The chart shows the average size of each push on recent leads: the longer the "
        "bar, the more that item moves scores. (The unit is log-odds: a push of 0.7 roughly "
        "doubles the odds of winning.)</p>"
        + _image(figure)
        + "<h3>By group</h3><table><tr><th>group</th><th>meaning</th><th>share of all "
        "pushes</th></tr>" + groups + "</table>"
        "<h3>Top items</h3><table><tr><th>item</th><th>group</th><th>meaning</th>"
        "<th>average push</th></tr>" + rows + "</table>",
    )


def _insights_section(importance: pd.DataFrame, dataset: Dataset) -> str:
    average = dataset.labels.mean()
    parts = [
        f"<p>For the items that matter most, the win rate of each value (or range) across all "
        f"{len(dataset.labels):,} labelled leads, against the average of {average:.1%} "
        "(dashed line). Only values held by at least 20 leads are shown.</p>"
    ]
    for name in importance["feature"].head(TOP_FEATURES):
        feature = dataset.feature_set[name]
        table = _rates_by_value(dataset.features[name], dataset.labels, feature.kind)
        if table.empty:
            continue
        figure, axis = plt.subplots(figsize=(8, 0.35 * len(table) + 1))
        axis.barh(table.index.astype(str)[::-1], table["win_rate"][::-1], color=ACCENT)
        axis.axvline(average, color=INK, linestyle="--", linewidth=1)
        axis.set_xlabel("win rate")
        axis.xaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
        parts.append(f"<h3>{html.escape(name)}</h3><p>{html.escape(feature.description)}</p>")
        parts.append(_image(figure))
    return _section("Which values convert", "".join(parts))


def _rates_by_value(values: pd.Series, labels: np.ndarray, kind: str) -> pd.DataFrame:
    if kind == "numeric":
        numbers = values.astype(float)
        if numbers.nunique() > 8:
            bins = pd.qcut(numbers, 5, duplicates="drop")
            keys = bins.astype(str).where(numbers.notna(), "(missing)")
        else:
            keys = numbers.map(lambda v: "(missing)" if pd.isna(v) else f"{v:g}")
    else:
        keys = values.astype(object).where(values.notna(), "(missing)").astype(str)
    frame = pd.DataFrame({"key": keys.to_numpy(), "won": labels})
    table = frame.groupby("key")["won"].agg(win_rate="mean", leads="count")
    table = table[table["leads"] >= 20]
    if kind != "numeric":
        table = table.sort_values("leads", ascending=False).head(10)
    return table


def _source_section(
    scorer: LeadScorer, features: pd.DataFrame, labels: np.ndarray, scores: np.ndarray
) -> str:
    names = [f.name for f in scorer.feature_set if f.group == "source" and f.kind == "categorical"]
    if not names:
        return _section(
            "Lead sources", "<p>This model has no source or campaign column to compare.</p>"
        )
    sql = scorer.policy.sql_threshold
    parts = [
        "<p>For recent leads, by where they came from: how many arrived, how many were actually "
        "won, the average score the model gave them, and the share it would send to sales as "
        f"SQL (score {sql} or more). Spend on sources whose leads rarely close is where the "
        "funnel leaks.</p>"
    ]
    for name in names:
        key = features[name].astype(object).where(features[name].notna(), "(none)").astype(str)
        frame = pd.DataFrame({"value": key.to_numpy(), "won": labels, "score": scores})
        table = frame.groupby("value").agg(
            leads=("won", "size"), win_rate=("won", "mean"), mean_score=("score", "mean"),
            sql_share=("score", lambda s: float(np.mean(s >= sql))),
        ).sort_values("leads", ascending=False)  # fmt: skip
        rows = "".join(
            f"<tr><td>{html.escape(value)}</td><td class=num>{int(r.leads):,}</td>"
            f"<td class=num>{r.win_rate:.1%}</td><td class=num>{r.mean_score:.0f}</td>"
            f"<td class=num>{r.sql_share:.0%}</td></tr>"
            for value, r in table.head(15).iterrows()
        )
        parts.append(
            f"<h3>{html.escape(name)}</h3><table><tr><th>{html.escape(name)}</th><th>leads</th>"
            "<th>won</th><th>mean score</th><th>sent to sales</th></tr>" + rows + "</table>"
        )
    return _section("Lead source and campaign quality", "".join(parts))


def _lift_section(labels: np.ndarray, probabilities: np.ndarray) -> str:
    order = np.argsort(-probabilities, kind="stable")
    deciles = np.array_split(order, 10)
    base = labels.mean()
    lift = [labels[d].mean() / base if base else 0 for d in deciles]
    gain = np.cumsum([labels[d].sum() for d in deciles]) / max(labels.sum(), 1)
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
    return _section(
        "Lift and gain",
        "<p><b>Lift</b> is how many times more often the leads of a score decile were won than "
        f"leads on average: the top 10% were won {lift[0]:.1f} times as often. <b>Gain</b> is the "
        f"share of all wins found by working leads in score order: the top 30% held "
        f"{gain[2]:.0%} of the wins.</p>" + _image(figure),
    )


def reliability_png(labels: np.ndarray, probabilities: np.ndarray) -> bytes:
    """The reliability plot as PNG bytes: predicted against actual win rate in ten groups."""
    return _png(_reliability_figure(labels, probabilities))


def _reliability_figure(labels: np.ndarray, probabilities: np.ndarray) -> plt.Figure:
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


def _calibration_section(labels: np.ndarray, probabilities: np.ndarray) -> str:
    figure = _reliability_figure(labels, probabilities)
    ece = expected_calibration_error(labels, probabilities)
    return _section(
        "Are the scores honest?",
        "<p>A score of 30 should mean about 30 in 100 such leads are won. Leads are grouped into "
        "ten equal groups by score; each dot compares the group's average predicted chance with "
        "the share actually won. Dots on the dashed line mean honest scores. The average gap "
        f"(<i>expected calibration error</i>) is {ece * 100:.1f} points.</p>" + _image(figure),
    )


def _what_if_section(what_if: pd.DataFrame) -> str:
    rows = "".join(
        f"<tr><td class=num>{int(r.threshold)}</td><td class=num>"
        f"{'-' if np.isnan(r.leads_per_week) else f'{r.leads_per_week:,.0f}'}</td>"
        f"<td class=num>{r.expected_win_rate:.1%}</td>"
        f"<td class=num>{r.share_of_wins_captured:.0%}</td></tr>"
        for r in what_if.iloc[4::5].itertuples()
    )
    return _section(
        "What if sales took every lead above a score?",
        "<p>For each possible cut-off on recent leads that meet the ICP rules and are not "
        "excluded: how many leads a week would pass it, how often those were won, and what "
        "share of all wins they held. The full table is logged as <code>what_if.csv</code>.</p>"
        "<table><tr><th>score at least</th><th>leads a week</th><th>win rate</th><th>share of "
        "wins</th></tr>" + rows + "</table>",
    )


def _model_card(
    trainer: LeadScoreTrainer, model_name: str, version: str, baseline: float | None
) -> str:
    metadata = trainer.scorer_.metadata
    policy = trainer.scorer_.policy
    metric_words = {
        "roc_auc": "chance a random won lead scores above a random lost one",
        "pr_auc": "precision averaged over all cut-offs",
        "brier": "mean squared gap between chance and outcome (lower is better)",
        "log_loss": "penalty for confident mistakes (lower is better)",
        "lift_at_10pct": "win rate of the top 10% over the average",
    }
    metrics = "".join(
        f"<tr><td>{name}</td><td class=num>{value:.3f}</td>"
        f"<td>{metric_words.get(name, '')}</td></tr>"
        for name, value in trainer.metrics_.items()
    )
    if baseline is not None:
        metrics += (
            f"<tr><td>baseline_roc_auc</td><td class=num>{baseline:.3f}</td><td>the same for a "
            "simple logistic regression, as a yardstick</td></tr>"
        )
    splits = "".join(
        f"<tr><td>{name}</td><td class=num>{s.rows:,}</td><td class=num>{s.positives:,}</td>"
        f"<td>{(s.first_as_of or '-')[:10]}</td><td>{(s.last_as_of or '-')[:10]}</td></tr>"
        for name, s in trainer.splits_.items()
    )
    return _section(
        "Model card",
        f"<p><b>{html.escape(model_name)}</b> version {html.escape(version)}, trained "
        f"{html.escape(str(metadata.get('trained_at', ''))[:19])} UTC with LightGBM on "
        f"{len(trainer.scorer_.feature_set)} features; split: "
        f"{html.escape(str(metadata.get('split')))}. SQL from score {policy.sql_threshold}, MQL "
        f"from {policy.mql_threshold}.</p><table><tr><th>metric (holdout)</th><th>value</th>"
        "<th>meaning</th></tr>" + metrics + "</table><h3>Data window</h3><table><tr><th>split"
        "</th><th>leads</th><th>won</th><th>first snapshot</th><th>last snapshot</th></tr>"
        + splits
        + "</table>",
    )


def _png(figure: plt.Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(figure)
    return buffer.getvalue()


def _image(figure: plt.Figure) -> str:
    encoded = base64.b64encode(_png(figure)).decode()
    return f'<img alt="chart" src="data:image/png;base64,{encoded}">'


def _section(title: str, body: str) -> str:
    return f"<section><h2>{html.escape(title)}</h2>{body}</section>"


def _page(title: str, body: str) -> str:
    made = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>
body {{ font-family: system-ui, sans-serif; color: {INK}; max-width: 980px; margin: 2em auto;
       padding: 0 1em; line-height: 1.5; }}
h1 {{ font-size: 1.6em; }} h2 {{ border-bottom: 2px solid {ACCENT}; padding-bottom: .2em; }}
table {{ border-collapse: collapse; margin: .5em 0 1.5em; }}
th, td {{ border-bottom: 1px solid #e5e7eb; padding: .3em .8em; text-align: left; }}
td.num {{ text-align: right; font-variant-numeric: tabular-nums; }}
img {{ max-width: 100%; }}
</style></head>
<body><h1>{html.escape(title)}</h1><p>Made {made} by leadscore.</p>
{body}
</body></html>"""
