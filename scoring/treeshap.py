"""Exact TreeSHAP from tables built once per model, so an explained score costs a few array ops.

LightGBM's path-dependent TreeSHAP plays, for each tree, the game
v(S) = sum over leaves l of value(l) * prod over features k on l's path of
(o_k if k in S else z_k), where o_k is 1 when the lead follows l's path at every node testing k
and z_k is the share of training rows that followed it there. Each leaf is a product game, so a
tree's Shapley values depend on the lead only through its decisions at the tree's split nodes:
at most 2^k patterns for k splits. When the model loads we compute, for every tree and every
pattern, each feature's credit and the leaf reached. Scoring a lead is then its decisions at
every node, one pattern per tree, and a sum of table rows. The credits equal `pred_contrib`'s
to float rounding, and the same rows give the raw score.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import lightgbm as lgb
import numpy as np
from scipy import sparse

from scoring.errors import TablesTooLarge

# Table rows are 2^splits per tree; past this many in all (about 64 MB with 30 features) a
# model keeps LightGBM's pred_contrib. Trees of up to 8 leaves fit whatever their number.
MAX_TABLE_ROWS = 250_000
_ZERO = 1e-35  # LightGBM's kZeroThreshold: |x| <= this counts as zero for missing_type Zero
_MISSING = {"None": 0, "Zero": 1, "NaN": 2}
_SPARSE_FROM = 16  # rows from which a sparse product beats gathering table rows
_CHUNK = 512
# per leaf: its value and [(feature, zero_fraction, [(node, goes_left), ...]), ...]
_Slot = tuple[int, float, list[tuple[int, bool]]]


@dataclass
class _Tree:
    nodes: list[int] = field(default_factory=list)  # global indices of its split nodes
    leaves: list[tuple[float, list[_Slot]]] = field(default_factory=list)


@dataclass
class _Compiled:
    """Every split node of a booster in flat lists, and every tree's leaf paths."""

    n_features: int
    node_feature: list[int] = field(default_factory=list)
    node_threshold: list[float] = field(default_factory=list)
    node_default_left: list[bool] = field(default_factory=list)
    node_missing: list[int] = field(default_factory=list)
    node_categories: list[frozenset[int] | None] = field(default_factory=list)
    trees: list[_Tree] = field(default_factory=list)
    constant: float = 0.0  # the outputs of single-leaf trees
    bias: float = 0.0  # the expected raw score over the training rows

    @property
    def table_rows(self) -> int:
        return sum(1 << len(tree.nodes) for tree in self.trees)


