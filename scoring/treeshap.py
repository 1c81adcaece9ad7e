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
# model keeps LightGBM's pred_contrib. That is 1,953 trees of 8 leaves, or 3 of 17.
MAX_TABLE_ROWS = 250_000
# LightGBM's kZeroThreshold, the float 1e-35f: it reads any |x| <= this as 0 (missing for
# missing_type Zero)
_ZERO = float(np.float32(1e-35))
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
        threshold = np.array(compiled.node_threshold, dtype=np.float64)[numerical]
        # LightGBM reads a lead's |x| <= _ZERO as 0, so a threshold within _ZERO of 0 sends all
        # such values one way; moved just past the edge of that band, it does so unread.
        edge = np.where(threshold < 0.0, np.nextafter(-_ZERO, -np.inf), _ZERO)
        self._num_threshold = np.where(np.abs(threshold) <= _ZERO, edge, threshold)
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
        # A tree's decisions are bytes of 0/1 read as words: up to 8 splits one word of 1, 2, 4
        # or 8 bytes, wider trees 2, 4 or 8 words of 8 bytes, so up to 64 splits, far past the
        # 17 that the row budget allows. Multiplying a word by sum(2^7j) lands byte i's bit at
        # 7(word-1)+i, with no carries.
        self._word = next((w for w in (1, 2, 4) if splits <= w), 8)
        self._words = next((w for w in (1, 2, 4) if splits <= 8 * w), 8)
        self._magic = np.uint64(sum(1 << (7 * j) for j in range(self._word)))
        self._shift = np.uint64(7 * (self._word - 1))
        self._mask = np.uint64((1 << self._word) - 1)
        width = self._word * self._words
        self._tree_nodes = np.full((len(compiled.trees), width), -1, dtype=np.intp)
        self._tree_offset = np.zeros(len(compiled.trees), dtype=np.intp)
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
        packed = np.ascontiguousarray(decisions).view(f"<u{self._word}")
        packed = packed.astype(np.uint64, copy=False)
        bits = (packed * self._magic) >> self._shift
        if self._words == 1:
            return (bits[..., 0] & self._mask).astype(np.intp)
        # Each 8-byte word gave a byte of bits, decisions 8k to 8k+7 in word k: read these
        # bytes in turn as one little-endian integer.
        return bits.astype(np.uint8).view(f"<u{self._words}")[..., 0].astype(np.intp)

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
        left = self.goes_left(matrix)
        # np.take gathers a few rows' decisions faster than indexing, and many rows slower
        if n < _SPARSE_FROM:
            decisions = np.take(left, self._tree_nodes, axis=1)
        else:
            decisions = left[:, self._tree_nodes]
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

    Pattern bit j says the lead satisfies path feature j (o_j = 1). The game is
    g(S) = value * prod over S of o_k * prod outside S of z_k, so for satisfied set P:
    phi_j = value * (o_j - z_j) * prod_{k not in P+j} z_k * G(P-j), with
    G(Q) = sum over S within Q of w(|S|) * prod_{k in Q-S} z_k and w(s) = s!(m-s-1)!/m!.
    Every array is 2^m long, not 2^m x 2^m, so leaves deep enough to fill the budget fit too.
    """
    m = len(zero_fractions)
    if m == 0:
        return np.zeros((1, 0))
    zeros = np.asarray(zero_fractions, dtype=np.float64)
    subsets, bits = np.arange(1 << m), 1 << np.arange(m)
    members = (subsets[:, None] & bits) != 0  # subset (or pattern) x feature
    outside = np.where(members, 1.0, zeros).prod(axis=1)  # product of z outside the subset
    # symmetric[Q, d]: the sum over d-subsets of Q of their z product, a feature at a time
    symmetric = np.zeros((len(subsets), m + 1))
    symmetric[0, 0] = 1.0
    for k, z in enumerate(zeros):
        without, with_k = symmetric[: 1 << k], symmetric[1 << k : 2 << k]
        with_k[:] = without
        with_k[:, 1:] += z * without[:, :-1]
    factorial = [math.factorial(k) for k in range(m + 1)]
    weights = np.array([factorial[s] * factorial[m - s - 1] / factorial[m] for s in range(m)])
    # S within Q leaves d = |Q - S| features of Q out: G(Q) = sum_d symmetric[Q, d] w(|Q| - d).
    # |Q| - d < 0 only where symmetric is 0, and Q never holds all m features where G is used.
    lag = np.clip(members.sum(axis=1)[:, None] - np.arange(m + 1), 0, m - 1)
    coalitions = (symmetric * weights[lag]).sum(axis=1)
    return (
        value
        * (members - zeros)
        * outside[subsets[:, None] | bits]
        * coalitions[subsets[:, None] & ~bits]
    )


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
