"""The `leadscore` command: generate demo data, train, score files, serve, or all of it at once.

Exit codes: 0 done; 1 an error, printed as one line saying what was found, what was expected
and what to do (the traceback only with `leadscore --debug`); 2 the server cannot listen;
3 `retrain` kept the champion.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import json
import logging
import os
import time
import warnings
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.status import Status
from rich.table import Table

from features import LeadscoreError
from leadscore.errors import NoModel, ScoringInputError

if TYPE_CHECKING:
    from scoring import Cluster, Settings
    from serving import LoadedModel
    from training import AuditReport, TrainingResult

app = typer.Typer(
    help="Predictive lead scoring: point-in-time features, LightGBM in MLflow, explained scores.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
console = Console(stderr=True)

DEMO_POLICY = Path(__file__).with_name("demo_policy.toml")
ERROR, CANNOT_SERVE = 1, 2
DataDir = Annotated[
    Path | None, typer.Option("--data", help="Folder with leads, activities, outcomes.")
]
Command = TypeVar("Command", bound=Callable[..., Any])
_debug = {"on": False}


@app.callback()
def main(
    debug: Annotated[bool, typer.Option("--debug", help="Show the traceback of an error.")] = False,
) -> None:
    """Predictive lead scoring: point-in-time features, LightGBM in MLflow, explained scores."""
    _debug["on"] = debug


def handled(command: Command) -> Command:
    """Run `command` so that an error is one line and exit code 1, with the traceback only
    under --debug."""

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except (typer.Exit, typer.Abort, typer.BadParameter, KeyboardInterrupt):
            raise  # a usage error is click's to print, with exit code 2
        except LeadscoreError as error:
            if _debug["on"]:
                raise
            console.print(
                f"[bold red]Error:[/] {escape(str(error))}", highlight=False, soft_wrap=True
            )
            raise typer.Exit(ERROR) from None
        except Exception as error:
            if _debug["on"]:
                raise
            console.print(
                f"[bold red]Unexpected error:[/] {type(error).__name__}: {escape(str(error))}; "
                "run again with `leadscore --debug ...` for the traceback, and please report it",
                highlight=False,
                soft_wrap=True,
            )
            raise typer.Exit(ERROR) from None

    return run  # type: ignore[return-value]


def _settings(**overrides: object) -> Settings:
    from scoring import load_settings

    return load_settings(**{k: v for k, v in overrides.items() if v is not None})


def _quiet_libraries() -> None:
    """MLflow and friends are chatty; keep the terminal for what the user asked."""
    os.environ.setdefault("GIT_PYTHON_REFRESH", "quiet")
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    warnings.filterwarnings("ignore")
    for name in ("mlflow", "alembic", "urllib3"):
        logging.getLogger(name).setLevel(logging.ERROR)


@app.command()
@handled
def generate(
    leads: Annotated[
        int | None, typer.Option(help="How many leads; default LEADSCORE_DEMO_LEADS.")
    ] = None,
    seed: Annotated[int, typer.Option(help="Random seed: same seed, same data.")] = 42,
    out: Annotated[
        Path | None, typer.Option(help="Output folder; default LEADSCORE_DATA_DIR.")
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="parquet or csv.")] = "parquet",
    drift: Annotated[
        str, typer.Option(help="How the leads change: gradual (default), none or shift.")
    ] = "gradual",
) -> None:
    """Generate a demo CRM export (leads, activities, outcomes) and its hidden truth file."""
    _generate(leads, seed, out, fmt, drift)


def _generate(
    leads: int | None, seed: int, out: Path | None, fmt: str, drift: str = "gradual"
) -> None:
    from leadscore import demo_data

    settings = _settings()
    leads = leads or settings.demo_leads
    out = out or settings.data_dir
    with console.status(f"Generating {leads:,} leads"):
        export = demo_data.generate(leads, seed, drift=drift)  # type: ignore[arg-type]
        demo_data.write(export, out, fmt=fmt, seed=seed)
    console.print(
        f"[green]Wrote[/] {len(export.leads):,} leads, {len(export.activities):,} activities and "
        f"{len(export.outcomes):,} outcomes to {out}"
    )


DaskOption = Annotated[
    str | None,
    typer.Option(
        "--dask",
        help="Run on a Dask cluster: local (2 worker processes here), local:N, or a scheduler "
        "address such as tcp://10.0.0.5:8786. See docs/scale.md.",
    ),
]
PartitionsOption = Annotated[
    int | None,
    typer.Option(
        "--partitions",
        min=1,
        help="With --dask: buckets of leads; default 4 per worker thread, or more so that "
        "none holds over 250,000 leads.",
    ),
]
LightgbmPortOption = Annotated[
    int | None,
    typer.Option(
        "--lightgbm-port",
        min=1,
        max=65535,
        help="With --dask: the port LightGBM listens on, on every worker (one worker per "
        "machine); default a free port on each.",
    ),
]


def _cluster(
    dask: str | None, partitions: int | None, lightgbm_port: int | None = None
) -> contextlib.AbstractContextManager[Cluster | None]:
    """The cluster `--dask` names, closed when the command ends; no cluster without it."""
    if dask is None:
        if partitions is not None or lightgbm_port is not None:
            raise typer.BadParameter("--partitions and --lightgbm-port go with --dask")
        return contextlib.nullcontext()
    from scoring import connect

    with console.status(f"Connecting to the Dask cluster {dask}"):
        return connect(dask, buckets=partitions, listen_port=lightgbm_port)


ModelUriOption = Annotated[str | None, typer.Option(help="Default: LEADSCORE_MODEL_URI.")]
PolicyOption = Annotated[
    Path | None, typer.Option("--policy", help="Policy file (TOML): thresholds, ICP, exclusions.")
]
ConfigOption = Annotated[
    Path | None, typer.Option("--config", help="Dataset config (TOML); see the README.")
]


@app.command()
@handled
def train(
    data: DataDir = None,
    config: ConfigOption = None,
    allow_leaky: Annotated[
        list[str] | None,
        typer.Option("--allow-leaky", help="Keep this column although the audit flags it."),
    ] = None,
    policy: PolicyOption = None,
    tune: Annotated[
        int, typer.Option("--tune", help="Optuna trials on the validation slice (0: none).")
    ] = 0,
    rules_only: Annotated[
        bool,
        typer.Option("--rules-only", help="Too little history: recommend from the policy alone."),
    ] = False,
    force: Annotated[
        bool,
        typer.Option(
            "--force", help="Let a version trained with no policy replace a champion that has one."
        ),
    ] = False,
    dask: DaskOption = None,
    partitions: PartitionsOption = None,
    lightgbm_port: LightgbmPortOption = None,
) -> None:
    """Train on an export, log the run to MLflow, register the model, promote it if it wins."""
    _quiet_libraries()
    from training import load_config, load_policy, train_and_register

    settings = _settings(data_dir=data)
    if rules_only:
        _train_rules_only(settings, config, policy)
        return
    dataset_config = load_config(config) if config else None
    with _cluster(dask, partitions, lightgbm_port) as cluster, console.status("Training") as status:
        result = train_and_register(
            settings,
            config=dataset_config,
            allow_leaky=allow_leaky or [],
            policy=load_policy(policy) if policy else None,
            tune_trials=tune,
            on_step=_progress(status),
            force=force,
            cluster=cluster,
        )
    _print_training(result)


def _progress(status: Status) -> Callable[[str], None]:
    """Each step of a long job: the spinner's text on a terminal, a timestamped line elsewhere
    (logs and CI show every step, trial by trial)."""
    if console.is_terminal:
        return status.update
    return lambda message: console.print(
        f"{datetime.now(UTC):%H:%M:%S} {escape(message)}", highlight=False, soft_wrap=True
    )


def _train_rules_only(settings: Settings, config: Path | None, policy: Path | None) -> None:
    from training import load_config, load_policy, train_rules_only

    with console.status("Registering a rules-only model") as status:
        registration = train_rules_only(
            settings,
            config=load_config(config) if config else None,
            policy=load_policy(policy) if policy else None,
            on_step=_progress(status),
        )
    console.print(
        f"Registered rules-only {registration.model_name} version {registration.version}: "
        f"{registration.decision}.",
        highlight=False,
        soft_wrap=True,
    )


@app.command()
@handled
def retrain(
    data: DataDir = None,
    config: ConfigOption = None,
    policy: PolicyOption = None,
    dask: DaskOption = None,
    partitions: PartitionsOption = None,
    lightgbm_port: LightgbmPortOption = None,
) -> None:
    """Retrain for cron: build, train, gate, promote or not. Exit 0 promoted, 3 champion kept,
    1 on error. Running it again on the same data changes nothing."""
    _quiet_libraries()
    from training import load_config, load_policy
    from training import retrain as run_retrain

    with (
        _cluster(dask, partitions, lightgbm_port) as cluster,
        console.status("Retraining") as status,
    ):
        outcome = run_retrain(
            _settings(data_dir=data),
            config=load_config(config) if config else None,
            policy=load_policy(policy) if policy else None,
            on_step=_progress(status),
            cluster=cluster,
        )
    if outcome.result is not None:
        _print_training(outcome.result)
    serving = outcome.result is None or outcome.result.registration.champion_version is not None
    verdict = (
        "PROMOTED" if outcome.exit_code == 0 else "CHAMPION KEPT" if serving else "NOT PROMOTED"
    )
    console.print(f"{verdict}: {outcome.message}", highlight=False, soft_wrap=True)
    raise typer.Exit(outcome.exit_code)


@app.command()
@handled
def validate(
    config: Annotated[Path, typer.Option("--config", help="Dataset config (TOML).")],
    policy: PolicyOption = None,
) -> None:
    """Check a config, its export row by row and a policy's rules; train nothing."""
    _quiet_libraries()
    from training import check_config, load_config, load_policy

    with console.status("Checking"):
        checked = check_config(
            load_config(config),
            load_policy(policy) if policy else None,
            str(policy) if policy else None,
        )
    export = checked.export
    for line in checked.profile.lines():
        console.print("[yellow]PLACEHOLDERS[/]", escape(line), highlight=False, soft_wrap=True)
    labelled = "" if export.labels is None else f", {int(export.labels.sum()):,} won"
    console.print(
        f"[green]Valid:[/] {len(export.leads):,} leads{labelled}; "
        f"{len(checked.feature_set)} candidate features (training's leakage audit decides "
        f"which reach the model): {', '.join(checked.feature_set.names)}.",
        highlight=False,
        soft_wrap=True,
    )


