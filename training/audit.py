"""The leakage audit: columns that know the outcome, or that a brand-new lead cannot have, are
caught before any model sees them; personal data and free text never become features.

It reads the training and validation rows only (rules learnt on train, graded on validation), so
the holdout that grades the model stays untouched. Each rule names its evidence:

* stamped_after_outcome / stamped_after_snapshot: a date written at or after the outcome, or after
  the moment we score at.
* separates_too_well: one column alone ranks the validation rows with an AUC above the threshold.
* class_pure_presence / class_pure_value: the column is filled, or one of its values occurs, in one
  outcome only, too often to be chance (an exact hypergeometric test): a perfect label whenever
  present, whatever its AUC.
* not_available_when_new: still-open leads have the column filled far less often than decided
  ones: it is written once a lead is worked, so a new lead will not look like the training rows.
* fill_rate_trend: newer decided leads have it filled far more or less often than older ones.
* dominates: one column alone beats all the other columns together, as a field known only after
  contact does.
* missingness_gap: missing far more often for one outcome; a column missing together with a
  flagged one is reported as co-missing instead, and kept.
* name_hint: a name such as "lead score" or "sales notes" supports other evidence, never alone.
* personal_data / free_text: emails, phone numbers, person names and notes are excluded whatever
  the config says, unless a declared transform (such as email_kind) reads them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from scipy.stats import fisher_exact, hypergeom
from sklearn.metrics import roc_auc_score

from features import Attribute, Feature, FeatureSet, build_features, series_to_micros
from training.evaluate import baseline_auc
from training.examples import Dataset

AFTER_SNAPSHOT_SHARE = 0.01
DOMINANCE_FLOOR = 0.7
# The chance of a class-pure column or value with no association to the outcome. Columns are
# few, so 1e-6 is strict for them; values are many, so they need 1e-9. Between 1e-6 and 1e-4 a
# pure column is listed for review.
PURE_COLUMN_P_VALUE = 1e-6
PURE_COLUMN_REVIEW_P_VALUE = 1e-4
PURE_P_VALUE = 1e-9
PURE_MIN_ROWS = 10
AVAILABILITY_GAP = 0.3  # fill rate of open leads below decided ones by at least this much
TREND_GAP = 0.25  # fill rate of the newest third of decided leads vs the oldest third
FILL_P_VALUE = 1e-6
CO_MISSING_SHARE = 0.9
NAME_HINTS = frozenset(
    {
        "score",
        "grade",
        "rating",
        "quality",
        "tag",
        "tags",
        "status",
        "stage",
        "owner",
        "rep",
        "reason",
        "notes",
        "note",
    }
)
PERSON_NAME_HINTS = frozenset({"name", "firstname", "lastname", "surname", "fullname", "contact"})
NOT_PERSON_HINTS = frozenset({"company", "account", "organisation", "organization", "org"})
SAMPLE_ROWS = 5000
ALLOWED = "allowed by the config or --allow-leaky"

Strength = Literal["strong", "weak", "hint", "info", "personal"]
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$", re.IGNORECASE)
_PHONE = re.compile(r"^\+?[\d\s().-]{7,20}$")
_PERSON = re.compile(r"^[A-Z][a-zA-Z'\u2019-]+(?: [A-Z][a-zA-Z'\u2019.-]*){1,3}$")
_CAPITALISED_WORDS = re.compile(r"^[A-Z][a-zA-Z'\u2019.-]+(?: [A-Z][a-zA-Z'\u2019.-]*)*$")
_WORDS = re.compile(r"[a-z]+|[A-Z][a-z]*")


@dataclass(frozen=True)
class Finding:
    """One rule that fired on one column, with the evidence a reviewer can check."""

    column: str
    rule: str
    evidence: str
    strength: Strength


@dataclass(frozen=True)
class Decision:
    column: str
    decision: Literal["excluded", "excluded for review", "kept"]
    why: str


@dataclass
class AuditReport:
    findings: list[Finding] = field(default_factory=list)
    decisions: dict[str, Decision] = field(default_factory=dict)
    single_column_auc: dict[str, float] = field(default_factory=dict)
    allowed: list[str] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)

    @property
    def flagged(self) -> list[str]:
        return list(dict.fromkeys(f.column for f in self.findings if f.strength != "info"))

    @property
    def excluded(self) -> list[str]:
        return [c for c, d in self.decisions.items() if d.decision.startswith("excluded")]

    @property
    def overridden(self) -> list[str]:
        """Flagged columns kept only because the config or --allow-leaky said so."""
        return [c for c in self.allowed if c in self.decisions and self.decisions[c].why == ALLOWED]

    @property
    def for_review(self) -> list[str]:
        return [c for c, d in self.decisions.items() if d.decision == "excluded for review"]

    def findings_of(self, column: str) -> list[Finding]:
        return [f for f in self.findings if f.column == column]

    def table(self) -> list[dict[str, str]]:
        """One row per column with a decision: its rules, their evidence, and the decision."""
        return [
            {
                "column": column,
                "rules": ", ".join(f.rule for f in self.findings_of(column)),
                "evidence": "; ".join(f.evidence for f in self.findings_of(column)),
                "decision": decision.decision,
                "why": decision.why,
            }
            for column, decision in self.decisions.items()
        ]

    def to_dict(self) -> dict:
        return {
            "rows": self.rows,
            "columns": self.table(),
            "findings": [asdict(f) for f in self.findings],
            "excluded": self.excluded,
            "for_review": self.for_review,
            "allowed": self.allowed,
            "validation_single_column_auc": self.single_column_auc,
        }


def audit(
    dataset: Dataset,
    splits: dict[str, np.ndarray],
    timestamp_columns: Sequence[str],
    *,
    open_leads: pd.DataFrame | None = None,
    auc_threshold: float = 0.9,
    missingness_gap: float = 0.3,
    allow: Sequence[str] = (),
) -> AuditReport:
    """Flag leaky and personal lead columns from the train and validation rows; `allow` keeps
    named columns flagged for leakage (never personal data). `open_leads` are raw lead rows whose
    outcome is not known yet: they show what a new lead looks like."""
    report = AuditReport(allowed=list(dict.fromkeys(allow)))
    if dataset.leads is None:
        return report
    train, validation = splits["train"], splits["validation"]
    fit = np.sort(np.concatenate([train, validation]))
    report.rows = {
        "train": len(train),
        "validation": len(validation),
        "open": 0 if open_leads is None else len(open_leads),
    }
    labels = dataset.labels

    for column in timestamp_columns:
        _check_timestamp(report, dataset, fit, column)

    attributes = [f for f in dataset.feature_set if isinstance(f.computation, Attribute)]
    open_features = _open_features(open_leads, attributes, dataset.feature_set.placeholders)
    personal: set[str] = set()
    for feature in attributes:
        column = feature.computation.column
        finding = _personal_data(column, dataset.leads[column].iloc[fit], feature.computation)
        if finding is not None:
            report.findings.append(finding)
            personal.add(column)
    for feature in attributes:
        column = feature.computation.column
        if column in personal:
            continue
        values = dataset.features[feature.name]
        auc = _single_column_auc(values, feature.kind, labels, train, validation)
        report.single_column_auc[column] = round(auc, 4)
        if auc > auc_threshold:
            _add(
                report,
                column,
                "separates_too_well",
                "strong",
                f"alone it ranks the validation rows with AUC {auc:.3f} > {auc_threshold}",
            )
        _check_purity(report, column, values.iloc[fit], labels[fit], feature.kind)
        _check_availability(report, column, values, fit, dataset.split_key, open_features)
        gap = _missingness_gap(values.iloc[fit], labels[fit])
        if abs(gap) >= missingness_gap:
            more = "won" if gap > 0 else "lost"
            _add(
                report,
                column,
                "missingness_gap",
                "weak",
                f"missing {abs(gap):.0%} more often for {more} leads than for the others",
            )
    _check_dominance(report, dataset, splits)
    for column in dict.fromkeys(f.column for f in report.findings):
        hint = _name_hint(column)
        if hint and column not in personal:
            _add(report, column, "name_hint", "hint", f"its name contains {hint!r}")
    _co_missing(report, dataset, fit)
    _decide(report, personal)
    return report


def _add(report: AuditReport, column: str, rule: str, strength: Strength, evidence: str) -> None:
    report.findings.append(Finding(column, rule, evidence, strength))


def _decide(report: AuditReport, personal: set[str]) -> None:
    keep_hint = "keep it with [audit] allow = [{c!r}] or --allow-leaky {c}"
    for column in dict.fromkeys(f.column for f in report.findings):
        strengths = {f.strength for f in report.findings_of(column)}
        if column in personal:
            decision = Decision(
                column,
                "excluded",
                "personal data and free text never become features, whatever the config says",
            )
        elif column in report.allowed:
            decision = Decision(column, "kept", ALLOWED)
        elif "strong" in strengths or {"weak", "hint"} <= strengths:
            decision = Decision(column, "excluded", "strong evidence of leakage")
        elif any(f.rule == "co_missing" for f in report.findings_of(column)):
            decision = Decision(
                column, "kept", "its missingness comes with a flagged column's; review it"
            )
        else:
            decision = Decision(
                column, "excluded for review", "weaker evidence; " + keep_hint.format(c=column)
            )
        report.decisions[column] = decision


def _open_features(
    open_leads: pd.DataFrame | None, attributes: list[Feature], placeholders: tuple[str, ...]
) -> pd.DataFrame | None:
    """The attribute features of still-open leads, read as the model would read them."""
    if open_leads is None or open_leads.empty:
        return None
    return build_features(
        open_leads.reset_index(drop=True),
        None,
        np.zeros(len(open_leads), dtype=np.int64),
        FeatureSet(tuple(attributes), placeholders),
        source="open leads",
    )


def _check_timestamp(report: AuditReport, dataset: Dataset, fit: np.ndarray, column: str) -> None:
    values = dataset.leads[column].iloc[fit]
    present = values.notna().to_numpy()
    if not present.any():
        return
    stamps = series_to_micros(values[present], source="leads", column=column)
    as_of = dataset.as_of[fit][present]
    if dataset.closed_at is not None:
        closed = dataset.closed_at[fit][present]
        after_outcome = np.mean((closed < np.iinfo(np.int64).max) & (stamps >= closed))
        if after_outcome > AFTER_SNAPSHOT_SHARE:
            _add(
                report,
                column,
                "stamped_after_outcome",
                "strong",
                f"{after_outcome:.0%} of its values are at or after the lead's outcome",
            )
            return
    if as_of.max() > 0:
        after = np.mean(stamps > as_of)
        if after > AFTER_SNAPSHOT_SHARE:
            _add(
                report,
                column,
                "stamped_after_snapshot",
                "strong",
                f"{after:.0%} of its values are after the lead's snapshot",
            )


def _single_column_auc(
    values: pd.Series, kind: str, labels: np.ndarray, train: np.ndarray, graded: np.ndarray
) -> float:
    """Validation AUC of the best one-column rule learnt on the train rows, in [0.5, 1]."""
    y_graded = labels[graded]
    if len(graded) == 0 or y_graded.min() == y_graded.max():
        return 0.5
    if kind == "numeric":
        numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
        known = numbers[train][np.isfinite(numbers[train])]
        fill = float(np.median(known)) if len(known) else 0.0
        score = np.where(np.isnan(numbers), fill, numbers)[graded]
    else:
        text = values.astype(object).where(values.notna(), "<missing>").astype(str).to_numpy()
        prior = labels[train].mean()
        stats = (
            pd.DataFrame({"v": text[train], "y": labels[train]})
            .groupby("v")["y"]
            .agg(["sum", "count"])
        )
        rate = (stats["sum"] + 10 * prior) / (stats["count"] + 10)  # smoothed win rate per value
        score = pd.Series(text[graded]).map(rate).fillna(prior).to_numpy()
    auc = roc_auc_score(y_graded, score)
    return float(max(auc, 1 - auc))


def _pure_p_value(rows: np.ndarray, total: int, class_size: int) -> np.ndarray:
    """The chance that `rows` random leads all fall in a class of `class_size` out of `total`."""
    return hypergeom.pmf(rows, total, class_size, rows)


def _check_purity(
    report: AuditReport, column: str, values: pd.Series, labels: np.ndarray, kind: str
) -> None:
    total, won = len(labels), int(labels.sum())
    present = values.notna().to_numpy()
    filled, filled_won = int(present.sum()), int(labels[present].sum())
    for outcome, count, size in (
        ("won", filled_won, won),
        ("lost", filled - filled_won, total - won),
    ):
        if 0 < filled < total and count == filled and filled >= PURE_MIN_ROWS:
            p = float(_pure_p_value(np.array([filled]), total, size)[0])
            if p < PURE_COLUMN_REVIEW_P_VALUE:
                _add(
                    report,
                    column,
                    "class_pure_presence",
                    "strong" if p < PURE_COLUMN_P_VALUE else "weak",
                    f"filled for {filled:,} leads ({filled / total:.1%}), every one {outcome}; "
                    f"by chance {_p(p)}",
                )
                return
    if kind != "categorical" or filled == 0:
        return
    stats = (
        pd.DataFrame({"v": values.to_numpy()[present], "y": labels[present]})
        .groupby("v")["y"]
        .agg(["sum", "count"])
    )
    for outcome, hits, size in (
        ("won", stats["sum"], won),
        ("lost", stats["count"] - stats["sum"], total - won),
    ):
        pure = stats[(hits == stats["count"]) & (stats["count"] >= PURE_MIN_ROWS)]
        if pure.empty:
            continue
        p = _pure_p_value(pure["count"].to_numpy(), total, size)
        if (p < PURE_P_VALUE).any():
            n_values = int((p < PURE_P_VALUE).sum())
            rows = int(pure["count"].to_numpy()[p < PURE_P_VALUE].sum())
            _add(
                report,
                column,
                "class_pure_value",
                "strong",
                f"values seen only in {outcome} leads: {n_values} ({rows:,} leads); by chance "
                f"{_p(float(p.min()))}",
            )
            return


def _p(p_value: float) -> str:
    """A p-value as evidence: those below a float's range read as such, not as 0."""
    return "p < 1e-300" if p_value < 1e-300 else f"p = {p_value:.1e}"


