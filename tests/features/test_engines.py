"""The batch and online engines agree exactly, and neither ever looks past as-of.

Hypothesis draws what real use brings: feature sets derived the way a dataset config derives
them (with date features, placeholders and declared decayed-intent and ratio features), batches
of several leads each scored at its own as-of, and the odd cells exports hold, form placeholders
and creation times among them. For every case both engines return the same values (bit for bit,
decayed sums included; missing is missing), or both refuse the same cell of the same lead with
the same message.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from features import (
    ACTIVITY_TYPE,
    CREATED_AT,
    DATE_PARTS,
    DEFAULT_FEATURES,
    DEFAULT_PLACEHOLDERS,
    GROUPS,
    LEAD_ID,
    MICROS_PER_DAY,
    OCCURRED_AT,
    ActivityCount,
    DataContractError,
    Feature,
    FeatureSet,
    InvalidLeadError,
    LeadColumn,
    OnlineFeatures,
    activity_features,
    activity_types_of,
    build_features,
    category,
    declared_feature,
    feature_set,
    to_micros,
)

AS_OF = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
ONLINE = OnlineFeatures(DEFAULT_FEATURES)
WINDOWS = (0.5, 1.0, 7.0, 30.0, 90.0)
ZONES = (UTC, timezone(timedelta(hours=2)), timezone(-timedelta(hours=5, minutes=30)))

# Feature sets: columns read every way a config can ask for, and activity types as configs and
# CRMs spell them (a config's " Demo_Request" is our demo_request; chat_started is no type of ours),
# so that one feature set often declares two spellings of one type.
COLUMNS = ("company_size", "employees", "industry", "job_title", "email_domain", "region")
READINGS = st.just(("numeric", None)) | st.sampled_from(
    [
        ("categorical", None),
        ("categorical", "category"),
        ("categorical", "seniority"),
        ("categorical", "email_kind"),
    ]
)
# Placeholder lists a feature set carries: the default, none (a model saved before them), and a
# config's own, spelled loosely, where the text "12" is a placeholder but the number 12 is not.
PLACEHOLDER_LISTS = st.sampled_from([DEFAULT_PLACEHOLDERS, (), (" TBD ", "Please  Select", "12")])
OURS = ("demo_request", "email_open", "web_visit")
RESPELLED = (" Demo_Request", "Email Open ", "WEB_VISIT", "chat_started")
SPELLINGS = st.sampled_from(OURS) | st.sampled_from(RESPELLED)

# Declared features' parameters: weights of every sign and size (a sum of 1e300s stays finite),
# half-lives from a second (where decays underflow to 0) to years, and optional windows.
WEIGHTS = st.floats(-1e3, 1e3) | st.sampled_from([0.0, -0.0, 1.0, 3.0, 1e-300, 1e300])
HALF_LIVES = st.floats(1e-5, 1e3) | st.sampled_from([0.5, 1.0, 7.0, 30.0])
OPTIONAL_WINDOWS = st.none() | st.sampled_from(WINDOWS)
TYPE_LISTS = st.lists(SPELLINGS, min_size=1, max_size=3)


@st.composite
def declared_activity_features(draw: st.DrawFn) -> list[Feature]:
    """Decayed-intent and ratio features as a config's [[features]] declare them, with random
    weights (each type once, however spelled), half-lives, types and windows."""
    decayed = [
        declared_feature(
            f"intent_{i}",
            "decayed",
            draw(st.sampled_from(GROUPS)),
            "Intent that fades.",
            weights=dict(
                draw(
                    st.lists(
                        st.tuples(SPELLINGS, WEIGHTS),
                        min_size=1,
                        max_size=4,
                        unique_by=lambda pair: category(pair[0]),
                    )
                )
            ),
            half_life_days=draw(HALF_LIVES),
            window_days=draw(OPTIONAL_WINDOWS),
        )
        for i in range(draw(st.integers(0, 2)))
    ]
    ratios = [
        declared_feature(
            f"ratio_{i}",
            "ratio",
            draw(st.sampled_from(GROUPS)),
            "Activities of some types per activity of others.",
            numerator=draw(TYPE_LISTS),
            denominator=draw(TYPE_LISTS),
            window_days=draw(OPTIONAL_WINDOWS),
        )
        for i in range(draw(st.integers(0, 2)))
    ]
    return [*decayed, *ratios]


@st.composite
def config_feature_sets(draw: st.DrawFn) -> FeatureSet:
    """Features as a config declares them: random lead columns, each read as a number or through
    a transform, random date parts, then activity features of random types, recency types and
    windows, then declared decayed and ratio features; and a list of placeholders."""
    read = draw(st.lists(st.tuples(st.sampled_from(COLUMNS), READINGS), max_size=5))
    parts = draw(st.permutations(DATE_PARTS))[: draw(st.sampled_from([1, 2, 3, 0]))]
    columns = [
        LeadColumn(column, kind, transform, group=GROUPS[i % 3], name=f"f{i}_{column}")
        for i, (column, (kind, transform)) in enumerate(read)
    ]
    types = [
        *draw(st.lists(st.sampled_from(OURS), unique=True, max_size=3)),
        *draw(st.lists(st.sampled_from(RESPELLED), unique=True, max_size=2)),
    ]
    recency = draw(st.none() | st.lists(st.sampled_from(types), unique=True)) if types else None
    window, *more = draw(st.lists(st.sampled_from(WINDOWS), min_size=1, max_size=2, unique=True))
    # Further windows add only their counts: the totals and recencies would repeat names.
    counts = [
        feature
        for days in more
        for feature in activity_features(types, window_days=days)
        if isinstance(feature.computation, ActivityCount) and feature.computation.window_days
    ]
    activity = activity_features(types, recency_types=recency, window_days=window)
    declared = draw(declared_activity_features())
    return FeatureSet(
        (*feature_set(columns, date_parts=parts), *activity, *counts, *declared),
        placeholders=draw(PLACEHOLDER_LISTS),
    )


# Declared features alone, at least one: where most of a case's events carry a weight.
declared_sets = (
    declared_activity_features().filter(bool).map(lambda found: FeatureSet(tuple(found)))
)
feature_sets = st.one_of(st.just(DEFAULT_FEATURES), config_feature_sets(), declared_sets)

# Lead cells, one pool per column. Object columns keep each cell as drawn: cells a number reads
# (missing spellings, padded digits, huge and signed-zero floats), placeholders as forms write
# them (missing wherever the feature set lists them, refused by a number where it does not),
# cells a number refuses (booleans, separators, numbers beyond float, infinities, words; all
# categories alike), cells pandas takes for one another though they read differently (True == 1
# == 1.0, False == 0 == -0.0), and floats alone, where only its sign tells -0.0 from 0.0. Typed
# columns are left to pandas, which makes int64, float64 (None as NaN), bool or str of them as it
# does reading a file.
PLACEHOLDER_CELLS = st.sampled_from(
    ["Select", " SELECT ", "-- Select --", "--", "N/A", " n/a ", "Unknown", "UNKNOWN", "none"]
) | st.sampled_from(["Please   Select", "?", "(not set)", "TBD", "tbd ", "Not  Specified", "12"])
READABLE = st.one_of(
    st.sampled_from(["nan", "NaN", "", "   ", " 42 ", "null", "-1.5e3", 1e308, -0.0, 0, 1]),
    st.sampled_from([None, math.nan]),
    st.integers(),
    st.floats(allow_infinity=False),
)
PLACEHOLDING = PLACEHOLDER_CELLS | READABLE
ODD = st.one_of(
    st.sampled_from([True, False, "1,000", "1_000", 10**400, math.inf, -math.inf]),
    st.sampled_from(["VP of Sales", " Software ", "Gmail.com", "Head of IT"]),
    READABLE,
    PLACEHOLDER_CELLS,
    st.text(max_size=12),
)
TIES = st.sampled_from([True, False, 1, 0, 1.0, 0.0, -0.0, None])
SIGNED_ZEROS = st.sampled_from([0.0, -0.0, 1.0, None])
TYPED = (
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_infinity=False) | st.none(),
    st.booleans(),
    st.sampled_from(["Software", "SOFTWARE ", "VP Sales", "gmail.com", "12", " 7.5 ", ""])
    | st.sampled_from(["Select", " N/A ", "unknown"]),
)
# A case's columns are clean (cells a number reads, placeholders, or typed) or all dirty, so that
# refusals often meet in several leads and columns, where the first one is the one to report.
CLEAN, DIRTY = (READABLE, PLACEHOLDING, *TYPED), (ODD, TIES, SIGNED_ZEROS)
CLEAN_OR_DIRTY = st.sampled_from([CLEAN, DIRTY])

# Creation times, as a live lead or an export brings them: datetimes (naive ones are UTC) in
# several offsets, often just across midnight, a month's or a year's end from UTC; the same as
# ISO text; epoch microseconds, as integers or as the floats of a pandas column with gaps; and
# missing. Bad ones are text no timestamp reads, booleans, fractions and integers past year 9999.
EDGES = [
    datetime(2025, 12, 31, 23, 30, tzinfo=timezone(-timedelta(hours=5, minutes=30))),
    datetime(2026, 3, 1, 1, 0, tzinfo=timezone(timedelta(hours=2))),
    datetime(2026, 2, 28, 23, 59, 59, 999999),
]
MOMENTS = st.sampled_from(EDGES) | st.datetimes(
    datetime(1999, 12, 31), datetime(2031, 1, 1), timezones=st.none() | st.sampled_from(ZONES)
)
UTC_MOMENTS = st.datetimes(datetime(1999, 12, 31), datetime(2031, 1, 1), timezones=st.just(UTC))
ISO_TEXT = st.one_of(
    MOMENTS.map(datetime.isoformat),
    MOMENTS.map(lambda moment: moment.isoformat(sep=" ")),
    UTC_MOMENTS.map(lambda moment: moment.isoformat().replace("+00:00", "Z")),
    MOMENTS.map(lambda moment: moment.date().isoformat()),
)
EPOCHS = MOMENTS.map(to_micros)
NO_TIME = st.sampled_from([None, math.nan])
BAD_TIME = st.sampled_from(["soon", "", "  ", "2026-02-30", "1/2/2026x", True, 1.5, 10**20])
GOOD_TIME = st.one_of(MOMENTS, ISO_TEXT, EPOCHS, EPOCHS.map(float), NO_TIME)
ANY_TIME = st.one_of(MOMENTS, ISO_TEXT, EPOCHS, EPOCHS.map(float), NO_TIME, BAD_TIME)
# Whole columns pandas types itself: int64, float64 (integers with gaps), datetime64 or str.
TYPED_CREATED = (EPOCHS, EPOCHS | st.none(), UTC_MOMENTS | st.none(), ISO_TEXT | st.none())
# A case's created_at: absent, object cells as drawn (all good, or some bad), or typed.
CREATED = st.sampled_from([None, GOOD_TIME, ANY_TIME, ANY_TIME, *TYPED_CREATED])

# Ages of activities at their lead's as-of, in microseconds: negative ones come after it. The
# sampled ones sit on window edges, where a count must include or drop an event to the microsecond.
AGES = st.one_of(
    st.integers(-5 * MICROS_PER_DAY, 120 * MICROS_PER_DAY),
    st.sampled_from([0, 1, *(round(w * MICROS_PER_DAY) + d for w in WINDOWS for d in (-1, 0, 1))]),
)

Event = tuple[str, str | None, datetime]


@dataclass(frozen=True)
class Case:
    """Leads scored in one batch, each at its own as-of, and the activities of the export."""

    features: FeatureSet
    leads: tuple[dict[str, Any], ...]
    typed: frozenset[str]
    as_of: tuple[datetime, ...]
    events: tuple[Event, ...]


def _kinds(features: FeatureSet) -> st.SearchStrategy[str | None]:
    """Activity types as an export spells them: often one the features declare, as declared."""
    declared = {kind for feature in features for kind in activity_types_of(feature.computation)}
    return SPELLINGS | st.sampled_from([*sorted(declared), "Demo_Request", None])


def _events(
    draw: st.DrawFn,
    kinds: st.SearchStrategy[str | None],
    lead_id: str,
    as_of: datetime,
    ages: st.SearchStrategy[int],
) -> list[Event]:
    """Activities of one lead, stamped in one of several UTC offsets."""
    zone = draw(st.sampled_from(ZONES))
    drawn = draw(st.lists(st.tuples(kinds, ages), max_size=8))
    events = [
        (lead_id, kind, (as_of - timedelta(microseconds=age)).astimezone(zone))
        for kind, age in drawn
    ]
    return events + events[:3]  # exports repeat events (sync retries): counted once


@st.composite
def cases(
    draw: st.DrawFn,
    features: st.SearchStrategy[FeatureSet] = feature_sets,
    pools: st.SearchStrategy[tuple[st.SearchStrategy[Any], ...]] = CLEAN_OR_DIRTY,
    creation: st.SearchStrategy[st.SearchStrategy[Any] | None] = CREATED,
) -> Case:
    """1 to 6 leads, as-of days apart, with cells from `pools` in every column the features read
    and in one they do not, creation times from `creation` (or none), plus activities of a lead
    that is not in the batch."""
    declared = draw(features)
    kinds = _kinds(declared)
    columns = draw(pools)
    cells = {name: draw(st.sampled_from(columns)) for name in [*declared.lead_columns(), "notes"]}
    created = draw(creation)
    if created is not None:  # else the leads have no created_at at all
        cells[CREATED_AT] = created
    leads, as_of, events = [], [], []
    for index in range(draw(st.integers(1, 6))):
        lead_id = f"L{index}"
        leads.append({LEAD_ID: lead_id, **{name: draw(s) for name, s in cells.items()}})
        days = draw(st.integers(0, 40))
        as_of.append(AS_OF - timedelta(days=days, microseconds=draw(st.integers(0, 10**9))))
        events += _events(draw, kinds, lead_id, as_of[-1], AGES)
    events += _events(draw, kinds, "not-in-batch", AS_OF, AGES)
    return Case(
        features=declared,
        leads=tuple(leads),
        typed=frozenset(name for name, s in cells.items() if s in (*TYPED, *TYPED_CREATED)),
        as_of=tuple(as_of),
        events=tuple(draw(st.permutations(events))),
    )


@dataclass(frozen=True)
class Refused:
    """The cell an engine refused: its lead's position (1-based), its column, the bare message."""

    row: int
    column: str
    detail: str


