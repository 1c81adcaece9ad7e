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
        """One row per lead: a credit per feature, then the bias, summing to the raw score."""
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


def _goes_left(node: _Node, value: float) -> bool:
    """LightGBM's own decision rule, missing values and categories included."""
    if isinstance(node.threshold, frozenset):
        if math.isnan(value):
            if node.missing == "NaN":
                return False
            value = 0.0
        elif value < 0:
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
