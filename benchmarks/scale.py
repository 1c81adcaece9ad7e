"""How leadscore grows with the data: batch features, end-to-end training, explained batch
scoring and the fit alone on one machine, against a hand-written polars version of the same
features and against a LocalCluster of 2 workers, from 100k to 1M to 5M leads. Prints ratios.

Every figure is measured in a process of its own, so its peak memory is its own. The data are
demo exports made in chunks of at most 1M leads (ids made unique per chunk), with low-intent
events (web visits and e-mail opens in each lead's first 60 days) added until there are
`--activities` per lead; they are written as folders of Parquet files, one file per chunk.

    .venv/bin/python benchmarks/scale.py                 # 1M x 20M, 5M, ladder: about 70 min
    .venv/bin/python benchmarks/scale.py --leads 100000 --big 0 --ladder 100000  # a quick look
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from leadscore import demo_data

ROOT = Path(__file__).resolve().parents[1]
CHUNK = 1_000_000
DAY_US = 86_400_000_000
PADDING_TYPES = ("web_visit", "email_open")
GIB = 1024**3


def make_data(folder: Path, leads: int, per_lead: float, seed: int = 42) -> dict[str, int]:
    """A demo export of `leads` leads with about `per_lead` activities each, in chunk files."""
    marker = folder / "made.json"
    wanted = {"leads": leads, "per_lead": per_lead, "seed": seed}
    if marker.is_file() and json.loads(marker.read_text()).get("wanted") == wanted:
        return json.loads(marker.read_text())["rows"]
    shutil.rmtree(folder, ignore_errors=True)
    rows = {"leads": 0, "activities": 0, "outcomes": 0}
    for chunk, start in enumerate(range(0, leads, CHUNK)):
        size = min(CHUNK, leads - start)
        export = demo_data.generate(size, seed + chunk)
        prefix = f"c{chunk}-"
        tables = {
            "leads": export.leads.assign(lead_id=prefix + export.leads["lead_id"]),
            "activities": _padded(export, size * per_lead, seed + chunk, prefix),
            "outcomes": export.outcomes.assign(lead_id=prefix + export.outcomes["lead_id"]),
        }
        for name, table in tables.items():
            (folder / name).mkdir(parents=True, exist_ok=True)
            table.to_parquet(folder / name / f"part-{chunk:03d}.parquet", index=False)
            rows[name] += len(table)
        print(f"  made chunk {chunk + 1}: {start + size:,} leads", flush=True)
    marker.write_text(json.dumps({"wanted": wanted, "rows": rows}))
    return rows


def _padded(export: demo_data.DemoExport, total: float, seed: int, prefix: str) -> pd.DataFrame:
    events = export.activities.assign(lead_id=prefix + export.activities["lead_id"])
    extra = int(total) - len(events)
    if extra <= 0:
        return events
    rng = np.random.default_rng([seed, 99])
    leads = export.leads
    which = rng.integers(0, len(leads), extra)
    created = leads["created_at"].dt.tz_localize(None).to_numpy().astype("datetime64[us]")
    created = created.astype(np.int64)
    occurred = created[which] + (rng.random(extra) * 60 * DAY_US).astype(np.int64)
    padding = pd.DataFrame(
        {
            "lead_id": (prefix + leads["lead_id"]).to_numpy()[which],
            "occurred_at": pd.to_datetime(occurred, unit="us", utc=True),
            "activity_type": np.array(PADDING_TYPES, dtype=object)[rng.integers(0, 2, extra)],
        }
    )
    return pd.concat([events, padding], ignore_index=True)


def _peak_rss() -> int:
    """This process's peak resident memory (VmHWM: unlike ru_maxrss, it does not carry over the
    peak of the process this one was forked from)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


# ---------------------------------------------------------------- steps, each in its own process


def step_features(data: Path) -> dict[str, Any]:
    """The batch engine on the whole export, as training builds it (as of created + 7 days)."""
    from features import build_features, series_to_micros

    started = time.perf_counter()
    leads = pd.read_parquet(data / "leads")
    events = pd.read_parquet(data / "activities")
    read = time.perf_counter() - started
    as_of = series_to_micros(leads["created_at"], source="leads", column="created_at") + 7 * DAY_US
    started = time.perf_counter()
    features = build_features(leads, events, as_of)
    seconds = time.perf_counter() - started
    return {"read_s": read, "seconds": seconds, "rows": len(features), "peak": _peak_rss()}