Outcome = list[dict[str, tuple[str, ...]]] | Refused


def _token(value: object) -> tuple[str, ...]:
    """A value compared as itself: missing is one thing, a number its exact bits (-0.0 is not
    0.0), text its characters."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ("missing",)
    if isinstance(value, float):
        return ("number", float(value).hex())
    assert isinstance(value, str), f"expected a number, text or missing, got {value!r}"
    return ("text", str(value))


def _vector(values: dict[str, object], features: FeatureSet) -> dict[str, tuple[str, ...]]:
    """One lead's values, every declared feature in order, each as a comparable token."""
    assert list(values) == features.names
    return {name: _token(value) for name, value in values.items()}


def _batch(case: Case) -> Outcome:
    """The batch engine's answer, from frames built as the drawn cells ask."""
    leads = pd.DataFrame(list(case.leads), dtype=object)
    for column in case.typed:  # inferred alone: pandas 2 cannot infer beside a 10**400 cell
        leads[column] = pd.Series([lead.get(column) for lead in case.leads], index=leads.index)
    activities = pd.DataFrame(
        {
            LEAD_ID: [lead_id for lead_id, _, _ in case.events],
            OCCURRED_AT: pd.to_datetime([at for _, _, at in case.events], utc=True),
            ACTIVITY_TYPE: [kind for _, kind, _ in case.events],
        }
    )
    as_of = [to_micros(moment) for moment in case.as_of]
    try:
        frame = build_features(leads, activities, as_of, case.features)
    except DataContractError as error:
        assert error.source == "leads"
        assert error.row is not None and error.column is not None
        return Refused(error.row, error.column, error.detail)
    assert frame.index.tolist() == [lead[LEAD_ID] for lead in case.leads]
    return [_vector(frame.iloc[i].to_dict(), case.features) for i in range(len(frame))]