def _print_audit(report: AuditReport) -> None:
    """One line per column the audit decided on: the decision, then the evidence."""
    styles = {"excluded": "bold yellow", "excluded for review": "yellow", "kept": "cyan"}
    for row in report.table():
        label = {"excluded": "LEAKAGE: EXCLUDED", "excluded for review": "LEAKAGE: FOR REVIEW",
                 "kept": "AUDIT: KEPT"}[row["decision"]]  # fmt: skip
        if row["rules"] in ("personal_data", "free_text"):
            label = "PERSONAL DATA: EXCLUDED"
        console.print(
            f"[{styles[row['decision']]}]{label}[/]",
            escape(f"{row['column']!r}: {row['evidence']} [{row['rules']}]; {row['why']}"),
            highlight=False,
            soft_wrap=True,
        )


def _print_training(result: TrainingResult) -> None:
    trainer, registration = result.trainer, result.registration
    if result.policy.spec is None:
        console.print(
            "[bold yellow]NO POLICY[/]", escape(result.policy.origin) + ";",
            "pass --policy FILE, set LEADSCORE_POLICY_FILE or add [policy] path to the config.",
            highlight=False, soft_wrap=True,
        )  # fmt: skip
    else:
        console.print(
            f"Policy {result.policy.spec.digest()}: {escape(result.policy.origin)}.",
            highlight=False,
            soft_wrap=True,
        )
    for line in result.profile.lines():
        console.print("[yellow]PLACEHOLDERS[/]", escape(line), highlight=False, soft_wrap=True)
    _print_audit(result.audit)
    for line in result.drift.warnings():
        console.print("[yellow]DRIFT WARNING[/]", line, highlight=False, soft_wrap=True)
    if trainer.scorer_.metadata.get("split") != "time":
        console.print(
            "[yellow]WARNING[/] the data has no timestamps or declared order, so the holdout is a "
            "stratified random sample: recent-data validation was not possible.",
            highlight=False,
        )
    table = Table(title="Holdout metrics")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for name, value in trainer.metrics_.items():
        table.add_row(name, f"{value:.4f}")
    table.add_row("baseline_roc_auc", f"{result.baseline_roc_auc:.4f}")
    console.print(table)
    if result.candidates:
        chosen = trainer.scorer_.metadata.get("model_family")
        console.print(
            "Model family (validation AUC): "
            + ", ".join(
                f"{c.name} {c.validation_roc_auc:.4f}{' (chosen)' if c.name == chosen else ''}"
                for c in result.candidates
            ),
            highlight=False,
            soft_wrap=True,
        )
    why_worse = result.worse_than_baseline()
    if why_worse is not None:
        low, high = result.versus_baseline
        console.print(
            "[bold yellow]LightGBM does worse than the logistic-regression baseline[/]",
            f"(roc_auc {trainer.metrics_['roc_auc']:.4f} < {result.baseline_roc_auc:.4f}; "
            f"95% interval of the difference {low:+.4f} to {high:+.4f}).",
            escape(why_worse) + ".",
            highlight=False,
            soft_wrap=True,
        )
    splits = Table(title="Splits")
    for column in ("split", "rows", "won", "first snapshot", "last snapshot"):
        splits.add_column(column)
    for name, split in trainer.splits_.items():
        splits.add_row(
            name, f"{split.rows:,}", f"{split.positives:,}", (split.first_as_of or "-")[:10],
            (split.last_as_of or "-")[:10],
        )  # fmt: skip
    console.print(splits)
    counts = result.dataset.counts
    if counts.without_full_horizon or counts.closed_before_snapshot:
        console.print(
            f"Left out: {counts.without_full_horizon:,} leads whose horizon has not passed yet, "
            f"{counts.closed_before_snapshot:,} closed before their snapshot."
        )
    console.print(
        f"Registered {registration.model_name} version {registration.version} "
        f"(run {registration.run_id}). {registration.decision}.",
        highlight=False,
    )


