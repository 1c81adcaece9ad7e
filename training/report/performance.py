"""The page of realised performance, once the model serves: the funnel, the weeks, sources and
campaigns, the control group and drift, from the dictionary `scoring.performance` returns
(`leadscore performance --report FILE`). Same look and machinery as the training report; any
key may be missing or None, and the page shows what is there."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from features import DEFAULT_FEATURES, FeatureSet
from training.report import charts
from training.report.page import render
from training.report.words import label

TERMS = {
    "funnel": "The funnel",
    "realised": "Realised accuracy",
    "expected_wins": "Expected wins",
    "control": "The control group",
}
FUNNEL_KEYS = (
    "scored", "mql", "sql", "sales_accepted", "sales_qualified", "opportunities", "won", "lost",
    "open", "mql_rate", "mql_to_sql", "sql_to_won", "win_rate", "median_days_to_close",
)  # fmt: skip
COUNTED = (("scored", "scored"), ("MQL or better", "mql"), ("SQL", "sql"), ("won", "won"))
_CODE_NAME = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")

Context = dict[str, Any]


def render_performance_page(
    performance: Mapping[str, Any], *, model_name: str, feature_set: FeatureSet | None = None
) -> str:
    """One self-contained HTML page; features are named by their descriptions in `feature_set`
    (the demo's when not given), and any other code-like name is spelled out in words."""
    namer = _Namer(feature_set or DEFAULT_FEATURES)
    by_week = list(performance.get("by_week") or [])
    drift = performance.get("drift")
    return render(
        "performance.html.j2",
        title=f"Realised performance: {model_name}",
        model_name=model_name,
        generated_at=performance.get("generated_at"),
        leads_without_id=performance.get("leads_without_id") or 0,
        definitions=[
            {"term": TERMS.get(key, namer.words(key)), "text": namer.words(str(text))}
            for key, text in (performance.get("definitions") or {}).items()
        ],
        overall=_block(performance.get("overall")),
        versions=[
            {"name": f"{r.get('model_name')} v{r.get('model_version')}", **_block(r)}
            for r in performance.get("by_model_version") or []
        ],
        weeks=[
            {"name": r.get("week"), "version": r.get("model_version"), **_block(r)} for r in by_week
        ],
        week_charts=_week_charts(by_week),
        sources=[
            {"name": r.get("source") or "no source", **_block(r)}
            for r in performance.get("by_source") or []
        ],
        campaigns=[
            {"name": f"{r.get('campaign') or 'no campaign'} ({r.get('source') or 'no source'})"}
            | _block(r)
            for r in performance.get("by_campaign") or []
        ],
        control=_control(performance.get("control")),
        drift=None if drift is None else _drift(drift, namer),
    )


class _Namer:
    """Plain words for feature names, inside any text."""

    def __init__(self, feature_set: FeatureSet) -> None:
        self._labels = {f.name: label(f) for f in feature_set}

    def feature(self, name: str | None) -> str | None:
        if name is None:
            return None
        return self._labels.get(name, name.replace("_", " "))

    def words(self, text: str) -> str:
        """Feature names replaced by their labels, other snake_case names by spaced words."""
        return _CODE_NAME.sub(lambda m: self.feature(m.group(0)) or "", text)


def _block(block: Mapping[str, Any] | None) -> Context:
    """A group's funnel, realised accuracy and wins, with every missing number as None."""
    block = block or {}
    funnel = block.get("funnel") or {}
    realised = block.get("realised") or {}
    return {
        "funnel": {key: funnel.get(key) for key in FUNNEL_KEYS},
        "realised": {
            key: realised.get(key) for key in ("known", "auc", "ece", "sql_precision", "win_rate")
        },
        "expected_wins": block.get("expected_wins"),
        "expected_wins_open": block.get("expected_wins_open"),
        "projected_wins": block.get("projected_wins"),
    }


def _week_charts(rows: Sequence[Mapping[str, Any]]) -> list[charts.Chart]:
    """Counts and wins summed over the versions serving each week; the ranking quality per week
    and version."""
    if not rows:
        return []
    weeks = sorted({str(r.get("week")) for r in rows})
    totals = {w: {"scored": 0, "mql": 0, "sql": 0, "won": 0, "expected": 0.0} for w in weeks}
    for row in rows:
        funnel, total = (row.get("funnel") or {}), totals[str(row.get("week"))]
        for _, key in COUNTED:
            total[key] += funnel.get(key) or 0
        total["expected"] += row.get("expected_wins") or 0.0
    several = len({r.get("model_version") for r in rows}) > 1
    ranked = [
        (f"{r.get('week')} v{r.get('model_version')}" if several else str(r.get("week")),
         (r.get("realised") or {}).get("auc"))
        for r in rows
    ]  # fmt: skip
    return [
        charts.weekly_counts(
            weeks, {name: [totals[w][key] for w in weeks] for name, key in COUNTED}
        ),
        charts.expected_and_realised(
            weeks, [totals[w]["expected"] for w in weeks], [totals[w]["won"] for w in weeks]
        ),
        charts.accuracy_by_week(
            [name for name, _ in ranked],
            [None if auc is None else auc.get("value") for _, auc in ranked],
            [_ends(auc) for _, auc in ranked],
        ),
    ]


def _ends(interval: Mapping[str, Any] | None) -> tuple[float, float]:
    """An interval's ends; a missing end is the value itself (no bar)."""
    if interval is None or interval.get("value") is None:
        return (0.0, 0.0)
    value = interval["value"]
    low, high = interval.get("low"), interval.get("high")
    return (value if low is None else low, value if high is None else high)


def _control(control: Mapping[str, Any] | None) -> Context | None:
    """The control group's comparison; None when there was no control lead."""
    if not control or not control.get("leads"):
        return None
    return {
        key: control.get(key)
        for key in ("leads", "treated_sql_win_rate", "control_sql_win_rate", "effect",
                    "control_auc")
    }  # fmt: skip


def _drift(drift: Mapping[str, Any], namer: _Namer) -> Context:
    """The last drift check and the alerts so far, with features named in words."""
    last = drift.get("last_check") or {}
    return {
        "last": {
            "checked_at": last.get("checked_at"),
            "score_psi": last.get("score_psi"),
            "worst_feature": namer.feature(last.get("worst_feature")),
            "worst_feature_psi": last.get("worst_feature_psi"),
            "unseen_share": last.get("unseen_share"),
            "alert": last.get("alert"),
            "reasons": [namer.words(str(r)) for r in last.get("reasons") or []],
        }
        if last
        else None,
        "alerts": [
            {
                "checked_at": alert.get("checked_at"),
                "reasons": [namer.words(str(r)) for r in alert.get("reasons") or []],
            }
            for alert in drift.get("alerts") or []
        ],
    }