def _online(case: Case) -> Outcome:
    """The online engine's answer, lead by lead in the batch's order: its first refusal is the
    one the batch engine must report."""
    engine = OnlineFeatures(case.features)
    vectors = []
    for row, (lead, as_of) in enumerate(zip(case.leads, case.as_of, strict=True), start=1):
        activities = [
            {ACTIVITY_TYPE: kind, OCCURRED_AT: at}
            for lead_id, kind, at in case.events
            if lead_id == lead[LEAD_ID]
        ]
        try:
            values = engine.compute({**lead, "activities": activities}, as_of)
        except InvalidLeadError as error:
            return Refused(row, error.field, error.detail)
        vectors.append(_vector(values, case.features))
    return vectors


def _agree(case: Case) -> Outcome:
    """Both engines' answer to `case`, asserted equal."""
    online = _online(case)
    assert _batch(case) == online
    return online


@settings(max_examples=250, deadline=None)
@given(case=cases())
def test_batch_and_online_engines_agree(case: Case) -> None:
    outcome = _agree(case)
    event("refused" if isinstance(outcome, Refused) else "scored")


# Numbers only, several of them, every cell liable to be refused: bad cells meet in many leads and
# columns, and both engines must name the same one, the first of the first bad lead.
number_sets = st.lists(st.sampled_from(COLUMNS), min_size=2, max_size=4, unique=True).map(
    lambda columns: feature_set([LeadColumn(column, "numeric") for column in columns])
)


