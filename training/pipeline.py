"""The training job end to end: read and check the export, audit it, fit, log, register, gate."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd
from mlflow import MlflowClient
from sklearn.metrics import roc_auc_score

from features import (
    ACTIVITY_TYPE,
    CREATED_AT,
    DEFAULT_FEATURES,
    HIGH_INTENT_ACTIVITIES,
    LEAD_ID,
    MICROS_PER_DAY,
    OCCURRED_AT,
    Attribute,
    FeatureSet,
    build_features,
    micros_to_datetime,
    series_to_micros,
)
from scoring import Cluster, LeadScorer, Policy, Settings, check_store
from training import gate, registry
from training.audit import AuditReport, audit
from training.columns import demo_feature_set, feature_set_for
from training.config import AccountsSection, CostsSection, DatasetConfig
from training.data import CrmExport, demo_config, load_dataset
from training.distributed import cluster_features, fit_on_cluster, rounds_on_sample
from training.errors import ConfigError
from training.evaluate import (
    DriftReport,
    auc_difference_interval,
    baseline_probabilities,
    drift_report,
    worse_than_baseline,
)
from training.examples import Dataset, build_dataset, with_account_features
from training.gate import GateDecision, GateRules, HoldoutWindow
from training.next_steps import attach_next_steps
from training.policy import PolicyChoice, PolicySpec, load_policy, policy_change
from training.profile import DataProfile, profile
from training.registry import Registration, RunRecord
from training.report import (
    LEADS_TO_CALL_ARTIFACT,
    leads_to_call,
    reliability_png,
    render_report,
)
from training.train import (
    Candidate,
    LeadScoreTrainer,
    TrainConfig,
    check_lightgbm_params,
    check_minimum,
    choose_family,
    fit_segments,
)
from training.tune import Trial, tune

Say = Callable[[str], None]


@dataclass(frozen=True)
class TrainingResult:
    """Everything a training run made: the fitted trainer, its data, and what was registered."""

    trainer: LeadScoreTrainer
    dataset: Dataset
    registration: Registration
    audit: AuditReport
    baseline_roc_auc: float
    drift: DriftReport
    versus_baseline: tuple[
        float, float
    ]  # 95% interval of LightGBM's holdout AUC minus the baseline's
    candidates: list[Candidate]
    profile: DataProfile
    policy: PolicyChoice

    def worse_than_baseline(self) -> str | None:
        """Why LightGBM lost to the logistic baseline, when the whole interval says it did."""
        linear = bool(self.trainer.config.lightgbm_params().get("linear_tree"))
        return worse_than_baseline(self.versus_baseline, self.drift, linear_leaves=linear)


def train_config_from(config: DatasetConfig) -> TrainConfig:
    """The training settings a dataset config asks for, on top of the defaults."""
    section = config.training
    return TrainConfig(
        snapshot_delay_days=section.snapshot_days,
        horizon_days=section.horizon_days,
        holdout_share=section.holdout_share,
        validation_share=section.validation_share,
        seed=section.seed,
        min_per_class=section.min_per_class,
        lightgbm_overrides=dict(config.model),
    )


def train_and_register(
    settings: Settings,
    *,
    config: DatasetConfig | None = None,
    data_dir: Path | None = None,
    train_config: TrainConfig | None = None,
    feature_set: FeatureSet | None = None,
    allow_leaky: Sequence[str] = (),
    policy: PolicySpec | None = None,
    export: CrmExport | None = None,
    tune_trials: int = 0,
    on_step: Say = lambda _message: None,
    policy_choice: PolicyChoice | None = None,
    force: bool = False,
    cluster: Cluster | None = None,
) -> TrainingResult:
    """Train on a dataset config (default: the demo layout in `data_dir`) and register the model.

    Every run validates the data, refuses too little of it, audits for leakage before fitting,
    and compares the booster with a logistic-regression baseline on the same split. With a
    `cluster`, features and the fit run on it (see `training.distributed`); the rest does not
    change.
    """
    dataset_config = config or demo_config(data_dir or settings.data_dir)
    model_name = dataset_config.model_name or settings.model_name
    choice = policy_choice or resolve_policy(settings, dataset_config, model_name, policy)
    policy = choice.spec
    on_step(f"Policy: {choice.origin}")
    train_config = train_config or train_config_from(dataset_config)
    check_lightgbm_params(train_config.lightgbm_overrides, dataset_config.location)
    if cluster is not None:
        check_distributable(train_config, tune_trials, dataset_config.location)
    if export is None:
        on_step(f"Reading and checking {dataset_config.location}")
        export = load_dataset(dataset_config)
    if feature_set is None:
        feature_set = (
            demo_feature_set(export, dataset_config.accounts)
            if config is None
            else feature_set_for(config, export)
        )
    data_profile = profile(export.leads, feature_set)
    on_step("Building point-in-time features and labels")
    dataset = build_dataset(
        export,
        feature_set,
        snapshot_delay_days=train_config.snapshot_delay_days,
        horizon_days=train_config.horizon_days,
        compute=build_features if cluster is None else partial(cluster_features, cluster),
        accounts=dataset_config.accounts,
    )
    check_minimum(dataset.labels, train_config.min_per_class)
    splits = train_config.splits(dataset)
    on_step("Auditing columns for leakage")
    findings = audit(
        dataset,
        splits,
        export.timestamp_columns,
        open_leads=open_leads(
            export, dataset, dataset_config.accounts, train_config.snapshot_delay_days
        ),
        auc_threshold=dataset_config.audit.auc_threshold,
        missingness_gap=dataset_config.audit.missingness_gap,
        allow=[*dataset_config.audit.allow, *allow_leaky],
    )
    dataset = dataset.with_features(_without(dataset.feature_set, findings.excluded))
    check_segment_by(dataset_config, dataset.feature_set)  # the audit may have excluded it
    if policy is not None:
        _check_policy_features(choice, dataset.feature_set)
    trials: list[Trial] = []
    family = None
    pick_family = (
        tune_trials == 0 and not dataset_config.model and not train_config.lightgbm_overrides
    )
    fitted = None
    if cluster is not None:
        train_config, rounds, family = rounds_on_sample(
            dataset, train_config, splits, family=pick_family, on_step=on_step
        )
        on_step(
            f"Fitting LightGBM on the cluster: {rounds} rounds on {len(splits['train']):,} "
            f"training rows over {len(cluster.threads)} workers"
        )
        fitted = fit_on_cluster(cluster, train_config, dataset, splits, rounds)
    elif pick_family:
        family = choose_family(
            dataset,
            train_config,
            splits,
            on_candidate=lambda c: on_step(
                f"Model family: {c.name}, validation AUC {c.validation_roc_auc:.4f}"
            ),
        )
        train_config = family.config
        fitted = family.fitted
    candidates = [] if family is None else family.candidates
    if tune_trials > 0:
        on_step("Tuning: checking that the largest shape searched can be saved and explained")
        train_config, trials = tune(
            dataset,
            train_config,
            tune_trials,
            on_trial=lambda t: on_step(
                f"Tuning: trial {t.number + 1}/{tune_trials}, validation AUC "
                f"{t.validation_roc_auc:.4f}"
            ),
        )
    if fitted is None:
        on_step(f"Fitting LightGBM on {len(dataset.labels):,} labelled leads")
    trainer = LeadScoreTrainer(train_config, policy).fit(dataset, fitted)
    trainer.scorer_.metadata["policy"] = choice.metadata()
    if cluster is not None:
        trainer.scorer_.metadata["fitted_on"] = {
            "dask_workers": len(cluster.threads),
            "buckets": cluster.buckets_for(len(dataset.labels)),
            "rounds": trainer.best_iteration_,
        }
    if dataset_config.leads.aliases:
        trainer.scorer_.metadata["aliases"] = dict(dataset_config.leads.aliases)
        trainer.scorer_.aliases = dict(dataset_config.leads.aliases)
    if family is not None:
        trainer.scorer_.metadata["model_family"] = family.chosen
    segments = None
    segment_by = dataset_config.training.segment_by
    if segment_by:
        on_step(f"Fitting one model per {segment_by}")
        segments = fit_segments(dataset, train_config, trainer.scorer_.policy, segment_by)
        scorer = trainer.scorer_
        scorer.segment_by = segment_by
        scorer.segments = segments.scorers
        scorer.metadata["segments"] = segments.metrics
        scorer.metadata["segment_fallback"] = segments.fallback
    if dataset_config.accounts is not None:  # what the server's account book reads
        trainer.scorer_.read_accounts(
            account_spec(dataset_config.accounts, dataset_config.leads.placeholders)
        )
    if dataset_config.next_steps is not None:
        moves = attach_next_steps(
            trainer, dataset, dataset_config.next_steps, dataset_config.location
        )
        for note in moves.left_out:
            on_step(f"Next steps: left out {note}")
    on_step("Fitting the logistic-regression baseline and measuring drift")
    baseline_holdout = baseline_probabilities(dataset, splits)
    holdout_labels = dataset.labels[splits["holdout"]]
    baseline = float(roc_auc_score(holdout_labels, baseline_holdout))
    versus_baseline = auc_difference_interval(
        holdout_labels, trainer.holdout_["probability"].to_numpy(), baseline_holdout
    )
    drift = drift_report(dataset, splits)
    on_step("Logging the run and registering the model in MLflow")
    registration = log_and_register(
        trainer,
        dataset,
        settings,
        example_lead=example_lead(export, dataset, int(splits["holdout"][-1])),
        model_name=model_name,
        record=RunRecord(
            data_location=dataset_config.location,
            audit=findings,
            baseline_roc_auc=baseline,
            drift=drift,
            trials=tuple(trials),
            candidates=tuple(candidates),
            segments=segments,
            profile=data_profile,
            policy=choice,
        ),
        window=_holdout_window(export, dataset, splits["holdout"]),
        fingerprint=fingerprint(export, dataset_config, policy, allow_leaky),
        force=force,
        export=export,
        costs=dataset_config.costs,
    )
    return TrainingResult(
        trainer,
        dataset,
        registration,
        findings,
        baseline,
        drift,
        versus_baseline,
        candidates,
        data_profile,
        choice,
    )


def log_and_register(
    trainer: LeadScoreTrainer,
    dataset: Dataset,
    settings: Settings,
    *,
    example_lead: dict[str, Any],
    model_name: str,
    record: RunRecord,
    window: HoldoutWindow | None = None,
    fingerprint: str | None = None,
    force: bool = False,
    export: CrmExport | None = None,
    costs: CostsSection | None = None,
) -> Registration:
    """One MLflow run: log the training, register the model, let the gate decide, log the
    report, which opens with what the gate decided, and only then promote: a run that dies
    half-way never leaves a champion without its report. With the `export`, the leads to call
    are logged beside the report; with `costs`, the report shows the cost per won lead."""
    labels = trainer.holdout_["label"].to_numpy()
    probabilities = trainer.holdout_["probability"].to_numpy()
    importance = trainer.importance_
    top_feature = str(importance["feature"].iloc[0]) if len(importance) else None
    with registry.training_run(settings) as run:
        registry.log_training(trainer, dataset, record)
        registry.log_png(reliability_png(labels, probabilities), registry.RELIABILITY_ARTIFACT)
        version = registry.register_model(trainer.scorer_, model_name, example_lead, fingerprint)
        client = MlflowClient()
        overridden = [] if record.audit is None else record.audit.overridden
        if overridden:
            mlflow.set_tag(gate.OVERRIDDEN_TAG, ",".join(overridden))
        decision = gate.decide(
            client, model_name, version, labels, probabilities, window, GateRules.of(settings),
            top_feature,
        )  # fmt: skip
        decision = _weigh_policy(decision, settings, client, model_name, version, record, force)
        gate.record(decision)
        calls = None
        if export is not None:
            calls = leads_to_call(
                trainer.scorer_,
                export,
                snapshot_days=trainer.config.snapshot_delay_days,
                horizon_days=trainer.config.horizon_days,
            )
            registry.log_text(calls.to_csv(index=False), LEADS_TO_CALL_ARTIFACT)
        report = render_report(
            trainer,
            dataset,
            model_name=model_name,
            version=version,
            baseline_roc_auc=record.baseline_roc_auc,
            audit=record.audit,
            candidates=record.candidates,
            decision=decision,
            export=export,
            costs=costs,
            calls=calls,
        )
        registry.log_text(report, registry.REPORT_ARTIFACT)
    if decision.promote:
        gate.promote(client, model_name, version)
    return Registration(
        model_name,
        run.info.run_id,
        version,
        decision.promote,
        decision.reason,
        gate.current_champion(client, model_name),
        decision.no_signal,
    )


def _weigh_policy(
    decision: GateDecision,
    settings: Settings,
    client: MlflowClient,
    model_name: str,
    version: str,
    record: RunRecord,
    force: bool,
) -> GateDecision:
    """The gate's decision, told how the policy differs from the serving champion's; a version
    trained with no policy at all replaces a champion that has one only with --force."""
    found = _champion_policy(settings, client, model_name)
    if found is None or record.policy is None:
        return decision
    champion, served = found
    new = record.policy.spec
    if decision.promote and new is None and served is not None and not force:
        return dataclasses.replace(
            decision,
            promote=False,
            reason=f"version {version} is not promoted: it was trained with no policy while "
            f"champion {champion} serves the agreed one ({len(served.icp)} ICP rules, "
            f"{len(served.exclusions)} exclusions); train with --policy FILE, or pass --force to "
            f"replace it knowingly. {gate.serving_now(client, model_name)}",
        )
    change = policy_change(served, new)
    if change is None:
        return decision
    return dataclasses.replace(
        decision, reason=f"{decision.reason}. Policy differs from champion {champion}'s: {change}"
    )


def train_rules_only(
    settings: Settings,
    *,
    config: DatasetConfig | None = None,
    data_dir: Path | None = None,
    policy: PolicySpec | None = None,
    on_step: Say = lambda _message: None,
) -> Registration:
    """The cold start: register a model that recommends from the policy's rules alone."""
    dataset_config = config or demo_config(data_dir or settings.data_dir)
    model_name = dataset_config.model_name or settings.model_name
    choice = resolve_policy(settings, dataset_config, model_name, policy)
    policy = choice.spec
    if policy is None or not (policy.icp or policy.exclusions):
        raise ConfigError(
            "expected a policy file with ICP rules or exclusions for a rules-only model, got "
            "none; pass --policy FILE"
        )
    on_step(f"Reading and checking {dataset_config.location}")
    export = load_dataset(dataset_config)
    feature_set = DEFAULT_FEATURES if config is None else feature_set_for(config, export)
    policy.check_features(feature_set.names, choice.origin)
    labels = export.labels
    if labels is None and export.outcomes is not None:
        labels = (export.outcomes["status"] == "won").to_numpy()
    won = int(np.sum(labels)) if labels is not None else 0
    lost = (len(labels) - won) if labels is not None else 0
    rules = Policy(
        sql_threshold=0, mql_threshold=0,
        icp=policy.icp, exclusions=policy.exclusions, rules_only=True,
    )  # fmt: skip
    scorer = LeadScorer.rules_only(
        feature_set,
        rules,
        {"trained_at": datetime.now(UTC).isoformat(), "won": won, "lost": lost, "metrics": {}},
    )
    on_step("Registering the rules-only model in MLflow")
    with registry.training_run(settings) as run:
        registry.log_rules_only(scorer, dataset_config.location)
        version = registry.register_model(
            scorer, model_name, {LEAD_ID: str(export.leads[LEAD_ID].iloc[0])}, None
        )
        client = MlflowClient()
        champion = gate.current_champion(client, model_name)
        replaces = champion is None or registry.is_rules_only(client, model_name, champion)
        if replaces:
            gate.promote(client, model_name, version)
            reason = (
                f"version {version} serves recommendations from the policy rules alone until "
                "there is enough history to score"
            )
        else:
            reason = f"champion {champion} scores leads already; the rules-only model waits"
        registry.log_decision_tag(reason)
    return Registration(
        model_name, run.info.run_id, version, replaces, reason,
        gate.current_champion(client, model_name),
    )  # fmt: skip