def _fill_test(a: np.ndarray, b: np.ndarray) -> tuple[float, float, float]:
    """Fill rates of two groups (True = filled) and the exact test's p-value of their gap."""
    table = [[int(a.sum()), int(len(a) - a.sum())], [int(b.sum()), int(len(b) - b.sum())]]
    return float(a.mean()), float(b.mean()), float(fisher_exact(table)[1])


def _check_availability(
    report: AuditReport,
    column: str,
    values: pd.Series,
    fit: np.ndarray,
    order: np.ndarray | None,
    open_features: pd.DataFrame | None,
) -> None:
    decided = values.iloc[fit].notna().to_numpy()
    if open_features is not None and len(open_features) >= PURE_MIN_ROWS:
        name = values.name
        still_open = open_features[name].notna().to_numpy()
        open_rate, decided_rate, p = _fill_test(still_open, decided)
        if decided_rate - open_rate >= AVAILABILITY_GAP and p < FILL_P_VALUE:
            _add(
                report,
                column,
                "not_available_when_new",
                "strong",
                f"filled for {open_rate:.0%} of the {len(still_open):,} still-open leads but "
                f"{decided_rate:.0%} of decided ones ({_p(p)}): it is written once a lead is "
                "worked, so a new lead will not have it",
            )
            return
    if order is None or len(fit) < 3 * PURE_MIN_ROWS:
        return
    by_time = decided[np.argsort(order[fit], kind="stable")]
    third = len(by_time) // 3
    old_rate, new_rate, p = _fill_test(by_time[:third], by_time[-third:])
    if abs(new_rate - old_rate) >= TREND_GAP and p < FILL_P_VALUE:
        _add(
            report,
            column,
            "fill_rate_trend",
            "weak",
            f"filled for {old_rate:.0%} of the oldest third of training leads and {new_rate:.0%} "
            "of the newest: it is filled in by a process that changed, as rep-assigned fields "
            "are",
        )


