"""Next steps at training time: the config's moves checked against the model, with the support
of each learned from the training rows only, and what they would do for the holdout's MQLs.

The support (how many training leads fall in each region of a moved feature) decides which moves
are offered; the holdout only grades, in the report, how many MQLs each move would carry to SQL.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import pandas as pd

from features import FeatureSet
from scoring import LeadScorer, Move, NextSteps
from training.config import NextStepsSection
from training.errors import ConfigError
from training.examples import Dataset
from training.train import LeadScoreTrainer


@dataclass(frozen=True)
class MoveCheck:
    """The moves the model can take, and those left out with why (for the run's log)."""

    moves: tuple[Move, ...]
    left_out: tuple[str, ...]


def checked_moves(
    section: NextStepsSection, feature_set: FeatureSet, source: str | None = None
) -> MoveCheck:
    """The config's moves on numeric features of the model; a move on a feature the config
    never declared is an error, one on a feature the audit excluded is left out and said."""
    moves, left_out = [], []
    for feature, spec in section.moves.items():
        if feature not in feature_set.names:
            left_out.append(f"{feature}: not among the model's features (excluded or unknown)")
            continue
        if feature_set[feature].kind != "numeric":
            raise ConfigError(
                f"[next_steps] moves.{feature}: expected a numeric feature, got a category; "
                "moves raise or set numbers",
                source=source,
            )
        moves.append(Move(feature, spec.action, rise=spec.rise, set=spec.set))
    return MoveCheck(tuple(moves), tuple(left_out))


def attach_next_steps(
    trainer: LeadScoreTrainer, dataset: Dataset, section: NextStepsSection, source: str | None
) -> MoveCheck:
    """Compile the config's moves against the fitted scorer's trees (and each segment's), with
    the support of the training rows; say which moves the model cannot take."""
    checked = checked_moves(section, dataset.feature_set, source)
    scorer = trainer.scorer_
    training_rows = dataset.features.iloc[trainer.splits_rows_["train"]]
    matrix = scorer.encoder.transform(training_rows)
    for model in (scorer, *scorer.segments.values()):
        if model.booster is not None and checked.moves:
            model.next_steps = NextSteps.fit(
                model.booster, model.feature_set.names, checked.moves, matrix, section.min_support
            )
    return checked


def mql_moves(scorer: LeadScorer, holdout_features: pd.DataFrame) -> tuple[int, dict[str, int]]:
    """How many holdout leads the model recommends as MQL, and how many of them each move would
    carry to SQL on its own, most first: the report's "which moves turn MQLs into SQLs"."""
    if scorer.next_steps is None:
        return 0, {}
    scored = scorer.score_frame(
        holdout_features,
        reasons=0,
        next_steps=len(scorer.next_steps.moves),
    )
    counts: Counter[str] = Counter()
    mqls = 0
    for lead in scored:
        if lead.recommendation != "MQL":
            continue
        mqls += 1
        for step in lead.next_steps or ():
            if len(step.moves) == 1 and step.recommendation == "SQL":
                counts[step.moves[0].action] += 1
    return mqls, dict(counts.most_common())
