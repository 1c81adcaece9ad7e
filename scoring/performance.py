"""How the answered scores turned out: the funnel, accuracy on the outcomes that came back,
the wins still expected from open leads, and what the control group shows.

It reads two tables, the prediction log (one row per answered score) and the outcomes (one row
per CRM event), and reads no database and no clock. The terms, in plain words:

- Cohort lead: one lead id scored by one model version, taken at its first scoring (the
  earliest `as_of`; if two share it, the one answered first). A lead scored again later counts
  once, with what its first score said, under the week (the Monday, UTC) of that first
  `as_of`. A lead scored by two model versions is a cohort lead of each. Scores logged without
  a lead id cannot be matched with outcomes: they are counted, and left out of the rest.
- Outcome: a lead's latest won or lost event (won, if both come at the same moment); a lead
  with neither is open. A lead reached a stage (accepted by sales, qualified by sales,
  opportunity) if any such event came. Days to close run from the first scoring's `as_of` to
  the outcome.
- Funnel: cohort leads scored; MQL and SQL as the policy called them (an SQL is also an MQL);
  leads sales accepted, leads sales qualified, opportunities; won, lost and open. Rates: MQL
  rate (MQL / scored), MQL to SQL (SQL / MQL), SQL to won (won / closed, among SQL leads), win
  rate (won / closed); and the median days to close of won leads. A rate with nothing to
  divide by is None.
- Realised: over leads with an outcome and a probability, the AUC (the chance that a won lead
  got a higher probability than a lost one), the ECE (leads put in 10 equal-width probability
  bins; the gap between each bin's mean probability and its win rate, weighted by its leads),
  the SQL precision (the share of closed leads the policy called SQL that were won) and the
  win rate. Each comes with a 95% interval: the middle 95% of the value over `bootstrap`
  resamples of the leads (one set of resamples of all leads with an outcome serves every
  breakdown). An interval needs 20 leads (the AUC also 2 won and 2 lost); with fewer, the
  value comes alone. The ECE of a resample carries extra noise, so the ECE interval sits a
  little above the ECE itself and may not contain it.
- Expected wins: the sum of the probabilities of all cohort leads (what the model said when
  it scored them), of the open ones alone, and projected wins: won so far plus the open ones'
  expected wins. This assumes that a calibrated probability is the chance that the lead is won
  within the horizon of the label the model was trained on, that the open leads' outcomes will
  come as the calibration says, and that no outcome is missing for a reason tied to the
  outcome itself (lost leads that nobody marks as lost, say).
- Control: a random share of leads was answered a fixed recommendation instead of the policy's,
  so the policy did not change how they were worked. Among the leads the policy called SQL,
  the effect is the win rate of those worked as the policy said minus that of the control
  ones. The AUC on control leads alone is free of the policy's own influence on who wins.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from features import MICROS_PER_DAY, DataContractError, series_to_micros

PREDICTION_COLUMNS = (
    "lead_id",
    "model_name",
    "model_version",
    "probability",
    "policy_recommendation",
    "control",
    "source",
    "campaign",
    "as_of",
    "scored_at",
)
OUTCOME_COLUMNS = ("lead_id", "event", "occurred_at")
STAGE_EVENTS = {"sales_accepted": "sal", "sales_qualified": "sql", "opportunities": "opportunity"}
CALIBRATION_BINS = 10
MIN_LEADS_FOR_INTERVAL = 20
INTERVAL_PERCENTILES = (2.5, 97.5)
# Resample weights are drawn this many cells (rounds x leads) at a time: flat memory however
# many leads, yet batches large enough for numpy to do the work.
RESAMPLE_CELLS = 1 << 21
TEXT_KEYS = ("model_name", "model_version", "source", "campaign")
GROUPINGS: dict[str, tuple[str, ...]] = {
    "overall": (),
    "by_model_version": ("model_name", "model_version"),
    "by_week": ("week", "model_name", "model_version"),
    "by_source": ("source",),
    "by_campaign": ("source", "campaign"),
}
DEFINITIONS = {
    "funnel": (
        "Each lead counts once per model version, as its first score described it. MQL and SQL "
        "are what the policy called the lead; sales accepted, sales qualified, opportunities, "
        "won and lost come from the CRM's outcomes; a lead with no won or lost yet is open."
    ),
    "realised": (
        "Measured on leads that were won or lost and had a probability: AUC, calibration error "
        "(ECE, 10 probability bins), the share of closed SQL leads that were won, and the win "
        "rate, each with a 95% bootstrap interval once there are 20 such leads."
    ),
    "expected_wins": (
        "The sum of the probabilities the model gave: over all leads, and over open leads (the "
        "wins still to come). Projected wins add the wins so far. This assumes the probabilities "
        "are calibrated to the training label's horizon and outcomes are not missing for a "
        "reason tied to the outcome."
    ),
    "control": (
        "Control leads got a fixed answer instead of the policy's. Among leads the policy "
        "called SQL, the effect is the win rate of those handled as SQL minus that of control "
        "leads. AUC on control leads is free of the policy's influence on who wins."
    ),
}


def performance_report(
    predictions: pd.DataFrame,
    outcomes: pd.DataFrame,
    *,
    now: datetime,
    bootstrap: int = 200,
    seed: int = 0,
) -> dict[str, Any]:
    """The performance report's data, as plain JSON values; `bootstrap` resamples per interval
    (0 for none), drawn from `seed` so the same inputs give the same report."""
    _require(predictions, PREDICTION_COLUMNS, "predictions")
    _require(outcomes, OUTCOME_COLUMNS, "outcomes")
    leads, leads_without_id = _cohort_leads(predictions, outcomes)
    groupings = {name: _Grouping.of(leads, keys) for name, keys in GROUPINGS.items()}
    resampling, control_draws = np.random.default_rng(seed).spawn(2)
    codings = {name: (grouping.codes, len(grouping.values)) for name, grouping in groupings.items()}
    codings["control"] = (np.where(leads.control, 0, -1), 1)
    realised = _realised(leads, codings, rounds=bootstrap, rng=resampling)
    report: dict[str, Any] = {
        "generated_at": now.isoformat(),
        "leads_without_id": leads_without_id,
        "definitions": dict(DEFINITIONS),
    }
    for name, grouping in groupings.items():
        blocks = _blocks(leads, grouping, realised[name])
        rows = [
            {**dict(zip(grouping.keys, key, strict=True)), **block}
            for key, block in zip(grouping.values, blocks, strict=True)
        ]
        report[name] = sorted(rows, key=_ORDER[name]) if grouping.keys else rows[0]
    report["control"] = _control(leads, realised["control"][0], rounds=bootstrap, rng=control_draws)
    return report


def _require(frame: pd.DataFrame, columns: Sequence[str], table: str) -> None:
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        present = ", ".join(map(str, frame.columns)) or "none"
        raise DataContractError(
            f"expected the columns {', '.join(missing)}, got {present}; pass the {table} "
            "table with every column the server logs",
            source=table,
        )


@dataclass(frozen=True)
class _Leads:
    """The cohort leads as arrays, one row each; the keys of the breakdowns (model name and
    version, source, campaign, week) as codes into `labels`, their text (None when missing)."""

    keys: dict[str, np.ndarray]
    labels: dict[str, np.ndarray]
    probability: np.ndarray
    mql: np.ndarray
    sql: np.ndarray
    control: np.ndarray
    stages: dict[str, np.ndarray]
    won: np.ndarray
    lost: np.ndarray
    days_to_close: np.ndarray


def _text(values: pd.Series) -> pd.Series:
    """A column as text with missing cells kept missing (pandas 2 writes them as "None")."""
    if isinstance(values.dtype, pd.StringDtype):
        return values
    return values.astype(str).where(values.notna())


def _cohort_leads(predictions: pd.DataFrame, outcomes: pd.DataFrame) -> tuple[_Leads, int]:
    """Each (lead id, model name, model version) at its first scoring, with its outcome; and
    how many logged scores had no lead id."""
    ids = _text(predictions["lead_id"])
    with_id = (ids.notna() & ids.ne("")).to_numpy()
    # One factorize of both tables' ids matches outcomes to leads.
    lead_codes, lead_ids = pd.factorize(
        pd.concat([ids, _text(outcomes["lead_id"])], ignore_index=True)
    )
    rows = predictions.loc[with_id, list(PREDICTION_COLUMNS)]
    lead = lead_codes[: len(ids)][with_id]
    model = [
        pd.factorize(_text(rows[key]), use_na_sentinel=False)[0]
        for key in ("model_name", "model_version")
    ]
    lead_model = _combined([lead, *model])
    as_of, scored_at = (
        series_to_micros(predictions[column], source="predictions", column=column)[with_id]
        for column in ("as_of", "scored_at")
    )
    order = np.lexsort((scored_at, as_of, lead_model))
    first = order[np.flatnonzero(np.diff(lead_model[order], prepend=-1))]
    chosen = rows.iloc[first]
    keys, labels = {}, {}
    for key in TEXT_KEYS:
        keys[key], uniques = pd.factorize(_text(chosen[key]), use_na_sentinel=False)
        labels[key] = np.array([None if pd.isna(text) else str(text) for text in uniques], object)
    days = as_of[first] // MICROS_PER_DAY
    # 1970-01-01 was a Thursday, three days after a Monday.
    keys["week"], mondays = pd.factorize(days - (days + 3) % 7)
    labels["week"] = np.array([str(np.datetime64(int(day), "D")) for day in mondays], object)
    reached, outcome, closed_at = _outcomes_by_lead(outcomes, lead_codes[len(ids) :], len(lead_ids))
    lead = lead[first]
    won = outcome[lead] == 1
    days_to_close = np.full(len(first), np.nan)
    days_to_close[won] = (closed_at[lead[won]] - as_of[first][won]) / MICROS_PER_DAY
    recommendation = _text(chosen["policy_recommendation"])
    leads = _Leads(
        keys=keys,
        labels=labels,
        probability=pd.to_numeric(chosen["probability"], errors="coerce").astype(float).to_numpy(),
        mql=(recommendation.eq("MQL") | recommendation.eq("SQL")).to_numpy(),
        sql=recommendation.eq("SQL").to_numpy(),
        control=chosen["control"].eq(True).to_numpy(),
        stages={column: stage[lead] for column, stage in reached.items()},
        won=won,
        lost=outcome[lead] == 0,
        days_to_close=days_to_close,
    )
    return leads, int((~with_id).sum())


def _combined(codes: Sequence[np.ndarray]) -> np.ndarray:
    """One code for each distinct combination of several columns of codes (each from 0)."""
    combined = np.zeros(len(codes[0]), dtype=np.int64)
    for column in codes:
        if len(column):
            combined = pd.factorize(combined * (int(column.max()) + 1) + column)[0]
    return combined


def _outcomes_by_lead(
    outcomes: pd.DataFrame, lead: np.ndarray, lead_ids: int
) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """Per lead id (`lead` codes each outcome's, -1 when it has none): the stages it reached,
    its outcome (1 won, 0 lost, -1 open) and when it closed (epoch microseconds)."""
    events = _text(outcomes["event"])
    reached = {}
    for column, event in STAGE_EVENTS.items():
        reached[column] = np.zeros(lead_ids, dtype=bool)
        reached[column][lead[events.eq(event).to_numpy() & (lead >= 0)]] = True
    is_won = events.eq("won").to_numpy()
    closing = (is_won | events.eq("lost").to_numpy()) & (lead >= 0)
    lead, is_won = lead[closing], is_won[closing]
    at = series_to_micros(outcomes["occurred_at"], source="outcomes", column="occurred_at")[closing]
    # Sorted by lead, then time; at the same moment won sorts after lost: each lead's last row
    # is its outcome.
    order = np.lexsort((is_won, at, lead))
    latest = order[np.flatnonzero(np.diff(lead[order], append=-1))]
    outcome = np.full(lead_ids, -1, dtype=np.int8)
    outcome[lead[latest]] = is_won[latest]
    closed_at = np.zeros(lead_ids, dtype=np.int64)
    closed_at[lead[latest]] = at[latest]
    return reached, outcome, closed_at


@dataclass(frozen=True)
class _Grouping:
    """Which group of a breakdown each cohort lead is in, and each group's key values."""

    keys: tuple[str, ...]
    codes: np.ndarray
    values: list[tuple[str | None, ...]]

    @classmethod
    def of(cls, leads: _Leads, keys: tuple[str, ...]) -> _Grouping:
        size = len(leads.won)
        if not keys:
            return cls(keys, np.zeros(size, dtype=np.int64), [()])
        codes = _combined([leads.keys[key] for key in keys]) if size else np.zeros(0, int)
        first_rows = np.unique(codes, return_index=True)[1]
        values = [
            tuple(leads.labels[key][leads.keys[key][row]] for key in keys) for row in first_rows
        ]
        return cls(keys, codes, values)


def _blocks(
    leads: _Leads, grouping: _Grouping, realised: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Each group's funnel and expected wins, with its realised block."""
    codes, groups = grouping.codes, len(grouping.values)

    def total(values: np.ndarray) -> np.ndarray:
        return np.bincount(codes, weights=values.astype(float), minlength=groups)

    won, lost, sql = leads.won, leads.lost, leads.sql
    counted = {
        "scored": total(np.ones(len(won))),
        "mql": total(leads.mql),
        "sql": total(sql),
        **{column: total(reached) for column, reached in leads.stages.items()},
        "won": total(won),
        "lost": total(lost),
    }
    sql_won, sql_closed = total(sql & won), total(sql & (won | lost))
    chance = np.nan_to_num(leads.probability)
    expected, expected_open = total(chance), total(chance * ~(won | lost))
    median_days = (
        pd.Series(leads.days_to_close[won])
        .groupby(codes[won])
        .median()
        .reindex(range(groups))
        .to_numpy()
    )
    blocks = []
    for group in range(groups):
        count = {name: int(values[group]) for name, values in counted.items()}
        closed = count["won"] + count["lost"]
        funnel = {
            **count,
            "open": count["scored"] - closed,
            "mql_rate": _ratio(count["mql"], count["scored"]),
            "mql_to_sql": _ratio(count["sql"], count["mql"]),
            "sql_to_won": _ratio(sql_won[group], sql_closed[group]),
            "win_rate": _ratio(count["won"], closed),
            "median_days_to_close": _number(median_days[group]),
        }
        blocks.append(
            {
                "funnel": funnel,
                "realised": realised[group],
                "expected_wins": float(expected[group]),
                "expected_wins_open": float(expected_open[group]),
                "projected_wins": count["won"] + float(expected_open[group]),
            }
        )
    return blocks


def _ratio(part: float, whole: float) -> float | None:
    return float(part / whole) if whole else None


def _number(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


@dataclass(frozen=True)
class _Runs:
    """Columns that share a key, side by side (keys ascending), summed with one reduceat."""

    starts: np.ndarray
    keys: np.ndarray
    size: int

    @classmethod
    def of(cls, keys: np.ndarray, size: int) -> _Runs:
        starts = np.flatnonzero(np.diff(keys, prepend=-1))
        return cls(starts, keys[starts], size)

    def sum(self, values: np.ndarray) -> np.ndarray:
        """(rounds, size): each key's sum of its columns; 0 for a key with none."""
        sums = np.zeros((len(values), self.size), dtype=values.dtype)
        if len(self.starts):
            sums[:, self.keys] = np.add.reduceat(values, self.starts, axis=1)
        return sums


@dataclass(frozen=True)
class _Layout:
    """A breakdown's leads with an outcome and a probability, sorted by group then probability,
    with the positions the metrics of every group read at once."""

    order: np.ndarray | None  # from the shared order (by probability); None when the same
    lost: np.ndarray
    probability: np.ndarray
    won_rows: np.ndarray
    sql_rows: np.ndarray
    won_sql: np.ndarray  # among won_rows
    # For each won lead, prefix positions: its group's start, its tie run's start and end.
    group_start: np.ndarray
    tie_start: np.ndarray
    tie_end: np.ndarray
    has_ties: bool
    by_group: _Runs
    won_by_group: _Runs
    sql_by_group: _Runs
    won_sql_by_group: _Runs
    by_bin: _Runs
    won_by_bin: _Runs
    bin_by_group: _Runs

    @classmethod
    def of(
        cls,
        codes: np.ndarray,
        groups: int,
        probability: np.ndarray,
        won: np.ndarray,
        sql: np.ndarray,
    ) -> _Layout:
        """From leads sorted by probability; codes of -1 leave a lead out."""
        included = np.flatnonzero(codes >= 0)
        order = included[np.argsort(codes[included], kind="stable")]
        group, chance = codes[order], probability[order]
        new_group = np.diff(group, prepend=-1) != 0
        new_tie = new_group | (np.diff(chance, prepend=np.nan) != 0)
        tie_starts = np.flatnonzero(new_tie)
        tie_of = np.cumsum(new_tie) - 1
        group_of = np.cumsum(new_group) - 1
        won_rows = np.flatnonzero(won[order])
        sql_rows = np.flatnonzero(sql[order])
        won_sql = np.flatnonzero(sql[order][won_rows])
        tie_start = tie_starts[tie_of[won_rows]]
        tie_end = np.r_[tie_starts[1:], len(order)][tie_of[won_rows]]
        bins = np.clip((chance * CALIBRATION_BINS).astype(int), 0, CALIBRATION_BINS - 1)
        new_bin = new_group | (np.diff(bins, prepend=-1) != 0)
        bin_of = np.cumsum(new_bin) - 1
        segments = int(new_bin.sum())
        return cls(
            order=None if np.array_equal(order, np.arange(len(codes))) else order,
            lost=(~won[order]).astype(float),
            probability=chance,
            won_rows=won_rows,
            sql_rows=sql_rows,
            won_sql=won_sql,
            group_start=np.flatnonzero(new_group)[group_of[won_rows]],
            tie_start=tie_start,
            tie_end=tie_end,
            has_ties=bool(np.any(tie_end - tie_start > 1)),
            by_group=_Runs.of(group, groups),
            won_by_group=_Runs.of(group[won_rows], groups),
            sql_by_group=_Runs.of(group[sql_rows], groups),
            won_sql_by_group=_Runs.of(group[won_rows][won_sql], groups),
            by_bin=_Runs.of(bin_of, segments),
            won_by_bin=_Runs.of(bin_of[won_rows], segments),
            bin_by_group=_Runs.of(group[new_bin], groups),
        )

    def sums(self, weights: np.ndarray) -> dict[str, np.ndarray]:
        """Per group (rounds, groups), the weighted counts the metrics are ratios of; each row
        of `weights` says how often each lead was drawn."""
        drawn = weights if self.order is None else _columns(weights, self.order)
        lost_before = np.zeros((len(drawn), drawn.shape[1] + 1), dtype=drawn.dtype)
        np.cumsum(drawn * self.lost.astype(drawn.dtype), axis=1, out=lost_before[:, 1:])
        # A won lead beats the lost leads of its group with a lower probability, and half of
        # those it ties with.
        beaten = _columns(lost_before, self.tie_start) - _columns(lost_before, self.group_start)
        if self.has_ties:
            tied = _columns(lost_before, self.tie_end) - _columns(lost_before, self.tie_start)
            beaten += 0.5 * tied
        won = _columns(drawn, self.won_rows)
        forecast = self.by_bin.sum(drawn * self.probability.astype(drawn.dtype))
        return {
            "leads": self.by_group.sum(drawn),
            "won": self.won_by_group.sum(won),
            "sql": self.sql_by_group.sum(_columns(drawn, self.sql_rows)),
            "sql_won": self.won_sql_by_group.sum(_columns(won, self.won_sql)),
            "pairs": self.won_by_group.sum(won * beaten),
            "gap": self.bin_by_group.sum(np.abs(forecast - self.won_by_bin.sum(won))),
        }


def _columns(values: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """`values[:, positions]`, which np.take does faster."""
    return np.take(values, positions, axis=1)


def _metrics(sums: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The realised metrics from the weighted counts; NaN where there is nothing to divide by."""
    leads, won = sums["leads"], sums["won"]
    with np.errstate(divide="ignore", invalid="ignore"):
        return {
            "auc": sums["pairs"] / (won * (leads - won)),
            "ece": sums["gap"] / leads,
            "sql_precision": sums["sql_won"] / sums["sql"],
            "win_rate": won / leads,
        }


def _realised(
    leads: _Leads,
    codings: dict[str, tuple[np.ndarray, int]],
    *,
    rounds: int,
    rng: np.random.Generator,
) -> dict[str, list[dict[str, Any]]]:
    """Each breakdown's realised block per group, from one set of resamples of the leads with
    an outcome and a probability."""
    probability, won, sql = leads.probability, leads.won, leads.sql
    known = np.flatnonzero((won | leads.lost) & np.isfinite(probability))
    known = known[np.argsort(probability[known], kind="stable")]
    layouts = {
        name: _Layout.of(codes[known], groups, probability[known], won[known], sql[known])
        for name, (codes, groups) in codings.items()
    }
    counts = {name: layout.sums(np.ones((1, len(known)))) for name, layout in layouts.items()}
    resampled: dict[str, list[dict[str, np.ndarray]]] = {name: [] for name in layouts}
    for weights in _resamples(len(known), rounds, rng):
        for name, layout in layouts.items():
            resampled[name].append(_metrics(layout.sums(weights)))
    return {name: _summaries(counts[name], resampled[name]) for name in layouts}


def _resamples(leads: int, rounds: int, rng: np.random.Generator) -> Iterator[np.ndarray]:
    """Batches of (rounds, leads): how often each lead was drawn, drawing `leads` with
    replacement."""
    if not leads:
        return
    per_batch = max(1, RESAMPLE_CELLS // leads)
    for start in range(0, rounds, per_batch):
        picks = rng.integers(0, leads, size=(min(per_batch, rounds - start), leads))
        weights = np.empty(picks.shape, dtype=np.float32)
        # One bincount per round: its counts stay in cache, twice as fast as one for the batch.
        for row, drawn in enumerate(picks):
            weights[row] = np.bincount(drawn, minlength=leads)
        yield weights


def _summaries(
    counts: dict[str, np.ndarray], resampled: list[dict[str, np.ndarray]]
) -> list[dict[str, Any]]:
    """Per group: how many leads, and each metric with its interval where there are enough."""
    known, won, sql = (counts[name][0] for name in ("leads", "won", "sql"))
    enough = {
        "auc": (known >= MIN_LEADS_FOR_INTERVAL) & (np.minimum(won, known - won) >= 2),
        "ece": known >= MIN_LEADS_FOR_INTERVAL,
        "sql_precision": sql >= MIN_LEADS_FOR_INTERVAL,
        "win_rate": known >= MIN_LEADS_FOR_INTERVAL,
    }
    values = {metric: value[0] for metric, value in _metrics(counts).items()}
    bounds: dict[str, dict[int, tuple[float, float]]] = {metric: {} for metric in values}
    for metric, wanted in enough.items():
        groups = np.flatnonzero(wanted)
        if resampled and len(groups):
            spread = np.concatenate([_columns(batch[metric], groups) for batch in resampled])
            bounds[metric] = dict(zip(groups.tolist(), _percentiles(spread), strict=True))
    return [
        {
            "known": int(known[group]),
            **{
                metric: _interval(values[metric][group], bounds[metric].get(group))
                for metric in values
            },
        }
        for group in range(len(known))
    ]


def _percentiles(spread: np.ndarray) -> list[tuple[float, float]]:
    """Per column of (rounds, columns), the bounds of the middle 95% of its finite values by
    numpy's linear rule (NaN where there are none); np.nanpercentile loops over columns."""
    ordered = np.sort(spread, axis=0)
    finite = np.isfinite(ordered).sum(axis=0)
    columns = np.arange(ordered.shape[1])
    bounds = []
    for percent in INTERVAL_PERCENTILES:
        position = percent / 100 * np.maximum(finite - 1, 0)
        below = np.floor(position).astype(int)
        above = np.minimum(below + 1, np.maximum(finite - 1, 0))
        low, high = ordered[below, columns], ordered[above, columns]
        bound = low + (position - below) * (high - low)
        bounds.append(np.where(finite > 0, bound, np.nan))
    return list(zip(*bounds, strict=True))


def _interval(value: float, bounds: tuple[float, float] | None) -> dict[str, float | None] | None:
    """The value with the middle 95% of its resamples, or None when it has no value."""
    if not np.isfinite(value):
        return None
    low, high = bounds if bounds is not None else (np.nan, np.nan)
    return {"value": float(value), "low": _number(low), "high": _number(high)}


def _control(
    leads: _Leads, realised: dict[str, Any], *, rounds: int, rng: np.random.Generator
) -> dict[str, Any]:
    """Policy-SQL leads worked as SQL against those in the control group, and the AUC on
    control leads alone."""
    control, sql, won, lost = leads.control, leads.sql, leads.won, leads.lost
    block: dict[str, Any] = {"leads": int(control.sum())}
    rates, spreads = {}, {}
    for arm, members in (("control_sql", control & sql), ("treated_sql", ~control & sql)):
        closed, wins = int((members & (won | lost)).sum()), int((members & won).sum())
        rate = wins / closed if closed else np.nan
        # A resample's wins among `closed` leads are binomial, so they are drawn directly.
        spreads[arm] = (
            rng.binomial(closed, rate, size=rounds) / closed
            if rounds > 0 and closed >= MIN_LEADS_FOR_INTERVAL
            else None
        )
        rates[arm] = _interval(rate, _spread_bounds(spreads[arm]))
        block |= {f"{arm}_leads": int(members.sum()), f"{arm}_closed": closed, f"{arm}_won": wins}
    effect = None
    if rates["treated_sql"] and rates["control_sql"]:
        drawn = (spreads["treated_sql"], spreads["control_sql"])
        spread = drawn[0] - drawn[1] if drawn[0] is not None and drawn[1] is not None else None
        difference = rates["treated_sql"]["value"] - rates["control_sql"]["value"]
        effect = _interval(difference, _spread_bounds(spread))
    return {
        **block,
        "control_sql_win_rate": rates["control_sql"],
        "treated_sql_win_rate": rates["treated_sql"],
        "effect": effect,
        "control_known": realised["known"],
        "control_auc": realised["auc"],
    }


def _spread_bounds(spread: np.ndarray | None) -> tuple[float, float] | None:
    """The middle 95% of one statistic's resamples, if it was resampled."""
    return None if spread is None else _percentiles(spread[:, None])[0]


def _natural(text: str | None) -> tuple[tuple[int, str], ...]:
    """Sort key reading runs of digits as numbers, so version 10 follows version 9."""
    parts = re.findall(r"[0-9]+|[^0-9]+", text or "")
    return tuple((int(part), "") if part.isdecimal() else (-1, part) for part in parts)


def _text_last(text: str | None) -> tuple[bool, str]:
    """Sort key putting missing text after any text."""
    return (text is None, text or "")


_ORDER: dict[str, Callable[[dict[str, Any]], Any]] = {
    "by_model_version": lambda row: (row["model_name"] or "", _natural(row["model_version"])),
    "by_week": lambda row: (row["week"], row["model_name"] or "", _natural(row["model_version"])),
    "by_source": lambda row: (-row["funnel"]["scored"], _text_last(row["source"])),
    "by_campaign": lambda row: (
        -row["funnel"]["scored"],
        _text_last(row["source"]),
        _text_last(row["campaign"]),
    ),
}
