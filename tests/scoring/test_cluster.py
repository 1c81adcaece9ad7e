"""Explained batch scoring on a real LocalCluster: the same rows as one process, and a worker
killed mid-job costs nothing but time."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from features import build_features, to_micros
from leadscore import demo_data
from leadscore.scoring_job import score_table
from scoring import Cluster, ClusterError, PartitionedScores, connect, score_on_cluster
from tests.conftest import FittedModel
from tests.helpers import free_port

pytestmark = pytest.mark.integration

AS_OF = to_micros("2026-03-01T00:00:00Z", field="as_of")


def _split_into_files(frame: pd.DataFrame, folder: Path, parts: int) -> Path:
    folder.mkdir(parents=True)
    for i in range(parts):
        frame.iloc[i::parts].to_parquet(folder / f"export-{i}.parquet", index=False)
    return folder


def _single_process(fitted: FittedModel, leads: pd.DataFrame, events: pd.DataFrame) -> pd.DataFrame:
    scorer = fitted.trainer.scorer_
    features = build_features(
        leads, events, np.full(len(leads), AS_OF, dtype=np.int64), scorer.feature_set
    )
    return score_table(scorer, features, reasons=5, next_steps=3, version="7", workers=1)


def _read_scores(result: PartitionedScores) -> pd.DataFrame:
    return pd.concat([pd.read_parquet(f) for f in result.files], ignore_index=True)


def test_scores_on_the_cluster_equal_the_single_process_scorer_row_for_row(
    dask_cluster: Cluster, fitted: FittedModel, tmp_path: Path
) -> None:
    leads = pd.read_parquet(fitted.data_dir / "leads.parquet")
    events = pd.read_parquet(fitted.data_dir / "activities.parquet")
    result = score_on_cluster(
        dask_cluster,
        fitted.trainer.scorer_,
        leads=_split_into_files(leads, tmp_path / "leads", 3),
        activities=f"{_split_into_files(events, tmp_path / 'events', 4)}/*.parquet",
        out=tmp_path / "scores",
        as_of=AS_OF,
        reasons=5,
        next_steps=3,
        version="7",
    )
    expected = _single_process(fitted, leads, events)
    got = _read_scores(result)
    assert result.leads == len(leads) == len(got)
    assert [f.name for f in result.files] == [f"part-{b:05d}.parquet" for b in range(6)]
    ordered = got.set_index("lead_id").loc[expected["lead_id"]].reset_index()
    pd.testing.assert_frame_equal(ordered, expected)
    assert (got["reasons"].str.len() > 2).all()  # every lead explained
    leftovers = [p.name for p in (tmp_path / "scores").iterdir() if p.suffix != ".parquet"]
    assert leftovers == []  # the buckets and the model copy are gone


def test_a_worker_killed_mid_scoring_recovers_and_every_lead_is_written_once(
    fitted: FittedModel, tmp_path: Path
) -> None:
    export = demo_data.generate(60_000, 3)
    leads = _split_into_files(export.leads, tmp_path / "leads", 4)
    events = _split_into_files(export.activities, tmp_path / "events", 4)
    out = tmp_path / "scores"
    done: dict[str, PartitionedScores | BaseException] = {}
    with connect("local:2", buckets=16) as cluster:
        before = cluster.client.run(os.getpid)

        def job() -> None:
            try:
                done["result"] = score_on_cluster(
                    cluster, fitted.trainer.scorer_, leads=leads, activities=events, out=out,
                    as_of=AS_OF, reasons=3, version="7",
                )  # fmt: skip
            except BaseException as error:  # handed to the test's thread
                done["result"] = error

        thread = threading.Thread(target=job)
        thread.start()
        deadline = time.monotonic() + 120
        while not list(out.glob("part-*.parquet")) and time.monotonic() < deadline:
            time.sleep(0.01)
        written_at_kill = len(list(out.glob("part-*.parquet")))
        victim = next(iter(before.values()))
        os.kill(victim, signal.SIGKILL)
        thread.join(timeout=300)
        after = cluster.client.run(os.getpid)
    result = done["result"]
    assert not isinstance(result, BaseException), result
    assert 1 <= written_at_kill < 16  # the kill came mid-job
    assert victim not in after.values()  # that worker really died (its nanny started another)
    scores = _read_scores(result)
    assert len(result.files) == 16
    assert scores["lead_id"].is_unique
    assert sorted(scores["lead_id"]) == sorted(export.leads["lead_id"])
    assert not list(out.glob("*.partial"))


def test_a_cluster_that_does_not_answer_is_one_line_naming_it() -> None:
    address = f"tcp://127.0.0.1:{free_port()}"
    started = time.monotonic()
    with pytest.raises(ClusterError, match=f"--dask {address}: expected a Dask scheduler"):
        connect(address, timeout=2)
    assert time.monotonic() - started < 15
    for spec in ("local:0", "local:two"):
        with pytest.raises(ClusterError, match="expected local or local:N"):
            connect(spec)