PROMOTED, KEPT = 0, 3


@dataclass(frozen=True)
class RetrainOutcome:
    """What a scheduled retraining did: exit code 0 when it promoted, 3 when the champion stays."""

    exit_code: int
    message: str
    version: str | None
    result: TrainingResult | None = None


def retrain(
    settings: Settings,
    *,
    config: DatasetConfig | None = None,
    data_dir: Path | None = None,
    policy: PolicySpec | None = None,
    on_step: Say = lambda _message: None,
    cluster: Cluster | None = None,
) -> RetrainOutcome:
    """Build, train, gate and promote or not; a second run on the same data changes nothing."""
    dataset_config = config or demo_config(data_dir or settings.data_dir)
    name = dataset_config.model_name or settings.model_name
    choice = resolve_policy(settings, dataset_config, name, policy)
    on_step(f"Reading and checking {dataset_config.location}")
    export = load_dataset(dataset_config)
    print_ = fingerprint(export, dataset_config, choice.spec)
    existing = registry.find_version_by_fingerprint(settings, name, print_)
    if existing is not None:
        champion = gate.current_champion(MlflowClient(settings.mlflow_tracking_uri), name)
        role = "the champion" if champion == existing else "not the champion"
        return RetrainOutcome(
            KEPT,
            f"already trained on exactly this data and policy as version {existing} ({role}); "
            "nothing to do",
            existing,
        )
    result = train_and_register(
        settings,
        config=config,
        data_dir=data_dir,
        export=export,
        on_step=on_step,
        policy_choice=choice,
        cluster=cluster,
    )
    registration = result.registration
    code = PROMOTED if registration.promoted else KEPT
    return RetrainOutcome(code, registration.decision, registration.version, result)