def _missingness_gap(values: pd.Series, labels: np.ndarray) -> float:
    missing = values.isna().to_numpy()
    if labels.min() == labels.max():
        return 0.0
    return float(missing[labels == 1].mean() - missing[labels == 0].mean())


def _co_missing(report: AuditReport, dataset: Dataset, fit: np.ndarray) -> None:
    """A column flagged only for its missingness gap that is missing together with a column
    flagged on other evidence carries that column's pattern, not a leak of its own."""
    by_column = {
        f.computation.column: f.name
        for f in dataset.feature_set
        if isinstance(f.computation, Attribute)
    }
    primary = [
        c
        for c in report.flagged
        if any(f.strength == "strong" for f in report.findings_of(c)) and c in by_column
    ]
    for column in report.flagged:
        rules = {f.rule for f in report.findings_of(column) if f.strength != "hint"}
        if rules != {"missingness_gap"}:
            continue
        missing = dataset.features[by_column[column]].iloc[fit].isna().to_numpy()
        for other in primary:
            other_missing = dataset.features[by_column[other]].iloc[fit].isna().to_numpy()
            # Jaccard overlap: a column missing nearly everywhere is not "together" with all.
            together = (missing & other_missing).sum() / max((missing | other_missing).sum(), 1)
            if together >= CO_MISSING_SHARE:
                _add(
                    report,
                    column,
                    "co_missing",
                    "info",
                    f"co-missing with {other} ({together:.0%} of the rows where either is missing "
                    f"lack both), so its gap may be {other}'s; not excluded for that alone",
                )
                break


