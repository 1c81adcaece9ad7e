"""Next steps: the fewest actionable moves that would carry a lead over its next threshold.

The dataset config marks actionable features and how each may move (`rise` by up to some amount,
or `set` to a value, such as 0 days since the last pricing page view). A tree model is piecewise
constant in each feature, changing only where a split threshold is crossed, so the values worth
trying are the smallest ones past each threshold within the allowed move: one per region, which
makes the search exact for the model rather than sampled.

A move changes only the trees that read its feature. Its effect on the raw score is those trees'
output at the moved row minus their output at the lead's own row, found by walking them for every
(candidate, tree) pair at once, as flat arrays. Single moves come first; pairs of moves are tried
for a lead only when fewer single moves than asked for carry it over.

A move is offered only where the data supports the model there: at least `min_support` training
leads in the target region (between the same split thresholds) of each moved feature. What the
model expects is a correlation learned from history, not a promise of cause and effect.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import lightgbm as lgb
import numpy as np

from scoring.calibrator import Calibrator
from scoring.errors import ModelArtifactError
from scoring.policy import Policy, Recommendation

RANK: dict[str, int] = {"disqualified": 0, "nurture": 1, "MQL": 2, "SQL": 3}
MAX_MOVES = 2  # a step combines at most this many moves: more reads as a plan, not a step
DEFAULT_MIN_SUPPORT = 30
_ZERO = 1e-35  # LightGBM's kZeroThreshold: |x| at most this reads as 0


@dataclass(frozen=True)
class Move:
    """How one actionable feature may move: `rise` by up to this much, or be `set` to a value."""

    feature: str
    action: str
    rise: float | None = None
    set: float | None = None

    def __post_init__(self) -> None:
        if (self.rise is None) == (self.set is None):
            raise ModelArtifactError(
                f"expected exactly one of rise or set for the move on {self.feature!r}"
            )

    def to_dict(self) -> dict[str, Any]:
        shown = {"rise": self.rise} if self.rise is not None else {"set": self.set}
        return {"feature": self.feature, "action": self.action, **shown}


@dataclass(frozen=True)
class Support:
    """How many training leads fell in each region of one feature between the model's split
    thresholds (`counts[i]`: above thresholds[i-1], at most thresholds[i]), and how many had no
    value."""

    thresholds: tuple[float, ...]
    counts: tuple[int, ...]
    missing: int

    def count_at(self, values: np.ndarray) -> np.ndarray:
        counts = np.array([*self.counts, self.missing], dtype=np.int64)
        region = np.searchsorted(np.array(self.thresholds), values, side="left")
        return counts[np.where(np.isnan(values), len(self.counts), region)]


@dataclass(slots=True)
class MoveTaken:
    index: int  # the move's place among the model's moves
    feature: str
    action: str
    before: float | None
    after: float


@dataclass(slots=True)
class NextStep:
    """A set of moves, the score the model expects after them, and the recommendation then."""

    moves: list[MoveTaken]
    score: int
    probability: float
    recommendation: Recommendation
    sentence: str


class NextSteps:
    """The moves of one model, compiled against its trees, with the training support of each."""

    def __init__(
        self,
        booster: lgb.Booster,
        feature_names: Sequence[str],
        moves: Sequence[Move],
        support: Mapping[str, Support],
        min_support: int = DEFAULT_MIN_SUPPORT,
    ) -> None:
        self.moves = tuple(moves)
        self.support = dict(support)
        self.min_support = min_support
        self._forest = _Forest(booster.dump_model())
        names = list(feature_names)
        self._move_column = [names.index(m.feature) for m in self.moves]
        for move, column in zip(self.moves, self._move_column, strict=True):
            if self._forest.is_categorical(column):
                raise ModelArtifactError(
                    f"expected a numeric feature for the move {move.action!r}, got the category "
                    f"{move.feature!r}; moves raise or set numbers"
                )
        self._compile_candidates()

    def _compile_candidates(self) -> None:
        """Every value worth trying, once per model: a move's set value, or for a rise the
        smallest value past each split threshold of its feature (a whole step for whole rises).
        Whether the data supports a value depends on the value alone, so it is decided here."""
        move, value, threshold, whole, rise = [], [], [], [], []
        for index, (spec, column) in enumerate(zip(self.moves, self._move_column, strict=True)):
            if spec.set is not None:
                move.append(index), value.append(spec.set), threshold.append(math.nan)
                whole.append(False), rise.append(math.nan)
                continue
            is_whole = float(spec.rise).is_integer()
            for split in self._forest.thresholds_of(column).tolist():
                past = math.floor(split) + 1.0 if is_whole else float(np.nextafter(split, np.inf))
                move.append(index), value.append(past), threshold.append(split)
                whole.append(is_whole), rise.append(float(spec.rise))
        self._cand_move = np.array(move, dtype=np.intp)
        self._cand_column = np.array([self._move_column[m] for m in move], dtype=np.intp)
        self._cand_value = np.array(value, dtype=np.float64)
        self._cand_threshold = np.array(threshold, dtype=np.float64)
        self._cand_is_set = np.isnan(self._cand_threshold)
        self._cand_whole = np.array(whole, dtype=bool)
        self._cand_rise = np.array(rise, dtype=np.float64)
        supported = np.ones(len(move), dtype=bool)
        for index, spec in enumerate(self.moves):
            support = self.support.get(spec.feature)
            mine = self._cand_move == index
            if support is not None and mine.any():
                supported[mine] = support.count_at(self._cand_value[mine]) >= self.min_support
        self._cand_supported = supported
        trees = [self._forest.trees_of(self._move_column[m]) for m in move]
        self._cand_trees = _Ragged(trees)
        self._trees_read = np.unique(np.concatenate([np.empty(0, dtype=np.intp), *trees]))
        self._tree_position = np.full(self._forest.n_trees, -1, dtype=np.intp)
        self._tree_position[self._trees_read] = np.arange(len(self._trees_read))
        self._nodes_read = self._forest.split_nodes(self._trees_read)
        # A node's column among the decisions; every other node (leaves) the last, false one.
        self._node_position = np.full(len(self._forest.feature), len(self._nodes_read))
        self._node_position[self._nodes_read] = np.arange(len(self._nodes_read))
        self._node_set = self._forest.node_set(self._nodes_read)
        # Pairs of candidates on different features, and the trees either one reads.
        first, second, pair_trees = [], [], []
        for a in range(len(move)):
            for b in range(a + 1, len(move)):
                if self._cand_column[a] != self._cand_column[b]:
                    first.append(a), second.append(b)
                    pair_trees.append(np.union1d(trees[a], trees[b]))
        self._pair_first = np.array(first, dtype=np.intp)
        self._pair_second = np.array(second, dtype=np.intp)
        self._pair_trees = _Ragged(pair_trees)

    @classmethod
    def fit(
        cls,
        booster: lgb.Booster,
        feature_names: Sequence[str],
        moves: Sequence[Move],
        training_matrix: np.ndarray,
        min_support: int = DEFAULT_MIN_SUPPORT,
    ) -> NextSteps:
        """Count the training leads in each region of every moved feature."""
        forest = _Forest(booster.dump_model())
        names = list(feature_names)
        support = {}
        for move in moves:
            column = names.index(move.feature)
            thresholds = forest.thresholds_of(column)
            values = training_matrix[:, column]
            present = values[~np.isnan(values)]
            regions = np.searchsorted(thresholds, present, side="left")
            counts = np.bincount(regions, minlength=len(thresholds) + 1)
            support[move.feature] = Support(
                tuple(thresholds.tolist()),
                tuple(int(c) for c in counts),
                int(len(values) - len(present)),
            )
        return cls(booster, names, moves, support, min_support)

    def to_dict(self) -> dict[str, Any]:
        return {
            "moves": [move.to_dict() for move in self.moves],
            "min_support": self.min_support,
            "support": {
                feature: {"thresholds": list(s.thresholds), "counts": list(s.counts),
                          "missing": s.missing}
                for feature, s in self.support.items()
            },
        }  # fmt: skip

    @classmethod
    def from_dict(
        cls, booster: lgb.Booster, feature_names: Sequence[str], data: Mapping[str, Any]
    ) -> NextSteps:
        return cls(
            booster,
            feature_names,
            [Move(**move) for move in data["moves"]],
            {
                feature: Support(tuple(s["thresholds"]), tuple(s["counts"]), int(s["missing"]))
                for feature, s in data["support"].items()
            },
            int(data["min_support"]),
        )

    def find(
        self,
        matrix: np.ndarray,
        raw: np.ndarray,
        scores: Sequence[int],
        recommendations: Sequence[str],
        values: Sequence[Mapping[str, Any]],
        calibrator: Calibrator,
        policy: Policy,
        count: int,
    ) -> list[list[NextStep]]:
        """Up to `count` next steps per lead, each a smallest set of moves that carries it over
        its next threshold, largest lift first: single moves, or pairs of moves for a lead that
        no single move carries."""
        found: list[list[NextStep]] = [[] for _ in range(len(matrix))]
        targets = _next_thresholds(np.asarray(scores, dtype=np.int64), policy)
        rows = np.flatnonzero(
            (targets > 0) & np.array([r != "SQL" for r in recommendations], dtype=bool)
        )
        if count <= 0 or len(rows) == 0 or len(self._cand_move) == 0:
            return found
        tried = self._tryable(matrix[rows])  # (lead, candidate) pairs worth a walk
        if not tried.any():
            return found
        # Each lead's decisions at every node of those trees, and its own output of each tree,
        # found once and shared by every candidate.
        block = matrix[rows]
        decided = self._forest.decisions(block, self._node_set)
        at, candidate = np.nonzero(tried)
        steps, own = self._walk(block, decided, None, at, [candidate], self._cand_trees, candidate)
        carried = self._carried(
            raw[rows[at]] + steps, rows[at], [candidate], targets, values, calibrator, policy,
            recommendations, count,
        )  # fmt: skip
        for r, picked in carried.items():
            found[r] = picked
        unmoved = np.array([not found[r] for r in rows], dtype=bool)
        if not unmoved.any() or len(self._pair_first) == 0:
            return found
        # Pairs, for the leads no single move carries: any pair that does is a smallest set.
        usable = tried & unmoved[:, None]
        pairs = usable[:, self._pair_first] & usable[:, self._pair_second]
        at, pair = np.nonzero(pairs)
        if len(at) == 0:
            return found
        first, second = self._pair_first[pair], self._pair_second[pair]
        steps, _ = self._walk(block, decided, own, at, [first, second], self._pair_trees, pair)
        carried = self._carried(
            raw[rows[at]] + steps, rows[at], [first, second], targets, values, calibrator,
            policy, recommendations, count,
        )  # fmt: skip
        for r, picked in carried.items():
            found[r] = picked
        return found

    def _tryable(self, block: np.ndarray) -> np.ndarray:
        """Which candidates each lead may try: a set value other than its own; a rise past a
        threshold the lead is at or below, within reach (whole steps from a whole value); and
        only values the training data supports."""
        current = block[:, self._cand_column]
        base = np.where(np.isnan(current), 0.0, current)
        rise = (
            (base <= self._cand_threshold)
            & (self._cand_value <= base + self._cand_rise)
            & (~self._cand_whole | (base == np.floor(base)))
        )
        return self._cand_supported & np.where(
            self._cand_is_set, ~(current == self._cand_value), rise
        )

    def _walk(
        self,
        block: np.ndarray,
        decided: np.ndarray,
        own: np.ndarray | None,
        at: np.ndarray,
        moved: Sequence[np.ndarray],
        trees: _Ragged,
        key: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Each (lead, candidate)'s change of raw score: the trees its moves read, at the moved
        row minus at the lead's own. Without `own` (each lead's output of every tree a move
        reads), those are walked in the same pass and returned, to be shared with later walks."""
        entry_of, tree = trees.expand(key)
        lead = at[entry_of]
        rows, walked = lead, tree
        columns = [self._cand_column[m[entry_of]] for m in moved]
        values = [self._cand_value[m[entry_of]] for m in moved]
        if own is None:
            count = len(block) * len(self._trees_read)
            rows = np.concatenate([np.repeat(np.arange(len(block)), len(self._trees_read)), lead])
            walked = np.concatenate([np.tile(self._trees_read, len(block)), tree])
            columns = [np.concatenate([np.full(count, -1), c]) for c in columns]
            values = [np.concatenate([np.zeros(count), v]) for v in values]
        outputs = self._forest.outputs(
            block, decided, self._node_position, rows, walked, columns, values
        )
        if own is None:
            own = outputs[:count].reshape(len(block), len(self._trees_read))
            outputs = outputs[count:]
        outputs -= own[lead, self._tree_position[tree]]
        return np.bincount(entry_of, weights=outputs, minlength=len(at)), own

    def _carried(
        self,
        new_raw: np.ndarray,
        lead: np.ndarray,
        candidates: Sequence[np.ndarray],
        targets: np.ndarray,
        lead_values: Sequence[Mapping[str, Any]],
        calibrator: Calibrator,
        policy: Policy,
        current: Sequence[str],
        count: int,
    ) -> dict[int, list[NextStep]]:
        """The candidates whose score reaches the lead's next threshold and whose recommendation
        (the policy applied to the moved lead) is better; per lead the largest lift first, one
        candidate per set of moves, at most `count`."""
        probability = calibrator.probability(new_raw)
        score = np.rint(probability * 100).astype(np.int64)
        reached = np.flatnonzero(score >= targets[lead])
        seen: set[tuple[int, tuple[int, ...]]] = set()
        out: dict[int, list[NextStep]] = {}
        ruled = {rule.feature for rule in (*policy.icp, *policy.exclusions)}
        for i in reached[np.argsort(-new_raw[reached], kind="stable")].tolist():
            r = int(lead[i])
            if len(out.get(r, ())) >= count:
                continue
            picked = [int(c[i]) for c in candidates]
            key = (r, tuple(int(self._cand_move[c]) for c in picked))
            if key in seen:
                continue
            seen.add(key)
            before = lead_values[r]
            taken = [
                MoveTaken(
                    index=int(self._cand_move[c]),
                    feature=self.moves[self._cand_move[c]].feature,
                    action=self.moves[self._cand_move[c]].action,
                    before=_plain(before.get(self.moves[self._cand_move[c]].feature)),
                    after=float(self._cand_value[c]),
                )
                for c in picked
            ]
            step_score = int(score[i])
            after = before
            if any(t.feature in ruled for t in taken):  # the policy reads a moved feature
                after = {**before, **{t.feature: t.after for t in taken}}
            recommendation, _ = policy.recommend(step_score, after)
            if RANK[recommendation] <= RANK[current[r]]:
                continue
            out.setdefault(r, []).append(
                NextStep(
                    moves=taken,
                    score=step_score,
                    probability=float(probability[i]),
                    recommendation=recommendation,
                    sentence=_sentence(taken, step_score, recommendation),
                )
            )
        return out