@dataclass(frozen=True)
class ConfigCheck:
    """What `leadscore validate` found: the export as read and the features it offers."""

    export: CrmExport
    feature_set: FeatureSet
    profile: DataProfile


def account_spec(accounts: AccountsSection, placeholders: Sequence[str]) -> dict[str, Any]:
    """The account columns a server's book reads, as the model's metadata carries them."""
    return {
        "key": accounts.key,
        "title_column": accounts.title_column,
        "high_intent": list(accounts.high_intent or HIGH_INTENT_ACTIVITIES),
        "placeholders": list(placeholders),
    }


def check_config(
    config: DatasetConfig, policy: PolicySpec | None = None, policy_source: str | None = None
) -> ConfigCheck:
    """Everything training would check of a config before fitting, without fitting: LightGBM's
    parameters, every row of the export, segment_by, and the policy's rules against the
    features. What passes here cannot fail later on a config mistake."""
    check_lightgbm_params(config.model, config.location)
    export = load_dataset(config)
    feature_set = feature_set_for(config, export)
    check_segment_by(config, feature_set)
    if policy is not None:
        policy.check_features(feature_set.names, policy_source)
    return ConfigCheck(export, feature_set, profile(export.leads, feature_set))


def check_distributable(config: TrainConfig, tune_trials: int, source: str) -> None:
    """Refuse, before any data is read, what a cluster cannot train: tuning, which searches on
    one machine, and linear leaves, which LightGBM fits on one machine only."""
    if tune_trials:
        raise ConfigError(
            "expected --tune or --dask, got both: tuning searches on one machine; tune without "
            "--dask, then put the chosen parameters in [model] and train with --dask"
        )
    if config.lightgbm_overrides.get("linear_tree"):
        raise ConfigError(
            "[model] linear_tree: LightGBM fits linear leaves on one machine only; remove it, "
            "or train without --dask",
            source=source,
        )