@app.command()
@handled
def score(
    input_path: Annotated[Path, typer.Option("--input", help="Leads file (.parquet or .csv).")],
    out: Annotated[Path, typer.Option(help="Output file: .csv or .parquet.")],
    activities: Annotated[
        Path | None, typer.Option(help="Activities file (.parquet or .csv).")
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config", help="Dataset config whose [leads] and [activities] column names apply."
        ),
    ] = None,
    as_of: Annotated[
        str | None, typer.Option(help="Score as of this ISO time; default now.")
    ] = None,
    reasons: Annotated[int, typer.Option(help="Reasons per lead; 0 for none.")] = 5,
    next_steps: Annotated[
        int,
        typer.Option(
            help="Next steps per lead below SQL (0: none). They about halve the leads scored "
            "per second, so a file gets them when asked.",
            min=0,
            max=10,
        ),
    ] = 0,
    model_uri: ModelUriOption = None,
    workers: Annotated[
        int | None, typer.Option(help="Processes that score slices of leads; default: cores.")
    ] = None,
    allow_missing: Annotated[
        bool,
        typer.Option(
            "--allow-missing",
            help="Score although the file lacks columns the model reads "
            "(they are scored as unknown, and counted).",
        ),
    ] = False,
    crm_format: Annotated[
        str | None,
        typer.Option(
            "--format",
            help="Write a CRM's import file: dynamics (.csv, or .jsonl for its Web API), "
            "salesforce or hubspot (.csv). Default: leadscore's own columns.",
        ),
    ] = None,
    previous: Annotated[
        Path | None,
        typer.Option(
            help="An earlier `leadscore score` output (any format): each lead's trend against "
            "its score there. Without it, every trend is 'not enough info'.",
        ),
    ] = None,
    dask: Annotated[
        str | None,
        typer.Option(
            "--dask",
            help="Score on a Dask cluster (local, local:N or a scheduler address): --input and "
            "--activities are Parquet files, folders or globs, and --out a folder that gets a "
            "Parquet file per partition.",
        ),
    ] = None,
    partitions: PartitionsOption = None,
) -> None:
    """Score every lead of a file with the batch engine and write one row per lead."""
    _quiet_libraries()
    if dask is None and partitions is not None:
        raise typer.BadParameter("--partitions goes with --dask")
    if dask is not None:
        _score_on_cluster(
            input_path, activities, out, config, as_of, (reasons, next_steps), model_uri,
            allow_missing, crm_format, previous, dask, partitions,
        )  # fmt: skip
        return
    import numpy as np

    from features import build_features, to_micros
    from leadscore.scoring_job import (
        canonical_columns,
        check_output,
        previous_scores,
        score_table,
        score_trends,
        with_accounts,
        write_scores,
    )
    from training import load_config, read_file

    crm = check_output(out, crm_format)
    earlier = previous_scores(previous) if previous else None
    dataset_config = load_config(config) if config else None
    model = _load_model(model_uri)
    # Scoring makes millions of short-lived, acyclic objects (reasons, rows): the cycle collector
    # would only walk them, and everything MLflow left behind, again and again.
    gc.freeze()
    gc.disable()
    started = time.perf_counter()
    try:
        with console.status("Scoring"):
            leads, events = canonical_columns(
                read_file(input_path),
                read_file(activities) if activities else None,
                dataset_config,
                source=str(input_path),
            )
            moment = to_micros(as_of or datetime.now(UTC), field="--as-of")
            leads = with_accounts(model.scorer, leads, events, moment, source=str(input_path))
            missing = _columns_missing(model, leads.columns, input_path, allow_missing)
            features = build_features(
                leads,
                events,
                np.full(len(leads), moment, dtype=np.int64),
                model.scorer.feature_set,
                source=str(input_path),
                activities_source=str(activities),
            )
            rows = score_table(
                model.scorer, features, reasons=reasons, next_steps=next_steps,
                version=model.version, workers=workers or os.cpu_count() or 1,
            )  # fmt: skip
            trends = None if earlier is None else score_trends(rows, earlier)
            import_problems = write_scores(
                rows, out, crm=crm, trends=trends, model=f"{model.name} v{model.version}",
                scored_at=datetime.fromtimestamp(0, UTC) + timedelta(microseconds=moment),
            )  # fmt: skip
    finally:
        gc.enable()
        gc.unfreeze()
    seconds = time.perf_counter() - started
    _warn_unused(missing, input_path, len(rows), int((rows["warnings"] != "").sum()))
    for problem in import_problems:
        console.print("[yellow]WARNING[/]", problem, highlight=False, soft_wrap=True)
    if trends is not None:
        compared = len(trends) - trends.count("not_enough_info")
        console.print(
            f"Trend: {compared:,} of {len(trends):,} leads compared with their score in "
            f"{previous}; the others are 'not enough info'", highlight=False, soft_wrap=True,
        )  # fmt: skip
    console.print(
        f"[green]Scored[/] {len(rows):,} leads with {model.name} v{model.version} -> {out} "
        f"in {seconds:.1f} s ({len(rows) / max(seconds, 1e-9):,.0f} leads/s, reading and "
        "writing included)",
        soft_wrap=True,
    )