@settings(max_examples=120, deadline=None)
@given(case=cases(number_sets, st.just((ODD, TIES, *TYPED))))
def test_both_engines_refuse_the_first_bad_cell_of_the_first_bad_lead(case: Case) -> None:
    _agree(case)


# Date features beside numbers, creation times and numbers both liable to be refused: the engines
# name the same first bad cell, a number before the creation time within one lead.
date_sets = st.builds(
    lambda columns, parts, count: feature_set(
        [LeadColumn(column, "numeric") for column in columns], date_parts=parts[:count]
    ),
    st.lists(st.sampled_from(COLUMNS), max_size=2, unique=True),
    st.permutations(DATE_PARTS),
    st.sampled_from([1, 2, 3]),
)


@settings(max_examples=80, deadline=None)
@given(case=cases(date_sets, st.just((ODD, TIES)), st.just(ANY_TIME)))
def test_both_engines_refuse_the_same_first_bad_creation_time_or_cell(case: Case) -> None:
    _agree(case)


@settings(max_examples=80, deadline=None)
@given(case=cases(), data=st.data())
def test_activities_after_as_of_never_change_features(case: Case, data: st.DataObject) -> None:
    kinds, later = _kinds(case.features), st.integers(-60 * MICROS_PER_DAY, -1)
    future = [
        later_event
        for lead, as_of in zip(case.leads, case.as_of, strict=True)
        for later_event in _events(data.draw, kinds, lead[LEAD_ID], as_of, later)
    ]
    assert _agree(replace(case, events=(*case.events, *future))) == _agree(case)