def check_segment_by(config: DatasetConfig, feature_set: FeatureSet) -> None:
    segment_by = config.training.segment_by
    if segment_by and (
        segment_by not in feature_set.names or feature_set[segment_by].kind != "categorical"
    ):
        raise ConfigError(
            f"expected segment_by to name a categorical feature, got {segment_by!r}; the "
            f"categorical features are {[f.name for f in feature_set if f.kind == 'categorical']}",
            source=config.location,
            key="[training] segment_by",
        )


def open_leads(
    export: CrmExport,
    dataset: Dataset,
    accounts: AccountsSection | None = None,
    snapshot_delay_days: float = 7.0,
) -> pd.DataFrame | None:
    """Leads with no outcome yet and no training row: what a new lead looks like at scoring time,
    with its account features as of its snapshot when the model reads accounts."""
    if export.outcomes is None:
        return None
    ids = export.leads[LEAD_ID].astype(object)
    decided = ids.isin(export.outcomes[LEAD_ID].astype(object)) | ids.isin(
        dataset.features.index.astype(object)
    )
    still_open = export.leads.loc[~decided.to_numpy()]
    if accounts is None:
        return still_open
    created = series_to_micros(still_open[CREATED_AT], source="leads", column=CREATED_AT)
    as_of = created + int(snapshot_delay_days * MICROS_PER_DAY)
    return with_account_features(export, still_open.reset_index(drop=True), as_of, accounts)


