"""Features of a lead's account (its B2B buying group) as of the lead's as-of, batch and online.

B2B deals are bought by groups: a VP's demo request says something about a colleague at the same
company. Five numbers describe a lead's colleagues (the other leads with the same account key) as
of the lead's as-of, never counting the lead itself, so none of its own outcome leaks in.
`account_features` computes them for many leads from an export's tables; `AccountBook` keeps the
per-account state a server needs to give one live lead the same values in microseconds. Both
enter the model as plain numeric lead columns, so the feature engines never see accounts.
"""

from __future__ import annotations

import hashlib
import math
from array import array
from bisect import bisect_left, bisect_right
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from features.batch import _distinct, _lead_positions, series_to_micros
from features.definitions import LeadColumn
from features.errors import DataContractError, InvalidLeadError
from features.schema import (
    ACTIVITY_TYPE,
    CLOSED_AT,
    CREATED_AT,
    HIGH_INTENT_ACTIVITIES,
    LEAD_ID,
    OCCURRED_AT,
    STATUS,
    WON,
)
from features.timestamps import calendar_micros, to_micros, window_micros
from features.transforms import (
    DEFAULT_PLACEHOLDERS,
    TRANSFORMS,
    category,
    placeholder_key,
    tracked_types,
)

ACCOUNT_WINDOW_DAYS = 30.0
# Seniority as a rank, so "the best of several colleagues" is a maximum.
SENIORITY_RANK: dict[str, int] = {
    "student": 0,
    "individual": 1,
    "manager": 2,
    "director": 3,
    "vp": 4,
    "c_level": 5,
}
# Statuses of an outcome row that close nothing: the export's way of saying "still open".
OPEN_STATUSES = frozenset({None, "open"})

ACCOUNT_COLUMNS: tuple[LeadColumn, ...] = (
    LeadColumn(
        "account_engaged_contacts_30d",
        "numeric",
        group="account",
        description="How many colleagues at the lead's company (other leads with the same "
        "account) did anything we recorded in the last 30 days.",
    ),
    LeadColumn(
        "account_best_seniority_30d",
        "numeric",
        group="account",
        description="The most senior of those engaged colleagues (0 = student, 1 = individual, "
        "2 = manager, 3 = director, 4 = VP, 5 = C-level); missing when none engaged or none has "
        "a readable title.",
    ),
    LeadColumn(
        "account_high_intent_30d",
        "numeric",
        group="account",
        description="How many high-intent actions (demo requests, meetings, pricing page views, "
        "webinars) the lead's colleagues took in the last 30 days.",
    ),
    LeadColumn(
        "account_open_leads",
        "numeric",
        group="account",
        description="How many other leads of the lead's company are open (not yet won or lost).",
    ),
    LeadColumn(
        "account_won_leads",
        "numeric",
        group="account",
        description="How many other leads of the lead's company were already won.",
    ),
)
ACCOUNT_FEATURE_NAMES: tuple[str, ...] = tuple(column.column for column in ACCOUNT_COLUMNS)

_NEVER = np.iinfo(np.int64).max  # the time of what has not happened (yet)
_NO_RANK = -1
_LEVELS = len(SENIORITY_RANK)


