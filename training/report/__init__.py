"""The marketer's report: one self-contained HTML page on what drives conversion and which
sources bring leads that close. This module works out each section's numbers; `charts` draws the
figures as embedded PNGs and `templates/report.html.j2` lays out the page."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
from jinja2 import Environment, PackageLoader, StrictUndefined

from scoring import LeadScorer
from training.audit import AuditReport
from training.evaluate import expected_calibration_error
from training.examples import Dataset
from training.gate import GateDecision
from training.report import charts
from training.report.charts import reliability_png
from training.train import Candidate, LeadScoreTrainer

__all__ = ["reliability_png", "render_report"]

TOP_FEATURES = 6
TOP_ROWS = 15
MIN_LEADS_PER_VALUE = 20
GROUP_WORDS = {
    "fit": "who the lead is (industry, size, seniority)",
    "engagement": "what the lead did (visits, demo requests, meetings)",
    "source": "where the lead came from (channel, campaign)",
}
METRIC_WORDS = {
    "roc_auc": "chance a random won lead scores above a random lost one",
    "pr_auc": "precision averaged over all cut-offs",
    "brier": "mean squared gap between chance and outcome (lower is better)",
    "log_loss": "penalty for confident mistakes (lower is better)",
    "lift_at_10pct": "win rate of the top 10% over the average",
}
BASELINE_WORDS = "the same for a simple logistic regression, as a yardstick"

# A section's template variables: plain numbers, strings, lists of rows and chart data URIs.
Context = dict[str, Any]

_TEMPLATES = Environment(
    loader=PackageLoader(__name__, "templates"),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
# Numbers reach the template unformatted; `{{ share | number(".0%") }}` takes a Python format spec.
_TEMPLATES.filters["number"] = format


def render_report(
    trainer: LeadScoreTrainer,
    dataset: Dataset,
    *,
    model_name: str,
    version: str,
    baseline_roc_auc: float | None = None,
    audit: AuditReport | None = None,
    candidates: Sequence[Candidate] = (),
    decision: GateDecision | None = None,
) -> str:
    """The whole report as one HTML string; a version the gate refused opens with why."""
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
    return _TEMPLATES.get_template("report.html.j2").render(
        model_name=model_name,
        version=version,
        made=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        ink=charts.INK,
        accent=charts.ACCENT,
        sql=scorer.policy.sql_threshold,
        summary=_summary(labels, scores >= scorer.policy.sql_threshold),
        importance=_importance(importance),
        insights=_insights(importance, dataset),
        sources=_sources(scorer, features, labels, scores),
        lift=_lift(labels, probabilities),
        calibration=_calibration(labels, probabilities),
        what_if=_what_if(trainer.what_if_),
        card=_model_card(trainer, baseline_roc_auc, candidates),
        audit=[] if audit is None else audit.table(),
        refusal=None if decision is None or decision.promote else decision.reason,
        agreement=_agreement(scorer),
    )


def _agreement(scorer: LeadScorer) -> Context:
    """The policy in words: where SQL and MQL start, the floor, the ICP rules, the exclusions."""
    policy = scorer.policy
    recorded = scorer.metadata.get("policy") or {}
    return {
        "sql": policy.sql_threshold,
        "mql": policy.mql_threshold,
        "floor": policy.floor,
        "icp": [rule.words() for rule in policy.icp],
        "exclusions": [rule.words() for rule in policy.exclusions],
        "origin": recorded.get("origin"),
        "hash": recorded.get("hash"),
    }


def _summary(labels: np.ndarray, top: np.ndarray) -> Context:
    """`sent` is None when the cut-off sends all leads or none: there is no split to compare."""
    sent = (
        {
            "share": top.mean(),
            "win_rate": labels[top].mean(),
            "others_win_rate": labels[~top].mean(),
        }
        if top.any() and (~top).any()
        else None
    )
    return {"leads": len(labels), "win_rate": labels.mean(), "sent": sent}


def _importance(importance: pd.DataFrame) -> Context:
    top = importance.head(TOP_ROWS)
    by_group = importance.groupby("group")["impact"].sum().sort_values(ascending=False)
    share = by_group / by_group.sum()
    return {
        "chart": charts.impact_bars(top["feature"].tolist(), top["impact"].tolist()),
        "groups": [
            {"name": group, "meaning": GROUP_WORDS.get(group, ""), "share": value}
            for group, value in share.items()
        ],
        "top": top.to_dict("records"),
    }


def _insights(importance: pd.DataFrame, dataset: Dataset) -> Context:
    """Win rate by value for the items that matter most; an item with no common value is left
    out."""
    average = dataset.labels.mean()
    charted = []
    for name in importance["feature"].head(TOP_FEATURES):
        feature = dataset.feature_set[name]
        table = _rates_by_value(dataset.features[name], dataset.labels, feature.kind)
        if table.empty:
            continue
        chart = charts.win_rate_bars(
            table.index.astype(str).tolist(), table["win_rate"].tolist(), average
        )
        charted.append({"name": name, "description": feature.description, "chart": chart})
    return {
        "labelled": len(dataset.labels),
        "average": average,
        "min_leads": MIN_LEADS_PER_VALUE,
        "features": charted,
    }


def _rates_by_value(values: pd.Series, labels: np.ndarray, kind: str) -> pd.DataFrame:
    """Numbers with many distinct values go in five quantile ranges; categories keep their ten
    most common values."""
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
    table = table[table["leads"] >= MIN_LEADS_PER_VALUE]
    if kind != "numeric":
        table = table.sort_values("leads", ascending=False).head(10)
    return table


def _sources(
    scorer: LeadScorer, features: pd.DataFrame, labels: np.ndarray, scores: np.ndarray
) -> list[Context]:
    """One table per categorical source column (channel, campaign); empty when there is none."""
    sql = scorer.policy.sql_threshold
    names = [f.name for f in scorer.feature_set if f.group == "source" and f.kind == "categorical"]
    tables = []
    for name in names:
        key = features[name].astype(object).where(features[name].notna(), "(none)").astype(str)
        frame = pd.DataFrame({"value": key.to_numpy(), "won": labels, "score": scores})
        table = frame.groupby("value").agg(
            leads=("won", "size"), win_rate=("won", "mean"), mean_score=("score", "mean"),
            sql_share=("score", lambda s: float(np.mean(s >= sql))),
        ).sort_values("leads", ascending=False)  # fmt: skip
        tables.append({"name": name, "rows": table.head(TOP_ROWS).reset_index().to_dict("records")})
    return tables


def _lift(labels: np.ndarray, probabilities: np.ndarray) -> Context:
    order = np.argsort(-probabilities, kind="stable")
    deciles = np.array_split(order, 10)
    base = labels.mean()
    lift = [labels[d].mean() / base if base else 0 for d in deciles]
    gain = np.cumsum([labels[d].sum() for d in deciles]) / max(labels.sum(), 1)
    return {
        "top_decile": lift[0],
        "top_30_gain": gain[2],
        "chart": charts.lift_and_gain(lift, gain),
    }


def _calibration(labels: np.ndarray, probabilities: np.ndarray) -> Context:
    return {
        "ece_points": expected_calibration_error(labels, probabilities) * 100,
        "chart": charts.reliability_chart(labels, probabilities),
    }


def _what_if(what_if: pd.DataFrame) -> list[Context]:
    """Every fifth cut-off of the full table; leads a week is None when the weeks the leads span
    were unknown."""
    return [
        {
            "threshold": int(r.threshold),
            "leads_per_week": None if np.isnan(r.leads_per_week) else r.leads_per_week,
            "win_rate": r.expected_win_rate,
            "share_of_wins": r.share_of_wins_captured,
        }
        for r in what_if.iloc[4::5].itertuples()
    ]


def _model_card(
    trainer: LeadScoreTrainer, baseline: float | None, candidates: Sequence[Candidate]
) -> Context:
    metadata = trainer.scorer_.metadata
    metrics = [
        {"name": name, "value": value, "meaning": METRIC_WORDS.get(name, "")}
        for name, value in trainer.metrics_.items()
    ]
    if baseline is not None:
        metrics.append({"name": "baseline_roc_auc", "value": baseline, "meaning": BASELINE_WORDS})
    return {
        "trained_at": str(metadata.get("trained_at", ""))[:19],
        "features": len(trainer.scorer_.feature_set),
        "split": str(metadata.get("split")),
        "mql": trainer.scorer_.policy.mql_threshold,
        "metrics": metrics,
        "candidates": [
            {**asdict(c), "chosen": c.name == metadata.get("model_family")} for c in candidates
        ],
        "splits": [
            {
                "name": name,
                "leads": s.rows,
                "won": s.positives,
                "first": (s.first_as_of or "-")[:10],
                "last": (s.last_as_of or "-")[:10],
            }
            for name, s in trainer.splits_.items()
        ],
    }