def _columns_missing(
    model: LoadedModel, columns: Iterable[str], source: Path, allow_missing: bool
) -> list[str]:
    """The columns the model reads that the file lacks: refused unless --allow-missing. A model
    that reads accounts needs the account key, from which its account features come."""
    present = set(columns)
    wanted = model.scorer.feature_set.lead_columns()
    accounts = model.scorer.metadata.get("accounts")
    if accounts is not None and accounts["key"] not in present:
        from features import ACCOUNT_FEATURE_NAMES

        wanted = [accounts["key"], *(c for c in wanted if c not in ACCOUNT_FEATURE_NAMES)]
    missing = [c for c in wanted if c not in present]
    if missing and not allow_missing:
        raise ScoringInputError(
            f"{source}: expected the columns the model reads, missing {missing}; map them with "
            "--config, or pass --allow-missing to score them as unknown"
        )
    return missing


def _warn_unused(missing: list[str], source: Path, leads: int, warned: int) -> None:
    """Say what the scores could not use: columns absent from the file, values unread."""
    for column in missing:
        console.print(
            "[yellow]WARNING[/]", f"{column} is not in {source}: scored as unknown for all "
            f"{leads:,} leads", highlight=False, soft_wrap=True,
        )  # fmt: skip
    if warned:
        console.print(
            "[yellow]WARNING[/]", f"{warned:,} leads have values the model could not use; see "
            "the warnings column", highlight=False, soft_wrap=True,
        )  # fmt: skip