def account_features(
    leads: pd.DataFrame,
    activities: pd.DataFrame | None,
    outcomes: pd.DataFrame | None,
    *,
    targets: Sequence[object] | np.ndarray | pd.Series,
    as_of_us: Sequence[int] | np.ndarray,
    key: str,
    title_column: str = "job_title",
    high_intent: Iterable[str] = HIGH_INTENT_ACTIVITIES,
    placeholders: Iterable[str] = DEFAULT_PLACEHOLDERS,
    source: str = "leads",
    activities_source: str = "activities",
    outcomes_source: str = "outcomes",
) -> pd.DataFrame:
    """The account features of each lead in `targets`, as of its `as_of_us` (epoch microseconds).

    `leads` is the whole leads table (every lead of every account, whatever its outcome), as the
    colleagues of a target are read from it. Only what happened at or before a target's as-of
    counts, and a target never counts itself. Returns one float64 row per target, in the order
    of `targets`, indexed by lead_id; a target without an account has every value missing.
    """
    as_of = np.asarray(as_of_us, dtype=np.int64)
    target_ids = pd.Series(targets).astype(object).reset_index(drop=True)
    if as_of.shape != (len(target_ids),):
        raise DataContractError(
            f"expected one as-of time per target ({len(target_ids)}), got an array of shape "
            f"{as_of.shape}",
            source=source,
        )
    table = _LeadTable.read(leads, key, title_column, _placeholder_keys(placeholders), source)
    target = _lead_positions(leads[LEAD_ID], target_ids)
    if (target < 0).any():
        missing = target_ids.iloc[int(np.flatnonzero(target < 0)[0])]
        raise DataContractError(
            f"expected every target among the leads, got {missing!r}, which is no lead's",
            source=source,
            column=LEAD_ID,
        )
    closed_us, won_us = _closes(outcomes, leads[LEAD_ID], outcomes_source)
    events = _Events.read(
        activities, leads[LEAD_ID], table.account, tracked_types(high_intent), activities_source
    )
    values = _compute(table, closed_us, won_us, events, target, as_of)
    index = pd.Index(target_ids.to_numpy(), name=LEAD_ID)
    return pd.DataFrame(values, columns=list(ACCOUNT_FEATURE_NAMES), index=index)


def _placeholder_keys(placeholders: Iterable[str]) -> frozenset[str]:
    return frozenset(k for k in map(placeholder_key, placeholders) if k is not None)


def _account_name(value: object, placeholders: frozenset[str]) -> str | None:
    """An account key trimmed and lower-cased; None for a missing, blank or placeholder cell."""
    if isinstance(value, str) and placeholder_key(value) in placeholders:
        return None
    return category(value)


def _seniority_rank(title: object, placeholders: frozenset[str]) -> int:
    if isinstance(title, str) and placeholder_key(title) in placeholders:
        return _NO_RANK
    level = TRANSFORMS["seniority"](title)
    return _NO_RANK if level is None else SENIORITY_RANK[level]


def _close_kind(status: object) -> str | None:
    """'won', 'closed', or None for a row that closes nothing (an open lead's stage row)."""
    name = category(status)
    if name in OPEN_STATUSES:
        return None
    return WON if name == WON else "closed"


@dataclass(frozen=True)
class _LeadTable:
    """Each lead's account code (-1 without one), creation time and seniority rank."""

    account: np.ndarray
    n_accounts: int
    created_us: np.ndarray
    rank: np.ndarray

    @classmethod
    def read(
        cls,
        leads: pd.DataFrame,
        key: str,
        title_column: str,
        placeholders: frozenset[str],
        source: str,
    ) -> _LeadTable:
        for column in (LEAD_ID, CREATED_AT, key, title_column):
            if column not in leads.columns:
                raise DataContractError(
                    f"expected a column named {column!r}, found {list(leads.columns)}",
                    source=source,
                    column=column,
                )
        repeated = leads[LEAD_ID].duplicated().to_numpy()
        if repeated.any():
            position = int(np.flatnonzero(repeated)[0])
            raise DataContractError(
                f"expected each lead once, got {leads[LEAD_ID].iloc[position]!r} again",
                source=source,
                row=position + 1,
                column=LEAD_ID,
            )
        codes, distinct = _distinct(leads[key])
        names = np.array([*(_account_name(v, placeholders) for v in distinct), None], dtype=object)
        account, accounts = pd.factorize(names[codes], use_na_sentinel=True)
        codes, distinct = _distinct(leads[title_column])
        ranks = [_seniority_rank(title, placeholders) for title in distinct]
        return cls(
            account=account.astype(np.int64),
            n_accounts=len(accounts),
            created_us=series_to_micros(leads[CREATED_AT], source=source, column=CREATED_AT),
            rank=np.array([*ranks, _NO_RANK], dtype=np.int64)[codes],
        )