def _check_policy_features(choice: PolicyChoice, feature_set: FeatureSet) -> None:
    """Rules about features this model lacks would never hold; say how to fix it."""
    if choice.spec is None:
        return
    try:
        choice.spec.check_features(feature_set.names, choice.origin)
    except ConfigError as error:
        if not choice.inherited:
            raise
        raise ConfigError(
            f"{error}; this model cannot keep the champion's policy: pass --policy FILE with "
            "rules about its own features (or an empty policy file, knowingly)"
        ) from None


def _champion_policy(
    settings: Settings, client: MlflowClient, model_name: str
) -> tuple[str, PolicySpec | None] | None:
    """The serving champion of `model_name` and the policy it was trained with; None when no
    champion serves."""
    champion = gate.current_champion(client, model_name)
    if champion is None:
        return None
    run_id = client.get_model_version(model_name, champion).run_id
    return champion, None if run_id is None else registry.logged_policy(settings, run_id)


def resolve_policy(
    settings: Settings,
    config: DatasetConfig,
    model_name: str,
    given: PolicySpec | None = None,
) -> PolicyChoice:
    """The agreement a version trains with: the one given (--policy), LEADSCORE_POLICY_FILE, the
    dataset config's [policy], then the serving champion's, so a retrain that names none keeps
    what marketing and sales agreed on rather than dropping it."""
    if given is not None:
        return PolicyChoice(given, "the policy given (--policy)")
    if settings.policy_file is not None:
        file = settings.policy_file
        return PolicyChoice(load_policy(file), f"LEADSCORE_POLICY_FILE ({file})")
    if config.policy is not None:
        file = config.policy.path
        return PolicyChoice(load_policy(file), f"the dataset config's [policy] ({file})")
    check_store(settings.mlflow_tracking_uri, create=True)
    client = MlflowClient(settings.mlflow_tracking_uri)
    # This model's champion, else (a notebook's or a test's own model) the production one's.
    for name in dict.fromkeys((model_name, settings.model_name)):
        found = _champion_policy(settings, client, name)
        if found is None:
            continue
        champion, inherited = found
        if inherited is not None:
            whose = "" if name == model_name else f" of {name}"
            return PolicyChoice(
                inherited, f"champion version {champion}{whose}'s policy, kept", inherited=True
            )
        break
    return PolicyChoice(
        None,
        "NONE: no --policy, LEADSCORE_POLICY_FILE, [policy] in the config or champion policy; "
        "SQL and MQL fall back to the top 10% and 30% of scores, with no ICP rules or exclusions",
    )