def _check_dominance(report: AuditReport, dataset: Dataset, splits: dict[str, np.ndarray]) -> None:
    """Does the strongest single column beat all the other columns together, on validation?"""
    candidates = {
        c: auc
        for c, auc in report.single_column_auc.items()
        if c not in report.flagged and auc >= DOMINANCE_FLOOR
    }
    if not candidates or len(dataset.feature_set) < 3 or len(splits["validation"]) == 0:
        return
    strongest = max(candidates, key=candidates.get)
    dropped = {*report.flagged, strongest}
    others = FeatureSet(
        tuple(
            f
            for f in dataset.feature_set
            if not (isinstance(f.computation, Attribute) and f.computation.column in dropped)
        ),
        dataset.feature_set.placeholders,
    )
    graded = {
        "train": splits["train"],
        "validation": splits["validation"][:0],
        "holdout": splits["validation"],
    }
    together = baseline_auc(dataset.with_features(others), graded)
    if candidates[strongest] > together:
        _add(
            report,
            strongest,
            "dominates",
            "strong",
            f"alone it ranks the validation rows with AUC {candidates[strongest]:.3f}, better "
            f"than all {len(others)} other features together ({together:.3f}); a field known "
            "only after contact looks like this",
        )


def _name_hint(column: str) -> str | None:
    words = {w.lower() for w in _WORDS.findall(column)}
    found = sorted(words & NAME_HINTS)
    return found[0] if found else None


