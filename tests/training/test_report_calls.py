"""The leads to call: only open leads still inside the horizon, SQL first then MQL by score,
exactly the documented columns, and no personal data anywhere in the file."""

from __future__ import annotations

import dataclasses
import io
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from mlflow import MlflowClient

from features import CREATED_AT, LEAD_ID, MICROS_PER_DAY, series_to_micros
from tests.conftest import FittedModel, TrainedModel
from training import CrmExport
from training.report import LEADS_TO_CALL_ARTIFACT, LEADS_TO_CALL_COLUMNS, leads_to_call

COLUMNS = [
    "lead_id", "score", "grade", "recommendation", "source", "campaign", "created_at",
    "reason_1", "reason_2", "reason_3",
]  # fmt: skip
PERSONAL = ("email", "phone", "full_name", "sales_notes")
EMAIL = re.compile(r"[^@\s,]+@[^@\s,]+\.[a-z]{2,}", re.IGNORECASE)
PHONE = re.compile(r"\+?[\d\s().-]{7,20}")


@pytest.fixture(scope="module")
def calls(fitted: FittedModel, demo_export: CrmExport) -> pd.DataFrame:
    config = fitted.trainer.config
    return leads_to_call(
        fitted.trainer.scorer_,
        demo_export,
        snapshot_days=config.snapshot_delay_days,
        horizon_days=config.horizon_days,
    )


def test_the_file_has_exactly_the_documented_columns(calls: pd.DataFrame) -> None:
    assert list(LEADS_TO_CALL_COLUMNS) == COLUMNS
    assert list(calls.columns) == COLUMNS
    text = calls.to_csv(index=False)
    assert text.splitlines()[0] == ",".join(COLUMNS)


def test_only_open_leads_inside_the_horizon_are_listed(
    calls: pd.DataFrame, fitted: FittedModel, demo_export: CrmExport
) -> None:
    decided = set(demo_export.outcomes[LEAD_ID].astype(str))
    leads = demo_export.leads
    created = pd.Series(
        series_to_micros(leads[CREATED_AT], source="leads", column=CREATED_AT),
        index=leads[LEAD_ID].astype(str),
    )
    config = fitted.trainer.config
    start = (
        demo_export.observed_until
        - (config.snapshot_delay_days + config.horizon_days) * MICROS_PER_DAY
    )
    listed = calls["lead_id"].astype(str)
    assert len(calls) > 100 and listed.is_unique
    assert decided.isdisjoint(listed)
    assert (created[listed] > start).all()
    # An open lead older than the horizon is not listed, though it has no outcome.
    stale = [i for i in created.index[created.to_numpy() <= start] if i not in decided]
    assert stale and set(stale).isdisjoint(listed)
    seconds = pd.to_datetime(calls["created_at"], utc=True).map(lambda t: t.value // 10**9)
    assert (seconds.to_numpy() == created[listed].to_numpy() // 10**6).all()


def test_sqls_come_first_then_mqls_each_best_score_first(calls: pd.DataFrame) -> None:
    kinds = calls["recommendation"].tolist()
    assert set(kinds) == {"SQL", "MQL"}
    assert kinds == sorted(kinds, key=["SQL", "MQL"].index)
    for _, group in calls.groupby("recommendation"):
        assert group["score"].is_monotonic_decreasing
    assert calls["score"].between(0, 100).all() and set(calls["grade"]) <= set("ABCD")


def test_reasons_are_plain_sentences_with_their_direction(
    calls: pd.DataFrame, fitted: FittedModel
) -> None:
    reasons = calls[["reason_1", "reason_2", "reason_3"]].stack()
    assert len(reasons) == 3 * len(calls)
    assert reasons.str.endswith(("(raises the score)", "(lowers the score)")).all()
    code = [n for n in fitted.trainer.scorer_.feature_set.names if not n.isalpha()]
    assert not reasons.str.contains("|".join(rf"\b{name}\b" for name in code)).any()
    assert not reasons.str.contains("c_level").any()


def test_no_personal_data_reaches_the_file(calls: pd.DataFrame, demo_export: CrmExport) -> None:
    assert set(PERSONAL) <= set(demo_export.leads.columns)  # the export does have them
    assert set(PERSONAL).isdisjoint(calls.columns)
    text = calls.to_csv(index=False)
    cells = [str(cell) for cell in calls.to_numpy().ravel()]
    assert not EMAIL.search(text) and not any(PHONE.fullmatch(cell) for cell in cells)
    names = demo_export.leads["full_name"].dropna().astype(str)
    assert not any(name in text for name in names.head(500))


def test_an_export_without_an_outcomes_table_lists_nobody(
    fitted: FittedModel, demo_export: CrmExport
) -> None:
    labelled = dataclasses.replace(
        demo_export, outcomes=None, labels=np.zeros(len(demo_export.leads))
    )
    empty = leads_to_call(fitted.trainer.scorer_, labelled, snapshot_days=7, horizon_days=90)
    assert empty.empty and list(empty.columns) == COLUMNS


@pytest.mark.integration
def test_training_logs_the_file_beside_the_report(trained: TrainedModel, tmp_path: Path) -> None:
    client = MlflowClient(trained.settings.mlflow_tracking_uri)
    run_id = trained.result.registration.run_id
    path = client.download_artifacts(run_id, LEADS_TO_CALL_ARTIFACT, str(tmp_path))
    logged = pd.read_csv(io.StringIO(Path(path).read_text()))
    assert list(logged.columns) == COLUMNS and len(logged) > 100
