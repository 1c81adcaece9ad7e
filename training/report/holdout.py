"""What the recent leads the model never saw (the holdout) say a marketer should do: the funnel,
the weeks, which sources and campaigns to grow or cut, what they cost per win, and how many
SQLs and wins to expect a week. Everything here is out of sample."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from features import CREATED_AT, MICROS_PER_DAY, Attribute, FeatureSet, series_to_micros
from training.config import CostsSection
from training.data import CrmExport
from training.examples import Dataset
from training.train import LeadScoreTrainer

MIN_LEADS_TO_TELL = 30  # fewer leads than this in a source and its win rate is noise
RECENT_WEEKS = 4  # the lead volume "now": the last weeks of the export
Z_95 = 1.959964
NOT_ENOUGH = "not enough leads to tell"
NO_SOURCE = "(none)"

Context = dict[str, Any]


@dataclass(frozen=True)
class Holdout:
    """The holdout leads as the report reads them: each one's calibrated chance, score, the
    policy's recommendation, outcome, source and campaign, week of creation and days to close
    (None when the export has no such times)."""

    labels: np.ndarray
    probabilities: np.ndarray
    recommendations: np.ndarray
    source: np.ndarray
    campaign: np.ndarray
    week: np.ndarray | None
    days_to_close: np.ndarray | None

    @property
    def sql(self) -> np.ndarray:
        return self.recommendations == "SQL"

    @property
    def mql(self) -> np.ndarray:
        """MQL or better: everything marketing passes on or works."""
        return np.isin(self.recommendations, ("SQL", "MQL"))


def channel_features(feature_set: FeatureSet) -> tuple[str | None, str | None]:
    """The features that say where a lead came from: the lead columns named `source` and
    `campaign` (in any group), else the first two categorical lead columns of the source group."""
    categorical = [
        f for f in feature_set if isinstance(f.computation, Attribute) and f.kind == "categorical"
    ]
    by_column = {f.computation.column: f.name for f in categorical}  # type: ignore[union-attr]
    grouped = [f.name for f in categorical if f.group == "source"]
    source = by_column.get("source") or (grouped[0] if grouped else None)
    others = [name for name in grouped if name != source]
    return source, by_column.get("campaign") or (others[0] if others else None)


def holdout_of(trainer: LeadScoreTrainer, dataset: Dataset) -> Holdout:
    """The fitted trainer's holdout, with the recommendation its policy gives each lead."""
    scorer = trainer.scorer_
    rows = trainer.splits_rows_["holdout"]
    features = dataset.features.iloc[rows]
    probabilities = trainer.holdout_["probability"].to_numpy()
    scores = np.round(probabilities * 100).astype(int)
    recommendations = np.array(
        [
            scorer.policy.recommend(int(score), values)[0]
            for score, values in zip(scores, features.to_dict("records"), strict=True)
        ]
    )
    source_name, campaign_name = channel_features(scorer.feature_set)
    as_of = dataset.as_of[rows]
    created = as_of - int(trainer.config.snapshot_delay_days * MICROS_PER_DAY)
    timed = bool(as_of.min() > 0)
    labels = dataset.labels[rows]
    days = None
    if timed and dataset.closed_at is not None:
        closed = dataset.closed_at[rows]
        days = np.where(labels == 1, (closed - created) / MICROS_PER_DAY, np.nan)
    return Holdout(
        labels=labels,
        probabilities=probabilities,
        recommendations=recommendations,
        source=_channel(features, source_name),
        campaign=_channel(features, campaign_name),
        week=_monday(created) if timed else None,
        days_to_close=days,
    )


def funnel(holdout: Holdout) -> Context:
    """Leads -> MQL -> SQL -> won, each stage's conversion from the one before, and the wins the
    SQL stage would have missed."""
    leads, mql, sql = len(holdout.labels), int(holdout.mql.sum()), int(holdout.sql.sum())
    won_sql = int(holdout.labels[holdout.sql].sum())
    won = int(holdout.labels.sum())
    days = holdout.days_to_close
    return {
        "stages": [
            {"name": "Leads", "count": leads, "conversion": None},
            {"name": "MQL or better", "count": mql, "conversion": _share(mql, leads)},
            {"name": "SQL", "count": sql, "conversion": _share(sql, mql)},
            {"name": "Won, of the SQLs", "count": won_sql, "conversion": _share(won_sql, sql)},
        ],
        "won": won,
        "win_rate": _share(won, leads),
        "missed": won - won_sql,
        "median_days": _median(days, np.ones(leads, dtype=bool)),
        "median_days_sql": _median(days, holdout.sql),
    }


def weeks(holdout: Holdout) -> list[Context]:
    """Per week of creation: leads, MQLs, SQLs, wins and the win rate; empty without times."""
    if holdout.week is None:
        return []
    frame = pd.DataFrame(
        {"week": holdout.week, "won": holdout.labels, "mql": holdout.mql, "sql": holdout.sql}
    )
    table = frame.groupby("week").agg(
        leads=("won", "size"), mql=("mql", "sum"), sql=("sql", "sum"), won=("won", "sum")
    )
    return [
        {"week": week, "leads": int(r.leads), "mql": int(r.mql), "sql": int(r.sql),
         "won": int(r.won), "win_rate": r.won / r.leads}
        for week, r in table.iterrows()
    ]  # fmt: skip