def _pinned(
    features: FeatureSet,
    *cells: dict[str, Any],
    typed: tuple[str, ...] = (),
    kinds: tuple[str, ...] = (),
) -> Case:
    """Hand-picked cells, one dict per lead, as-of a day apart; each lead did each of `kinds`
    a day before its as-of."""
    leads = tuple({LEAD_ID: f"L{i}", **row} for i, row in enumerate(cells))
    as_of = tuple(AS_OF - timedelta(days=i) for i in range(len(leads)))
    events = tuple(
        (lead[LEAD_ID], kind, moment - timedelta(days=1))
        for lead, moment in zip(leads, as_of, strict=True)
        for kind in kinds
    )
    return Case(features, leads, frozenset(typed), as_of, events)


NUMBERS = feature_set([LeadColumn("a", "numeric"), LeadColumn("b", "numeric")])
LABELS = feature_set(
    [
        LeadColumn("a"),
        LeadColumn("a", transform="seniority", name="a_seniority"),
        LeadColumn("a", transform="email_kind", name="a_email_kind"),
    ]
)
SPELLED = feature_set([], [" Demo_Request", "demo_request"])
READ = [
    LeadColumn("a"),
    LeadColumn("a", transform="seniority", name="a_seniority"),
    LeadColumn("a", transform="email_kind", name="a_email_kind"),
    LeadColumn("n", "numeric"),
]
PLACEHOLDING_SET = feature_set(READ)
SAVED_BEFORE_PLACEHOLDERS = feature_set(READ, placeholders=())
OWN_PLACEHOLDERS = feature_set(READ, placeholders=["12"])
DATES = feature_set([], date_parts=DATE_PARTS)
DATED_NUMBERS = feature_set([LeadColumn("n", "numeric")], date_parts=["hour"])
MISSING = {"a": None, "a_seniority": None, "a_email_kind": None, "n": math.nan}
NO_DATE = dict.fromkeys(DATES.names, math.nan)


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        pytest.param(
            _pinned(NUMBERS, {"a": 1, "b": 0}, {"a": True, "b": 0}),
            Refused(2, "a", "expected a number, got True"),
            id="a boolean beside a 1 is refused",
        ),
        pytest.param(
            _pinned(NUMBERS, {"a": 0, "b": 0.0}, {"a": -0.0, "b": -0.0}),
            [{"a": 0.0, "b": 0.0}, {"a": -0.0, "b": -0.0}],
            id="a negative zero beside a zero keeps its sign",
        ),
        pytest.param(
            _pinned(LABELS, {"a": 1}, {"a": True}, {"a": 0.0}, {"a": False}),
            [
                {"a": "1", "a_seniority": None, "a_email_kind": "business"},
                {"a": "true", "a_seniority": "individual", "a_email_kind": "business"},
                {"a": "0", "a_seniority": None, "a_email_kind": "business"},
                {"a": "false", "a_seniority": "individual", "a_email_kind": "business"},
            ],
            id="booleans beside 1 and 0 are categories of their own",
        ),
        pytest.param(
            _pinned(NUMBERS, {"a": 1, "b": "1,000"}, {"a": True, "b": 2}),
            Refused(
                1, "b", "expected a number such as 1200.5 (no thousands separators), got '1,000'"
            ),
            id="the first bad lead is refused, whichever column is bad",
        ),
        pytest.param(
            _pinned(NUMBERS, {"a": True, "b": 1}, {"a": False, "b": 2}, typed=("a", "b")),
            Refused(1, "a", "expected a number, got True"),
            id="a bool column is refused as a boolean is",
        ),
        pytest.param(
            _pinned(SPELLED, {}, kinds=(" Demo_Request", "Demo_Request", "demo_request")),
            [dict.fromkeys(SPELLED.names, 1.0)],
            id="a declared spelling counts every spelling of its type, each event once",
        ),
    ],
)
def test_engines_agree_where_they_once_differed(case: Case, expected: Outcome) -> None:
    if not isinstance(expected, Refused):
        expected = [_vector(values, case.features) for values in expected]
    assert _agree(case) == expected


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        pytest.param(
            _pinned(
                PLACEHOLDING_SET,
                {"a": "Select", "n": "unknown"},
                {"a": " -- SELECT -- ", "n": " N/A "},
                {"a": "VP Sales", "n": "12"},
            ),
            [
                MISSING,
                MISSING,
                {"a": "vp sales", "a_seniority": "vp", "a_email_kind": "business", "n": 12.0},
            ],
            id="a placeholder is missing, never a category, a seniority or a bad number",
        ),
        pytest.param(
            _pinned(PLACEHOLDING_SET, {"a": "Select", "n": "-"}, typed=("a", "n")),
            [MISSING],
            id="a placeholder in a typed text column is missing",
        ),
        pytest.param(
            _pinned(SAVED_BEFORE_PLACEHOLDERS, {"a": "Select", "n": 1}),
            [{"a": "select", "a_seniority": "individual", "a_email_kind": "business", "n": 1.0}],
            id="a model saved before placeholders reads 'Select' as it was trained to",
        ),
        pytest.param(
            _pinned(SAVED_BEFORE_PLACEHOLDERS, {"a": "x", "n": 1}, {"a": "x", "n": "unknown"}),
            Refused(2, "n", "expected a number such as 1200.5, got 'unknown'"),
            id="a model saved before placeholders refuses 'unknown' as a number",
        ),
        pytest.param(
            _pinned(OWN_PLACEHOLDERS, {"a": 12, "n": 12}, {"a": " 12 ", "n": "12"}),
            [
                {"a": "12", "a_seniority": None, "a_email_kind": "business", "n": 12.0},
                MISSING,
            ],
            id="placeholders are text: the number 12 is not the placeholder '12'",
        ),
        pytest.param(
            _pinned(
                DATES,
                {CREATED_AT: "2025-12-31T23:30:00-05:00"},
                {CREATED_AT: datetime(2026, 3, 2, 1, 30, tzinfo=timezone(timedelta(hours=2)))},
                {CREATED_AT: to_micros("2026-06-15T09:00:00Z")},
                {CREATED_AT: None},
                {},
            ),
            [
                {"created_weekday": 3.0, "created_hour": 4.0, "created_month": 1.0},
                {"created_weekday": 6.0, "created_hour": 23.0, "created_month": 3.0},
                {"created_weekday": 0.0, "created_hour": 9.0, "created_month": 6.0},
                NO_DATE,
                NO_DATE,
            ],
            id="date parts are read in UTC, across a year's and a month's end",
        ),
        pytest.param(
            _pinned(DATES, {CREATED_AT: 1_781_514_000_000_000}, {}, typed=(CREATED_AT,)),
            [{"created_weekday": 0.0, "created_hour": 9.0, "created_month": 6.0}, NO_DATE],
            id="epoch microseconds in a column with gaps, which pandas holds as floats",
        ),
        pytest.param(
            _pinned(DATES, {}, {}),
            [NO_DATE, NO_DATE],
            id="no created_at at all is missing",
        ),
        pytest.param(
            _pinned(DATES, {CREATED_AT: "2026-01-01"}, {CREATED_AT: "yesterday"}),
            Refused(
                2,
                CREATED_AT,
                "expected an ISO 8601 timestamp such as 2026-05-01T09:30:00Z, got 'yesterday'",
            ),
            id="a bad creation time is refused in the same words",
        ),
        pytest.param(
            _pinned(DATES, {CREATED_AT: 1.5}, {CREATED_AT: True}),
            Refused(1, CREATED_AT, "expected an ISO 8601 timestamp, got float"),
            id="a fraction is no creation time",
        ),
        pytest.param(
            _pinned(DATES, {CREATED_AT: 10**20}),
            Refused(
                1,
                CREATED_AT,
                "expected epoch microseconds within the years 1 to 9999, got 100000000000000000000",
            ),
            id="a creation time past the year 9999 is refused",
        ),
        pytest.param(
            _pinned(DATED_NUMBERS, {"n": "1,000", CREATED_AT: "soon"}),
            Refused(
                1, "n", "expected a number such as 1200.5 (no thousands separators), got '1,000'"
            ),
            id="within a lead, the attribute is refused before the creation time",
        ),
        pytest.param(
            _pinned(DATED_NUMBERS, {"n": 1, CREATED_AT: "soon"}, {"n": "1,000"}),
            Refused(
                1,
                CREATED_AT,
                "expected an ISO 8601 timestamp such as 2026-05-01T09:30:00Z, got 'soon'",
            ),
            id="a bad creation time in an earlier lead is refused first",
        ),
    ],
)
def test_engines_agree_on_placeholders_and_creation_times(case: Case, expected: Outcome) -> None:
    if not isinstance(expected, Refused):
        expected = [_vector(values, case.features) for values in expected]
    assert _agree(case) == expected


