"""The promotion gate: a new model serves only if it is at least as good as the champion on the
same recent leads, and never when its holdout shows no usable signal.

Every new version gets the alias `challenger`. `champion` moves to it when:

* its holdout AUC is clearly above chance (the bootstrap 95% interval excludes 0.5), and
* there is no champion yet, or, scoring the challenger's own holdout leads with both models,
  its AUC is at least the champion's minus a tolerance and its calibration error (ECE) is at
  most the champion's plus a margin.

Previous champions are remembered in a registered-model tag so that `rollback` can return.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import mlflow
import numpy as np
import pandas as pd
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from sklearn.metrics import roc_auc_score

from features import DataContractError, InvalidLeadError, build_features
from scoring import CHAMPION, LeadScorer, Settings, load_registered
from training.errors import NoPreviousChampion, RegistryError
from training.evaluate import expected_calibration_error

HISTORY_TAG = "champion_history"
DECISION_TAG = "decision"
SUSPECT_TAG = "gate_suspect"  # "no_signal", "leak" or empty
OVERRIDDEN_TAG = "audit_overridden"  # the flagged columns kept with --allow-leaky / [audit] allow
# A real lead score is never this sure: a holdout this well ranked has a column that knows.
LEAK_AUC = 0.99
LEAK_BRIER = 0.005


@dataclass(frozen=True)
class GateRules:
    auc_tolerance: float = 0.005
    ece_margin: float = 0.01
    bootstrap_rounds: int = 400
    seed: int = 0

    @classmethod
    def of(cls, settings: Settings) -> GateRules:
        return cls(
            auc_tolerance=settings.gate_auc_tolerance,
            ece_margin=settings.gate_ece_margin,
            bootstrap_rounds=settings.gate_bootstrap_rounds,
        )


@dataclass(frozen=True)
class HoldoutWindow:
    """The challenger's holdout leads, as the champion needs them to score the same window."""

    leads: pd.DataFrame
    activities: pd.DataFrame | None
    as_of: np.ndarray
    labels: np.ndarray


@dataclass(frozen=True)
class GateDecision:
    promote: bool
    reason: str
    no_signal: bool = False
    figures: dict[str, float] = field(default_factory=dict)
    leak_suspected: bool = False


def bootstrap_auc_interval(
    labels: np.ndarray, probabilities: np.ndarray, rounds: int, seed: int
) -> tuple[float, float]:
    """2.5th and 97.5th percentiles of the AUC over bootstrap resamples of the holdout."""
    rng = np.random.default_rng(seed)
    n = len(labels)
    values = []
    for _ in range(rounds):
        sample = rng.integers(0, n, n)
        if labels[sample].min() != labels[sample].max():
            values.append(roc_auc_score(labels[sample], probabilities[sample]))
    return float(np.percentile(values, 2.5)), float(np.percentile(values, 97.5))


def decide(
    client: MlflowClient,
    name: str,
    version: str,
    labels: np.ndarray,
    probabilities: np.ndarray,
    window: HoldoutWindow | None,
    rules: GateRules,
    top_feature: str | None = None,
) -> GateDecision:
    """Whether `version` should become the champion, with the figures behind the answer.

    A refusal also says what keeps serving, and what that champion's own gate said of it.
    """
    auc = float(roc_auc_score(labels, probabilities))
    ece = expected_calibration_error(labels, probabilities)
    brier = float(np.mean((probabilities - labels) ** 2))
    low, high = bootstrap_auc_interval(labels, probabilities, rules.bootstrap_rounds, rules.seed)
    figures = {
        "gate_roc_auc": auc,
        "gate_ece": ece,
        "gate_auc_ci_low": low,
        "gate_auc_ci_high": high,
    }
    if auc >= LEAK_AUC or brier <= LEAK_BRIER:
        top = f", led by {top_feature!r}" if top_feature else ""
        return GateDecision(
            False,
            f"version {version} is not promoted: a holdout AUC of {auc:.3f} and Brier score of "
            f"{brier:.4f} are almost certainly leaking{top}; a real lead score is never this "
            f"sure. Find the column that knows the outcome. {serving_now(client, name)}",
            leak_suspected=True,
            figures=figures,
        )
    if low <= 0.5:
        return GateDecision(
            False,
            f"version {version} is not promoted: its holdout AUC {auc:.3f} is not clearly above "
            f"chance (95% interval {low:.3f}-{high:.3f} includes 0.5). The data carries no usable "
            "signal yet: add history or columns that relate to winning. "
            + serving_now(client, name),
            no_signal=True,
            figures=figures,
        )
    champion = current_champion(client, name)
    if champion is None:
        return GateDecision(
            True, f"version {version} is the first champion (roc_auc {auc:.4f})", figures=figures
        )
    champion_auc, champion_ece, how = _champion_on_window(client, name, champion, window)
    figures |= {"gate_champion_roc_auc": champion_auc, "gate_champion_ece": champion_ece}
    auc_ok = auc >= champion_auc - rules.auc_tolerance
    ece_ok = ece <= champion_ece + rules.ece_margin
    comparison = (
        f"roc_auc {auc:.4f} vs champion {champion} {champion_auc:.4f} (tolerance "
        f"{rules.auc_tolerance}), ece {ece:.4f} vs {champion_ece:.4f} (margin {rules.ece_margin}), "
        f"{how}"
    )
    if auc_ok and ece_ok:
        return GateDecision(True, f"version {version} promoted: {comparison}", figures=figures)
    return GateDecision(
        False,
        f"champion {champion} stays: {comparison}. {serving_now(client, name)}",
        figures=figures,
    )