def _without(feature_set: FeatureSet, columns: Sequence[str]) -> FeatureSet:
    """The features that read none of `columns`."""
    return FeatureSet(
        tuple(
            f
            for f in feature_set
            if not (isinstance(f.computation, Attribute) and f.computation.column in columns)
        ),
        feature_set.placeholders,
    )


def fingerprint(
    export: CrmExport,
    config: DatasetConfig,
    policy: PolicySpec | None,
    allow_leaky: Sequence[str] = (),
) -> str:
    """A digest of the data, the dataset config, the policy and the columns kept against the
    audit: same digest, same model."""
    digest = hashlib.sha256()
    for frame in (export.leads, export.activities, export.outcomes):
        if frame is not None:
            digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    if export.labels is not None:
        digest.update(export.labels.tobytes())
    settings_read = (config.leads, config.outcome, config.activities, config.training,
                     config.model, config.audit, policy, sorted(allow_leaky))  # fmt: skip
    digest.update(repr(settings_read).encode())
    return digest.hexdigest()[:32]


def _holdout_window(export: CrmExport, dataset: Dataset, rows: np.ndarray) -> HoldoutWindow | None:
    if dataset.leads is None:
        return None
    return HoldoutWindow(
        leads=dataset.leads.iloc[rows].reset_index(drop=True),
        activities=export.activities,
        as_of=dataset.as_of[rows],
        labels=dataset.labels[rows],
    )


