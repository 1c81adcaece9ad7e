"""Account features: the right counts of a lead's colleagues, strictly as of the lead's as-of and
never counting the lead itself, equal in batch and in the server's `AccountBook`."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from features.accounts import (
    ACCOUNT_COLUMNS,
    ACCOUNT_FEATURE_NAMES,
    AccountBook,
    account_features,
)
from features.errors import DataContractError, InvalidLeadError

HOUR = 3_600_000_000
DAY = 24 * HOUR
T0 = int(datetime(2026, 1, 1, tzinfo=UTC).timestamp()) * 1_000_000
KEY = "company_domain"
NAN = math.nan


def _times(micros: list[int]) -> pd.Series:
    return pd.Series(pd.to_datetime(np.array(micros, dtype=np.int64), unit="us", utc=True))


@dataclass
class History:
    """A small CRM export: leads, their activities and outcomes, times as epoch microseconds."""

    leads: list[dict[str, Any]]
    activities: list[tuple[str, int, str | None]] = field(default_factory=list)
    outcomes: list[tuple[str, str, int]] = field(default_factory=list)

    def tables(self) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
        leads = pd.DataFrame(
            {
                "lead_id": [lead["lead_id"] for lead in self.leads],
                "created_at": _times([lead["created_at"] for lead in self.leads]),
                KEY: pd.Series([lead[KEY] for lead in self.leads], dtype=object),
                "job_title": pd.Series([lead["job_title"] for lead in self.leads], dtype=object),
            }
        )
        activities = pd.DataFrame(
            {
                "lead_id": [lead_id for lead_id, _, _ in self.activities],
                "occurred_at": _times([occurred for _, occurred, _ in self.activities]),
                "activity_type": pd.Series([k for _, _, k in self.activities], dtype=object),
            }
        )
        outcomes = pd.DataFrame(
            {
                "lead_id": [lead_id for lead_id, _, _ in self.outcomes],
                "status": [status for _, status, _ in self.outcomes],
                "closed_at": _times([closed for _, _, closed in self.outcomes]),
            }
        )
        return leads, activities, outcomes

    def batch(self, targets: list[str], as_of: list[int]) -> list[dict[str, float]]:
        frame = account_features(
            *self.tables(), targets=targets, as_of_us=np.array(as_of, dtype=np.int64), key=KEY
        )
        assert list(frame.index) == targets
        return frame.to_dict("records")

    def times(self) -> list[list[int]]:
        """When leads were created, activities happened and leads closed: the edges of time."""
        kinds = [
            [lead["created_at"] for lead in self.leads],
            [occurred for _, occurred, _ in self.activities],
            [closed for _, _, closed in self.outcomes],
        ]
        return [times for times in kinds if times]

    def lead(self, lead_id: str) -> dict[str, Any]:
        return next(lead for lead in self.leads if lead["lead_id"] == lead_id)

    def book(self, **bounds: Any) -> AccountBook:
        """A book that observed every lead twice, with half its activities each time, then
        heard every outcome."""
        book = AccountBook(KEY, **bounds)
        newest = max(
            [lead["created_at"] for lead in self.leads] + [t for _, t, _ in self.activities]
        )
        for half in (0, 1):
            for lead in self.leads:
                mine = [a for a in self.activities if a[0] == lead["lead_id"]][half::2]
                live = {
                    **lead,
                    "activities": [{"activity_type": k, "occurred_at": t} for _, t, k in mine],
                }
                book.observe(live, newest)
        for lead_id, status, closed in self.outcomes:
            book.outcome(lead_id, status, closed)
        return book


def _lead(lead_id: str, created: int, account: str | None, title: str | None) -> dict[str, Any]:
    return {"lead_id": lead_id, "created_at": created, KEY: account, "job_title": title}


def _same(first: dict[str, float], second: dict[str, float]) -> bool:
    """Equal values, missing equal to missing."""
    return first.keys() == second.keys() and all(
        first[k] == second[k] or (math.isnan(first[k]) and math.isnan(second[k])) for k in first
    )


def _values(engaged: float, best: float, high: float, open_: float, won: float) -> dict:
    return dict(zip(ACCOUNT_FEATURE_NAMES, (engaged, best, high, open_, won), strict=True))


# Acme: a VP who engaged early, a student with a repeated demo request and a won deal, a contact
# without a title who viewed pricing and was lost, and a CEO who arrived 40 days later. Beta's
# only lead and a lead without an account.
HAND_MADE = History(
    leads=[
        _lead("vp", T0, "Acme.com", "VP Sales"),
        _lead("student", T0 + DAY, " acme.COM ", "Student"),
        _lead("untitled", T0 + 2 * DAY, "acme.com", None),
        _lead("ceo", T0 + 40 * DAY, "acme.com", "CEO"),
        _lead("alone", T0, "beta.io", "CTO"),
        _lead("nowhere", T0, None, "CTO"),
    ],
    activities=[
        ("vp", T0 + DAY, "email_open"),
        ("student", T0 + 2 * DAY, "demo_request"),
        ("student", T0 + 2 * DAY, "demo_request"),  # the export repeats it: one event
        ("untitled", T0 + 3 * DAY, " Pricing_Page_View"),
        ("untitled", T0 + 3 * DAY, "web_visit"),
        ("alone", T0 + DAY, "demo_request"),
        ("nowhere", T0 + DAY, "demo_request"),
    ],
    outcomes=[("student", "won", T0 + 10 * DAY), ("untitled", "lost", T0 + 5 * DAY)],
)
HAND_MADE_CASES = [
    # (lead, as-of, expected values)
    ("vp", T0 + 5 * DAY, _values(2, 0, 2, 1, 0)),  # the student is the best engaged title
    ("vp", T0 + 20 * DAY, _values(2, 0, 2, 0, 1)),  # the student's deal is won by now
    ("vp", T0 + 33 * DAY, _values(0, NAN, 0, 0, 1)),  # 31 days after the last activity
    ("student", T0 + 5 * DAY, _values(2, 4, 1, 1, 0)),  # its own demo request is not counted
    ("untitled", T0 + 4 * DAY, _values(2, 4, 1, 2, 0)),
    ("ceo", T0 + 41 * DAY, _values(0, NAN, 0, 1, 1)),
    ("ceo", T0 + 39 * DAY, _values(0, NAN, 0, 1, 1)),  # before it existed: the same colleagues
    ("vp", T0 + DAY + HOUR, _values(0, NAN, 0, 1, 0)),  # one colleague exists, idle yet
    ("alone", T0 + 5 * DAY, _values(0, NAN, 0, 0, 0)),  # an account of one
    ("nowhere", T0 + 5 * DAY, _values(NAN, NAN, NAN, NAN, NAN)),  # no account
]


def test_each_feature_counts_the_colleagues_as_of_the_as_of() -> None:
    targets = [lead for lead, _, _ in HAND_MADE_CASES]
    as_of = [moment for _, moment, _ in HAND_MADE_CASES]
    for (lead, _, expected), found in zip(
        HAND_MADE_CASES, HAND_MADE.batch(targets, as_of), strict=True
    ):
        assert _same(found, expected), (lead, found, expected)


def test_an_engaged_contact_counts_from_its_activity_for_thirty_days_exactly() -> None:
    history = History(
        leads=[_lead("a", T0, "acme.com", None), _lead("b", T0, "acme.com", "Analyst")],
        activities=[("b", T0 + DAY, "webinar_attended")],
    )
    moments = [T0 + DAY - 1, T0 + DAY, T0 + 31 * DAY - 1, T0 + 31 * DAY]
    found = history.batch(["a"] * 4, moments)
    assert [row["account_engaged_contacts_30d"] for row in found] == [0, 1, 1, 0]
    assert [row["account_high_intent_30d"] for row in found] == [0, 1, 1, 0]
    assert [row["account_best_seniority_30d"] for row in found][1:3] == [1, 1]


def test_a_colleague_counts_only_once_it_exists() -> None:
    history = History(
        leads=[_lead("a", T0, "acme.com", None), _lead("b", T0 + 5 * DAY, "acme.com", "CEO")],
        activities=[("b", T0 + DAY, "demo_request")],  # tracked before the lead was created
        outcomes=[("b", "won", T0 + 2 * DAY)],
    )
    before, after = history.batch(["a", "a"], [T0 + 5 * DAY - 1, T0 + 5 * DAY])
    assert _same(before, _values(0, NAN, 0, 0, 0))
    assert _same(after, _values(1, 5, 1, 0, 1))


def test_blank_and_placeholder_keys_mean_no_account_and_keys_are_trimmed_and_lower_cased() -> None:
    history = History(
        leads=[
            _lead("a", T0, "  ACME.com", None),
            _lead("b", T0, "acme.COM  ", None),
            _lead("blank", T0, "   ", None),
            _lead("placeholder", T0, "N/A", None),
            _lead("other_placeholder", T0, "n/a", None),
        ]
    )
    a, blank, placeholder = history.batch(["a", "blank", "placeholder"], [T0 + DAY] * 3)
    assert a["account_open_leads"] == 1  # b is a's colleague
    assert all(math.isnan(value) for value in [*blank.values(), *placeholder.values()])


def test_an_open_status_closes_nothing_and_the_first_close_counts() -> None:
    history = History(
        leads=[_lead("a", T0, "acme.com", None), _lead("b", T0, "acme.com", None)],
        outcomes=[
            ("b", "open", T0 + DAY),
            ("b", "lost", T0 + 3 * DAY),
            ("b", "Won ", T0 + 6 * DAY),  # re-opened and won later
        ],
    )
    found = history.batch(["a"] * 3, [T0 + 2 * DAY, T0 + 4 * DAY, T0 + 7 * DAY])
    assert [(row["account_open_leads"], row["account_won_leads"]) for row in found] == [
        (1, 0),
        (0, 0),
        (0, 1),
    ]


def test_the_lead_itself_never_counts() -> None:
    leads, activities, outcomes = HAND_MADE.tables()
    alone = dict(targets=["student"], as_of_us=[T0 + 20 * DAY], key=KEY)
    without_own = account_features(
        leads,
        activities[activities["lead_id"] != "student"],
        outcomes[outcomes["lead_id"] != "student"],
        **alone,
    )
    pd.testing.assert_frame_equal(
        account_features(leads, activities, outcomes, **alone), without_own
    )


def test_targets_come_back_in_their_order_repeated_as_asked() -> None:
    found = HAND_MADE.batch(["ceo", "vp", "ceo"], [T0 + 41 * DAY, T0 + 5 * DAY, T0 + 39 * DAY])
    assert _same(found[0], found[2]) and not _same(found[0], found[1])


def test_an_unknown_key_column_is_refused_naming_it() -> None:
    leads, activities, outcomes = HAND_MADE.tables()
    with pytest.raises(DataContractError, match="expected a column named 'company'") as error:
        account_features(leads, activities, outcomes, targets=["vp"], as_of_us=[T0], key="company")
    assert error.value.column == "company"


def test_a_bad_timestamp_is_refused_naming_source_row_and_column() -> None:
    leads, activities, outcomes = HAND_MADE.tables()
    activities["occurred_at"] = activities["occurred_at"].astype(object)
    activities.loc[2, "occurred_at"] = "last tuesday"
    with pytest.raises(DataContractError, match="last tuesday") as error:
        account_features(
            leads,
            activities,
            outcomes,
            targets=["vp"],
            as_of_us=[T0],
            key=KEY,
            activities_source="activities.csv",
        )
    assert (error.value.source, error.value.row, error.value.column) == (
        "activities.csv",
        3,
        "occurred_at",
    )


def test_an_open_row_without_a_close_time_is_fine_but_a_closed_one_is_refused() -> None:
    leads, activities, _ = HAND_MADE.tables()
    outcomes = pd.DataFrame(
        {"lead_id": ["vp", "student"], "status": ["open", "won"], "closed_at": [None, None]}
    )
    with pytest.raises(DataContractError, match="empty cell") as error:
        account_features(leads, activities, outcomes, targets=["vp"], as_of_us=[T0], key=KEY)
    assert (error.value.source, error.value.row) == ("outcomes", 2)
    outcomes = outcomes.iloc[:1]
    found = account_features(
        leads, activities, outcomes, targets=["ceo"], as_of_us=[T0 + 41 * DAY], key=KEY
    )
    assert found.loc["ceo", "account_open_leads"] == 3  # none of the three closed


def test_a_target_that_is_no_lead_is_refused() -> None:
    with pytest.raises(DataContractError, match="expected every target among the leads"):
        HAND_MADE.batch(["ghost"], [T0])


def test_the_columns_are_numeric_features_of_the_account_group() -> None:
    features = [column.feature() for column in ACCOUNT_COLUMNS]
    assert (
        [f.name for f in features]
        == list(ACCOUNT_FEATURE_NAMES)
        == [
            "account_engaged_contacts_30d",
            "account_best_seniority_30d",
            "account_high_intent_30d",
            "account_open_leads",
            "account_won_leads",
        ]
    )
    assert all(f.group == "account" and f.kind == "numeric" for f in features)
    assert all(len(f.description) > 40 for f in features)


# Histories as hypothesis draws them: a few leads over a few accounts spelled several ways, times
# on a grid of half days so that windows often end exactly on events (and as-ofs a microsecond
# either side), repeated events and odd activity types.
ACCOUNTS = ("Acme.com", " acme.com", "ACME.COM", "beta.io", None, "", "N/A")
TITLES = ("VP Sales", "Student", "CEO", "Analyst", "Select", None)
TYPES = ("web_visit", "demo_request", "Demo_Request ", "pricing_page_view", "email_open", None)
STATUSES = ("won", " Won", "lost", "open")
HALF_DAY = 12 * HOUR
hours = st.integers(0, 140).map(lambda step: T0 + step * HALF_DAY)


@st.composite
def histories(draw: st.DrawFn) -> History:
    n_leads = draw(st.integers(1, 7))
    leads = [
        _lead(f"L{i}", draw(hours), draw(st.sampled_from(ACCOUNTS)), draw(st.sampled_from(TITLES)))
        for i in range(n_leads)
    ]
    ids = st.sampled_from([lead["lead_id"] for lead in leads])
    activities = draw(st.lists(st.tuples(ids, hours, st.sampled_from(TYPES)), max_size=25))
    activities += draw(st.lists(st.sampled_from(activities), max_size=5)) if activities else []
    outcomes = draw(st.lists(st.tuples(ids, st.sampled_from(STATUSES), hours), max_size=6))
    return History(leads, activities, outcomes)


moments = st.builds(lambda at, nudge: at + nudge, hours, st.sampled_from((0, 0, -1, 1)))


EDGES = (0, -1, 1, 30 * DAY - 1, 30 * DAY, 30 * DAY + 1)


def as_ofs(history: History) -> st.SearchStrategy[int]:
    """Any moment, or more often one on an edge: at, just before or after a lead's creation, an
    activity or a close, or as the 30-day window after one closes."""
    times = st.sampled_from(history.times()).flatmap(st.sampled_from)
    edges = st.builds(int.__add__, times, st.sampled_from(EDGES))
    return st.one_of(moments, edges, edges)


def _assert_the_book_gives_the_batch_values(history: History, moments: list[int]) -> None:
    """Every lead of the history, as of every moment."""
    targets = [lead["lead_id"] for lead in history.leads] * len(moments)
    every_as_of = [as_of for as_of in moments for _ in history.leads]
    book = history.book()
    for lead_id, as_of, expected in zip(
        targets, every_as_of, history.batch(targets, every_as_of), strict=True
    ):
        found = book.features(history.lead(lead_id), as_of)
        assert _same(found, expected), (lead_id, as_of, found, expected)


def test_the_book_gives_the_batch_values_on_every_edge_of_the_hand_made_history() -> None:
    edges = sorted({t + edge for times in HAND_MADE.times() for t in times for edge in EDGES})
    _assert_the_book_gives_the_batch_values(HAND_MADE, edges)


@settings(max_examples=150, deadline=None)
@given(history=histories(), data=st.data())
def test_the_book_gives_the_batch_values(history: History, data: st.DataObject) -> None:
    _assert_the_book_gives_the_batch_values(
        history, data.draw(st.lists(as_ofs(history), min_size=1, max_size=6))
    )


@settings(max_examples=150, deadline=None)
@given(history=histories(), later=st.integers(0, 40 * 24), data=st.data())
def test_what_happens_after_the_as_of_never_changes_the_features(
    history: History, later: int, data: st.DataObject
) -> None:
    as_of = data.draw(as_ofs(history))
    joined = data.draw(st.sampled_from(history.leads))[KEY]
    colleague = data.draw(st.sampled_from(history.leads))["lead_id"]
    after = as_of + 1 + later * HOUR
    everyone = [lead["lead_id"] for lead in history.leads]
    before = history.batch(everyone, [as_of] * len(everyone))
    grown = History(
        [*history.leads, _lead("newcomer", after, joined, "CEO")],
        [
            *history.activities,
            ("newcomer", as_of - DAY, "demo_request"),  # tracked before it was a lead
            (colleague, after, data.draw(st.sampled_from(TYPES))),
        ],
        [
            *history.outcomes,
            ("newcomer", "won", as_of),
            (colleague, data.draw(st.sampled_from(STATUSES)), after),
        ],
    )
    for found, expected in zip(grown.batch(everyone, [as_of] * len(everyone)), before, strict=True):
        assert _same(found, expected), (as_of, found, expected)


def _live(lead_id: str, account: str, created: int, *activity_times: int) -> dict[str, Any]:
    return {
        "lead_id": lead_id,
        "created_at": created,
        KEY: account,
        "job_title": "Director of Sales",
        "activities": [{"activity_type": "demo_request", "occurred_at": t} for t in activity_times],
    }


def test_the_book_keeps_at_most_max_accounts_dropping_the_least_recently_observed() -> None:
    book = AccountBook(KEY, max_accounts=3)
    for number in range(5):
        book.observe(_live(f"L{number}", f"company{number}.example", T0), T0 + number)
    book.observe(_live("L2b", "company2.example", T0), T0 + 6)  # company2 is used again
    book.observe(_live("L5", "company5.example", T0), T0 + 7)
    assert len(book) == 3
    assert [book.summary(f"company{n}.example")["contacts"] for n in range(6)] == [0, 0, 2, 0, 1, 1]
    book.outcome("L0", "won", T0 + 8)  # a forgotten lead's outcome is ignored
    assert len(book) == 3


def test_the_book_keeps_at_most_max_contacts_dropping_the_stalest() -> None:
    book = AccountBook(KEY, max_contacts=2)
    book.observe(_live("a", "acme.com", T0, T0 + 3 * DAY), T0 + 5 * DAY)
    book.observe(_live("b", "acme.com", T0, T0 + DAY), T0 + 5 * DAY)
    book.observe(_live("c", "acme.com", T0, T0 + 2 * DAY), T0 + 5 * DAY)
    kept = AccountBook(KEY)
    for lead_id in ("a", "c"):
        kept.observe(_live(lead_id, "acme.com", T0), T0)
    summary = book.summary("acme.com")
    assert summary["contacts"] == 2
    assert set(summary["contact_ids"]) == set(kept.summary("acme.com")["contact_ids"])


def test_the_book_keeps_at_most_max_events_per_contact() -> None:
    book = AccountBook(KEY, max_events=3)
    busy = [T0 + day * DAY for day in range(10)]
    book.observe(_live("busy", "acme.com", T0, *busy), T0 + 10 * DAY)
    found = book.features({KEY: "acme.com", "lead_id": "other"}, T0 + 10 * DAY)
    assert found["account_high_intent_30d"] == 3  # the newest three of ten
    assert found["account_engaged_contacts_30d"] == 1


def test_the_book_forgets_activities_past_retention_and_stays_exact_within_it() -> None:
    book = AccountBook(KEY, retention_days=20)
    book.observe(_live("old", "acme.com", T0, T0, T0 + 25 * DAY), T0 + 40 * DAY)
    book.observe(_live("new", "acme.com", T0, T0 + 39 * DAY), T0 + 50 * DAY)
    newcomer = {KEY: "acme.com", "lead_id": "x"}
    assert book.features(newcomer, T0 + 30 * DAY)["account_high_intent_30d"] == 1  # within
    stored = book.to_dict()["accounts"]["acme.com"].values()
    kept = sorted(occurred for contact in stored for occurred, _ in contact["high_intent"])
    assert kept == [T0 + 25 * DAY, T0 + 39 * DAY]  # the old lead's first one is forgotten


def test_the_book_refuses_a_lead_without_an_id_or_creation_time_and_is_left_as_it_was() -> None:
    book = AccountBook(KEY)
    book.observe(_live("a", "acme.com", T0, T0), T0)
    before = book.to_dict()
    with pytest.raises(InvalidLeadError) as error:
        book.observe({**_live("a", "beta.io", T0), "created_at": None}, T0)
    assert error.value.field == "created_at"
    with pytest.raises(InvalidLeadError) as error:
        book.observe({**_live("a", "acme.com", T0), "lead_id": None}, T0)
    assert error.value.field == "lead_id"
    assert book.to_dict() == before


def test_a_lead_that_changes_account_moves_with_its_activities() -> None:
    book = AccountBook(KEY)
    book.observe(_live("a", "acme.com", T0, T0 + DAY), T0 + 2 * DAY)
    book.observe(_live("a", "beta.io", T0), T0 + 2 * DAY)
    assert book.summary("acme.com")["contacts"] == 0
    found = book.features({KEY: "beta.io", "lead_id": "b"}, T0 + 2 * DAY)
    assert found["account_high_intent_30d"] == 1


def test_the_summary_of_an_account() -> None:
    book = HAND_MADE.book()
    summary = book.summary(" ACME.COM", T0 + 20 * DAY)
    assert {k: v for k, v in summary.items() if k != "contact_ids"} == {
        "account": "acme.com",
        "contacts": 4,
        "engaged_30d": 3,
        "won": 1,
        "open": 1,
    }
    assert len(set(summary["contact_ids"])) == 4
    assert all(len(hashed) == 32 for hashed in summary["contact_ids"])  # hashes, not the ids


def test_the_book_round_trips_through_json_and_needs_its_hash_key() -> None:
    book = HAND_MADE.book(hash_key=b"secret")
    saved = json.loads(json.dumps(book.to_dict()))
    loaded = AccountBook.from_dict(saved, hash_key=b"secret")
    assert loaded.to_dict() == book.to_dict()
    for lead, as_of, _ in HAND_MADE_CASES:
        assert _same(
            loaded.features(HAND_MADE.lead(lead), as_of), book.features(HAND_MADE.lead(lead), as_of)
        )
    with pytest.raises(ValueError, match="expected the hash_key the account book was saved with"):
        AccountBook.from_dict(saved, hash_key=b"another")


def test_the_book_holds_no_lead_id_title_name_or_email() -> None:
    book = AccountBook(KEY)
    lead = {
        **_live("jane.doe@acme.com", "acme.com", T0, T0),
        "job_title": "Chief Revenue Officer",
        "email": "jane.doe@acme.com",
        "full_name": "Jane Doe",
    }
    book.observe(lead, T0)
    saved = json.dumps(book.to_dict()).lower()
    assert "acme.com" in saved  # the account key is kept
    for personal in ("jane", "doe", "revenue", "officer"):
        assert personal not in saved
