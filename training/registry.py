"""MLflow: what a training run logs, and registering its model as a new version.

Deciding whether that version serves is `training.gate`'s job; `training.pipeline` puts the two
together in one run.
"""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Any

import lightgbm as lgb
import mlflow
from mlflow import MlflowClient
from mlflow.entities import Run
from mlflow.exceptions import MlflowException

from scoring import (
    SCORER_ARTIFACT,
    LeadScorer,
    Rule,
    Settings,
    check_store,
    input_example,
    model_code,
    signature,
)
from training.audit import AuditReport
from training.evaluate import DriftReport, expected_calibration_error
from training.examples import Dataset
from training.policy import PolicyChoice, PolicySpec
from training.profile import DataProfile
from training.train import Candidate, LeadScoreTrainer, SegmentModels
from training.tune import Trial

HOLDOUT_ARTIFACT = "holdout_predictions.csv"
REPORT_ARTIFACT = "report.html"
WHAT_IF_ARTIFACT = "what_if.csv"
RELIABILITY_ARTIFACT = "reliability.png"
POLICY_SPEC_ARTIFACT = "policy_file.json"  # the policy as its file says it, read back by retrains
FINGERPRINT_TAG = "data_fingerprint"
RULES_ONLY_TAG = "rules_only"
CHALLENGER = "challenger"


@dataclass(frozen=True)
class Registration:
    model_name: str
    run_id: str
    version: str
    promoted: bool
    decision: str
    champion_version: str | None
    no_signal: bool = False


@dataclass(frozen=True)
class RunRecord:
    """What a training run found besides the model, as logged beside it."""

    data_location: str
    audit: AuditReport | None = None
    baseline_roc_auc: float | None = None
    drift: DriftReport | None = None
    trials: tuple[Trial, ...] = ()
    candidates: tuple[Candidate, ...] = ()
    segments: SegmentModels | None = None
    profile: DataProfile | None = None
    policy: PolicyChoice | None = None


def logged_policy(settings: Settings, run_id: str) -> PolicySpec | None:
    """The policy a run trained with: its logged policy file, else the rules of its fitted
    policy (runs logged before policy files were); None when it had neither."""
    with tempfile.TemporaryDirectory() as scratch:
        for artifact in (POLICY_SPEC_ARTIFACT, "policy.json"):
            try:
                path = mlflow.artifacts.download_artifacts(
                    run_id=run_id,
                    artifact_path=artifact,
                    dst_path=scratch,
                    tracking_uri=settings.mlflow_tracking_uri,
                )
            except (MlflowException, OSError):
                continue
            data = json.loads(Path(path).read_text())
            if artifact == POLICY_SPEC_ARTIFACT:
                return PolicySpec.from_dict(data, f"run {run_id} {artifact}")
            rules = [tuple(Rule.parse(text) for text in data.get(key, ()))
                     for key in ("icp", "exclusions")]  # fmt: skip
            return PolicySpec.from_rules(*rules) if any(rules) else None
    return None


@contextmanager
def training_run(settings: Settings) -> Iterator[Run]:
    """An MLflow run in the leadscore experiment of the configured store, which training may
    create (the first model's) but not wait minutes for."""
    check_store(settings.mlflow_tracking_uri, create=True)
    mlflow.set_tracking_uri(settings.mlflow_tracking_uri)
    experiment_id = _experiment_id(settings)
    with mlflow.start_run(experiment_id=experiment_id) as run:
        yield run


def log_training(trainer: LeadScoreTrainer, dataset: Dataset, record: RunRecord) -> None:
    """Params, holdout metrics, tables and plots of a fitted trainer, into the active run."""
    mlflow.log_params(asdict(trainer.config))
    mlflow.log_params(
        {
            "data_location": record.data_location,
            "feature_count": len(dataset.feature_set),
            "best_iteration": trainer.best_iteration_,
            "labelled_leads": dataset.counts.labelled,
            "left_out_without_full_horizon": dataset.counts.without_full_horizon,
            "left_out_closed_before_snapshot": dataset.counts.closed_before_snapshot,
            "split": trainer.scorer_.metadata["split"],
        }
    )
    for name, split in trainer.splits_.items():
        mlflow.log_params(
            {
                f"{name}_rows": split.rows,
                f"{name}_positives": split.positives,
                f"{name}_first_as_of": split.first_as_of,
                f"{name}_last_as_of": split.last_as_of,
            }
        )
    labels = trainer.holdout_["label"].to_numpy()
    probabilities = trainer.holdout_["probability"].to_numpy()
    mlflow.log_metrics(
        {**trainer.metrics_, "ece": expected_calibration_error(labels, probabilities)}
    )
    _log_findings(record)
    mlflow.log_dict(dataset.feature_set.to_dict(), "features.json")
    mlflow.log_dict(trainer.scorer_.policy.to_dict(), "policy.json")
    mlflow.log_text(trainer.importance_.to_csv(index=False), "feature_importance.csv")
    mlflow.log_text(trainer.holdout_.to_csv(index=False), HOLDOUT_ARTIFACT)
    mlflow.log_text(trainer.what_if_.to_csv(index=False), WHAT_IF_ARTIFACT)