def _personal_data(column: str, values: pd.Series, computation: Attribute) -> Finding | None:
    """Emails, phone numbers, person names or free text, judged from a sample of the values."""
    if computation.transform not in (None, "category"):
        return None  # a declared transform (email_kind, seniority) reads it into a category
    present = values.dropna()
    if present.empty:
        return None
    sample = present.sample(min(len(present), SAMPLE_ROWS), random_state=0)
    if pd.api.types.is_numeric_dtype(sample.dtype) and not pd.api.types.is_bool_dtype(sample.dtype):
        numbers = pd.to_numeric(sample, errors="coerce").dropna()
        digits = numbers.abs().astype(float).map(lambda v: len(f"{v:.0f}"))
        is_phone = (
            len(numbers) > 0
            and (numbers % 1 == 0).all()
            and digits.between(8, 15).mean() >= 0.9
            and numbers.nunique() >= 0.8 * len(numbers)
        )
        return _personal(column, "phone numbers") if is_phone else None
    text = sample.astype(str).str.strip()
    text = text[text != ""]
    if text.empty:
        return None
    distinct = text.nunique() / len(text)
    if text.str.match(_EMAIL).mean() >= 0.5:
        return _personal(column, "email addresses")
    if text.str.match(_PHONE).mean() >= 0.8 and text.str.count(r"\d").mean() >= 7:
        return _personal(column, "phone numbers")
    words = {w.lower() for w in _WORDS.findall(column)}
    capitalised = text.str.match(_CAPITALISED_WORDS).mean()
    if words & PERSON_NAME_HINTS and not words & NOT_PERSON_HINTS and capitalised >= 0.8:
        return _personal(column, "person names")
    if text.str.match(_PERSON).mean() >= 0.8 and distinct >= 0.3:
        return _personal(column, "person names")
    if text.str.split().str.len().mean() >= 4 and distinct >= 0.5:
        return Finding(
            column,
            "free_text",
            "its values read as free text (notes) with "
            f"{text.str.split().str.len().mean():.0f} words on average and "
            f"{distinct:.0%} of them distinct",
            "personal",
        )
    return None


def _personal(column: str, what: str) -> Finding:
    return Finding(
        column,
        "personal_data",
        f"its values look like {what}"
        + (" (the email_kind transform may read them)" if what == "email addresses" else ""),
        "personal",
    )