def _score_on_cluster(
    leads: Path,
    activities: Path | None,
    out: Path,
    config: Path | None,
    as_of: str | None,
    counts: tuple[int, int],
    model_uri: str | None,
    allow_missing: bool,
    crm_format: str | None,
    previous: Path | None,
    dask: str,
    partitions: int | None,
) -> None:
    """`leadscore score --dask`: every partition featurised, scored and written by a worker."""
    from features import parquet_columns, to_micros
    from leadscore.scoring_job import config_renames
    from scoring import score_on_cluster
    from training import load_config

    for given, name in ((crm_format, "--format"), (previous, "--previous")):
        if given is not None:
            raise ScoringInputError(
                f"{name} writes or reads one file; with --dask the scores are a Parquet file "
                f"per partition: score without --dask for {name}"
            )
    if out.suffix:
        raise ScoringInputError(
            f"expected --out to be a folder with --dask (a Parquet file per partition), got "
            f"{out.name!r}"
        )
    lead_names, activity_names = config_renames(load_config(config) if config else None)
    model = _load_model(model_uri)
    if "accounts" in model.scorer.metadata:
        raise ScoringInputError(
            "this model reads accounts, whose contacts span partitions: score it without --dask"
        )
    columns = [lead_names.get(c, c) for c in parquet_columns(leads)]
    missing = _columns_missing(model, columns, leads, allow_missing)
    moment = to_micros(as_of or datetime.now(UTC), field="--as-of")
    with _cluster(dask, partitions) as cluster, console.status("Scoring on the cluster"):
        result = score_on_cluster(
            cluster, model.scorer, leads=leads, activities=activities, out=out, as_of=moment,
            reasons=counts[0], next_steps=counts[1], version=model.version, renames=lead_names,
            activity_renames=activity_names,
        )  # fmt: skip
        workers = len(cluster.threads)
    _warn_unused(missing, leads, result.leads, result.warned)
    console.print(
        f"[green]Scored[/] {result.leads:,} leads with {model.name} v{model.version} on "
        f"{workers} Dask workers -> {len(result.files)} Parquet files in {out} in "
        f"{result.seconds:.1f} s ({result.leads / max(result.seconds, 1e-9):,.0f} leads/s, "
        "reading and writing included)",
        soft_wrap=True,
    )