def test_a_numpy_boolean_reads_as_a_boolean() -> None:
    """A lead filled from numpy arrays holds numpy booleans: refused as Python's, in its words."""
    engine = OnlineFeatures(NUMBERS)
    with pytest.raises(InvalidLeadError) as refused:
        engine.compute({"a": np.array([True])[0]}, AS_OF)
    assert refused.value.detail == "expected a number, got True"


def test_batch_engine_computes_each_lead_at_its_own_as_of() -> None:
    leads_frame = pd.DataFrame({"lead_id": ["A", "B"], "source": ["referral", "webinar"]})
    events = pd.DataFrame(
        {
            "lead_id": ["A", "B", "B"],
            "occurred_at": pd.to_datetime(
                ["2026-02-27T12:00:00Z", "2026-02-27T12:00:00Z", "2026-02-28T12:00:00Z"]
            ),
            "activity_type": ["demo_request", "demo_request", "demo_request"],
        }
    )
    as_of = [to_micros(AS_OF), to_micros(datetime(2026, 2, 28, tzinfo=UTC))]
    features = build_features(leads_frame, events, as_of)
    assert features.loc["A", "demo_request_count_30d"] == 1.0
    assert features.loc["A", "days_since_last_demo_request"] == 2.0
    # B's second demo request is after B's as-of and must not be seen.
    assert features.loc["B", "demo_request_count_30d"] == 1.0
    assert features.loc["B", "days_since_last_demo_request"] == 0.5