def _next_thresholds(scores: np.ndarray, policy: Policy) -> np.ndarray:
    """Each score's next threshold up (floor, MQL, SQL), or 0 when it has none above it."""
    out = np.zeros(len(scores), dtype=np.int64)
    for threshold in sorted({policy.sql_threshold, policy.mql_threshold, policy.floor},
                            reverse=True):  # fmt: skip
        if threshold > 0:
            out = np.where(scores < threshold, threshold, out)
    return out


def _sentence(moves: Sequence[MoveTaken], score: int, recommendation: str) -> str:
    """ "Book a meeting and send the pricing page: the model expects a score of 41 (SQL)." """
    actions = " and ".join(
        move.action if i == 0 else move.action[:1].lower() + move.action[1:]
        for i, move in enumerate(moves)
    )
    return f"{actions}: the model expects a score of {score} ({recommendation})."


def _plain(value: Any) -> float | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return float(value)


class _Forest:
    """Every tree of a booster as flat arrays over one id space of nodes and leaves, so many
    (row, tree) pairs are walked together; a leaf points to itself, so walking past one is a
    no-op and every pair walks the same number of steps."""

    def __init__(self, dump: Mapping[str, Any]) -> None:
        self.n_features = len(dump["feature_names"])
        feature, threshold, default_left, missing, left, right = [], [], [], [], [], []
        value, const, categories = [], [], []
        linear: list[tuple[list[int], list[float]]] = []
        roots, reads, depth = [], [], 0

        def add(node: Mapping[str, Any], level: int, tree_reads: set[int]) -> int:
            nonlocal depth
            index = len(feature)
            for column in (feature, threshold, default_left, missing, left, right, value,
                           const, categories, linear):  # fmt: skip
                column.append(None)  # type: ignore[arg-type]
            if "split_feature" not in node:
                depth = max(depth, level)
                feature[index], threshold[index], default_left[index] = -1, 0.0, False
                missing[index], left[index], right[index] = "None", index, index
                value[index] = float(node.get("leaf_value", 0.0))
                const[index] = float(node["leaf_const"]) if "leaf_const" in node else math.nan
                used = [int(f) for f in node.get("leaf_features", [])]
                linear[index] = (used, [float(c) for c in node.get("leaf_coeff", [])])
                tree_reads.update(used)
                return index
            feature[index] = int(node["split_feature"])
            tree_reads.add(feature[index])
            if node["decision_type"] == "==":
                categories[index] = frozenset(int(v) for v in str(node["threshold"]).split("||"))
                threshold[index] = math.nan
            else:
                threshold[index] = float(node["threshold"])
            default_left[index] = bool(node["default_left"])
            missing[index] = str(node["missing_type"])
            value[index] = 0.0
            const[index] = math.nan
            linear[index] = ([], [])
            left[index] = add(node["left_child"], level + 1, tree_reads)
            right[index] = add(node["right_child"], level + 1, tree_reads)
            return index

        tree_of: list[int] = []
        for number, tree in enumerate(dump["tree_info"]):
            tree_reads: set[int] = set()
            roots.append(add(tree["tree_structure"], 0, tree_reads))
            reads.append(tree_reads)
            tree_of.extend([number] * (len(feature) - len(tree_of)))
        self.tree_of = np.array(tree_of, dtype=np.intp)
        self.depth = depth
        self.roots = np.array(roots, dtype=np.intp)
        self.feature = np.array(feature, dtype=np.intp)
        self.safe_feature = np.maximum(self.feature, 0)
        self.threshold = np.array(threshold, dtype=np.float64)
        self.default_left = np.array(default_left, dtype=bool)
        # Where a missing value goes: the default way with missing_type NaN or Zero (a missing
        # value reads as 0, which is "missing" there); with None it reads as 0 and is compared.
        self.missing_left = np.where(
            np.array([m == "None" for m in missing], dtype=bool),
            self.threshold >= 0.0,
            self.default_left,
        )
        self.zero_missing = np.array([m == "Zero" for m in missing], dtype=bool)
        self.has_zero_missing = bool(self.zero_missing.any())
        self.left = np.array(left, dtype=np.intp)
        self.right = np.array(right, dtype=np.intp)
        self.value = np.array(value, dtype=np.float64)
        self._reads = reads
        self._split_thresholds: dict[int, list[float]] = {}
        for f, t, c in zip(feature, threshold, categories, strict=True):
            if f >= 0 and c is None:
                self._split_thresholds.setdefault(f, []).append(t)
        # Categorical nodes: a (node x code) membership table; missing, negative and unseen
        # codes go right, as in LightGBM's CategoricalDecision.
        self.categorical = np.array([c is not None for c in categories], dtype=bool)
        self.has_categorical = bool(self.categorical.any())
        width = max((max(c, default=0) for c in categories if c is not None), default=0) + 2
        self.category_row = np.cumsum(self.categorical) - 1
        self.category_table = np.zeros((int(self.categorical.sum()), width), dtype=bool)
        for row, members in enumerate(c for c in categories if c is not None):
            self.category_table[row, sorted(members)] = True
        # Linear leaves: const + coefficients . values, or the plain value when one is missing.
        self.linear_const = np.array(const, dtype=np.float64)
        self.has_linear = bool((~np.isnan(self.linear_const)).any())
        terms = max((len(used) for used, _ in linear), default=0)
        self.linear_features = np.zeros((len(linear), terms), dtype=np.intp)
        self.linear_coefficients = np.zeros((len(linear), terms), dtype=np.float64)
        self.linear_used = np.zeros((len(linear), terms), dtype=bool)
        for index, (used, coefficients) in enumerate(linear):
            self.linear_features[index, : len(used)] = used
            self.linear_coefficients[index, : len(used)] = coefficients
            self.linear_used[index, : len(used)] = True

    @property
    def n_trees(self) -> int:
        return len(self.roots)

    def is_categorical(self, column: int) -> bool:
        return bool((self.categorical & (self.feature == column)).any())

    def thresholds_of(self, column: int) -> np.ndarray:
        return np.unique(np.array(self._split_thresholds.get(column, []), dtype=np.float64))

    def trees_of(self, column: int) -> np.ndarray:
        """The trees whose output can change with this feature: they split on it, or a linear
        leaf reads it."""
        return np.array([t for t, reads in enumerate(self._reads) if column in reads],
                        dtype=np.intp)  # fmt: skip

    def node_set(self, nodes: np.ndarray) -> _NodeSet:
        """`nodes` split by kind, with what deciding each needs, gathered once."""
        categorical = self.categorical[nodes]
        numeric, grouped = nodes[~categorical], nodes[categorical]
        return _NodeSet(
            size=len(nodes),
            numeric_position=np.flatnonzero(~categorical),
            numeric_feature=self.feature[numeric],
            threshold=self.threshold[numeric],
            missing_left=self.missing_left[numeric],
            zero_missing=self.zero_missing[numeric],
            default_left=self.default_left[numeric],
            category_position=np.flatnonzero(categorical),
            category_feature=self.feature[grouped],
            category_row=self.category_row[grouped],
        )

    def decisions(self, block: np.ndarray, nodes: _NodeSet) -> np.ndarray:
        """Whether each row of `block`, as it is, goes left at each node of `nodes`; one more
        column, always false, answers for leaves (which point to themselves either way)."""
        decided = np.zeros((len(block), nodes.size + 1), dtype=bool)
        values = block[:, nodes.numeric_feature]
        left = values <= nodes.threshold  # a missing value compares false: fixed below
        missing = np.isnan(values)
        if missing.any():
            left = np.where(missing, nodes.missing_left, left)
        if nodes.zero_missing.any():
            zero = nodes.zero_missing & (np.abs(values) <= _ZERO)
            left = np.where(zero, nodes.default_left, left)
        decided[:, nodes.numeric_position] = left
        if len(nodes.category_position):
            codes = block[:, nodes.category_feature]
            usable = ~np.isnan(codes) & (codes >= 0)
            codes = np.minimum(np.where(usable, codes, 0), self.category_table.shape[1] - 1)
            member = self.category_table[nodes.category_row, codes.astype(np.intp)]
            decided[:, nodes.category_position] = usable & member
        return decided

    def outputs(
        self,
        block: np.ndarray,
        decided: np.ndarray,
        position: np.ndarray,
        rows: np.ndarray,
        trees: np.ndarray,
        columns: Sequence[np.ndarray] = (),
        moved: Sequence[np.ndarray] = (),
    ) -> np.ndarray:
        """Output of tree `trees[i]` for row `rows[i]` of `block`, where that row's
        `columns[k][i]` holds `moved[k][i]` instead. Decisions come from `decided` (at node n,
        column `position[n]`), except at nodes that test a moved feature: LightGBM's decision
        rules exactly."""
        node = self.roots[trees]
        for _ in range(self.depth):
            left = decided[rows, position[node]]
            for column, value in zip(columns, moved, strict=True):
                hit = np.flatnonzero(self.feature[node] == column)
                if len(hit):
                    left[hit] = self._moved_left(node[hit], value[hit])
            node = np.where(left, self.left[node], self.right[node])
        out = self.value[node]
        if self.has_linear:
            features = self.linear_features[node]
            terms = np.zeros(features.shape)
            for k in range(features.shape[1]):
                terms[:, k] = self._read(block, rows, features[:, k], columns, moved)
            used = self.linear_used[node]
            const = self.linear_const[node]
            usable = ~np.isnan(const) & ~(np.isnan(terms) & used).any(axis=1)
            linear = const + (self.linear_coefficients[node] * np.where(used, terms, 0.0)).sum(1)
            out = np.where(usable, linear, out)
        return out

    def split_nodes(self, trees: np.ndarray) -> np.ndarray:
        """The split nodes of these trees."""
        mine = np.zeros(len(self.feature), dtype=bool)
        tree_of = self.tree_of
        mine[(self.feature >= 0) & np.isin(tree_of, trees)] = True
        return np.flatnonzero(mine)

    @staticmethod
    def _read(
        matrix: np.ndarray,
        rows: np.ndarray,
        features: np.ndarray,
        columns: Sequence[np.ndarray],
        moved: Sequence[np.ndarray],
    ) -> np.ndarray:
        values = matrix[rows, features]
        for column, value in zip(columns, moved, strict=True):
            values = np.where(features == column, value, values)
        return values

    def _moved_left(self, node: np.ndarray, values: np.ndarray) -> np.ndarray:
        """LightGBM's decision for moved values: numbers (never missing) at numerical nodes (moves
        are refused on categorical features)."""
        left = values <= self.threshold[node]
        if self.has_zero_missing:
            zero = self.zero_missing[node] & (np.abs(values) <= _ZERO)
            left = np.where(zero, self.default_left[node], left)
        return left


@dataclass(frozen=True)
class _NodeSet:
    """Split nodes in one order (a column each among the decisions), split by kind."""

    size: int
    numeric_position: np.ndarray
    numeric_feature: np.ndarray
    threshold: np.ndarray
    missing_left: np.ndarray
    zero_missing: np.ndarray
    default_left: np.ndarray
    category_position: np.ndarray
    category_feature: np.ndarray
    category_row: np.ndarray


class _Ragged:
    """Lists of tree numbers of different lengths in one array, expanded for many keys at once."""

    def __init__(self, lists: Sequence[np.ndarray]) -> None:
        self.sizes = np.array([len(item) for item in lists], dtype=np.intp)
        self.starts = np.concatenate([[0], np.cumsum(self.sizes)[:-1]]).astype(np.intp)
        self.values = np.concatenate([np.empty(0, dtype=np.intp), *lists]).astype(np.intp)

    def expand(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For every item of every key's list: which key (by position) and the item."""
        sizes = self.sizes[keys]
        owner = np.repeat(np.arange(len(keys)), sizes)
        first = np.cumsum(sizes) - sizes
        offsets = np.arange(len(owner)) - first[owner]
        return owner, self.values[self.starts[keys][owner] + offsets]