def step_polars(data: Path) -> dict[str, Any]:
    """The hand-written polars version of the same features, reading the same files."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from polars_anchor import polars_features

    started = time.perf_counter()
    frame = polars_features(data / "leads", data / "activities")
    return {"seconds": time.perf_counter() - started, "rows": frame.height, "peak": _peak_rss()}


def step_cluster_features(data: Path, workers: int) -> dict[str, Any]:
    """The same features bucket by bucket on a LocalCluster (`train --dask`'s path: the driver
    holds the export, each bucket goes to a worker)."""
    from features import DEFAULT_FEATURES, series_to_micros
    from scoring import connect
    from training.distributed import cluster_features

    leads = pd.read_parquet(data / "leads")
    events = pd.read_parquet(data / "activities")
    as_of = series_to_micros(leads["created_at"], source="leads", column="created_at") + 7 * DAY_US
    with connect(f"local:{workers}") as cluster:
        started = time.perf_counter()
        features = cluster_features(cluster, leads, events, as_of, DEFAULT_FEATURES)
        seconds = time.perf_counter() - started
        peaks = cluster.client.run(_peak_rss)
    return {
        "seconds": seconds,
        "rows": len(features),
        "peak": _peak_rss(),
        "worker_peak": max(peaks.values()),
    }


def _train_env(store: Path) -> dict[str, str]:
    return {
        **os.environ,
        "LEADSCORE_MLFLOW_TRACKING_URI": f"sqlite:///{store / 'mlflow.db'}",
        "LEADSCORE_MLFLOW_ARTIFACT_ROOT": str(store / "artifacts"),
    }


def step_train(data: Path, dask: str | None, keep: Path | None) -> dict[str, Any]:
    """`leadscore train` end to end (read and check, features, audit, model family, fit,
    calibrate, baseline, gate, report, log, register), in a fresh MLflow store; with `keep`, the
    registered scorer is saved there for the scoring steps."""
    store = Path(tempfile.mkdtemp(prefix="scale-store-"))
    command = [str(ROOT / ".venv" / "bin" / "leadscore"), "train", "--data", str(data)]
    if dask:
        command += ["--dask", dask]
    started = time.perf_counter()
    done = subprocess.run(command, env=_train_env(store), capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if keep is not None and done.returncode == 0:
        from scoring import load_registered

        uri = _train_env(store)["LEADSCORE_MLFLOW_TRACKING_URI"]
        shutil.rmtree(keep, ignore_errors=True)
        load_registered("models:/lead-scoring/1", uri).scorer.save(keep)
    shutil.rmtree(store, ignore_errors=True)
    if done.returncode != 0:
        raise RuntimeError(f"leadscore train failed:\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
    auc = next(
        (line for line in done.stdout.splitlines() + done.stderr.splitlines() if "roc_auc" in line),
        "",
    )
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    return {"seconds": seconds, "peak": peak, "auc_line": auc.strip()}


def _model(folder: Path) -> Any:
    """The scorer `leadscore train` registered in step 2, else (--skip-train) one fitted on
    100k demo leads with the default shape."""
    from scoring import LeadScorer
    from training import LeadScoreTrainer, build_dataset, load_export

    if not (folder / "scorer.json").is_file():
        sample = folder.parent / "model-data"
        make_data(sample, 100_000, 8.0)
        LeadScoreTrainer().fit(build_dataset(load_export(sample))).scorer_.save(folder)
    return LeadScorer.load(folder)


def step_score(data: Path, workers: int, model: Path) -> dict[str, Any]:
    """`leadscore score`'s path on one machine: read, features as of now, score with 5 reasons
    in `workers` forked processes, write Parquet."""
    from features import build_features
    from leadscore.scoring_job import score_table

    scorer = _model(model)
    out = Path(tempfile.mkdtemp(prefix="scale-scores-"))
    started = time.perf_counter()
    leads = pd.read_parquet(data / "leads")
    events = pd.read_parquet(data / "activities")
    moment = int(pd.Timestamp("2026-07-01", tz="UTC").value // 1000)
    features = build_features(
        leads, events, np.full(len(leads), moment, dtype=np.int64), scorer.feature_set
    )
    featured = time.perf_counter()
    rows = score_table(scorer, features, reasons=5, next_steps=3, version="1", workers=workers)
    scored = time.perf_counter()
    rows.to_parquet(out / "scores.parquet", index=False)
    total = time.perf_counter() - started
    shutil.rmtree(out, ignore_errors=True)
    return {
        "seconds": total,
        "scoring_s": scored - featured,
        "features_s": featured - started,
        "rows": len(rows),
        "peak": _peak_rss(),
    }


def step_score_cluster(data: Path, workers: int, model: Path) -> dict[str, Any]:
    """`leadscore score --dask local:N`: each bucket read, featurised, scored and written by a
    worker, from the same files."""
    from scoring import connect, score_on_cluster

    scorer = _model(model)
    out = Path(tempfile.mkdtemp(prefix="scale-scores-"))
    moment = int(pd.Timestamp("2026-07-01", tz="UTC").value // 1000)
    with connect(f"local:{workers}") as cluster:
        started = time.perf_counter()
        result = score_on_cluster(
            cluster, scorer, leads=data / "leads", activities=data / "activities",
            out=out, as_of=moment, reasons=5, next_steps=3, version="1",
        )  # fmt: skip
        seconds = time.perf_counter() - started
        peaks = cluster.client.run(_peak_rss)
    shutil.rmtree(out, ignore_errors=True)
    return {
        "seconds": seconds,
        "rows": result.leads,
        "peak": _peak_rss(),
        "worker_peak": max(peaks.values()),
        "buckets": len(result.files),
    }


def step_fit(data: Path, workers: int, rounds: int) -> dict[str, Any]:
    """The fit alone, the same rounds with no early stopping: LightGBM in this process (both
    cores) against `DaskLGBMClassifier` on a LocalCluster, on the training rows of `data`."""
    from dataclasses import replace

    import lightgbm as lgb
    from sklearn.metrics import roc_auc_score

    from scoring import FeatureEncoder, connect
    from training import build_dataset, load_export
    from training.distributed import fit_on_cluster
    from training.train import TrainConfig

    dataset = build_dataset(load_export(data))
    config = replace(TrainConfig(), max_rounds=rounds)
    splits = config.splits(dataset)
    holdout = splits["holdout"]
    labels = dataset.labels[holdout]
    encoder = FeatureEncoder(dataset.feature_set).fit(dataset.features.iloc[splits["train"]])
    matrix = encoder.transform(dataset.features)
    started = time.perf_counter()
    train_set = lgb.Dataset(
        matrix[splits["train"]],
        label=dataset.labels[splits["train"]],
        feature_name=dataset.feature_set.names,
        categorical_feature=encoder.categorical_indices,
    )
    local = lgb.train(config.lightgbm_params(), train_set, num_boost_round=rounds)
    local_s = time.perf_counter() - started
    with connect(f"local:{workers}") as cluster:
        started = time.perf_counter()
        spread = fit_on_cluster(cluster, config, dataset, splits, rounds)
        spread_s = time.perf_counter() - started
        peaks = cluster.client.run(_peak_rss)
    return {
        "rows": len(splits["train"]),
        "rounds": rounds,
        "local_s": local_s,
        "spread_s": spread_s,
        "local_auc": roc_auc_score(labels, local.predict(matrix[holdout])),
        "spread_auc": roc_auc_score(labels, spread.booster.predict(matrix[holdout])),
        "worker_peak": max(peaks.values()),
    }


STEPS = {
    "features": lambda a: step_features(a.data),
    "polars": lambda a: step_polars(a.data),
    "cluster-features": lambda a: step_cluster_features(a.data, a.workers),
    "train": lambda a: step_train(a.data, a.dask, a.model),
    "fit": lambda a: step_fit(a.data, a.workers, a.rounds),
    "score": lambda a: step_score(a.data, a.workers, a.model),
    "score-cluster": lambda a: step_score_cluster(a.data, a.workers, a.model),
}


def run(step: str, data: Path, *extra: str) -> dict[str, Any]:
    """One step in a fresh process; its JSON answer."""
    done = subprocess.run(
        [sys.executable, __file__, "--step", step, "--data", str(data), *extra],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        why = "killed (out of memory)" if done.returncode == -9 else f"exit {done.returncode}"
        raise StepFailed(f"{why}: {last[-300:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


class StepFailed(RuntimeError):
    """A step's process did not finish."""