def _load_model(model_uri: str | None) -> LoadedModel:
    from mlflow.exceptions import MlflowException

    from scoring import StoreError
    from serving import load_model

    settings = _settings(model_uri=model_uri)
    with console.status("Loading the model"):
        try:
            return load_model(settings.model_uri, settings.mlflow_tracking_uri)
        except StoreError as error:  # no store is no model yet, or no way to read one
            raise NoModel(f"expected a model at {settings.model_uri}; {error}") from None
        except MlflowException as error:
            raise NoModel(
                f"expected a model at {settings.model_uri} in {settings.mlflow_tracking_uri}, "
                f"found none ({error.message.split(chr(10))[0]}); train one with `leadscore "
                "train`, or pass --model-uri"
            ) from None


ModelNameOption = Annotated[
    str | None, typer.Option("--model-name", help="Registered model; default LEADSCORE_MODEL_NAME.")
]


@app.command()
@handled
def promote(
    version: Annotated[str, typer.Argument(help="The registered version to serve.")],
    model_name: ModelNameOption = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Serve it although its gate found no signal or a leak, or its audit "
            "was overridden.",
        ),
    ] = False,
) -> None:
    """Make VERSION the champion by hand; the one it replaces can come back with `rollback`."""
    _quiet_libraries()
    from mlflow import MlflowClient

    from scoring import check_store
    from training import RegistryError, refusals
    from training import promote as promote_version

    settings = _settings(model_name=model_name)
    name = settings.model_name
    check_store(settings.mlflow_tracking_uri, create=False)
    client = MlflowClient(settings.mlflow_tracking_uri)
    against = refusals(client, name, version)
    if against and not force:
        raise RegistryError(
            f"version {version} of {name} should not serve: {'; '.join(against)}; pass --force to "
            "serve it anyway"
        )
    for why in against:
        console.print("[bold yellow]FORCED[/]", escape(why), highlight=False, soft_wrap=True)
    previous = promote_version(client, name, version)
    console.print(f"{name} champion: version {version} (was {previous or 'none'})")


@app.command()
@handled
def rollback(model_name: ModelNameOption = None) -> None:
    """Give the champion alias back to the previous champion."""
    _quiet_libraries()
    from mlflow import MlflowClient

    from scoring import check_store
    from training import rollback as roll_back

    settings = _settings(model_name=model_name)
    name = settings.model_name
    check_store(settings.mlflow_tracking_uri, create=False)
    replaced, restored = roll_back(MlflowClient(settings.mlflow_tracking_uri), name)
    console.print(f"{name} champion: version {restored} again (was {replaced})")