def _closes(
    outcomes: pd.DataFrame | None, lead_ids: pd.Series, source: str
) -> tuple[np.ndarray, np.ndarray]:
    """When each lead was first closed, and first won (`_NEVER` when it was not)."""
    closed_us = np.full(len(lead_ids), _NEVER, dtype=np.int64)
    won_us = closed_us.copy()
    if outcomes is None or outcomes.empty:
        return closed_us, won_us
    _require(outcomes, (LEAD_ID, STATUS, CLOSED_AT), source)
    codes, distinct = _distinct(outcomes[STATUS])
    kinds = np.array([*map(_close_kind, distinct), None], dtype=object)[codes]
    rows = np.flatnonzero(kinds != None)  # noqa: E711  # elementwise: which rows close a lead
    if not len(rows):
        return closed_us, won_us
    stamps = _rows_to_micros(outcomes[CLOSED_AT], rows, source, CLOSED_AT)
    lead = _lead_positions(lead_ids, outcomes[LEAD_ID].iloc[rows])
    known = lead >= 0
    np.minimum.at(closed_us, lead[known], stamps[known])
    won = known & (kinds[rows] == WON)
    np.minimum.at(won_us, lead[won], stamps[won])
    return closed_us, won_us


def _require(table: pd.DataFrame, columns: Iterable[str], source: str) -> None:
    for column in columns:
        if column not in table.columns:
            raise DataContractError(
                f"expected a column named {column!r}, found {list(table.columns)}",
                source=source,
                column=column,
            )


def _rows_to_micros(values: pd.Series, rows: np.ndarray, source: str, column: str) -> np.ndarray:
    """`series_to_micros` of some rows, where a refused cell names its row in the whole table."""
    try:
        return series_to_micros(
            values.iloc[rows].reset_index(drop=True), source=source, column=column
        )
    except DataContractError as error:
        row = None if error.row is None else int(rows[error.row - 1]) + 1
        raise DataContractError(error.detail, source=source, row=row, column=column) from None


@dataclass(frozen=True)
class _Events:
    """The activities of leads with an account, by lead and then time: each one's lead position
    and time, and apart the distinct high-intent events (one lead, type and time is one event,
    as the batch engine reads an export that repeats events)."""

    lead: np.ndarray
    occurred_us: np.ndarray
    high_lead: np.ndarray
    high_us: np.ndarray

    @classmethod
    def read(
        cls,
        activities: pd.DataFrame | None,
        lead_ids: pd.Series,
        account: np.ndarray,
        high_types: tuple[str, ...],
        source: str,
    ) -> _Events:
        if activities is None or activities.empty:
            empty = np.empty(0, dtype=np.int64)
            return cls(empty, empty, empty, empty)
        _require(activities, (LEAD_ID, OCCURRED_AT, ACTIVITY_TYPE), source)
        occurred = series_to_micros(activities[OCCURRED_AT], source=source, column=OCCURRED_AT)
        codes, distinct = _distinct(activities[ACTIVITY_TYPE])
        names = [category(value) for value in distinct]
        numbered = {name: code for code, name in enumerate(dict.fromkeys(filter(None, names)))}
        type_code = np.array([*(numbered.get(n, -1) for n in names), -1], dtype=np.int64)[codes]
        lead = _lead_positions(lead_ids, activities[LEAD_ID])
        kept = np.flatnonzero((lead >= 0) & (type_code >= 0))
        kept = kept[account[lead[kept]] >= 0]
        kept = kept[_order_within(lead[kept], occurred[kept])]
        lead, occurred, type_code = lead[kept], occurred[kept], type_code[kept]
        is_high = np.array([name in high_types for name in numbered], dtype=bool)
        high = np.flatnonzero(is_high[type_code])
        # In (lead, time) order an event is one type within a run of one lead at one time.
        high_lead, high_us = lead[high], occurred[high]
        new_run = np.ones(len(high), dtype=bool)
        new_run[1:] = (high_lead[1:] != high_lead[:-1]) | (high_us[1:] != high_us[:-1])
        event = np.cumsum(new_run) * len(numbered) + type_code[high]
        first = ~pd.Series(event).duplicated().to_numpy()
        high_lead, high_us = high_lead[first], high_us[first]
        return cls(lead, occurred, high_lead, high_us)


