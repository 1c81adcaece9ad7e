"""MLflow: log a training run, register its model, and move the `champion` alias when it wins."""

from __future__ import annotations

import re
import tempfile
from dataclasses import asdict, dataclass
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Any

import lightgbm as lgb
import mlflow
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from features import LeadScorer
from features.pyfunc import SCORER_ARTIFACT, LeadScoringModel, input_example, signature
from training.gate import CHALLENGER, current_champion, decide, promote
from training.report import expected_calibration_error, reliability_png, render_report
from training.settings import TrainingSettings
from training.train import Dataset, LeadScoreTrainer

HOLDOUT_ARTIFACT = "holdout_predictions.csv"
REPORT_ARTIFACT = "report.html"
WHAT_IF_ARTIFACT = "what_if.csv"
FINGERPRINT_TAG = "data_fingerprint"
RELIABILITY_ARTIFACT = "reliability.png"


@dataclass(frozen=True)
class Registration:
    model_name: str
    run_id: str
    version: str
    promoted: bool
    decision: str
    champion_version: str | None
    no_signal: bool = False


def log_and_register(
    trainer: LeadScoreTrainer,
    dataset: Dataset,
    settings: TrainingSettings,
    *,
    example_lead: dict[str, Any],
    data_location: str,
    model_name: str | None = None,
    extras: dict[str, Any] | None = None,
) -> Registration:
    """Log params, metrics, tables and the pyfunc model; register it as the challenger; promote
    it to champion if it passes the gate (`training.gate`)."""
    model_name = model_name or settings.model_name
    extras = extras or {}
    mlflow.set_tracking_uri(settings.mlflow_tracking_uri)
    experiment_id = _experiment_id(settings)
    scorer = trainer.scorer_
    with mlflow.start_run(experiment_id=experiment_id) as run:
        mlflow.log_params(asdict(trainer.config))
        mlflow.log_params(
            {
                "data_location": data_location,
                "feature_count": len(dataset.feature_set),
                "best_iteration": trainer.best_iteration_,
                "labelled_leads": dataset.counts.labelled,
                "left_out_without_full_horizon": dataset.counts.without_full_horizon,
                "left_out_closed_before_snapshot": dataset.counts.closed_before_snapshot,
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
        mlflow.log_metrics(trainer.metrics_)
        for trial in extras.get("trials", []):
            with mlflow.start_run(
                experiment_id=experiment_id, run_name=f"trial-{trial.number}", nested=True
            ):
                mlflow.log_params(trial.params)
                mlflow.log_metrics(
                    {"validation_roc_auc": trial.validation_roc_auc,
                     "best_iteration": trial.best_iteration}
                )  # fmt: skip
        if extras.get("segments") is not None:
            for key, figures in extras["segments"].metrics.items():
                safe = re.sub(r"[^\w.\- /]", "_", key)
                mlflow.log_metrics({f"segment/{safe}/{k}": v for k, v in figures.items()})
            mlflow.log_dict(
                {"metrics": extras["segments"].metrics, "fallback": extras["segments"].fallback},
                "segments.json",
            )
        if extras.get("trials"):
            mlflow.log_param("tuning_trials", len(extras["trials"]))
        mlflow.log_param("split", trainer.scorer_.metadata["split"])
        if "baseline_roc_auc" in extras:
            mlflow.log_metric("baseline_roc_auc", extras["baseline_roc_auc"])
        if "audit" in extras:
            mlflow.log_dict(extras["audit"].to_dict(), "leakage_audit.json")
            mlflow.log_param("leaky_columns_excluded", ",".join(extras["audit"].excluded) or "none")
        if "drift" in extras:
            drift = extras["drift"]
            mlflow.log_dict(drift.to_dict(), "drift.json")
            mlflow.log_metrics(
                {
                    "train_positive_rate": drift.train_positive_rate,
                    "holdout_positive_rate": drift.holdout_positive_rate,
                }
            )
        mlflow.log_dict(dataset.feature_set.to_dict(), "features.json")
        mlflow.log_dict(scorer.policy.to_dict(), "policy.json")
        mlflow.log_text(trainer.importance_.to_csv(index=False), "feature_importance.csv")
        mlflow.log_text(trainer.holdout_.to_csv(index=False), HOLDOUT_ARTIFACT)
        mlflow.log_text(trainer.what_if_.to_csv(index=False), WHAT_IF_ARTIFACT)
        with tempfile.TemporaryDirectory() as scratch:
            plot = Path(scratch) / RELIABILITY_ARTIFACT
            plot.write_bytes(
                reliability_png(
                    trainer.holdout_["label"].to_numpy(), trainer.holdout_["probability"].to_numpy()
                )
            )
            mlflow.log_artifact(str(plot))
        version = _log_model(scorer, model_name, example_lead)
        client = MlflowClient()
        client.set_registered_model_alias(model_name, CHALLENGER, version)
        decision = decide(
            client,
            model_name,
            version,
            trainer.holdout_["label"].to_numpy(),
            trainer.holdout_["probability"].to_numpy(),
            extras.get("window"),
            settings.gate_rules(),
        )
        if "fingerprint" in extras:
            client.set_model_version_tag(
                model_name, version, FINGERPRINT_TAG, extras["fingerprint"]
            )
        if decision.promote:
            promote(client, model_name, version)
        mlflow.log_metrics(decision.figures)
        mlflow.log_dict(
            {"promoted": decision.promote, "no_signal": decision.no_signal,
             "reason": decision.reason, **decision.figures},
            "gate.json",
        )  # fmt: skip
        mlflow.set_tags(
            {"promotion": "promoted" if decision.promote else "kept", "decision": decision.reason}
        )
        mlflow.log_metric(
            "ece",
            expected_calibration_error(
                trainer.holdout_["label"].to_numpy(), trainer.holdout_["probability"].to_numpy()
            ),
        )
        mlflow.log_text(
            render_report(
                trainer,
                dataset,
                model_name=model_name,
                version=version,
                baseline_roc_auc=extras.get("baseline_roc_auc"),
            ),
            REPORT_ARTIFACT,
        )
    return Registration(
        model_name,
        run.info.run_id,
        version,
        decision.promote,
        decision.reason,
        current_champion(client, model_name),
        decision.no_signal,
    )


RULES_ONLY_TAG = "rules_only"


def log_rules_only(
    scorer: LeadScorer,
    settings: TrainingSettings,
    *,
    model_name: str,
    data_location: str,
    example_lead: dict[str, Any],
) -> Registration:
    """Register a rules-only model; it serves only while no scoring model has been promoted."""
    mlflow.set_tracking_uri(settings.mlflow_tracking_uri)
    experiment_id = _experiment_id(settings)
    with mlflow.start_run(experiment_id=experiment_id) as run:
        mlflow.log_params(
            {"data_location": data_location, RULES_ONLY_TAG: True,
             "won": scorer.metadata["won"], "lost": scorer.metadata["lost"]}
        )  # fmt: skip
        mlflow.set_tag(RULES_ONLY_TAG, "true")
        mlflow.log_dict(scorer.policy.to_dict(), "policy.json")
        version = _log_model(scorer, model_name, example_lead)
        client = MlflowClient()
        client.set_registered_model_alias(model_name, CHALLENGER, version)
        champion = current_champion(client, model_name)
        champion_is_rules = champion is not None and (
            client.get_run(client.get_model_version(model_name, champion).run_id).data.tags.get(
                RULES_ONLY_TAG
            )
            == "true"
        )
        if champion is None or champion_is_rules:
            promote(client, model_name, version)
            reason = (
                f"version {version} serves recommendations from the policy rules alone until "
                "there is enough history to score"
            )
        else:
            reason = f"champion {champion} scores leads already; the rules-only model waits"
        mlflow.set_tag("decision", reason)
    return Registration(
        model_name, run.info.run_id, version, champion is None or champion_is_rules, reason,
        current_champion(client, model_name),
    )  # fmt: skip


def find_version_by_fingerprint(
    settings: TrainingSettings, name: str, fingerprint: str
) -> tuple[str, bool] | None:
    """A version already trained on this very data, and whether it is the champion."""
    mlflow.set_tracking_uri(settings.mlflow_tracking_uri)
    client = MlflowClient()
    try:
        versions = client.search_model_versions(
            f"name = '{name}' and tags.{FINGERPRINT_TAG} = '{fingerprint}'"
        )
    except MlflowException:
        return None
    if not versions:
        return None
    version = str(max(int(v.version) for v in versions))
    return version, current_champion(client, name) == version


def _experiment_id(settings: TrainingSettings) -> str:
    experiment = mlflow.get_experiment_by_name(settings.experiment_name)
    if experiment is not None:
        return experiment.experiment_id
    root = settings.mlflow_artifact_root.resolve()
    root.mkdir(parents=True, exist_ok=True)
    return mlflow.create_experiment(settings.experiment_name, artifact_location=root.as_uri())


def _log_model(scorer: LeadScorer, model_name: str, example_lead: dict[str, Any]) -> str:
    """Log the scorer as the run's pyfunc model and register it; returns the new version."""
    with tempfile.TemporaryDirectory() as scratch:
        info = mlflow.pyfunc.log_model(
            name="model",
            python_model=LeadScoringModel(),
            artifacts={SCORER_ARTIFACT: str(scorer.save(Path(scratch) / SCORER_ARTIFACT))},
            signature=signature(scorer.feature_set),
            input_example=input_example(scorer.feature_set, example_lead),
            pip_requirements=_requirements(),
            registered_model_name=model_name,
        )
    return str(info.registered_model_version)


def _requirements() -> list[str]:
    return [
        f"leadscore=={package_version('leadscore')}",
        f"lightgbm=={lgb.__version__}",
        f"mlflow=={mlflow.__version__}",
        f"numpy=={package_version('numpy')}",
        f"pandas=={package_version('pandas')}",
    ]