@app.command()
@handled
def report(
    out: Annotated[Path, typer.Option(help="Where to write the HTML page.")] = Path("report.html"),
    model_uri: ModelUriOption = None,
) -> None:
    """Write the marketer's HTML report of a registered model (the one logged at training)."""
    _quiet_libraries()
    model = _load_model(model_uri)
    if model.report_html is None:
        console.print(
            f"[bold red]Error:[/] expected a report logged with {model.name} v{model.version}, "
            "found none; retrain the model with this version of leadscore",
            highlight=False,
        )
        raise typer.Exit(ERROR)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(model.report_html)
    console.print(f"[green]Wrote[/] the report of {model.name} v{model.version} to {out}")


MAX_LINK_MINUTES = 7 * 24 * 60  # a link cannot be revoked alone: keep its life short


def _http_url(value: str | None) -> str | None:
    if value is not None and not value.startswith(("http://", "https://")):
        raise typer.BadParameter(f"expected a URL starting with http:// or https://, got {value!r}")
    return value


@app.command("report-link")
@handled
def report_link(
    minutes: Annotated[
        int,
        typer.Option(min=1, max=MAX_LINK_MINUTES, help="How long the link opens the report."),
    ] = 60,
    base_url: Annotated[
        str | None,
        typer.Option(
            "--base-url",
            callback=_http_url,
            help="The server as browsers reach it; default http://LEADSCORE_HOST:LEADSCORE_PORT.",
        ),
    ] = None,
) -> None:
    """Print a link that opens the server's report in a browser, with no key, until it expires.

    The server must share the secret (LEADSCORE_SECRET_KEY, or the same LEADSCORE_SECRET_FILE).
    """
    from serving import report_link_signature

    settings = _settings()
    expires = int(time.time()) + minutes * 60
    host = f"[{settings.host}]" if ":" in settings.host else settings.host  # IPv6
    base = (base_url or f"http://{host}:{settings.port}").rstrip("/")
    signature = report_link_signature(settings.secret(), str(expires))
    print(f"{base}/report?expires={expires}&signature={signature}")
    until = datetime.fromtimestamp(expires, UTC).strftime("%Y-%m-%d %H:%M UTC")
    console.print(
        f"Expires at {until}, in {minutes} min; anyone with the link can read the report until "
        "then.",
        highlight=False,
        soft_wrap=True,
    )
    if base_url is None and settings.host in ("0.0.0.0", "::"):
        console.print(
            f"[yellow]WARNING[/] the server listens on every address ({settings.host}), which "
            "browsers cannot open: pass --base-url with the address they reach it at.",
            highlight=False,
            soft_wrap=True,
        )


@app.command()
@handled
def serve(
    host: Annotated[str | None, typer.Option(help="Default: LEADSCORE_HOST.")] = None,
    port: Annotated[int | None, typer.Option(help="Default: LEADSCORE_PORT.")] = None,
) -> None:
    """Serve the HTTP API (OpenAPI docs at /docs)."""
    _serve(_settings(host=host, port=port))


def _serve(settings: Settings, banner: str | None = None) -> None:
    _quiet_libraries()
    from leadscore.logs import configure
    from serving import run

    configure()
    if not settings.auth_configured and not settings.is_loopback:
        console.print(
            f"[bold red]Refusing to listen on {settings.host}[/] without API keys: anyone on the "
            "network could score leads and read the report. Set LEADSCORE_API_KEYS "
            "('key:score,key2:admin') or serve on 127.0.0.1.",
            highlight=False,
        )
        raise typer.Exit(CANNOT_SERVE)
    _check_port(settings)
    if banner:
        # Plain print: rich would wrap the curl line and read its JSON brackets as markup.
        print(banner, flush=True)
    try:
        run(
            settings.host,
            settings.port,
            settings.workers,
            setup=configure,
            read_timeout=settings.read_timeout_seconds,
        )
    except OSError as error:  # taken between the check and the bind
        _cannot_listen(settings, error)


def _check_port(settings: Settings) -> None:
    """Exit 2 at once when the address is taken, before anything slow is loaded."""
    from serving import check_port

    try:
        check_port(settings.host, settings.port)
    except OSError as error:
        _cannot_listen(settings, error)


def _cannot_listen(settings: Settings, error: OSError) -> NoReturn:
    console.print(
        f"[bold red]Cannot listen on {settings.host}:{settings.port}[/]: {error.strerror}; "
        "the address is probably already in use: stop the other server or set LEADSCORE_PORT.",
        highlight=False,
    )
    raise typer.Exit(CANNOT_SERVE) from None


