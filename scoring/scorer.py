"""The scorer: everything serving needs, in one object that is saved and loaded as a unit.

Feature declarations, category codes, the booster, the calibrator and the policy travel together,
so a server never re-implements a transform and cannot pair a model with the wrong features.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import lightgbm as lgb
import numpy as np
import orjson
import pandas as pd

from features import GROUPS, LEAD_ID, FeatureSet, FeatureValue, OnlineFeatures, Unused
from scoring.calibrator import Calibrator
from scoring.encoding import FeatureEncoder
from scoring.errors import ModelArtifactError, TablesTooLarge
from scoring.next_steps import NextStep, NextSteps
from scoring.path_attribution import PathExplainer, has_linear_trees
from scoring.policy import Grade, Policy, Recommendation
from scoring.treeshap import TreeShapTables
from scoring.wording import LEAD_KEYS, sentence, unknown_field, unseen_sentence

ARTIFACT_FORMAT = 1
_BOOSTER_FILE = "booster.txt"
_SCORER_FILE = "scorer.json"
Moment = datetime | str | int
_NUMPY = orjson.OPT_SERIALIZE_NUMPY


@dataclass(slots=True)  # not frozen: results are built by the thousand, frozen init is slower
class Reason:
    """One feature's push on this lead's score, in log-odds: positive raises it."""

    feature: str
    description: str
    value: FeatureValue
    contribution: float
    direction: Literal["up", "down"]
    sentence: str


State = Literal["scored", "insufficient_data"]
INSUFFICIENT_DATA_REASON = (
    "Too few won and lost leads to learn a score yet: the recommendation follows the agreed ICP "
    "rules and exclusions only. Retrain once there are at least 40 of each."
)


@dataclass(slots=True)
class ScoredLead:
    lead_id: str | None
    probability: float | None
    score: int | None
    grade: Grade | None
    recommendation: Recommendation
    recommendation_reason: str
    reasons: list[Reason]
    state: State = "scored"
    state_reason: str | None = None
    segment: str | None = None
    group_scores: dict[str, float] | None = None
    features_hash: str = ""
    warnings: tuple[str, ...] = ()  # what the answer could not use, in plain words
    # For the drift watch: the lead's row of the model's input matrix (a view, no copy), and how
    # many of its category values training never saw (that row holds them as missing).
    encoded: np.ndarray | None = None
    unseen_values: int = 0
    # The fewest actionable moves the model expects to carry the lead over its next threshold.
    next_steps: list[NextStep] | None = None


class LeadScorer:
    """Scores leads from raw CRM fields; build it with `training`, load it with `load`."""

    def __init__(
        self,
        feature_set: FeatureSet,
        encoder: FeatureEncoder,
        booster: lgb.Booster | None,
        calibrator: Calibrator | None,
        policy: Policy,
        metadata: Mapping[str, Any] | None = None,
        segment_by: str | None = None,
        segments: Mapping[str, LeadScorer] | None = None,
        next_steps: NextSteps | None = None,
    ) -> None:
        self.feature_set = feature_set
        self.next_steps = next_steps
        self.segment_by = segment_by
        self.segments = dict(segments or {})
        self.encoder = encoder
        self.booster = booster
        self.calibrator = calibrator
        self.policy = policy
        self.metadata = dict(metadata or {})
        # A CRM's field names for the model's columns ("NumberOfEmployees": "company_size"),
        # declared in the dataset config and applied to every lead scored live.
        self.aliases: dict[str, str] = dict(self.metadata.get("aliases", {}))
        self.online = OnlineFeatures(feature_set)
        self._names = feature_set.names
        self._expect_columns()
        self._vocabularies = [
            (name, frozenset(lookup)) for name, lookup in getattr(encoder, "lookups_", {}).items()
        ]
        # Reasons repeat ("Industry is Software"): word each (feature, value) once.
        self._sentence = functools.lru_cache(maxsize=8192)(self._word)
        self._descriptions = [feature.description for feature in feature_set]
        # feature x group: contributions @ this sums each lead's pushes by group
        self._group_matrix = np.array(
            [[float(f.group == group) for group in GROUPS] for f in feature_set]
        ).reshape(len(feature_set.features), len(GROUPS))
        # Exact TreeSHAP from precomputed tables when they fit; LightGBM's TreeSHAP does not
        # support linear trees, path attribution does; pred_contrib for very deep trees.
        linear = booster is not None and has_linear_trees(booster)
        self._path_explainer = PathExplainer(booster) if linear else None
        self._tables: TreeShapTables | None = None
        if booster is not None and not linear:
            with contextlib.suppress(TablesTooLarge):
                self._tables = TreeShapTables(booster)

    def _expect_columns(self) -> None:
        """The columns a lead should send (sorted: the unknown-field hint's candidates), with the
        account key when the model reads accounts: the server finds the account's features."""
        account_key = self.metadata.get("accounts", {}).get("key")
        self._lead_columns = tuple(
            sorted({*self.feature_set.lead_columns(), *([account_key] if account_key else [])})
        )
        self._read_columns = frozenset(self._lead_columns)

    def read_accounts(self, spec: Mapping[str, Any]) -> None:
        """Mark this model (and its segments) as reading accounts: `spec` names the account
        key, title column, high-intent types and placeholders the server's book reads."""
        for scorer in (self, *self.segments.values()):
            scorer.metadata["accounts"] = dict(spec)
            scorer._expect_columns()

    @classmethod
    def rules_only(
        cls, feature_set: FeatureSet, policy: Policy, metadata: Mapping[str, Any]
    ) -> LeadScorer:
        """A scorer for the cold start: no score, recommendations from the policy's rules."""
        encoder = FeatureEncoder(feature_set)
        encoder.vocabularies_ = {}
        encoder._build_lookups()
        return cls(feature_set, encoder, None, None, policy, metadata)

    @property
    def state(self) -> State:
        return "insufficient_data" if self.booster is None else "scored"

    def probability(self, matrix: np.ndarray) -> np.ndarray:
        """Calibrated win probability for each row of an encoded matrix."""
        return self.calibrator.probability(self.booster.predict(matrix, raw_score=True))

    def contributions(self, matrix: np.ndarray) -> np.ndarray:
        """Per-feature log-odds credits plus a last bias column, summing to the raw score."""
        return self._explain(matrix)[1]

    @property
    def attribution(self) -> str:
        """How reasons are computed for this model, as the README explains each."""
        if self.booster is None:
            return "none"
        if self._tables is not None:
            return "treeshap-tables"
        return "path" if self._path_explainer is not None else "pred_contrib"

    def _explain(self, matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Raw scores and contributions together: the tables give both in one pass."""
        if self._tables is not None:
            return self._tables.explain(matrix)
        if self._path_explainer is not None:
            # The credits add up to the raw score: no call into LightGBM (and its threads), so
            # scoring such a model can be forked as the tables' can.
            contributions = self._path_explainer.contributions(matrix)
            return contributions.sum(axis=1), contributions
        contributions = self.booster.predict(matrix, pred_contrib=True)
        return self.booster.predict(matrix, raw_score=True), contributions

    def score_leads(
        self,
        leads: Sequence[Mapping[str, Any]],
        as_of: Moment | Sequence[Moment],
        *,
        reasons: int = 5,
        next_steps: int = 0,
    ) -> list[ScoredLead]:
        """Score live leads (attributes plus `activities`) as of one moment, or one each; with
        `next_steps`, up to that many next steps for each lead below SQL."""
        moments = as_of if isinstance(as_of, list | tuple) else [as_of] * len(leads)
        if self.aliases:
            names = self.aliases
            leads = [{names.get(key, key): value for key, value in lead.items()} for lead in leads]
        checked = [
            self.online.compute_checked(lead, moment)
            for lead, moment in zip(leads, moments, strict=True)
        ]
        values = [lead_values for lead_values, _ in checked]
        lead_ids = [_lead_id(lead) for lead in leads]
        if self.segments:
            results = self._route(lead_ids, values, reasons, next_steps)
        else:
            results = self._score_values(lead_ids, values, reasons, next_steps)
        for result, lead, (_, unused) in zip(results, leads, checked, strict=True):
            sent = self._unused_input(lead, unused)
            if sent:
                result.warnings = (*sent, *result.warnings)
        return results

    def _unused_input(self, lead: Mapping[str, Any], unused: Unused) -> list[str]:
        """Fields the model does not know, columns it reads that were not sent, and activities
        it could not use: said in the answer rather than scored silently as missing."""
        found = [
            unknown_field(key, self._lead_columns)
            for key, value in lead.items()
            if value is not None and key not in self._read_columns and key not in LEAD_KEYS
        ]
        found.extend(
            f"{column} was not sent: scored as unknown"
            for column in self._lead_columns
            if column not in lead
        )
        if unused.after_as_of:
            count = unused.after_as_of
            found.append(
                f"{count} {'activity is' if count == 1 else 'activities are'} dated after as_of "
                "(now, unless given): not used"
            )
        found.extend(
            f"activity type {kind!r} is unknown to the model: {count} not used"
            for kind, count in unused.types.items()
        )
        return found

    def _score_values(
        self,
        lead_ids: list[str | None],
        values: list[Mapping[str, FeatureValue]],
        reasons: int,
        next_steps: int = 0,
    ) -> list[ScoredLead]:
        if self.booster is None:
            return self._rules_only(lead_ids, values)
        matrix = np.array([self.encoder.transform_one(v) for v in values], dtype=np.float64)
        return self._score(lead_ids, matrix, values, reasons, next_steps)

    def _route(
        self,
        lead_ids: list[str | None],
        values: list[Mapping[str, FeatureValue]],
        reasons: int,
        next_steps: int = 0,
    ) -> list[ScoredLead]:
        """Each lead to the model of its segment, or to this (global) model when there is none."""
        groups: dict[str | None, list[int]] = {}
        for row, lead_values in enumerate(values):
            key = lead_values.get(self.segment_by)
            groups.setdefault(key if key in self.segments else None, []).append(row)
        results: list[ScoredLead | None] = [None] * len(values)
        for key, rows in groups.items():
            scorer = self if key is None else self.segments[key]
            scored = scorer._score_values(
                [lead_ids[r] for r in rows], [values[r] for r in rows], reasons, next_steps
            )
            for row, result in zip(rows, scored, strict=True):
                results[row] = dataclasses.replace(result, segment=key)
        return [r for r in results if r is not None]

    def score_frame(
        self, features: pd.DataFrame, *, reasons: int = 5, next_steps: int = 0
    ) -> list[ScoredLead]:
        """Score leads whose features the batch engine already built (indexed by lead_id)."""
        records = _records(features[self._names])
        lead_ids = [str(i) for i in features.index]
        if self.segments:
            return self._route(lead_ids, records, reasons, next_steps)
        if self.booster is None:
            return self._rules_only(lead_ids, records)
        return self._score(lead_ids, self.encoder.transform(features), records, reasons, next_steps)

    def _rules_only(
        self, lead_ids: list[str | None], values: list[Mapping[str, FeatureValue]]
    ) -> list[ScoredLead]:
        results = []
        for lead_id, lead_values in zip(lead_ids, values, strict=True):
            recommendation, why = self.policy.recommend(None, lead_values)
            results.append(
                ScoredLead(
                    lead_id=lead_id, probability=None, score=None, grade=None,
                    recommendation=recommendation, recommendation_reason=why, reasons=[],
                    state="insufficient_data", state_reason=INSUFFICIENT_DATA_REASON,
                    features_hash=self._hash(lead_values),
                )
            )  # fmt: skip
        return results

    def _score(
        self,
        lead_ids: list[str | None],
        matrix: np.ndarray,
        values: list[Mapping[str, FeatureValue]],
        reasons: int,
        next_steps: int = 0,
    ) -> list[ScoredLead]:
        """Array work for all leads at once; then one light Python pass to word each answer."""
        if len(matrix) == 0:
            return []
        if reasons > 0 or self.attribution in ("treeshap-tables", "path"):
            raw, all_contributions = self._explain(matrix)
        else:
            raw, all_contributions = self.booster.predict(matrix, raw_score=True), None
        probabilities = self.calibrator.probability(raw).tolist()
        top_features: list[list[int]] = [[] for _ in lead_ids]
        top_pushes: list[list[float]] = [[] for _ in lead_ids]
        group_scores: list[dict[str, float] | None] = [None] * len(lead_ids)
        if reasons > 0 and all_contributions is not None:
            pushes = all_contributions[:, :-1]
            order = np.argsort(-np.abs(pushes), axis=1, kind="stable")[:, :reasons]
            top_pushes = np.take_along_axis(pushes, order, axis=1).tolist()
            top_features = order.tolist()
            group_scores = [
                dict(zip(GROUPS, sums, strict=True))
                for sums in (pushes @ self._group_matrix).tolist()
            ]
        names, descriptions = self._names, self._descriptions
        results = []
        for row, (lead_id, probability) in enumerate(zip(lead_ids, probabilities, strict=True)):
            score = round(probability * 100)
            lead_values = values[row]
            recommendation, why = self.policy.recommend(score, lead_values)
            unseen = self._unseen(lead_values)
            top = []
            for i, push in zip(top_features[row], top_pushes[row], strict=True):
                value = _plain(lead_values[names[i]])
                top.append(
                    Reason(
                        feature=names[i],
                        description=descriptions[i],
                        value=value,
                        contribution=push,
                        direction="up" if push > 0 else "down",
                        sentence=self._sentence(i, value),
                    )
                )
            results.append(
                ScoredLead(
                    lead_id=lead_id,
                    probability=probability,
                    score=score,
                    grade=self.policy.grade(score),
                    recommendation=recommendation,
                    recommendation_reason=why,
                    reasons=top,
                    group_scores=group_scores[row],
                    features_hash=self._hash(lead_values),
                    warnings=tuple(unseen),
                    encoded=matrix[row],
                    unseen_values=len(unseen),
                )
            )
        if next_steps > 0 and self.next_steps is not None:
            found = self.next_steps.find(
                matrix,
                raw,
                [r.score for r in results],
                [r.recommendation for r in results],
                values,
                self.calibrator,
                self.policy,
                next_steps,
            )
            for result, steps in zip(results, found, strict=True):
                result.next_steps = steps
        return results

    def _unseen(self, values: Mapping[str, FeatureValue]) -> list[str]:
        """Category values training never saw, which the model scores as unknown."""
        return [
            f"{name} {value!r} is new to the model: scored as unknown"
            for name, known in self._vocabularies
            if (value := values[name]) is not None and value not in known
        ]

    def _word(self, index: int, value: FeatureValue) -> str:
        feature = self.feature_set.features[index]
        known = self.encoder.lookups_.get(feature.name)
        if known is not None and value is not None and value not in known:
            return unseen_sentence(feature, value)
        return sentence(feature, value)

    def _hash(self, values: Mapping[str, FeatureValue]) -> str:
        """A short digest of a lead's feature values: comparable across logs, not reversible."""
        text = orjson.dumps([values[name] for name in self._names], option=_NUMPY)
        return hashlib.blake2b(text, digest_size=8).hexdigest()

    def save(self, directory: str | Path) -> Path:
        """Write the booster as text, the rest as JSON, and each segment model in a folder."""
        path = Path(directory)
        path.mkdir(parents=True, exist_ok=True)
        if self.booster is not None:
            self.booster.save_model(str(path / _BOOSTER_FILE))
        document = {
            "format": ARTIFACT_FORMAT,
            "feature_set": self.feature_set.to_dict(),
            "encoder": self.encoder.to_dict(),
            "calibrator": asdict(self.calibrator) if self.calibrator else None,
            "policy": self.policy.to_dict(),
            "metadata": self.metadata,
            "segment_by": self.segment_by,
            "segments": {key: f"segment-{i}" for i, key in enumerate(self.segments)},
            "next_steps": None if self.next_steps is None else self.next_steps.to_dict(),
        }
        for i, scorer in enumerate(self.segments.values()):
            scorer.save(path / "segments" / f"segment-{i}")
        (path / _SCORER_FILE).write_text(json.dumps(document, indent=2, default=str))
        return path

    @classmethod
    def load(cls, directory: str | Path) -> LeadScorer:
        path = Path(directory)
        try:
            document = json.loads((path / _SCORER_FILE).read_text())
            booster = (
                None
                if document.get("calibrator") is None  # a rules-only model has no booster
                else lgb.Booster(model_file=str(path / _BOOSTER_FILE))
            )
        except (OSError, ValueError, lgb.basic.LightGBMError) as error:
            raise ModelArtifactError(
                f"expected a leadscore model in {path}, could not read it ({error}); "
                "train one with `leadscore train`"
            ) from error
        if document.get("format") != ARTIFACT_FORMAT:
            raise ModelArtifactError(
                f"expected model format {ARTIFACT_FORMAT}, got {document.get('format')!r}; "
                "retrain the model with this version of leadscore"
            )
        feature_set = FeatureSet.from_dict(document["feature_set"])
        moves = document.get("next_steps")  # none in models saved before next steps
        return cls(
            feature_set=feature_set,
            encoder=FeatureEncoder.from_dict(feature_set, document["encoder"]),
            booster=booster,
            calibrator=Calibrator(**document["calibrator"]) if document["calibrator"] else None,
            policy=Policy.from_dict(document["policy"]),
            metadata=document["metadata"],
            segment_by=document.get("segment_by"),
            segments={
                key: cls.load(path / "segments" / folder)
                for key, folder in document.get("segments", {}).items()
            },
            next_steps=(
                None
                if moves is None or booster is None
                else NextSteps.from_dict(booster, feature_set.names, moves)
            ),
        )


def _lead_id(lead: Mapping[str, Any]) -> str | None:
    value = lead.get(LEAD_ID)
    return None if value is None else str(value)


def _plain(value: Any) -> FeatureValue:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value


def _records(frame: pd.DataFrame) -> list[dict[str, FeatureValue]]:
    """One plain dict per row, missing values as None: column-wise, several times faster than
    `to_dict("records")` on an object copy."""
    columns = []
    for name in frame.columns:
        column = frame[name]
        cells = column.to_numpy(dtype=object, copy=True)
        cells[column.isna().to_numpy()] = None
        columns.append(cells.tolist())
    names = list(frame.columns)
    return [dict(zip(names, row, strict=True)) for row in zip(*columns, strict=True)]