def serving_now(client: MlflowClient, name: str) -> str:
    """What serves while a version is refused, and what that champion's own gate said."""
    champion = current_champion(client, name)
    if champion is None:
        return f"No champion serves {name}: the API answers 503 until one is promoted."
    run_id = client.get_model_version(name, champion).run_id
    said = client.get_run(run_id).data.tags.get(DECISION_TAG) if run_id else None
    own = f" Its own check said: {said}." if said else ""
    return f"Champion {champion} keeps serving.{own}"


def refusals(client: MlflowClient, name: str, version: str) -> list[str]:
    """Why a version should not serve without --force: its gate found no signal or a leak, or
    its audit was overridden; empty when nothing stands against it."""
    try:
        run_id = client.get_model_version(name, version).run_id
    except MlflowException:
        return []
    tags = client.get_run(run_id).data.tags if run_id else {}
    found = []
    if tags.get(SUSPECT_TAG) in ("no_signal", "leak"):
        found.append(tags.get(DECISION_TAG, f"its gate refused it ({tags[SUSPECT_TAG]})"))
    if tags.get(OVERRIDDEN_TAG):
        found.append(
            f"it was trained keeping columns the leakage audit flagged: {tags[OVERRIDDEN_TAG]}"
        )
    return found


def _champion_on_window(
    client: MlflowClient, name: str, champion: str, window: HoldoutWindow | None
) -> tuple[float, float, str]:
    """The champion's AUC and ECE on the challenger's holdout leads, else as it was logged."""
    if window is not None:
        try:
            scorer = load_scorer(name, champion)
            features = build_features(
                window.leads, window.activities, window.as_of, scorer.feature_set
            )
            probabilities = scorer.probability(scorer.encoder.transform(features))
            return (
                float(roc_auc_score(window.labels, probabilities)),
                expected_calibration_error(window.labels, probabilities),
                "both scored on the same recent leads",
            )
        except (KeyError, ValueError, DataContractError, InvalidLeadError) as error:
            reason = f"the champion cannot score these leads ({error}); its logged figures used"
    else:
        reason = "the champion's logged figures used"
    metrics = client.get_run(client.get_model_version(name, champion).run_id).data.metrics
    return metrics.get("roc_auc", 0.5), metrics.get("ece", 1.0), reason


def load_scorer(name: str, version: str) -> LeadScorer:
    return load_registered(f"models:/{name}/{version}", mlflow.get_tracking_uri()).scorer


def record(decision: GateDecision) -> None:
    """The decision and its figures, into the active MLflow run."""
    mlflow.log_metrics(decision.figures)
    mlflow.log_dict(
        {"promoted": decision.promote, "no_signal": decision.no_signal,
         "leak_suspected": decision.leak_suspected, "reason": decision.reason,
         **decision.figures},
        "gate.json",
    )  # fmt: skip
    suspect = "leak" if decision.leak_suspected else "no_signal" if decision.no_signal else ""
    mlflow.set_tags(
        {"promotion": "promoted" if decision.promote else "kept", DECISION_TAG: decision.reason,
         SUSPECT_TAG: suspect}
    )  # fmt: skip


def current_champion(client: MlflowClient, name: str) -> str | None:
    try:
        return str(client.get_model_version_by_alias(name, CHAMPION).version)
    except MlflowException:
        return None


def promote(client: MlflowClient, name: str, version: str) -> str | None:
    """Make `version` the champion, remembering the one it replaces; returns that one."""
    try:
        client.get_model_version(name, version)
    except MlflowException:
        raise RegistryError(
            f"expected a registered version of {name}, got {version!r}; list the versions "
            "with the MLflow UI or `leadscore train` a new one"
        ) from None
    previous = current_champion(client, name)
    if previous == version:
        return previous
    if previous is not None:
        history = _history(client, name)
        client.set_registered_model_tag(name, HISTORY_TAG, ",".join([*history, previous]))
    client.set_registered_model_alias(name, CHAMPION, version)
    return previous


def rollback(client: MlflowClient, name: str) -> tuple[str | None, str]:
    """Return `champion` to the previous champion; (replaced version, restored version)."""
    history = _history(client, name)
    if not history:
        raise NoPreviousChampion(
            f"expected a previous champion of {name} to roll back to, found none; "
            "use `leadscore promote VERSION` instead"
        )
    restored = history[-1]
    replaced = current_champion(client, name)
    client.set_registered_model_alias(name, CHAMPION, restored)
    client.set_registered_model_tag(name, HISTORY_TAG, ",".join(history[:-1]))
    return replaced, restored


def _history(client: MlflowClient, name: str) -> list[str]:
    try:
        tags = client.get_registered_model(name).tags
    except MlflowException:
        raise RegistryError(
            f"expected a registered model named {name!r}, found none; train one with "
            "`leadscore train`"
        ) from None
    return [v for v in tags.get(HISTORY_TAG, "").split(",") if v]
