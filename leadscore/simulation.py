"""The loop, simulated on the demo: train on the early months, then week by week score the new
leads through the API, post their outcomes as they close, and read `/v1/performance`.

The demo's truth file holds each lead's real chance of winning, so what the service measures
can be held to what is true: the win rate and AUC of each week of scoring, the expected wins
against the wins that came, and the drift alert against the generator's documented shift.

Outcomes are posted as a CRM would: a won or lost lead when it closes, and a lead still open
when its horizon (90 days after its snapshot, training's label) ends is posted as lost then,
which is what training counted it as. Wins in the demo always close within the horizon.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from leadscore import demo_data

TRAIN_DAYS = 300  # the model learns from leads created in the first 300 days
HORIZON = timedelta(days=90)
SNAPSHOT = timedelta(days=demo_data.SNAPSHOT_DAYS)
BATCH = 1000
WEEK = timedelta(weeks=1)
LEAD_FIELDS = ("source", "campaign", "country", "industry", "company_size", "job_title",
               "email_domain", "company_domain")  # fmt: skip


@dataclass(frozen=True)
class WeekCheck:
    """One week of scoring (Monday, UTC): what the service measured and what is true."""

    week: str
    leads: int
    matured: bool  # every lead's horizon ended before the export did
    realised_auc: dict[str, Any] | None
    truth_auc: float | None
    realised_win_rate: dict[str, Any] | None
    truth_win_rate: float
    expected_wins: float
    realised_wins: int

    @property
    def auc_within(self) -> bool:
        return _within(self.realised_auc, self.truth_auc)

    @property
    def win_rate_within(self) -> bool:
        return _within(self.realised_win_rate, self.truth_win_rate)


@dataclass
class Simulation:
    weeks: list[WeekCheck]
    alerts: list[datetime]  # when each drift alert fired: the newest lead the check saw
    performance: dict[str, Any]
    shift_at: datetime | None
    scored: int
    outcomes: int
    seconds: float
    checks: list[dict[str, Any]] = field(default_factory=list)

    @property
    def matured(self) -> list[WeekCheck]:
        return [week for week in self.weeks if week.matured]

    @property
    def alert_weeks(self) -> list[str]:
        return [monday(moment) for moment in self.alerts]


def _within(interval: dict[str, Any] | None, value: float | None) -> bool:
    if interval is None or value is None or interval.get("low") is None:
        return False
    return interval["low"] <= value <= interval["high"]


def monday(moment: datetime | pd.Timestamp) -> str:
    day = pd.Timestamp(moment).tz_convert(UTC).normalize()
    return (day - pd.Timedelta(days=day.weekday())).strftime("%Y-%m-%d")


def early_months(export: demo_data.DemoExport, days: int = TRAIN_DAYS) -> demo_data.DemoExport:
    """The export as it stood `days` after the demo's start: only what had happened by then."""
    cut = pd.Timestamp(demo_data.START + timedelta(days=days))
    leads = export.leads[export.leads["created_at"] < cut]
    activities = export.activities[export.activities["occurred_at"] < cut]
    outcomes = export.outcomes[export.outcomes["closed_at"] < cut]
    truth = export.truth[export.truth["lead_id"].isin(leads["lead_id"])]
    return dataclasses.replace(
        export,
        leads=leads,
        activities=activities,
        outcomes=outcomes,
        truth=truth,
        exported_at=cut.to_pydatetime(),
    )


def train_early(export: demo_data.DemoExport, workdir: Path, days: int = TRAIN_DAYS) -> Any:
    """A model trained on the early months only, as `leadscore train` fits it (no registry)."""
    from leadscore.cli import DEMO_POLICY
    from serving import LoadedModel
    from training import LeadScoreTrainer, build_dataset, load_export, load_policy

    folder = workdir / "early"
    demo_data.write(early_months(export, days), folder)
    dataset = build_dataset(load_export(folder))
    trainer = LeadScoreTrainer(policy=load_policy(DEMO_POLICY)).fit(dataset)
    return LoadedModel(trainer.scorer_, "lead-scoring", "1", "models:/lead-scoring/1")