@dataclass(frozen=True)
class _Spans:
    """Half-open spans of time [start, end), each in a group (an account, a lead): how many of a
    group's spans hold a moment. A span holds t when start <= t, less those with end <= t (every
    start < end), so two binary searches within the group's sorted starts and ends answer."""

    offsets: np.ndarray
    starts: np.ndarray
    ends: np.ndarray | None  # None: the spans never end

    @classmethod
    def of(
        cls,
        group: np.ndarray,
        starts: np.ndarray,
        ends: np.ndarray | None,
        n_groups: int,
        *,
        in_order: bool = False,
    ) -> _Spans:
        """Spans of `group` (codes below `n_groups`); `in_order` when they already come by
        group, then by start and by end alike (a lead's disjoint spans in time order)."""
        offsets = np.zeros(n_groups + 1, dtype=np.int64)
        np.cumsum(np.bincount(group, minlength=n_groups), out=offsets[1:])
        if in_order:
            return cls(offsets, starts, ends)
        return cls(
            offsets,
            starts[_order_within(group, starts)],
            None if ends is None else ends[_order_within(group, ends)],
        )

    def holding(self, group: np.ndarray, moment: np.ndarray) -> np.ndarray:
        """How many spans of each `group` hold each `moment`; a group of -1 holds none."""
        held = _at_or_before(self.starts, self.offsets, group, moment)
        if self.ends is not None:
            held -= _at_or_before(self.ends, self.offsets, group, moment)
        return held


def _order_within(group: np.ndarray, values: np.ndarray) -> np.ndarray:
    """The order that sorts by group, then by value: one sort by value gives each its rank,
    which then fits beside the group in one int64 key, and sorting that beats a lexsort."""
    by_value = np.argsort(values)
    rank = np.empty_like(by_value)
    rank[by_value] = np.arange(len(values))
    return by_value[np.sort(group * len(values) + rank) % max(len(values), 1)]


def _at_or_before(
    values: np.ndarray, offsets: np.ndarray, group: np.ndarray, moment: np.ndarray
) -> np.ndarray:
    """How many of a group's values (sorted within each group, the group's slice starting at
    `offsets[group]`) are at or before each moment: a binary search per query, all queries at
    once, each step looking only at the queries still searching."""
    grouped = group >= 0
    low = np.where(grouped, offsets[group], 0)
    high = np.where(grouped, offsets[group + 1], 0)
    first = low.copy()
    searching = np.flatnonzero(low < high)
    while len(searching):
        lo, hi = low[searching], high[searching]
        middle = (lo + hi) // 2
        later = values[middle] > moment[searching]
        low[searching] = np.where(later, lo, middle + 1)
        high[searching] = np.where(later, middle, hi)
        searching = searching[low[searching] < high[searching]]
    return low - first