def example_lead(export: CrmExport, dataset: Dataset, row: int) -> dict[str, Any]:
    """One real lead as the API receives it: attributes and activities up to its snapshot."""
    if dataset.leads is None:
        return {LEAD_ID: str(dataset.features.index[row])}
    lead_row = dataset.leads.iloc[row]
    lead_id = str(lead_row[LEAD_ID])
    as_of = int(dataset.as_of[row])
    lead: dict[str, Any] = {LEAD_ID: lead_id}
    if CREATED_AT in dataset.leads.columns:
        created = series_to_micros(
            pd.Series([lead_row[CREATED_AT]]), source="leads", column=CREATED_AT
        )
        lead[CREATED_AT] = micros_to_datetime(created[0]).isoformat()
    for column in dataset.feature_set.lead_columns():
        value = lead_row.get(column)
        lead[column] = None if pd.isna(value) else _plain(value)
    activities = []
    if export.activities is not None:
        own = export.activities.loc[export.activities[LEAD_ID].astype(object) == lead_id]
        stamps = series_to_micros(own[OCCURRED_AT], source="activities", column=OCCURRED_AT)
        for stamp, kind in zip(stamps, own[ACTIVITY_TYPE], strict=True):
            if stamp <= as_of:
                activities.append(
                    {ACTIVITY_TYPE: kind, OCCURRED_AT: micros_to_datetime(stamp).isoformat()}
                )
    lead["activities"] = activities
    if as_of > 0:
        lead["as_of"] = micros_to_datetime(as_of).isoformat()
    return lead


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    return float(value) if isinstance(value, int) else value
