"""The marketer's report: one self-contained HTML page that opens with what to do this week, then
the funnel, the weeks, sources and campaigns, and what drives conversion, in plain names, score
points and ranges of whole units; the leads to call beside it as a CSV; and the page of realised
performance once the model serves. This module works out each section of the training report;
`charts` draws the figures as embedded PNGs and `templates/` lays out the pages."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from features import Feature, FeatureSet
from scoring import LeadScorer, Rule
from training.audit import AuditReport
from training.config import CostsSection
from training.data import CrmExport
from training.evaluate import expected_calibration_error
from training.examples import Dataset
from training.gate import GateDecision
from training.next_steps import mql_moves
from training.report import charts, holdout
from training.report.calls import LEADS_TO_CALL_ARTIFACT, LEADS_TO_CALL_COLUMNS, leads_to_call
from training.report.charts import reliability_png
from training.report.holdout import Holdout, holdout_of
from training.report.page import render
from training.report.performance import render_performance_page
from training.report.ranges import MISSING, group_values, in_order
from training.report.words import label, rule_words, value_words
from training.train import Candidate, LeadScoreTrainer

__all__ = [
    "LEADS_TO_CALL_ARTIFACT",
    "LEADS_TO_CALL_COLUMNS",
    "leads_to_call",
    "reliability_png",
    "render_performance_page",
    "render_report",
]

TOP_FEATURES = 6
TOP_ROWS = 15
TOP_CALLS = 10
TOP_DECIDED = 5  # sources and campaigns named in each of grow and cut
MIN_LEADS_PER_VALUE = 20
GROUP_WORDS = {
    "fit": "Who the lead is (industry, size, seniority)",
    "engagement": "What the lead did (visits, demo requests, meetings)",
    "source": "Where the lead came from (channel, campaign, when)",
    "account": "The lead's account (colleagues engaged, earlier leads and wins)",
}
POINTS_WORDS = (
    "A push is counted in score points: the lead's score (0 to 100) minus the score it would have "
    "without that one push, averaged over the recent leads whether it raised or lowered the score."
)
# Each holdout metric's name in words, and what it means.
METRIC_WORDS = {
    "roc_auc": ("ROC AUC", "chance a random won lead scores above a random lost one"),
    "pr_auc": ("PR AUC", "precision averaged over all cut-offs"),
    "brier": ("Brier score", "mean squared gap between chance and outcome (lower is better)"),
    "log_loss": ("log loss", "penalty for confident mistakes (lower is better)"),
    "lift_at_10pct": ("lift in the top 10%", "win rate of the top 10% over the average"),
    "baseline_roc_auc": (
        "ROC AUC of the baseline",
        "the same for a simple logistic regression, as a yardstick",
    ),
}

# A section's template variables: plain numbers, strings, lists of rows and charts.
Context = dict[str, Any]


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
    export: CrmExport | None = None,
    costs: CostsSection | None = None,
    calls: pd.DataFrame | None = None,
) -> str:
    """The whole report as one HTML string; a version the gate refused opens with why. With the
    `export`, it counts this week's volume and lists the leads to call (`calls`, when they were
    worked out already); with `costs`, the cost per won lead."""
    scorer = trainer.scorer_
    recent = holdout_of(trainer, dataset)
    features = dataset.features.iloc[trainer.splits_rows_["holdout"]]
    if calls is None and export is not None:
        calls = leads_to_call(
            scorer,
            export,
            snapshot_days=trainer.config.snapshot_delay_days,
            horizon_days=trainer.config.horizon_days,
        )
    by_source = holdout.channels(recent, costs, by_campaign=False)
    by_campaign = holdout.channels(recent, costs, by_campaign=True)
    funnel = holdout.funnel(recent)
    weeks = holdout.weeks(recent)
    importance = _impact_order(scorer, features)
    return render(
        "report.html.j2",
        title=f"Lead scoring report: {model_name} v{version}",
        model_name=model_name,
        version=version,
        made=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        refusal=None if decision is None or decision.promote else decision.reason,
        outlook=holdout.outlook(recent, export, trainer.holdout_weeks_),
        calls=_calls(calls),
        grow=_decided(by_source, by_campaign, "above"),
        cut=_decided(by_source, by_campaign, "below"),
        top_decided=TOP_DECIDED,
        min_leads=holdout.MIN_LEADS_TO_TELL,
        currency=None if costs is None else costs.currency,
        cost_per_won=_cost_per_won(by_source),
        costs_matched=any(row["spent"] is not None for row in by_source),
        summary=_summary(recent),
        agreement=_agreement(scorer),
        funnel={
            **funnel,
            "chart": charts.funnel_bars(
                [s["name"] for s in funnel["stages"]], [s["count"] for s in funnel["stages"]]
            ),
        },
        weeks=weeks,
        weeks_chart=_weeks_chart(weeks),
        channels=_channel_tables(scorer, by_source, by_campaign),
        importance=_importance(importance),
        insights=_insights(importance, dataset),
        lift=_lift(recent.labels, recent.probabilities),
        calibration=_calibration(recent.labels, recent.probabilities),
        what_if=_what_if(trainer.what_if_),
        moves=_moves(scorer, features),
        card=_model_card(trainer, baseline_roc_auc, candidates),
        audit=_audit(audit, scorer.feature_set),
    )


def _moves(scorer: LeadScorer, features: pd.DataFrame) -> Context | None:
    """Which single moves would turn the most recent MQLs into SQLs, as the model expects."""
    if scorer.next_steps is None:
        return None
    mqls, counts = mql_moves(scorer, features)
    return {
        "mqls": mqls,
        "rows": [
            {"action": action, "leads": count, "share": count / mqls if mqls else 0.0}
            for action, count in counts.items()
        ],
        "offered": [move.action for move in scorer.next_steps.moves],
        "min_support": scorer.next_steps.min_support,
    }


def _audit(audit: AuditReport | None, feature_set: FeatureSet) -> list[Context]:
    """The audit's table, with a feature's code name (a transform's, say) in its evidence given
    as the feature's plain name instead."""
    if audit is None:
        return []
    labels = {f.name: label(f) for f in feature_set if not f.name.isalpha()}
    if not labels:
        return audit.table()
    names = sorted(labels, key=len, reverse=True)
    code = re.compile(r"\b(" + "|".join(map(re.escape, names)) + r")\b")
    return [
        {key: code.sub(lambda m: f'"{labels[m.group(1)]}"', text) for key, text in row.items()}
        for row in audit.table()
    ]


def _calls(calls: pd.DataFrame | None) -> Context | None:
    """How many leads to call of each kind, and the first few."""
    if calls is None:
        return None
    top = calls.head(TOP_CALLS).to_dict("records")
    for row in top:
        where = [str(row[c]) for c in ("source", "campaign") if pd.notna(row[c])]
        row["came_from"] = ", ".join(where) or "not known"
    kinds = calls["recommendation"].value_counts()
    return {
        "file": LEADS_TO_CALL_ARTIFACT,
        "count": len(calls),
        "sql": int(kinds.get("SQL", 0)),
        "mql": int(kinds.get("MQL", 0)),
        "top": top,
    }


def _decided(by_source: list[Context], by_campaign: list[Context], way: str) -> list[Context]:
    """Sources, then campaigns, whose win rate is clearly on one side of the average, the
    farthest first; a campaign that is all of its source's leads is said once, as the source."""
    whole = {(row["source"], row["leads"], row["won"]) for row in by_source}
    rows = [{**row, "by_campaign": False} for row in by_source if row["verdict"] == way] + [
        {**row, "by_campaign": True}
        for row in by_campaign
        if row["verdict"] == way and (row["source"], row["leads"], row["won"]) not in whole
    ]
    return sorted(rows, key=lambda r: r["win_rate"]["value"], reverse=way == "above")


def _cost_per_won(by_source: list[Context]) -> float | None:
    """Spend over wins, across the sources whose every lead has a cost."""
    known = [row for row in by_source if row["spent"] is not None]
    won = sum(row["won"] for row in known)
    return sum(row["spent"] for row in known) / won if won else None


def _channel_tables(
    scorer: LeadScorer, by_source: list[Context], by_campaign: list[Context]
) -> list[Context]:
    """The source table, and the campaign table when the model has campaigns; none without a
    source column."""
    source, campaign = holdout.channel_features(scorer.feature_set)
    if source is None:
        return []
    tables = [
        {"title": "By source", "column": "source of the leads", "by_campaign": False,
         "rows": by_source[:TOP_ROWS]},
    ]  # fmt: skip
    if campaign is not None:
        tables.append(
            {"title": "By campaign", "column": "campaign (source)", "by_campaign": True,
             "rows": by_campaign[:TOP_ROWS]}
        )  # fmt: skip
    return tables


def _weeks_chart(weeks: list[Context]) -> charts.Chart | None:
    if not weeks:
        return None
    return charts.weekly_trends(
        [w["week"] for w in weeks],
        {
            "leads": [w["leads"] for w in weeks],
            "MQL or better": [w["mql"] for w in weeks],
            "SQL": [w["sql"] for w in weeks],
            "won": [w["won"] for w in weeks],
        },
        [w["win_rate"] for w in weeks],
    )


def _agreement(scorer: LeadScorer) -> Context:
    """The policy in words: where SQL and MQL start, the floor, the ICP rules, the exclusions."""
    policy = scorer.policy
    recorded = scorer.metadata.get("policy") or {}
    names = set(scorer.feature_set.names)

    def worded(rule: Rule) -> str:
        return rule_words(rule, scorer.feature_set[rule.feature] if rule.feature in names else None)

    return {
        "sql": policy.sql_threshold,
        "mql": policy.mql_threshold,
        "floor": policy.floor,
        "icp": [worded(rule) for rule in policy.icp],
        "exclusions": [worded(rule) for rule in policy.exclusions],
        "origin": recorded.get("origin"),
        "hash": recorded.get("hash"),
    }


def _summary(recent: Holdout) -> Context:
    """`sent` is None when the policy sends all leads or none: there is no split to compare."""
    labels, top = recent.labels, recent.sql
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


def _points(scorer: LeadScorer, features: pd.DataFrame) -> np.ndarray:
    """Each lead's push of each feature in score points: its calibrated score minus the score of
    all its other pushes, so the unit is the one sales sees."""
    contributions = scorer.contributions(scorer.encoder.transform(features))
    pushes, margin = contributions[:, :-1], contributions.sum(axis=1)
    with_all = scorer.calibrator.probability(margin)
    without_each = scorer.calibrator.probability(margin[:, None] - pushes)
    return 100 * (with_all[:, None] - without_each)


def _impact_order(scorer: LeadScorer, features: pd.DataFrame) -> pd.DataFrame:
    """Features by their average absolute push in score points, biggest first."""
    return pd.DataFrame(
        {
            "feature": scorer.feature_set.names,
            "label": [label(f) for f in scorer.feature_set],
            "group": [f.group for f in scorer.feature_set],
            "points": np.abs(_points(scorer, features)).mean(axis=0),
        }
    ).sort_values("points", ascending=False, kind="stable")


def _importance(importance: pd.DataFrame) -> Context:
    top = importance.head(TOP_ROWS)
    by_group = importance.groupby("group")["points"].sum().sort_values(ascending=False)
    share = by_group / by_group.sum()
    return {
        "how": POINTS_WORDS,
        "chart": charts.impact_bars(top["label"].tolist(), top["points"].tolist()),
        "groups": [
            {"meaning": GROUP_WORDS.get(group, str(group)), "share": value}
            for group, value in share.items()
        ],
        "top": [
            {**row, "group": GROUP_WORDS.get(row["group"], row["group"]).split(" (")[0]}
            for row in top.to_dict("records")
        ],
    }


def _insights(importance: pd.DataFrame, dataset: Dataset) -> Context:
    """Win rate by value for the items that matter most; an item with no common value is left
    out."""
    average = dataset.labels.mean()
    charted = []
    for name in importance["feature"].head(TOP_FEATURES):
        feature = dataset.feature_set[name]
        rows = _rates_by_value(dataset.features[name], dataset.labels, feature)
        if not rows:
            continue
        chart = charts.win_rate_bars([r[0] for r in rows], [r[1] for r in rows], average)
        charted.append({"label": label(feature), "chart": chart})
    return {
        "labelled": len(dataset.labels),
        "average": average,
        "min_leads": MIN_LEADS_PER_VALUE,
        "features": charted,
    }


def _rates_by_value(
    values: pd.Series, labels: np.ndarray, feature: Feature
) -> list[tuple[str, float, int]]:
    """(words, win rate, leads) per value or range held by enough leads: numbers and levels in
    their order, other categories most common first (ten at most); the missing last."""
    groups, words = group_values(values, feature)
    frame = pd.DataFrame({"group": groups, "won": labels})
    table = frame.groupby("group")["won"].agg(win_rate="mean", leads="count")
    table = table[table["leads"] >= MIN_LEADS_PER_VALUE]
    present = table.drop(index=MISSING, errors="ignore")
    if not in_order(feature):
        present = present.sort_values("leads", ascending=False, kind="stable").head(10)
    rows = [(words[int(g)], float(r.win_rate), int(r.leads)) for g, r in present.iterrows()]
    if MISSING in table.index:
        missing = table.loc[MISSING]
        rows.append((value_words(feature, None), float(missing.win_rate), int(missing.leads)))
    return rows


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
    values = dict(trainer.metrics_)
    if baseline is not None:
        values["baseline_roc_auc"] = baseline
    metrics = [
        {
            "name": METRIC_WORDS.get(name, (name.replace("_", " "), ""))[0],
            "value": value,
            "meaning": METRIC_WORDS.get(name, ("", ""))[1],
        }
        for name, value in values.items()
    ]
    return {
        "trained_at": str(metadata.get("trained_at", ""))[:19],
        "features": len(trainer.scorer_.feature_set),
        "split": str(metadata.get("split")),
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