def test_window_counts_exclude_events_older_than_the_window() -> None:
    lead = {"lead_id": "L1", "activities": [
        {"activity_type": "web_visit", "occurred_at": AS_OF - timedelta(days=30)},
        {"activity_type": "web_visit", "occurred_at": AS_OF - timedelta(days=29, hours=23)},
    ]}  # fmt: skip
    values = ONLINE.compute(lead, AS_OF)
    assert values["web_visit_count_30d"] == 1.0
    assert values["activity_count_total"] == 2.0
    assert np.isnan(values["days_since_last_demo_request"])


@pytest.mark.parametrize("text", ["str", "object"])
def test_events_find_their_lead_as_python_compares_ids_whatever_holds_the_text(text: str) -> None:
    """Arrow text is matched by Arrow, other ids as Python objects: 42 is not "42" either way."""
    leads = pd.DataFrame({"lead_id": pd.Series([42, "42", "A", None], dtype=object)})
    events = pd.DataFrame(
        {
            "lead_id": pd.Series(["42", "A", "A", "B", "42"], dtype=text),
            "occurred_at": pd.to_datetime(["2026-02-27T12:00:00Z"] * 5),
            "activity_type": pd.Series(["web_visit"] * 4 + ["demo_request"], dtype=text),
        }
    )
    as_of = [to_micros(AS_OF)] * 4
    counts = build_features(leads, events, as_of)["activity_count_total"].tolist()
    assert counts == [0.0, 2.0, 1.0, 0.0]  # "A" twice at one moment is one event
    text_leads = leads.assign(lead_id=pd.Series(["42", "x", "A", "y"], dtype=text))
    counts = build_features(text_leads, events, as_of)["activity_count_total"].tolist()
    assert counts == [2.0, 0.0, 1.0, 0.0]