def _log_findings(record: RunRecord) -> None:
    if record.trials:
        mlflow.log_param("tuning_trials", len(record.trials))
        experiment_id = mlflow.active_run().info.experiment_id
        for trial in record.trials:
            with mlflow.start_run(
                experiment_id=experiment_id, run_name=f"trial-{trial.number}", nested=True
            ):
                mlflow.log_params(trial.params)
                mlflow.log_metrics(
                    {"validation_roc_auc": trial.validation_roc_auc,
                     "best_iteration": trial.best_iteration}
                )  # fmt: skip
    if record.candidates:
        best = max(record.candidates, key=lambda c: c.validation_roc_auc)
        mlflow.log_param("model_family", best.name)
        mlflow.log_metrics(
            {f"candidate/{c.name}/validation_roc_auc": c.validation_roc_auc
             for c in record.candidates}
        )  # fmt: skip
        mlflow.log_dict(
            {"chosen": best.name, "candidates": [asdict(c) for c in record.candidates]},
            "model_family.json",
        )
    if record.segments is not None:
        for key, figures in record.segments.metrics.items():
            safe = re.sub(r"[^\w.\- /]", "_", key)
            mlflow.log_metrics({f"segment/{safe}/{k}": v for k, v in figures.items()})
        mlflow.log_dict(
            {"metrics": record.segments.metrics, "fallback": record.segments.fallback},
            "segments.json",
        )
    if record.policy is not None:
        recorded = record.policy.metadata()
        mlflow.log_params({"policy_origin": recorded["origin"][:500],
                           "policy_hash": recorded["hash"] or "none"})  # fmt: skip
        if recorded["spec"] is not None:
            mlflow.log_dict(recorded["spec"], POLICY_SPEC_ARTIFACT)
    if record.profile is not None:
        mlflow.log_dict(record.profile.to_dict(), "data_profile.json")
    if record.baseline_roc_auc is not None:
        mlflow.log_metric("baseline_roc_auc", record.baseline_roc_auc)
    if record.audit is not None:
        mlflow.log_dict(record.audit.to_dict(), "leakage_audit.json")
        mlflow.log_param("leaky_columns_excluded", ",".join(record.audit.excluded) or "none")
    if record.drift is not None:
        mlflow.log_dict(record.drift.to_dict(), "drift.json")
        mlflow.log_metrics(
            {
                "train_positive_rate": record.drift.train_positive_rate,
                "holdout_positive_rate": record.drift.holdout_positive_rate,
            }
        )


def log_png(content: bytes, name: str) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / name
        path.write_bytes(content)
        mlflow.log_artifact(str(path))


def register_model(
    scorer: LeadScorer, model_name: str, example_lead: dict[str, Any], fingerprint: str | None
) -> str:
    """Log the scorer as the run's pyfunc model from code, register it as `challenger`, and
    tag it with the data fingerprint; returns the new version."""
    with tempfile.TemporaryDirectory() as scratch:
        info = mlflow.pyfunc.log_model(
            name="model",
            python_model=model_code(),
            artifacts={SCORER_ARTIFACT: str(scorer.save(Path(scratch) / SCORER_ARTIFACT))},
            signature=signature(scorer.feature_set),
            input_example=input_example(scorer.feature_set, example_lead),
            pip_requirements=_requirements(),
            registered_model_name=model_name,
        )
    version = str(info.registered_model_version)
    client = MlflowClient()
    client.set_registered_model_alias(model_name, CHALLENGER, version)
    if fingerprint is not None:
        client.set_model_version_tag(model_name, version, FINGERPRINT_TAG, fingerprint)
    return version


def log_text(text: str, name: str) -> None:
    mlflow.log_text(text, name)


def log_rules_only(scorer: LeadScorer, data_location: str) -> None:
    """What a rules-only run records: where the data came from, its counts, and the policy."""
    mlflow.log_params(
        {"data_location": data_location, RULES_ONLY_TAG: True,
         "won": scorer.metadata["won"], "lost": scorer.metadata["lost"]}
    )  # fmt: skip
    mlflow.set_tag(RULES_ONLY_TAG, "true")
    mlflow.log_dict(scorer.policy.to_dict(), "policy.json")


def log_decision_tag(reason: str) -> None:
    mlflow.set_tag("decision", reason)


def find_version_by_fingerprint(settings: Settings, name: str, fingerprint: str) -> str | None:
    """The newest version already trained on this very data, if any."""
    check_store(settings.mlflow_tracking_uri, create=True)
    client = MlflowClient(settings.mlflow_tracking_uri)
    try:
        versions = client.search_model_versions(
            f"name = '{name}' and tags.{FINGERPRINT_TAG} = '{fingerprint}'"
        )
    except MlflowException:
        return None
    return str(max(int(v.version) for v in versions)) if versions else None


def is_rules_only(client: MlflowClient, name: str, version: str) -> bool:
    run_id = client.get_model_version(name, version).run_id
    return client.get_run(run_id).data.tags.get(RULES_ONLY_TAG) == "true"


def _experiment_id(settings: Settings) -> str:
    experiment = mlflow.get_experiment_by_name(settings.experiment_name)
    if experiment is not None:
        return experiment.experiment_id
    root = settings.mlflow_artifact_root.resolve()
    root.mkdir(parents=True, exist_ok=True)
    return mlflow.create_experiment(settings.experiment_name, artifact_location=root.as_uri())


def _requirements() -> list[str]:
    return [
        f"leadscore=={package_version('leadscore')}",
        f"lightgbm=={lgb.__version__}",
        f"mlflow=={mlflow.__version__}",
        f"numpy=={package_version('numpy')}",
        f"pandas=={package_version('pandas')}",
    ]