@app.command()
@handled
def demo(
    leads: Annotated[
        int | None, typer.Option(help="How many demo leads; default LEADSCORE_DEMO_LEADS.")
    ] = None,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 42,
    out: Annotated[
        Path | None, typer.Option(help="Demo data folder; default LEADSCORE_DATA_DIR.")
    ] = None,
    port: Annotated[int | None, typer.Option(help="Default: LEADSCORE_PORT or 8000.")] = None,
) -> None:
    """Generate demo data, train and register a model, then serve it: reusing what is valid."""
    _quiet_libraries()
    from leadscore import demo_data
    from serving import load_model
    from training import load_policy, train_and_register

    settings = _settings(data_dir=out, demo_leads=leads, port=port)
    _check_port(settings)
    out, leads = settings.data_dir, settings.demo_leads
    if demo_data.is_complete(out, n_leads=leads, seed=seed):
        console.print(f"Reusing the demo data in {out}")
    else:
        _generate(leads, seed, out, "parquet")
    try:
        model = load_model(settings.model_uri, settings.mlflow_tracking_uri)
        console.print(f"Reusing {model.name} version {model.version} ({settings.model_uri})")
    except Exception:  # no champion yet, or it cannot load: train one
        with console.status("Training") as status:
            result = train_and_register(
                settings, policy=load_policy(DEMO_POLICY), on_step=_progress(status)
            )
        _print_training(result)
    _serve(settings, banner=_curl_banner(settings.host, settings.port))


def _curl_banner(host: str, port: int) -> str:
    now = datetime.now(UTC).replace(microsecond=0)
    stamp = lambda days: (now - timedelta(days=days)).isoformat().replace("+00:00", "Z")  # noqa: E731
    lead = {
        "lead_id": "demo-1",
        "created_at": stamp(3),
        "source": "referral",
        "campaign": "customer-referral",
        "country": "US",
        "industry": "Software",
        "company_size": 250,
        "job_title": "VP of Marketing",
        "email_domain": "acme.example",
        "activities": [
            {"activity_type": "pricing_page_view", "occurred_at": stamp(3)},
            {"activity_type": "demo_request", "occurred_at": stamp(2)},
        ],
    }
    body = json.dumps(lead, separators=(",", ":"))
    return (
        f"\nleadscore is starting on http://{host}:{port} (API docs: /docs)\n"
        "Score a lead:\n\n"
        f"curl -s -X POST http://{host}:{port}/v1/score -H 'Content-Type: application/json' "
        f"-d '{body}'\n"
    )


@app.command()
@handled
def outcomes(
    input_file: Annotated[
        Path, typer.Option("--input", help="A CRM export of won, lost and open leads.")
    ],
    config: Annotated[
        Path | None,
        typer.Option("--config", help="Dataset config whose [outcome] names the columns."),
    ] = None,
) -> None:
    """Keep what became of scored leads (won or lost, and the stages they passed) in the
    prediction log, beside their scores: `leadscore performance` then measures them."""
    from leadscore.loop import import_outcomes

    rows, events, waiting = import_outcomes(_settings(), input_file, config)
    console.print(
        f"Kept {events:,} events from {rows:,} rows of {input_file}"
        + (f"; {waiting:,} wait in the spool for the database" if waiting else ""),
        highlight=False,
        soft_wrap=True,
    )


@app.command()
@handled
def performance(
    weeks: Annotated[
        int | None,
        typer.Option("--weeks", min=1, max=520, help="Weeks of scoring to read (default 26)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the JSON answer.")] = False,
    report_file: Annotated[
        Path | None, typer.Option("--report", help="Also write this HTML page.")
    ] = None,
) -> None:
    """The funnel (scored, MQL, SQL, won), realised AUC and expected wins of the served scores,
    by week, source and model version, as `GET /v1/performance` answers them."""
    from leadscore.loop import performance_json, print_performance, read_performance

    settings = _settings()
    answer = read_performance(settings, weeks)
    if as_json:
        typer.echo(performance_json(answer))
    else:
        print_performance(answer)
    if report_file is not None:
        from training import render_performance_page

        report_file.write_text(render_performance_page(answer, model_name=settings.model_name))
        console.print(f"Report written to {report_file}", highlight=False)


if __name__ == "__main__":
    app()