def _engaged_spans(
    lead: np.ndarray, occurred_us: np.ndarray, created_us: np.ndarray, window: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per lead, the spans of time in which it had an activity within the window before and
    already existed, by lead and then time, from activities in that order: activities less than
    a window apart make one span, apart from the lead's others, so a lead counts once however
    busy it was."""
    opens = np.ones(len(lead), dtype=bool)
    opens[1:] = (lead[1:] != lead[:-1]) | (occurred_us[1:] - occurred_us[:-1] >= window)
    first = np.flatnonzero(opens)
    last = np.append(first[1:], len(lead))[: len(first)] - 1
    span_lead = lead[first]
    start = np.maximum(occurred_us[first], created_us[span_lead])
    end = occurred_us[last] + window
    kept = start < end
    return span_lead[kept], start[kept], end[kept]


def _compute(
    table: _LeadTable,
    closed_us: np.ndarray,
    won_us: np.ndarray,
    events: _Events,
    target: np.ndarray,
    as_of: np.ndarray,
) -> np.ndarray:
    """The five features per target (rows) as float64; every count is the account's less the
    target's own share."""
    window = window_micros(ACCOUNT_WINDOW_DAYS)
    account, created = table.account, table.created_us
    n_accounts, n_leads = table.n_accounts, len(created)
    at = account[target]
    own_exists = created[target] <= as_of

    members = np.flatnonzero(account >= 0)
    lifetimes = _Spans.of(  # open from creation until the first close
        account[members],
        created[members],
        np.maximum(created[members], closed_us[members]),
        n_accounts,
    )
    open_leads = lifetimes.holding(at, as_of) - (own_exists & (as_of < closed_us[target]))
    winners = members[won_us[members] != _NEVER]
    wins = _Spans.of(
        account[winners], np.maximum(created[winners], won_us[winners]), None, n_accounts
    )
    won_leads = wins.holding(at, as_of) - (own_exists & (won_us[target] <= as_of))

    span_lead, start, end = _engaged_spans(events.lead, events.occurred_us, created, window)
    own_engaged = _Spans.of(span_lead, start, end, n_leads, in_order=True).holding(target, as_of)
    engaged = _Spans.of(account[span_lead], start, end, n_accounts).holding(at, as_of)
    engaged -= own_engaged

    rank = table.rank[span_lead]
    ranked = rank >= 0
    by_level = _Spans.of(
        account[span_lead[ranked]] * _LEVELS + rank[ranked],
        start[ranked],
        end[ranked],
        n_accounts * _LEVELS,
    )
    best = np.full(len(target), np.nan)
    own_rank = table.rank[target]
    for level in range(_LEVELS):  # lowest first: the highest level engaged is written last
        level_group = np.where(at >= 0, at * _LEVELS + level, -1)
        others = by_level.holding(level_group, as_of) - (own_engaged * (own_rank == level))
        best[others > 0] = level

    high_start = np.maximum(events.high_us, created[events.high_lead])
    high_end = events.high_us + window
    valid = high_start < high_end
    high_lead, high_start, high_end = events.high_lead[valid], high_start[valid], high_end[valid]
    own_high = _Spans.of(high_lead, high_start, high_end, n_leads, in_order=True)
    own_high = own_high.holding(target, as_of)
    high = _Spans.of(account[high_lead], high_start, high_end, n_accounts).holding(at, as_of)
    high -= own_high

    values = np.column_stack([engaged, best, high, open_leads, won_leads]).astype(np.float64)
    values[at < 0] = np.nan
    return values


_NEVER_US = int(_NEVER)
BOOK_FORMAT = 1


@dataclass(slots=True)
class _Contact:
    """What the features need of one lead, and no more: no id (the book keys it by a hash), no
    title (its seniority rank only). Engagement is kept as disjoint spans [start, end) in which
    the lead had an activity within the window before, so a busy lead costs a few numbers."""

    created_us: int
    rank: int
    last_us: int  # its newest activity (its creation without one): who goes first when full
    closed_us: int = _NEVER_US
    won_us: int = _NEVER_US
    span_starts: array[int] = field(default_factory=lambda: array("q"))
    span_ends: array[int] = field(default_factory=lambda: array("q"))
    high_us: array[int] = field(default_factory=lambda: array("q"))  # sorted
    high_type: array[int] = field(default_factory=lambda: array("b"))  # each one's type

    def add_activity(self, occurred_us: int, high_type: int, window: int) -> None:
        self.last_us = max(self.last_us, occurred_us)
        self._add_span(occurred_us, occurred_us + window)
        if high_type >= 0:
            low = bisect_left(self.high_us, occurred_us)
            high = bisect_right(self.high_us, occurred_us)
            if high_type not in self.high_type[low:high]:  # one type at one time is one event
                self.high_us.insert(high, occurred_us)
                self.high_type.insert(high, high_type)

    def _add_span(self, start: int, end: int) -> None:
        """Add [start, end), merged with the spans it overlaps or touches."""
        starts, ends = self.span_starts, self.span_ends
        first = bisect_left(ends, start)  # spans ending before `start` stay apart
        stop = bisect_right(starts, end)  # and so do those starting after `end`
        if first < stop:
            start, end = min(start, starts[first]), max(end, ends[stop - 1])
        del starts[first:stop], ends[first:stop]
        starts.insert(first, start)
        ends.insert(first, end)

    def forget_before(self, cutoff_us: int, window: int, max_events: int) -> None:
        """Drop what no as-of from `cutoff_us` on can see, and the oldest past `max_events`."""
        drop = max(bisect_right(self.span_ends, cutoff_us), len(self.span_ends) - max_events)
        del self.span_starts[:drop], self.span_ends[:drop]
        drop = max(bisect_right(self.high_us, cutoff_us - window), len(self.high_us) - max_events)
        del self.high_us[:drop], self.high_type[:drop]

    def engaged(self, as_of_us: int) -> bool:
        position = bisect_right(self.span_starts, as_of_us)
        return position > 0 and as_of_us < self.span_ends[position - 1]

    def high_intent(self, as_of_us: int, window: int) -> int:
        return bisect_right(self.high_us, as_of_us) - bisect_right(self.high_us, as_of_us - window)

    def to_dict(self) -> dict[str, Any]:
        return {
            "created_us": self.created_us,
            "seniority_rank": self.rank,
            "last_us": self.last_us,
            "closed_us": None if self.closed_us == _NEVER_US else self.closed_us,
            "won_us": None if self.won_us == _NEVER_US else self.won_us,
            "engaged_spans": [
                list(pair) for pair in zip(self.span_starts, self.span_ends, strict=True)
            ],
            "high_intent": [list(pair) for pair in zip(self.high_us, self.high_type, strict=True)],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> _Contact:
        spans, events = data["engaged_spans"], data["high_intent"]
        return cls(
            created_us=int(data["created_us"]),
            rank=int(data["seniority_rank"]),
            last_us=int(data["last_us"]),
            closed_us=_NEVER_US if data["closed_us"] is None else int(data["closed_us"]),
            won_us=_NEVER_US if data["won_us"] is None else int(data["won_us"]),
            span_starts=array("q", (start for start, _ in spans)),
            span_ends=array("q", (end for _, end in spans)),
            high_us=array("q", (occurred for occurred, _ in events)),
            high_type=array("b", (kind for _, kind in events)),
        )


class AccountBook:
    """The per-account state a server keeps to compute `account_features` for one live lead:
    `observe` each lead it scores, report each `outcome`, and ask for `features`.

    Values equal `account_features` on the same history (every lead observed with all its
    activities, every outcome reported after its lead was observed) for any as-of no more than
    `retention_days` before the newest as-of observed, as long as no bound below dropped what
    that as-of needs: activities older than that are forgotten.

    Bounded: at most `max_accounts` accounts (the least recently observed go first), at most
    `max_contacts` contacts per account (the one whose last activity is oldest goes first), and
    per contact at most `max_events` engagement spans and `max_events` high-intent events (the
    oldest go first). Measured: a contact takes about 0.7 KB with a few recent activities and at
    most about 3.5 KB (`max_events` = 100), so 100,000 accounts of 4 contacts take about 0.3 GB,
    and a book filled to every bound (20 million contacts) 15 to 70 GB: lower the bounds to fit
    the server.

    No personal data: a lead id is kept as a blake2b hash of its text keyed by `hash_key` (pass a
    secret so ids cannot be guessed back), a title as its seniority rank only; names and emails
    are never read. The account key (a company domain) is kept as text, to answer `summary`.
    """

    def __init__(
        self,
        key: str,
        *,
        title_column: str = "job_title",
        high_intent: Iterable[str] = HIGH_INTENT_ACTIVITIES,
        placeholders: Iterable[str] = DEFAULT_PLACEHOLDERS,
        max_accounts: int = 100_000,
        max_contacts: int = 200,
        max_events: int = 100,
        retention_days: float = 90.0,
        hash_key: bytes = b"",
    ) -> None:
        for name, bound in (
            ("max_accounts", max_accounts),
            ("max_contacts", max_contacts),
            ("max_events", max_events),
        ):
            if bound < 1:
                raise ValueError(f"expected {name} of at least 1, got {bound}")
        if retention_days < 0:
            raise ValueError(f"expected retention_days of at least 0, got {retention_days}")
        if len(hash_key) > hashlib.blake2b.MAX_KEY_SIZE:
            raise ValueError(
                f"expected a hash_key of at most {hashlib.blake2b.MAX_KEY_SIZE} bytes, got "
                f"{len(hash_key)}"
            )
        self.key = key
        self.title_column = title_column
        self.high_intent = tracked_types(high_intent)
        if len(self.high_intent) > 127:
            raise ValueError(f"expected at most 127 high-intent types, got {len(self.high_intent)}")
        self.placeholders = tuple(
            dict.fromkeys(k for k in map(placeholder_key, placeholders) if k is not None)
        )
        self.max_accounts = max_accounts
        self.max_contacts = max_contacts
        self.max_events = max_events
        self.retention_days = retention_days
        self._hash_key = hash_key
        self._placeholder_set = frozenset(self.placeholders)
        self._high_code = {name: code for code, name in enumerate(self.high_intent)}
        self._window = window_micros(ACCOUNT_WINDOW_DAYS)
        self._retention = window_micros(retention_days)
        self._accounts: OrderedDict[str, dict[bytes, _Contact]] = OrderedDict()
        self._home: dict[bytes, str] = {}  # a contact's account
        self.newest_as_of_us: int | None = None

    def __len__(self) -> int:
        """How many accounts the book holds."""
        return len(self._accounts)

    def observe(self, lead: Mapping[str, Any], as_of_us: int) -> None:
        """Record a live lead as the API received it, as of `as_of_us`; a lead seen before keeps
        the activities it had (the union is kept) and takes its new account, title and creation
        time. A lead without an account is forgotten."""
        lead_id = lead.get(LEAD_ID)
        if lead_id is None:
            raise InvalidLeadError("expected a lead id, got none", field=LEAD_ID)
        account = _account_name(lead.get(self.key), self._placeholder_set)
        created_us = calendar_micros(lead.get(CREATED_AT), field=CREATED_AT)
        if created_us is None and account is not None:
            raise InvalidLeadError("expected a creation time, got none", field=CREATED_AT)
        activities = self._activities(lead.get("activities") or ())
        if self.newest_as_of_us is None or as_of_us > self.newest_as_of_us:
            self.newest_as_of_us = as_of_us
        hashed = self._hash(lead_id)
        contact = self._take(hashed)
        if account is None or created_us is None:
            return
        rank = _seniority_rank(lead.get(self.title_column), self._placeholder_set)
        if contact is None:
            contact = _Contact(created_us=created_us, rank=rank, last_us=created_us)
        else:
            contact.created_us, contact.rank = created_us, rank
            contact.last_us = max(contact.last_us, created_us)
        for occurred_us, high_type in activities:
            contact.add_activity(occurred_us, high_type, self._window)
        contacts = self._accounts.setdefault(account, {})
        self._accounts.move_to_end(account)
        contacts[hashed] = contact
        self._home[hashed] = account
        cutoff = self.newest_as_of_us - self._retention
        for known in contacts.values():
            known.forget_before(cutoff, self._window, self.max_events)
        if len(contacts) > self.max_contacts:
            stalest = min(contacts, key=lambda h: contacts[h].last_us)
            del contacts[stalest], self._home[stalest]
        if len(self._accounts) > self.max_accounts:
            _, dropped = self._accounts.popitem(last=False)
            for gone in dropped:
                del self._home[gone]

    def outcome(self, lead_id: object, status: object, closed_at_us: int) -> None:
        """Record that a lead the book knows was won or lost at `closed_at_us`; its first close
        closes it, its first won close makes it won. An open status or an unknown lead is
        ignored."""
        hashed = self._hash(lead_id)
        account = self._home.get(hashed)
        kind = _close_kind(status)
        if account is None or kind is None:
            return
        contact = self._accounts[account][hashed]
        contact.closed_us = min(contact.closed_us, closed_at_us)
        if kind == WON:
            contact.won_us = min(contact.won_us, closed_at_us)
        self._accounts.move_to_end(account)

    def features(self, lead: Mapping[str, Any], as_of_us: int) -> dict[str, float]:
        """The account features of `lead` as of `as_of_us`, without the lead itself, as
        `account_features` computes them."""
        account = _account_name(lead.get(self.key), self._placeholder_set)
        if account is None:
            return dict.fromkeys(ACCOUNT_FEATURE_NAMES, math.nan)
        contacts = self._accounts.get(account, {})
        lead_id = lead.get(LEAD_ID)
        own = None if lead_id is None else self._hash(lead_id)
        engaged = high = open_leads = won_leads = 0
        best = _NO_RANK
        for hashed, contact in contacts.items():
            if hashed == own or contact.created_us > as_of_us:
                continue
            open_leads += as_of_us < contact.closed_us
            won_leads += contact.won_us <= as_of_us
            if contact.engaged(as_of_us):
                engaged += 1
                best = max(best, contact.rank)
            high += contact.high_intent(as_of_us, self._window)
        values = (engaged, math.nan if best == _NO_RANK else best, high, open_leads, won_leads)
        return dict(zip(ACCOUNT_FEATURE_NAMES, map(float, values), strict=True))

    def summary(self, account: object, as_of_us: int | None = None) -> dict[str, Any]:
        """What the book knows of an account as of `as_of_us` (default: the newest as-of
        observed), for an account endpoint: contacts known, engaged in the last 30 days, won,
        open, and each contact's hashed id."""
        name = _account_name(account, self._placeholder_set)
        contacts = self._accounts.get(name, {}) if name is not None else {}
        moment = self.newest_as_of_us if as_of_us is None else as_of_us
        existing = (
            [] if moment is None else [c for c in contacts.values() if c.created_us <= moment]
        )
        return {
            "account": name,
            "contacts": len(contacts),
            "engaged_30d": sum(contact.engaged(moment) for contact in existing),
            "won": sum(contact.won_us <= moment for contact in existing),
            "open": sum(moment < contact.closed_us for contact in existing),
            "contact_ids": [hashed.hex() for hashed in contacts],
        }

    def to_dict(self) -> dict[str, Any]:
        """The book as JSON-able data, to persist beside the prediction log; the hash key is not
        in it (only a check that `from_dict` is given the same one)."""
        return {
            "format": BOOK_FORMAT,
            "key": self.key,
            "title_column": self.title_column,
            "high_intent": list(self.high_intent),
            "placeholders": list(self.placeholders),
            "max_accounts": self.max_accounts,
            "max_contacts": self.max_contacts,
            "max_events": self.max_events,
            "retention_days": self.retention_days,
            "hash_key_check": self._key_check(self._hash_key),
            "newest_as_of_us": self.newest_as_of_us,
            "accounts": {
                account: {hashed.hex(): contact.to_dict() for hashed, contact in contacts.items()}
                for account, contacts in self._accounts.items()
            },
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, hash_key: bytes = b"") -> AccountBook:
        """A book saved by `to_dict`, with the hash key it was made with: another key would
        hash a lead's id anew, and the lead would count itself."""
        if data.get("format") != BOOK_FORMAT:
            raise ValueError(
                f"expected an account book of format {BOOK_FORMAT}, got {data.get('format')!r}"
            )
        if data["hash_key_check"] != cls._key_check(hash_key):
            raise ValueError(
                "expected the hash_key the account book was saved with, got another one"
            )
        book = cls(
            data["key"],
            title_column=data["title_column"],
            high_intent=data["high_intent"],
            placeholders=data["placeholders"],
            max_accounts=data["max_accounts"],
            max_contacts=data["max_contacts"],
            max_events=data["max_events"],
            retention_days=data["retention_days"],
            hash_key=hash_key,
        )
        book.newest_as_of_us = data["newest_as_of_us"]
        for account, contacts in data["accounts"].items():
            book._accounts[account] = {
                bytes.fromhex(hashed): _Contact.from_dict(contact)
                for hashed, contact in contacts.items()
            }
            book._home.update(dict.fromkeys(book._accounts[account], account))
        return book

    def _hash(self, lead_id: object) -> bytes:
        return hashlib.blake2b(str(lead_id).encode(), key=self._hash_key, digest_size=16).digest()

    @staticmethod
    def _key_check(hash_key: bytes) -> str:
        return hashlib.blake2b(b"leadscore account book", key=hash_key, digest_size=8).hexdigest()

    def _take(self, hashed: bytes) -> _Contact | None:
        """Remove a contact from its account, to file it anew; None if the book has none."""
        account = self._home.pop(hashed, None)
        if account is None:
            return None
        contacts = self._accounts[account]
        contact = contacts.pop(hashed)
        if not contacts:
            del self._accounts[account]
        return contact

    def _activities(self, activities: Iterable[Mapping[str, Any]]) -> list[tuple[int, int]]:
        """Each activity with a type as (time, high-intent type code or -1), read before the
        book changes, so a lead refused leaves the book as it was."""
        read = []
        for index, activity in enumerate(activities):
            kind = category(activity.get(ACTIVITY_TYPE))
            if kind is None:
                continue
            occurred = to_micros(activity[OCCURRED_AT], field=f"activities[{index}].occurred_at")
            read.append((occurred, self._high_code.get(kind, -1)))
        return read
