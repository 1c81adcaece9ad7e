"""leadscore's batch work on a Dask cluster: one `Cluster` that `--dask` names, and explained
batch scoring bucket by bucket, each bucket read, featurised, scored and written by one task.

The same code runs on a `LocalCluster` (`local` or `local:N`) and on a scheduler's address.
Every path is read and written by the workers themselves, so on a real cluster it must be
storage every worker and the driver see alike (see docs/scale.md). Dask loads on first use:
serving never imports this module.
"""

from __future__ import annotations

import functools
import logging
import os
import shutil
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow.parquet as pq

from features import bucket_features, parquet_files, read_bucket, write_buckets
from scoring.errors import ClusterError
from scoring.table import scored_table

if TYPE_CHECKING:
    from distributed import Client, LocalCluster

    from scoring.scorer import LeadScorer

LOCAL = "local"
LOCAL_WORKERS = 2
BUCKETS_PER_THREAD = 4  # several buckets per worker thread: a slow or lost one costs little
LEADS_PER_BUCKET = 250_000  # a worker scoring 250,000 leads of 20 activities peaked at 3.2 GiB
CONNECT_SECONDS = 20


@dataclass
class Cluster:
    """A connected Dask client, the buckets asked for (None: `buckets_for` chooses by size), and
    LightGBM's listen port (None: LightGBM finds a free port on each worker). Close it, or use it
    in a `with`."""

    client: Client
    buckets: int | None
    listen_port: int | None = None
    address: str = LOCAL
    local: LocalCluster | None = field(default=None, repr=False)

    def buckets_for(self, leads: int) -> int:
        """Buckets for `leads` leads: as asked, else enough that none holds more than
        `LEADS_PER_BUCKET` (a worker's memory follows its bucket's size), and at least
        `BUCKETS_PER_THREAD` per worker thread."""
        if self.buckets is not None:
            return self.buckets
        threads = sum(self.threads.values())
        return max(BUCKETS_PER_THREAD * threads, -(-leads // LEADS_PER_BUCKET))

    @property
    def threads(self) -> dict[str, int]:
        """Each worker's address and its threads."""
        return dict(self.client.nthreads())

    def close(self) -> None:
        self.client.close()
        if self.local is not None:
            self.local.close()

    def __enter__(self) -> Cluster:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def connect(
    spec: str,
    *,
    buckets: int | None = None,
    listen_port: int | None = None,
    timeout: float = CONNECT_SECONDS,
) -> Cluster:
    """The cluster `spec` names: `local` (2 worker processes on 127.0.0.1, one thread each),
    `local:N` (N of them), or a scheduler address such as tcp://10.0.0.5:8786."""
    from distributed import Client, LocalCluster

    text = spec.strip()
    local = None
    if text == LOCAL or text.startswith(f"{LOCAL}:"):
        workers = _local_workers(text)
        try:
            local = LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address="127.0.0.1:0",  # no fixed port: several may run
                silence_logs=logging.WARNING,
            )
        except OSError as error:
            raise ClusterError(f"--dask {spec}: cannot start a local cluster ({error})") from None
        client = Client(local)
    else:
        try:
            client = Client(text, timeout=timeout)
        except (OSError, TimeoutError) as error:
            raise ClusterError(
                f"--dask {spec}: expected a Dask scheduler there, got no answer in "
                f"{timeout:g} s ({type(error).__name__}); start one with `dask scheduler`, "
                "or pass --dask local"
            ) from None
    threads = sum(client.nthreads().values())
    if threads == 0:
        client.close()
        raise ClusterError(f"--dask {spec}: the scheduler has no workers; start `dask worker`s")
    return Cluster(client, buckets, listen_port, text, local)


def _local_workers(text: str) -> int:
    count = text.partition(":")[2]
    if not count:
        return LOCAL_WORKERS
    if not count.isdigit() or int(count) < 1:
        raise ClusterError(f"--dask {text}: expected local or local:N with N >= 1 workers")
    return int(count)


def lay_out(
    cluster: Cluster,
    files: list[Path],
    root: Path,
    buckets: int,
    renames: Mapping[str, str] | None = None,
) -> int:
    """Every Parquet file of `files`, written into `root`'s buckets by one task per file;
    returns the rows laid out. Files are named by their position, so two inputs of the same
    name in different folders never overwrite each other."""
    futures = [
        cluster.client.submit(
            write_buckets,
            file,
            root,
            buckets,
            name=f"part-{i:06d}",
            renames=dict(renames or {}),
            pure=False,
        )
        for i, file in enumerate(files)
    ]
    return int(sum(cluster.client.gather(futures)))


@dataclass(frozen=True)
class PartitionedScores:
    """What one scoring job on a cluster wrote: a Parquet file per bucket that held leads."""

    files: list[Path]
    leads: int
    warned: int
    seconds: float


def score_on_cluster(
    cluster: Cluster,
    scorer: LeadScorer,
    *,
    leads: str | Path,
    activities: str | Path | None,
    out: Path,
    as_of: int,
    reasons: int,
    version: str,
    renames: Mapping[str, str] | None = None,
    next_steps: int = 0,
    activity_renames: Mapping[str, str] | None = None,
) -> PartitionedScores:
    """Score every lead `leads` names (Parquet: a file, a folder or a glob) as of `as_of`, with
    its activities, and write `out/part-NNNNN.parquet`, one per bucket, in `leadscore score`'s
    columns. A task whose worker dies runs again elsewhere and replaces its file, so every lead
    is written once."""
    started = time.perf_counter()
    scratch = out / f"_buckets-{uuid.uuid4().hex[:8]}"
    out.mkdir(parents=True, exist_ok=True)
    for stale in out.glob("part-*.parquet"):
        stale.unlink()  # an earlier run's files would mix with this one's
    lead_files = parquet_files(leads)
    buckets = cluster.buckets_for(sum(pq.ParquetFile(f).metadata.num_rows for f in lead_files))
    try:
        lay_out(cluster, lead_files, scratch / "leads", buckets, renames)
        if activities is not None:
            activity_files = parquet_files(activities)
            lay_out(cluster, activity_files, scratch / "activities", buckets, activity_renames)
        model = scorer.save(scratch / "model")  # each worker loads it once (`_scorer_at`)
        futures = [
            cluster.client.submit(
                _score_bucket,
                model,
                scratch,
                bucket,
                out,
                as_of,
                (reasons, next_steps),
                version,
                pure=False,
            )
            for bucket in range(buckets)
        ]
        counts = cluster.client.gather(futures)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    written = [out / f"part-{b:05d}.parquet" for b, (n, _) in enumerate(counts) if n]
    return PartitionedScores(
        files=written,
        leads=sum(n for n, _ in counts),
        warned=sum(w for _, w in counts),
        seconds=time.perf_counter() - started,
    )


@functools.lru_cache(maxsize=2)
def _scorer_at(folder: Path) -> LeadScorer:
    """The saved scorer in `folder`, loaded once per worker process and job."""
    from scoring.scorer import LeadScorer

    return LeadScorer.load(folder)


def _score_bucket(
    model: Path,
    scratch: Path,
    bucket: int,
    out: Path,
    as_of: int,
    counts: tuple[int, int],
    version: str,
) -> tuple[int, int]:
    """One bucket, on a worker: read, featurise, score, write atomically. Returns the leads
    written and how many of them carry warnings."""
    scorer = _scorer_at(model)
    leads = read_bucket(scratch / "leads", bucket)
    if leads is None:
        return 0, 0
    activities = read_bucket(scratch / "activities", bucket)
    features = bucket_features(
        leads, activities, np.full(len(leads), as_of, dtype=np.int64), scorer.feature_set
    )
    reasons, next_steps = counts
    table = scored_table(
        scorer.score_frame(features, reasons=reasons, next_steps=next_steps), version
    )
    target = out / f"part-{bucket:05d}.parquet"
    partial = out / f".part-{bucket:05d}.{uuid.uuid4().hex}.partial"
    table.to_parquet(partial, index=False)
    os.replace(partial, target)
    return len(table), int((table["warnings"] != "").sum())