class TreeShapTables:
    """Raw scores and exact TreeSHAP contributions of a (non-linear) LightGBM booster."""

    def __init__(self, booster: lgb.Booster) -> None:
        compiled = _compile(booster.dump_model())
        if compiled.table_rows > MAX_TABLE_ROWS:
            raise TablesTooLarge(
                f"expected at most {MAX_TABLE_ROWS} table rows, got {compiled.table_rows} (trees "
                "with many splits); use pred_contrib for this booster"
            )
        self.n_features = compiled.n_features
        self.bias = compiled.bias
        self._constant = compiled.constant
        self._nodes(compiled)
        self._tables(compiled)

    def _nodes(self, compiled: _Compiled) -> None:
        """Numerical split nodes first, then categorical ones, then a never-true padding column:
        decisions come out as one concatenation, in this order."""
        categorical = np.array([c is not None for c in compiled.node_categories], dtype=bool)
        feature = np.array(compiled.node_feature, dtype=np.intp)
        numerical, categories = np.flatnonzero(~categorical), np.flatnonzero(categorical)
        categories = categories[np.argsort(feature[categories], kind="stable")]
        self._position = np.empty(len(categorical) + 1, dtype=np.intp)
        self._position[np.concatenate([numerical, categories])] = np.arange(len(categorical))
        self._position[-1] = len(categorical)
        missing = np.array(compiled.node_missing, dtype=np.int8)[numerical]
        default_left = np.array(compiled.node_default_left, dtype=bool)[numerical]
        self._num_feature = feature[numerical]
        self._num_threshold = np.array(compiled.node_threshold, dtype=np.float64)[numerical]
        # A missing value goes the default way, except with missing_type None: it counts as 0.
        self._num_nan_left = np.where(
            missing == _MISSING["None"], self._num_threshold >= 0.0, default_left
        )
        self._num_zero_missing = missing == _MISSING["Zero"]
        self._num_zero_left = default_left
        self._any_zero_missing = bool(self._num_zero_missing.any())
        # Per categorical feature, a (code x node) membership table: a lead's decisions at all
        # of that feature's nodes are one row of it. The last row answers for missing,
        # negative and unseen codes: always right.
        self._cat_tables: list[np.ndarray] = []
        for cat_feature in np.unique(feature[categories]):
            nodes = categories[feature[categories] == cat_feature]
            sets = [compiled.node_categories[i] or frozenset() for i in nodes]
            width = max(max(members, default=0) for members in sets) + 2
            table = np.zeros((width, len(nodes)), dtype=bool)
            for column, members in enumerate(sets):
                table[sorted(members), column] = True
            self._cat_tables.append(table)
        self._cat_columns = np.unique(feature[categories])
        self._cat_last = np.array([len(table) - 1 for table in self._cat_tables], dtype=np.float64)

    def _tables(self, compiled: _Compiled) -> None:
        """One row per tree and decision pattern: each feature's credit, then the leaf value.

        Trees with fewer splits than the widest are padded with a never-true decision, which
        leaves their pattern numbers unchanged.
        """
        splits = max((len(tree.nodes) for tree in compiled.trees), default=0)
        # Up to 8 splits, a tree's decisions are 1, 2, 4 or 8 bytes of 0/1 read as one integer;
        # multiplying by sum(2^7j) lands byte i's bit at 7(width-1)+i, with no carries.
        self._width = next((w for w in (1, 2, 4, 8) if splits <= w), splits)
        self._magic = np.uint64(sum(1 << (7 * j) for j in range(self._width)))
        self._shift = np.uint64(7 * (self._width - 1))
        self._tree_nodes = np.full((len(compiled.trees), self._width), -1, dtype=np.intp)
        self._tree_offset = np.zeros(len(compiled.trees), dtype=np.intp)
        self._powers = (1 << np.arange(self._width)).astype(np.float64)
        tables = []
        offset = 0
        for t, tree in enumerate(compiled.trees):
            self._tree_nodes[t, : len(tree.nodes)] = tree.nodes
            self._tree_offset[t] = offset
            table = _tree_table(tree, self.n_features)
            tables.append(table)
            offset += len(table)
        self._tree_nodes = self._position[self._tree_nodes]
        self._table = np.concatenate(tables) if tables else np.zeros((0, self.n_features + 1))

    def goes_left(self, matrix: np.ndarray) -> np.ndarray:
        """Each row's decision at every split node (numerical, categorical, then a never-true
        padding column), by LightGBM's own rules for missing values and categories."""
        values = matrix[:, self._num_feature]
        left = (values <= self._num_threshold) | (np.isnan(values) & self._num_nan_left)
        if self._any_zero_missing:
            zero = self._num_zero_missing & (np.abs(values) <= _ZERO)
            left = np.where(zero, self._num_zero_left, left)
        # fmax turns a missing code into -1, the last row; the cast truncates toward zero as
        # LightGBM's int cast does.
        codes = np.fmax(matrix[:, self._cat_columns], -1.0)
        codes = np.minimum(codes, self._cat_last).astype(np.intp)
        parts = [left, *(table[codes[:, k]] for k, table in enumerate(self._cat_tables))]
        parts.append(np.zeros((len(matrix), 1), dtype=bool))
        return np.concatenate(parts, axis=1)

    def _patterns(self, decisions: np.ndarray) -> np.ndarray:
        """Each tree's decision pattern number, from (rows x trees x width) 0/1 decisions."""
        if self._width > 8:
            return (decisions @ self._powers).astype(np.intp)
        packed = np.ascontiguousarray(decisions).view(f"<u{self._width}")[..., 0]
        packed = packed.astype(np.uint64)
        bits = (packed * self._magic) >> self._shift
        return (bits & np.uint64((1 << self._width) - 1)).astype(np.intp)

    def explain(self, matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(raw scores, contributions): a credit per feature then the bias, as pred_contrib."""
        matrix = np.asarray(matrix, dtype=np.float64).reshape(-1, self.n_features)
        n = len(matrix)
        if len(self._tree_offset) == 0 or n == 0:
            contributions = np.zeros((n, self.n_features + 1))
            contributions[:, -1] = self.bias
            return np.full(n, self._constant), contributions
        if n > _CHUNK:  # in slices that stay in cache, rather than trees x rows temporaries
            parts = [self.explain(matrix[i : i + _CHUNK]) for i in range(0, n, _CHUNK)]
            return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
        decisions = self.goes_left(matrix)[:, self._tree_nodes]
        rows = self._tree_offset + self._patterns(decisions)
        if n < _SPARSE_FROM:
            summed = self._table[rows].sum(axis=1)
        else:  # one sparse product instead of an n x trees x features gather
            picks = sparse.csr_matrix(
                (np.ones(rows.size), rows.ravel(), np.arange(0, rows.size + 1, rows.shape[1])),
                shape=(n, len(self._table)),
            )
            summed = picks @ self._table
        raw = self._constant + summed[:, -1]
        summed[:, -1] = self.bias
        return raw, summed


def _tree_table(tree: _Tree, n_features: int) -> np.ndarray:
    """For each of the tree's 2^k decision patterns: feature credits, then the leaf's value."""
    local = {node: i for i, node in enumerate(tree.nodes)}
    patterns = np.arange(1 << len(tree.nodes))
    goes_left = ((patterns[:, None] >> np.arange(len(tree.nodes))) & 1).astype(bool)
    table = np.zeros((len(patterns), n_features + 1))
    for value, slots in tree.leaves:
        satisfied = [
            np.logical_and.reduce([goes_left[:, local[node]] == left for node, left in checks])
            for _, _, checks in slots
        ]
        leaf_pattern = sum(s.astype(np.intp) << j for j, s in enumerate(satisfied))
        credits = _leaf_table(value, [zero for _, zero, _ in slots])[leaf_pattern]
        for j, (feature, _, _) in enumerate(slots):
            table[:, feature] += credits[:, j]
        table[:, -1] += np.where(np.logical_and.reduce(satisfied), value, 0.0)
    return table


def _leaf_table(value: float, zero_fractions: list[float]) -> np.ndarray:
    """Shapley values of one leaf's product game for every pattern: shape (2^m, m).

    Pattern bit j says the lead satisfies path feature j (o_j = 1). With g(S) the game's value
    for the coalition S, phi_j = sum over S without j of |S|!(m-|S|-1)!/m! (g(S+j) - g(S)).
    """
    m = len(zero_fractions)
    if m == 0:
        return np.zeros((1, 0))
    size = 1 << m
    members = (np.arange(size)[:, None] >> np.arange(m)) & 1  # subset (or pattern) x feature
    zeros = np.asarray(zero_fractions, dtype=np.float64)
    # g[p, S] = value * [S within p's satisfied features] * prod of z over features outside S
    absent_product = np.prod(np.where(members == 1, 1.0, zeros), axis=1)
    inside = (np.arange(size)[None, :] & ~np.arange(size)[:, None]) == 0
    games = value * inside * absent_product[None, :]
    sizes = members.sum(axis=1)
    factorial = [math.factorial(k) for k in range(m + 1)]

    def weight(s: np.ndarray) -> np.ndarray:
        return np.array([factorial[k] * factorial[m - k - 1] / factorial[m] for k in s])

    # phi_j = games @ c_j: +w(|T|-1) for coalitions T holding j, -w(|T|) for those without it
    with_j = members == 1
    coefficients = np.where(
        with_j,
        weight(np.maximum(sizes - 1, 0))[:, None],
        -weight(np.minimum(sizes, m - 1))[:, None],
    )
    return games @ coefficients


def _compile(dump: dict[str, Any]) -> _Compiled:
    compiled = _Compiled(n_features=len(dump["feature_names"]))
    for info in dump["tree_info"]:
        root = info["tree_structure"]
        if "split_feature" not in root:
            compiled.constant += float(root.get("leaf_value", 0.0))
            compiled.bias += float(root.get("leaf_value", 0.0))
            continue
        tree = _Tree()
        total = float(root["internal_count"])
        stack: list[tuple[dict[str, Any], list[tuple[int, int, bool, float]]]] = [(root, [])]
        while stack:
            node, path = stack.pop()
            if "split_feature" not in node:
                value = float(node["leaf_value"])
                compiled.bias += value * float(node["leaf_count"]) / total
                tree.leaves.append((value, _slots(path)))
                continue
            index = len(compiled.node_feature)
            tree.nodes.append(index)
            compiled.node_feature.append(int(node["split_feature"]))
            compiled.node_default_left.append(bool(node["default_left"]))
            compiled.node_missing.append(_MISSING[str(node["missing_type"])])
            if node["decision_type"] == "==":
                categories = frozenset(int(v) for v in str(node["threshold"]).split("||"))
                compiled.node_categories.append(categories)
                compiled.node_threshold.append(math.nan)
            else:
                compiled.node_categories.append(None)
                compiled.node_threshold.append(float(node["threshold"]))
            count = float(node["internal_count"])
            feature = int(node["split_feature"])
            for child, left in ((node["left_child"], True), (node["right_child"], False)):
                share = _count(child) / count if count else 0.0
                stack.append((child, [*path, (feature, index, left, share)]))
        compiled.trees.append(tree)
    return compiled


def _count(node: dict[str, Any]) -> float:
    return float(node["internal_count"] if "split_feature" in node else node["leaf_count"])


def _slots(path: list[tuple[int, int, bool, float]]) -> list[_Slot]:
    """Group a leaf's path by feature: the product of its shares and the checks to satisfy it."""
    slots: dict[int, tuple[float, list[tuple[int, bool]]]] = {}
    for feature, node, left, share in path:
        zero, checks = slots.get(feature, (1.0, []))
        slots[feature] = (zero * share, [*checks, (node, left)])
    return [(feature, zero, checks) for feature, (zero, checks) in slots.items()]
