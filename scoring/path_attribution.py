"""Per-lead attribution for boosters LightGBM's TreeSHAP cannot explain (linear trees).

Path attribution (Saabas): walking each tree from root to leaf, every split moves the expected
value from the parent's to the child's, and that move is credited to the split's feature. In a
linear leaf each coefficient times its value is credited to its feature, and the leaf's constant
(relative to the leaf's average) to the bias. Feature credits plus the bias add up to the raw
score exactly, as TreeSHAP's do.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import lightgbm as lgb
import numpy as np

_ROWS_TOGETHER = 64  # from this many rows on, each tree is walked by all of them at once


@dataclass(frozen=True)
class _Node:
    feature: int
    threshold: float | frozenset[int]
    default_left: bool
    missing: str
    left: Any
    right: Any
    value: float


@dataclass(frozen=True)
class _Leaf:
    value: float
    const: float | None
    features: tuple[int, ...]
    coefficients: tuple[float, ...]


def has_linear_trees(booster: lgb.Booster) -> bool:
    return "is_linear=1" in booster.model_to_string()


class PathExplainer:
    """Path attribution over every tree of a booster; `contributions` mirrors pred_contrib."""

    def __init__(self, booster: lgb.Booster) -> None:
        dump = booster.dump_model()
        self.n_features = len(dump["feature_names"])
        self.trees = [_compile(tree["tree_structure"]) for tree in dump["tree_info"]]

    def contributions(self, matrix: np.ndarray) -> np.ndarray:
        """One row per lead: a credit per feature, then the bias, summing to the raw score. Many
        rows walk each tree together, as arrays; a few walk it one by one, which costs less
        than an array operation per node. Both add the same credits in the same order, so they
        agree to the last bit."""
        if len(matrix) >= _ROWS_TOGETHER:
            out = np.zeros((len(matrix), self.n_features + 1))
            everyone = np.arange(len(matrix))
            for tree in self.trees:
                out[:, -1] += tree.value
                if isinstance(tree, _Node):  # a tree that is one leaf is its value alone
                    _walk(tree, everyone, matrix, out)
            return out
        out = np.zeros((len(matrix), self.n_features + 1))
        for row, values in enumerate(matrix):
            credits = out[row]
            for tree in self.trees:
                node = tree
                if isinstance(node, _Leaf):
                    credits[-1] += node.value
                    continue
                credits[-1] += node.value
                while isinstance(node, _Node):
                    child = node.left if _goes_left(node, values[node.feature]) else node.right
                    child_value = child.value
                    credits[node.feature] += child_value - node.value
                    node = child
                if node.const is not None and not any(math.isnan(values[f]) for f in node.features):
                    credits[-1] += node.const - node.value
                    for feature, coefficient in zip(node.features, node.coefficients, strict=True):
                        credits[feature] += coefficient * values[feature]
        return out


def _walk(node: _Node | _Leaf, rows: np.ndarray, matrix: np.ndarray, out: np.ndarray) -> None:
    """Credit the `rows` that reach `node` with every move below it, and their linear leaf."""
    if isinstance(node, _Leaf):
        if node.const is None:
            return
        features = list(node.features)
        if features:
            rows = rows[~np.isnan(matrix[np.ix_(rows, features)]).any(axis=1)]
        out[rows, -1] += node.const - node.value
        for feature, coefficient in zip(node.features, node.coefficients, strict=True):
            out[rows, feature] += coefficient * matrix[rows, feature]
        return
    left = _go_left(node, matrix[rows, node.feature])
    for child, reaching in ((node.left, rows[left]), (node.right, rows[~left])):
        if len(reaching):
            out[reaching, node.feature] += child.value - node.value
            _walk(child, reaching, matrix, out)


def _go_left(node: _Node, values: np.ndarray) -> np.ndarray:
    """`_goes_left` for many values at once."""
    missing = np.isnan(values)
    if isinstance(node.threshold, frozenset):
        usable = ~missing & (values >= 0)
        codes = np.where(usable, values, 0).astype(np.int64)
        return usable & np.isin(codes, list(node.threshold))
    if node.missing != "NaN":
        values = np.where(missing, 0.0, values)
    default = (node.missing == "Zero") & (np.abs(values) <= 1e-35)
    default |= (node.missing == "NaN") & np.isnan(values)
    return np.where(default, node.default_left, values <= node.threshold)


def _goes_left(node: _Node, value: float) -> bool:
    """LightGBM's own decision rule, missing values and categories included: a missing or
    negative category always goes right, as in LightGBM's `CategoricalDecision`."""
    if isinstance(node.threshold, frozenset):
        if math.isnan(value) or value < 0:
            return False
        return int(value) in node.threshold
    if math.isnan(value) and node.missing != "NaN":
        value = 0.0
    if (node.missing == "Zero" and abs(value) <= 1e-35) or (
        node.missing == "NaN" and math.isnan(value)
    ):
        return node.default_left
    return value <= node.threshold


def _compile(node: dict[str, Any]) -> _Node | _Leaf:
    if "leaf_index" in node or "split_feature" not in node:
        return _Leaf(
            value=float(node.get("leaf_value", 0.0)),
            const=float(node["leaf_const"]) if "leaf_const" in node else None,
            features=tuple(int(f) for f in node.get("leaf_features", [])),
            coefficients=tuple(float(c) for c in node.get("leaf_coeff", [])),
        )
    threshold = node["threshold"]
    if node["decision_type"] == "==":
        threshold = frozenset(int(v) for v in str(threshold).split("||"))
    else:
        threshold = float(threshold)
    return _Node(
        feature=int(node["split_feature"]),
        threshold=threshold,
        default_left=bool(node["default_left"]),
        missing=str(node["missing_type"]),
        left=_compile(node["left_child"]),
        right=_compile(node["right_child"]),
        value=float(node["internal_value"]),
    )