def lead_bodies(export: demo_data.DemoExport, since: datetime) -> pd.DataFrame:
    """Each lead created from `since` on, as the API takes it at its snapshot (7 days after it
    was created, with the activities it had by then), in order of snapshot."""
    leads = export.leads[export.leads["created_at"] >= pd.Timestamp(since)].copy()
    leads["as_of"] = leads["created_at"] + SNAPSHOT
    activities = export.activities[export.activities["lead_id"].isin(leads["lead_id"])]
    snapshot = activities["lead_id"].map(leads.set_index("lead_id")["as_of"])
    activities = activities[activities["occurred_at"] <= snapshot]
    by_lead: dict[str, list[dict[str, str]]] = {}
    for lead_id, kind, at in zip(
        activities["lead_id"], activities["activity_type"], _iso(activities["occurred_at"]),
        strict=True,
    ):  # fmt: skip
        by_lead.setdefault(lead_id, []).append({"activity_type": kind, "occurred_at": at})
    bodies = []
    columns = [c for c in LEAD_FIELDS if c in leads.columns]
    for record, created, as_of in zip(
        leads[["lead_id", *columns]].to_dict("records"),
        _iso(leads["created_at"]), _iso(leads["as_of"]), strict=True,
    ):  # fmt: skip
        body = {k: v for k, v in record.items() if v is not None and v == v}
        if "company_size" in body:
            body["company_size"] = float(body["company_size"])
        body.update(created_at=created, as_of=as_of, activities=by_lead.get(record["lead_id"], []))
        bodies.append(body)
    return pd.DataFrame({"lead_id": leads["lead_id"].to_numpy(), "as_of": leads["as_of"].to_numpy(),
                         "body": bodies})  # fmt: skip


def outcome_events(export: demo_data.DemoExport, scored: pd.DataFrame) -> pd.DataFrame:
    """When each scored lead's outcome reaches the CRM: won or lost when it closed, or lost when
    its horizon ended open; only what happened before the export was taken."""
    closed = export.outcomes.set_index("lead_id")
    horizon_end = scored.set_index("lead_id")["as_of"] + HORIZON
    status = closed["status"].reindex(horizon_end.index)
    closed_at = closed["closed_at"].reindex(horizon_end.index)
    decided_in_time = closed_at.notna() & (closed_at <= horizon_end)
    events = pd.DataFrame(
        {
            "lead_id": horizon_end.index,
            "status": np.where(decided_in_time, status, "lost"),
            "at": np.where(decided_in_time, closed_at, horizon_end),
        }
    )
    events["at"] = pd.to_datetime(events["at"], utc=True)
    return events[events["at"] <= pd.Timestamp(export.exported_at)].sort_values("at")


def serve_and_simulate(
    export: demo_data.DemoExport, model: Any, folder: Path, *, since: datetime | None = None
) -> Simulation:
    """`simulate` against the app serving `model` in this process, its prediction log in
    `folder`, drift checked once a simulated week."""
    from fastapi.testclient import TestClient

    from scoring import Settings
    from serving import create_app

    settings = Settings(
        prediction_db=f"sqlite:///{folder / 'log.db'}",
        prediction_spool=folder / "spool.db",
        secret_key="simulation-secret",
        model_poll_seconds=0,
        drift_check_seconds=3600,  # the simulation checks once a simulated week
        default_reasons=0,
    )
    app = create_app(settings, loaded=model)
    with TestClient(app) as client:
        return simulate(
            client,
            export,
            since=since or demo_data.START + timedelta(days=TRAIN_DAYS),
            check_drift=app.state.drift.check_now,
            drained=lambda: app.state.prediction_log.health()["spool_depth"] == 0,
        )