# ---------------------------------------------------------------- the report


def _gib(value: float) -> str:
    return f"{value / GIB:.2f} GiB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--activities", type=float, default=20.0, help="per lead")
    parser.add_argument("--big", type=int, default=5_000_000, help="0: skip the big run")
    parser.add_argument("--ladder", default="100000,1000000,5000000")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "ls-scale")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--skip-train", action="store_true")
    parser.add_argument("--sections", default="12345", help="which parts to run, e.g. 34")
    parser.add_argument("--rounds", type=int, default=500, help="boosting rounds of part 5")
    parser.add_argument("--step", choices=sorted(STEPS), help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--dask", help=argparse.SUPPRESS)
    parser.add_argument("--model", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:
        print(json.dumps(STEPS[args.step](args)))
        return

    cores = os.cpu_count()
    print(f"Machine: {cores} cores; LocalCluster: {args.workers} worker processes, 1 thread each")
    sizes = sorted({args.leads, *(int(s) for s in args.ladder.split(",") if s)})
    if args.big:
        sizes = sorted({*sizes, args.big})
    datasets = {}
    for n in sizes:
        print(f"Data: {n:,} leads x {args.activities:g} activities each", flush=True)
        datasets[n] = args.work / f"{n}"
        rows = make_data(datasets[n] / "data", n, args.activities)
        print(f"  {rows['leads']:,} leads, {rows['activities']:,} activities", flush=True)
    main_data = datasets[args.leads] / "data"
    model = args.work / "model"
    if "1" in args.sections:
        _features_against_polars(main_data, args.leads)
    if "2" in args.sections and not args.skip_train:
        _training(main_data, args.leads, args.workers, model)
    _scoring(args, datasets, sizes, model)
    if "5" in args.sections:
        _fit(main_data, args.leads, args.workers, args.rounds)


def _fit(main_data: Path, leads: int, workers: int, rounds: int) -> None:
    print(f"\n5. The fit alone, {leads:,} leads: {rounds} rounds, no early stopping")
    fit = run("fit", main_data, "--workers", str(workers), "--rounds", str(rounds))
    print(
        f"  {fit['rows']:,} training rows. LightGBM in one process (2 threads): "
        f"{fit['local_s']:.1f} s, holdout AUC {fit['local_auc']:.4f}"
    )
    print(
        f"  DaskLGBMClassifier on local:{workers}: {fit['spread_s']:.1f} s, holdout AUC "
        f"{fit['spread_auc']:.4f}, largest worker {_gib(fit['worker_peak'])}"
    )
    print(f"  ratio LocalCluster/one process: {fit['spread_s'] / fit['local_s']:.2f}x")


def _features_against_polars(main_data: Path, leads: int) -> None:
    print(f"\n1. Batch features, single process, {leads:,} leads (as of created + 7 days)")
    ours = run("features", main_data)
    anchor = run("polars", main_data)
    print(
        f"  leadscore batch engine: {ours['seconds']:6.2f} s (+{ours['read_s']:.2f} s reading "
        f"Parquet), peak RSS {_gib(ours['peak'])}"
    )
    print(
        f"  hand-written polars:    {anchor['seconds']:6.2f} s (reading included), "
        f"peak RSS {_gib(anchor['peak'])}"
    )
    print(
        f"  ratio ours/polars: time {ours['seconds'] / anchor['seconds']:.2f}x "
        f"({(ours['seconds'] + ours['read_s']) / anchor['seconds']:.2f}x with reading), "
        f"peak RSS {ours['peak'] / anchor['peak']:.2f}x"
    )


def _training(main_data: Path, leads: int, workers: int, model: Path) -> None:
    print(f"\n2. End-to-end training, {leads:,} leads (`leadscore train`)")
    single = run("train", main_data, "--model", str(model))
    spread = run("train", main_data, "--dask", f"local:{workers}")
    print(f"  one process: {single['seconds']:6.1f} s, peak RSS {_gib(single['peak'])}")
    print(f"    {single['auc_line']}")
    print(
        f"  --dask local:{workers}: {spread['seconds']:6.1f} s, largest process "
        f"{_gib(spread['peak'])}"
    )
    print(f"    {spread['auc_line']}")
    print(f"  ratio LocalCluster/one process: {spread['seconds'] / single['seconds']:.2f}x")


def _scoring(
    args: argparse.Namespace, datasets: dict[int, Path], sizes: list[int], model: Path
) -> None:
    scorer = _model(model)
    extra = ("--model", str(model))
    done: dict[tuple[str, int, str], dict[str, Any] | None] = {}

    def measure(step: str, n: int, workers: int | None = None) -> dict[str, Any] | None:
        """A step's answer, measured once; None (said why) when its process did not finish."""
        key = (step, n, str(workers))
        if key not in done:
            more = [*extra] if step.startswith("score") else []
            if workers is not None:
                more += ["--workers", str(workers)]
            try:
                done[key] = run(step, datasets[n] / "data", *more)
            except StepFailed as failure:
                print(f"    {step} at {n:,} leads did not finish: {failure}", flush=True)
                done[key] = None
        return done[key]

    if "3" in args.sections:
        print(
            f"\n3. Explained batch scoring (5 reasons per lead, {scorer.attribution} attribution, "
            f"{scorer.booster.num_trees()} trees), from Parquet to Parquet"
        )
    for n in [s for s in (args.leads, args.big) if s and "3" in args.sections]:
        print(f"  {n:,} leads:", flush=True)
        one = measure("score", n, 1)
        two = measure("score", n, args.workers)
        cluster = measure("score-cluster", n, args.workers)
        cluster_features = measure("cluster-features", n, args.workers)
        single_features = measure("features", n)
        if one:
            print(
                f"    one process:   scoring {n / one['scoring_s']:>9,.0f} leads/s; whole job "
                f"{one['seconds']:6.1f} s ({n / one['seconds']:,.0f} leads/s), "
                f"peak {_gib(one['peak'])}"
            )
        if two:
            print(
                f"    {args.workers} forks:       scoring {n / two['scoring_s']:>9,.0f} leads/s; "
                f"whole job {two['seconds']:6.1f} s ({n / two['seconds']:,.0f} leads/s), "
                f"peak {_gib(two['peak'])}"
            )
        if cluster:
            print(
                f"    LocalCluster:  whole job {cluster['seconds']:6.1f} s "
                f"({n / cluster['seconds']:,.0f} leads/s), {cluster['buckets']} buckets, "
                f"driver {_gib(cluster['peak'])}, largest worker {_gib(cluster['worker_peak'])}"
            )
        if cluster_features and single_features:
            print(
                f"    features only: one process {single_features['seconds']:.1f} s (peak "
                f"{_gib(single_features['peak'])}), LocalCluster (driver sends buckets) "
                f"{cluster_features['seconds']:.1f} s, driver "
                f"{_gib(cluster_features['peak'])}, largest worker "
                f"{_gib(cluster_features['worker_peak'])}"
            )
            print(
                "    ratio LocalCluster/one process, features: "
                f"{cluster_features['seconds'] / single_features['seconds']:.2f}x"
            )
        if cluster and one and two:
            print(
                f"    ratios: LocalCluster/one process whole job "
                f"{cluster['seconds'] / one['seconds']:.2f}x, /{args.workers} forks "
                f"{cluster['seconds'] / two['seconds']:.2f}x"
            )

    if "4" not in args.sections:
        return
    print("\n4. Growth, one process: batch features and explained scoring per lead")
    previous = None
    for n in sizes:
        features, scoring = measure("features", n), measure("score", n, 1)
        if features is None or scoring is None:
            previous = None
            continue
        per_feature = features["seconds"] / n * 1e6
        per_score = scoring["scoring_s"] / n * 1e6
        growth = ""
        if previous is not None:
            more = features["seconds"] / previous[1]
            growth = (
                f"  (x{n / previous[0]:.0f} leads: features x{more:.1f}, scoring "
                f"x{scoring['scoring_s'] / previous[2]:.1f})"
            )
        print(
            f"  {n:>9,} leads: features {features['seconds']:7.2f} s ({per_feature:.2f} us/lead), "
            f"peak {_gib(features['peak'])}; scoring {scoring['scoring_s']:7.1f} s "
            f"({per_score:.1f} us/lead){growth}",
            flush=True,
        )
        previous = (n, features["seconds"], scoring["scoring_s"])


if __name__ == "__main__":
    main()