def channels(holdout: Holdout, costs: CostsSection | None, *, by_campaign: bool) -> list[Context]:
    """One row per source (or per source and campaign), most leads first: its win rate and SQL
    share against the average with 95% intervals, whether to grow or cut it, and its cost per
    won lead when costs are known."""
    average_win, average_sql = holdout.labels.mean(), holdout.sql.mean()
    keys = list(zip(holdout.source, holdout.campaign, strict=True))
    groups: dict[tuple[str | None, str | None], list[int]] = {}
    for row, (source, campaign) in enumerate(keys):
        groups.setdefault((source, campaign if by_campaign else None), []).append(row)
    rows = []
    for (source, campaign), members in groups.items():
        leads = len(members)
        won = int(holdout.labels[members].sum())
        sql = int(holdout.sql[members].sum())
        win_rate, sql_share = _interval(won, leads), _interval(sql, leads)
        rows.append(
            {
                "source": NO_SOURCE if source is None else source,
                "campaign": NO_SOURCE if campaign is None else campaign,
                "leads": leads,
                "won": won,
                "win_rate": win_rate,
                "sql_share": sql_share,
                "verdict": _verdict(leads, win_rate, average_win),
                "sql_verdict": _verdict(leads, sql_share, average_sql),
                **_cost(costs, [holdout.campaign[m] for m in members], source, won),
            }
        )
    return sorted(rows, key=lambda r: (-r["leads"], r["source"], r["campaign"]))


def outlook(holdout: Holdout, export: CrmExport | None, weeks_seen: float | None) -> Context:
    """SQLs and wins to expect a week: the lead volume of the export's last four weeks (else the
    holdout's own pace) times the holdout's SQL share, and those SQLs' average calibrated
    chance."""
    volume, basis = _recent_volume(export), "the last 4 weeks of the export"
    if volume is None and weeks_seen:
        volume, basis = len(holdout.labels) / weeks_seen, "the pace of the recent leads"
    sql_share = float(holdout.sql.mean())
    chance = float(holdout.probabilities[holdout.sql].mean()) if holdout.sql.any() else 0.0
    return {
        "leads_per_week": volume,
        "basis": basis,
        "sql_share": sql_share,
        "sql_per_week": None if volume is None else volume * sql_share,
        "sql_chance": chance,
        "wins_per_week": None if volume is None else volume * sql_share * chance,
    }


def _recent_volume(export: CrmExport | None) -> float | None:
    """Leads a week created in the export's last four weeks."""
    if export is None or export.observed_until is None or CREATED_AT not in export.leads:
        return None
    created = series_to_micros(export.leads[CREATED_AT], source="leads", column=CREATED_AT)
    start = export.observed_until - RECENT_WEEKS * 7 * MICROS_PER_DAY
    return float(np.sum(created > start)) / RECENT_WEEKS


def _channel(features: pd.DataFrame, name: str | None) -> np.ndarray:
    if name is None:
        return np.full(len(features), None, dtype=object)
    values = features[name].astype(object)
    return values.where(values.notna(), None).to_numpy(dtype=object)


def _monday(created: np.ndarray) -> np.ndarray:
    """The Monday (UTC) of each moment's week, as "YYYY-MM-DD"."""
    days = created // MICROS_PER_DAY
    monday = days - (days + 3) % 7  # 1970-01-01 was a Thursday
    return np.datetime_as_string(monday.astype("datetime64[D]"), unit="D")


def _interval(hits: int, total: int) -> Context:
    """A share with its 95% Wilson interval, which stays inside 0-1 for small counts."""
    share = hits / total
    spread = Z_95 * np.sqrt(share * (1 - share) / total + Z_95**2 / (4 * total**2))
    centre = (share + Z_95**2 / (2 * total)) / (1 + Z_95**2 / total)
    half = spread / (1 + Z_95**2 / total)
    return {"value": share, "low": max(0.0, centre - half), "high": min(1.0, centre + half)}


def _verdict(leads: int, share: Context, average: float) -> str:
    if leads < MIN_LEADS_TO_TELL:
        return NOT_ENOUGH
    if share["low"] > average:
        return "above"
    if share["high"] < average:
        return "below"
    return NOT_ENOUGH


def _cost(
    costs: CostsSection | None, campaigns: list[str | None], source: str | None, won: int
) -> Context:
    """What a group's leads cost in all, each and per win, when every one of them has a cost;
    the cost per win is None when none was won."""
    each = [None if costs is None else costs.cost_per_lead(source, c) for c in campaigns]
    known = [cost for cost in each if cost is not None]
    if len(known) < len(each):
        return {"spent": None, "cost_per_lead": None, "cost_per_won": None}
    spent = float(sum(known))
    return {
        "spent": spent,
        "cost_per_lead": spent / len(known),
        "cost_per_won": spent / won if won else None,
    }


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _median(days: np.ndarray | None, rows: np.ndarray) -> float | None:
    if days is None:
        return None
    chosen = days[rows]
    chosen = chosen[~np.isnan(chosen)]
    return float(np.median(chosen)) if chosen.size else None