def simulate(
    client: Any,
    export: demo_data.DemoExport,
    *,
    since: datetime,
    check_drift: Callable[[], dict[str, Any]],
    drained: Callable[[], bool],
    headers: dict[str, str] | None = None,
    on_week: Callable[[str], None] | None = None,
) -> Simulation:
    """Run the weeks from `since` to the end of the export through `client` (an HTTP client of
    the app: httpx or FastAPI's TestClient). `check_drift` runs the app's drift check once and
    returns it; `drained` says whether the prediction log has shipped everything."""
    started = time.perf_counter()
    headers = headers or {}
    leads = lead_bodies(export, since)
    leads = leads[leads["as_of"] <= pd.Timestamp(export.exported_at)]
    events = outcome_events(export, leads)
    probabilities: dict[str, float] = {}
    alerts: list[datetime] = []
    checks: list[dict[str, Any]] = []
    alerting = False
    week_start = pd.Timestamp(monday(since), tz="UTC")  # weeks as the report counts them
    end = pd.Timestamp(export.exported_at)
    posted = 0
    while week_start <= end:
        week_end = week_start + WEEK
        due = leads[(leads["as_of"] >= week_start) & (leads["as_of"] < week_end)]
        for chunk in _chunks(due["body"].tolist()):
            answer = client.post("/v1/score/batch", json={"leads": chunk}, headers=headers)
            answer.raise_for_status()
            for entry in answer.json()["scores"]:
                probabilities[entry["lead_id"]] = entry["probability"]
        if len(due):
            check = check_drift()
            checks.append(check)
            if check.get("alert") and not alerting:
                alerts.append(datetime.fromisoformat(check["window_last_as_of"]))
            alerting = bool(check.get("alert"))
        happened = events[(events["at"] >= week_start) & (events["at"] < week_end)]
        for chunk in _chunks(_outcomes(happened)):
            client.post(
                "/v1/outcomes", json={"outcomes": chunk}, headers=headers
            ).raise_for_status()
            posted += len(chunk)
        if on_week is not None:
            on_week(week_start.strftime("%Y-%m-%d"))
        week_start = week_end
    deadline = time.monotonic() + 60
    while not drained() and time.monotonic() < deadline:
        time.sleep(0.05)
    answer = client.get("/v1/performance?weeks=520", headers=headers)
    answer.raise_for_status()
    performance = answer.json()
    return Simulation(
        weeks=_weeks(performance, export, leads, probabilities),
        alerts=alerts,
        performance=performance,
        shift_at=_shift_at(export),
        scored=len(probabilities),
        outcomes=posted,
        seconds=time.perf_counter() - started,
        checks=checks,
    )


def _weeks(
    performance: dict[str, Any],
    export: demo_data.DemoExport,
    leads: pd.DataFrame,
    probabilities: dict[str, float],
) -> list[WeekCheck]:
    truth = export.truth.set_index("lead_id")["true_probability"]
    frame = leads[["lead_id", "as_of"]].copy()
    frame["week"] = [monday(moment) for moment in frame["as_of"]]
    frame["true_p"] = frame["lead_id"].map(truth)
    frame["p"] = frame["lead_id"].map(probabilities)
    matured_until = pd.Timestamp(export.exported_at) - HORIZON
    checks = []
    for row in performance["by_week"]:
        these = frame[frame["week"] == row["week"]]
        realised = row["realised"]
        checks.append(
            WeekCheck(
                week=row["week"],
                leads=row["funnel"]["scored"],
                matured=bool(len(these)) and bool((these["as_of"] <= matured_until).all()),
                realised_auc=realised["auc"],
                truth_auc=expected_auc(these["p"].to_numpy(), these["true_p"].to_numpy()),
                realised_win_rate=realised["win_rate"],
                truth_win_rate=float(these["true_p"].mean()),
                expected_wins=row["expected_wins"],
                realised_wins=row["funnel"]["won"],
            )
        )
    return checks


def expected_auc(scores: np.ndarray, true_probability: np.ndarray) -> float | None:
    """The AUC the scores should show given each lead's real chance of winning: the chance that
    a won lead outscores a lost one, over every pair weighted by p_i (1 - p_j)."""
    if len(scores) < 2:
        return None
    order = np.argsort(scores, kind="stable")
    s, p = scores[order], true_probability[order]
    lost_below = np.cumsum(1 - p) - (1 - p)  # weight of lost leads scored lower (ties aside)
    # Ties count half: subtract half of the tied lost weight above each lead's position.
    tied = pd.Series(1 - p).groupby(s).transform("sum").to_numpy()
    lost_tied_before = pd.Series(1 - p).groupby(s).cumsum().to_numpy() - (1 - p)
    below = lost_below - lost_tied_before + 0.5 * (tied - (1 - p))
    numerator = float(np.sum(p * below))
    denominator = float(np.sum(p) * np.sum(1 - p) - np.sum(p * (1 - p)))
    return numerator / denominator if denominator > 0 else None


def _outcomes(happened: pd.DataFrame) -> list[dict[str, str]]:
    return [
        {"lead_id": lead_id, "status": status, "closed_at": at}
        for lead_id, status, at in zip(
            happened["lead_id"], happened["status"], _iso(happened["at"]), strict=True
        )
    ]


def _chunks(items: list[Any]) -> Iterator[list[Any]]:
    for start in range(0, len(items), BATCH):
        yield items[start : start + BATCH]


def _iso(values: pd.Series) -> list[str]:
    return pd.to_datetime(values, utc=True).dt.strftime("%Y-%m-%dT%H:%M:%SZ").tolist()


def _shift_at(export: demo_data.DemoExport) -> datetime | None:
    drift = export.truth_columns.get("drift")
    shift = drift.get("shift_at") if isinstance(drift, dict) else None
    return None if shift is None else datetime.fromisoformat(str(shift))
