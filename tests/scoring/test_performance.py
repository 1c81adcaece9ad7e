"""Realised performance: cohorts, funnel, outcomes, AUC and ECE, intervals, expected wins and
the control group, checked against hand counts and data drawn from known probabilities."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from features import DataContractError
from scoring import performance_report

NOW = datetime(2026, 6, 1, tzinfo=UTC)
MONDAY = datetime(2026, 5, 4, 9, tzinfo=UTC)
PREDICTION_TABLE = [
    "lead_id", "model_name", "model_version", "score", "probability", "grade", "recommendation",
    "policy_recommendation", "control", "source", "campaign", "as_of", "scored_at",
]  # fmt: skip
OUTCOME_TABLE = ["lead_id", "event", "occurred_at"]


def _scores(*rows: dict[str, Any]) -> pd.DataFrame:
    """The prediction log as the server keeps it; each row names only what differs."""
    defaults = {
        "model_name": "lead-scoring", "model_version": "1", "probability": None,
        "recommendation": "nurture", "control": False, "source": "web", "campaign": "spring",
        "as_of": MONDAY,
    }  # fmt: skip
    records = []
    for row in rows:
        record = {**defaults, **row}
        record.setdefault("policy_recommendation", record["recommendation"])
        record.setdefault("scored_at", record["as_of"])
        chance = record["probability"]
        record.setdefault("score", round(chance * 100) if pd.notna(chance) else None)
        record.setdefault("grade", None)
        records.append(record)
    return pd.DataFrame(records, columns=PREDICTION_TABLE)


def _events(*rows: tuple[str, str, float]) -> pd.DataFrame:
    """Outcomes as (lead id, event, days after MONDAY)."""
    return pd.DataFrame(
        [(lead, event, MONDAY + timedelta(days=days)) for lead, event, days in rows],
        columns=OUTCOME_TABLE,
    )


def _drawn(leads: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray, np.ndarray]:
    """Leads whose outcomes are drawn from their calibrated probability, all closed."""
    rng = np.random.default_rng(seed)
    chance = rng.beta(2, 5, leads)
    won = rng.random(leads) < chance
    ids = [f"lead-{number}" for number in range(leads)]
    policy = np.where(chance > 0.45, "SQL", np.where(chance > 0.2, "MQL", "nurture"))
    predictions = pd.DataFrame(
        {
            "lead_id": ids, "model_name": "lead-scoring", "model_version": "1",
            "score": np.round(chance * 100).astype(int), "probability": chance, "grade": "B",
            "recommendation": policy, "policy_recommendation": policy, "control": False,
            "source": "web", "campaign": "spring", "as_of": MONDAY, "scored_at": MONDAY,
        }
    )  # fmt: skip
    outcomes = pd.DataFrame(
        {
            "lead_id": ids,
            "event": np.where(won, "won", "lost"),
            "occurred_at": MONDAY + timedelta(days=20),
        }
    )
    return predictions, outcomes, chance, won


@pytest.fixture(scope="module")
def drawn() -> tuple[dict[str, Any], np.ndarray, np.ndarray]:
    predictions, outcomes, chance, won = _drawn(5_000, seed=11)
    return performance_report(predictions, outcomes, now=NOW), chance, won


def _only_plain_json(value: Any) -> bool:
    if isinstance(value, dict):
        return all(isinstance(key, str) and _only_plain_json(item) for key, item in value.items())
    if isinstance(value, list):
        return all(_only_plain_json(item) for item in value)
    return value is None or type(value) in (str, int, float, bool)


def test_a_rescored_lead_counts_once_as_its_first_scoring_described_it() -> None:
    predictions = _scores(
        {"lead_id": "a", "probability": 0.9, "recommendation": "SQL",
         "as_of": MONDAY + timedelta(days=9)},
        {"lead_id": "a", "probability": 0.35, "recommendation": "MQL",
         "as_of": MONDAY + timedelta(days=2)},
        {"lead_id": "b", "probability": 0.5, "as_of": MONDAY + timedelta(days=3),
         "scored_at": MONDAY + timedelta(days=3, hours=2)},
        {"lead_id": "b", "probability": 0.2, "recommendation": "MQL",
         "as_of": MONDAY + timedelta(days=3), "scored_at": MONDAY + timedelta(days=3, hours=1)},
        {"lead_id": "a", "model_version": "2", "probability": 0.9, "recommendation": "SQL",
         "as_of": MONDAY + timedelta(days=9)},
    )  # fmt: skip
    report = performance_report(predictions, _events(), now=NOW)
    weeks = [
        (row["week"], row["model_version"], row["funnel"]["scored"]) for row in report["by_week"]
    ]
    assert weeks == [("2026-05-04", "1", 2), ("2026-05-11", "2", 1)]
    first, second = report["by_model_version"]
    assert (first["funnel"]["mql"], first["funnel"]["sql"]) == (2, 0)
    assert first["expected_wins"] == pytest.approx(0.35 + 0.2)
    assert (second["funnel"]["sql"], second["expected_wins"]) == (1, pytest.approx(0.9))
    assert report["overall"]["funnel"]["scored"] == 3


def test_the_funnel_matches_a_hand_count() -> None:
    predictions = _scores(
        {"lead_id": "L1", "probability": 0.8, "recommendation": "SQL"},
        {"lead_id": "L2", "probability": 0.6, "recommendation": "SQL"},
        {"lead_id": "L3", "probability": 0.4, "recommendation": "MQL"},
        {"lead_id": "L4", "probability": 0.3, "recommendation": "MQL"},
        {"lead_id": "L5", "probability": 0.2, "recommendation": "nurture"},
        {"lead_id": "L6", "recommendation": "disqualified"},
    )
    outcomes = _events(
        ("L1", "sal", 1), ("L1", "sql", 2), ("L1", "opportunity", 3), ("L1", "won", 5),
        ("L2", "sal", 1), ("L2", "lost", 4),
        ("L3", "sal", 2), ("L3", "sql", 6), ("L3", "won", 11),
        ("L5", "lost", 2),
    )  # fmt: skip
    overall = performance_report(predictions, outcomes, now=NOW)["overall"]
    assert overall["funnel"] == {
        "scored": 6, "mql": 4, "sql": 2, "sales_accepted": 3, "sales_qualified": 2,
        "opportunities": 1, "won": 2, "lost": 2, "open": 2, "mql_rate": pytest.approx(4 / 6),
        "mql_to_sql": 0.5, "sql_to_won": 0.5, "win_rate": 0.5, "median_days_to_close": 8.0,
    }  # fmt: skip
    realised = overall["realised"]
    assert realised["known"] == 4
    # Won 0.8 and 0.4 against lost 0.6 and 0.2: 3 of 4 pairs in order.
    assert realised["auc"] == {"value": 0.75, "low": None, "high": None}
    # One lead per bin, gaps |0.8-1|, |0.6-0|, |0.4-1|, |0.2-0|.
    assert realised["ece"]["value"] == pytest.approx((0.2 + 0.6 + 0.6 + 0.2) / 4)
    assert realised["sql_precision"]["value"] == 0.5
    assert realised["win_rate"]["value"] == 0.5
    assert overall["expected_wins"] == pytest.approx(0.8 + 0.6 + 0.4 + 0.3 + 0.2)
    assert overall["expected_wins_open"] == pytest.approx(0.3)
    assert overall["projected_wins"] == pytest.approx(2.3)


def test_the_latest_of_won_and_lost_is_the_outcome() -> None:
    predictions = _scores(
        {"lead_id": "x", "probability": 0.5},
        {"lead_id": "y", "probability": 0.5},
        {"lead_id": "z", "probability": 0.5},
    )
    outcomes = _events(
        ("x", "won", 3), ("x", "lost", 9),
        ("y", "won", 8), ("y", "lost", 2),
        ("z", "lost", 4), ("z", "won", 4),
    )  # fmt: skip
    funnel = performance_report(predictions, outcomes, now=NOW)["overall"]["funnel"]
    assert (funnel["won"], funnel["lost"], funnel["open"]) == (2, 1, 0)
    assert funnel["median_days_to_close"] == 6.0


def test_open_leads_carry_their_probabilities_as_expected_wins() -> None:
    predictions = _scores(
        {"lead_id": "won", "probability": 0.1},
        {"lead_id": "lost", "probability": 0.2},
        {"lead_id": "open-1", "probability": 0.3},
        {"lead_id": "open-2", "probability": 0.4},
        {"lead_id": "open-rules-only"},
    )
    outcomes = _events(("won", "won", 5), ("lost", "lost", 5), ("open-1", "sal", 2))
    overall = performance_report(predictions, outcomes, now=NOW)["overall"]
    assert overall["funnel"]["open"] == 3
    assert overall["expected_wins_open"] == pytest.approx(0.3 + 0.4)
    assert overall["expected_wins"] == pytest.approx(0.1 + 0.2 + 0.3 + 0.4)
    assert overall["projected_wins"] == pytest.approx(1 + 0.3 + 0.4)
    assert overall["realised"]["known"] == 2


def test_auc_and_ece_match_a_hand_count_with_ties() -> None:
    won, lost = [0.9, 0.6, 0.4], [0.6, 0.5, 0.1]
    predictions = _scores(
        *[{"lead_id": f"w{n}", "probability": p} for n, p in enumerate(won)],
        *[{"lead_id": f"l{n}", "probability": p} for n, p in enumerate(lost)],
    )
    outcomes = _events(
        *[(f"w{n}", "won", 1) for n in range(3)], *[(f"l{n}", "lost", 1) for n in range(3)]
    )
    realised = performance_report(predictions, outcomes, now=NOW)["overall"]["realised"]
    # 0.9 beats all three lost leads, 0.6 beats two and ties one, 0.4 beats one: 6.5 of 9.
    assert realised["auc"]["value"] == pytest.approx(6.5 / 9)
    assert realised["auc"]["value"] == pytest.approx(roc_auc_score([1, 1, 1, 0, 0, 0], won + lost))
    # Bins 0.9 | 0.6, 0.6 | 0.5 | 0.4 | 0.1; the two leads at 0.6 share a bin (one won).
    gaps = [0.9 - 1, 0.6 + 0.6 - 1, 0.5, 0.4 - 1, 0.1]
    assert realised["ece"]["value"] == pytest.approx(sum(map(abs, gaps)) / 6)


def test_well_calibrated_probabilities_read_as_calibrated(
    drawn: tuple[dict[str, Any], np.ndarray, np.ndarray],
) -> None:
    report, chance, won = drawn
    overall = report["overall"]
    assert overall["realised"]["ece"]["value"] < 0.03
    assert overall["expected_wins"] == pytest.approx(won.sum(), rel=0.05)
    win_rate = overall["realised"]["win_rate"]
    assert win_rate["value"] == pytest.approx(won.mean())
    assert win_rate["low"] <= chance.mean() <= win_rate["high"]


def test_intervals_contain_their_value_and_are_as_wide_as_sampling_says(
    drawn: tuple[dict[str, Any], np.ndarray, np.ndarray],
) -> None:
    report, chance, won = drawn
    realised = report["overall"]["realised"]
    for metric in ("auc", "sql_precision", "win_rate"):
        assert realised[metric]["low"] < realised[metric]["value"] < realised[metric]["high"]
    assert realised["ece"]["low"] < realised["ece"]["high"]
    rate = won.mean()
    binomial_width = 2 * 1.96 * np.sqrt(rate * (1 - rate) / len(won))
    width = realised["win_rate"]["high"] - realised["win_rate"]["low"]
    assert width == pytest.approx(binomial_width, rel=0.25)
    assert realised["auc"]["value"] == pytest.approx(roc_auc_score(won, chance))
    assert realised["sql_precision"]["value"] == pytest.approx(won[chance > 0.45].mean())


def test_intervals_come_from_the_seeded_resamples() -> None:
    predictions, outcomes, _, _ = _drawn(400, seed=5)
    first = performance_report(predictions, outcomes, now=NOW, bootstrap=100, seed=3)
    again = performance_report(predictions, outcomes, now=NOW, bootstrap=100, seed=3)
    other = performance_report(predictions, outcomes, now=NOW, bootstrap=100, seed=4)
    none = performance_report(predictions, outcomes, now=NOW, bootstrap=0)
    assert first == again
    for metric in ("auc", "ece", "sql_precision", "win_rate"):
        seeded, reseeded = (
            first["overall"]["realised"][metric],
            other["overall"]["realised"][metric],
        )
        assert seeded["value"] == reseeded["value"] == none["overall"]["realised"][metric]["value"]
        assert (seeded["low"], seeded["high"]) != (reseeded["low"], reseeded["high"])
        assert none["overall"]["realised"][metric]["low"] is None


def test_small_groups_give_values_without_intervals() -> None:
    predictions, outcomes, _, _ = _drawn(60, seed=2)
    predictions.loc[:14, "campaign"] = "small"
    rows = performance_report(predictions, outcomes, now=NOW)["by_campaign"]
    by_campaign = {row["campaign"]: row["realised"] for row in rows}
    assert by_campaign["small"]["known"] == 15
    assert by_campaign["small"]["win_rate"]["value"] is not None
    assert by_campaign["small"]["win_rate"]["low"] is None
    assert by_campaign["spring"]["win_rate"]["low"] is not None


def test_the_control_group_shows_the_policy_s_effect() -> None:
    rng = np.random.default_rng(8)
    leads = 3_000
    control = rng.random(leads) < 0.25
    won = rng.random(leads) < np.where(control, 0.3, 0.5)
    chance = np.clip(np.where(won, 0.55, 0.45) + rng.normal(0, 0.1, leads), 0.01, 0.99)
    predictions = _scores(
        *[
            {"lead_id": f"c{n}", "probability": float(chance[n]), "control": bool(control[n]),
             "recommendation": "MQL" if control[n] else "SQL", "policy_recommendation": "SQL"}
            for n in range(leads)
        ]
    )  # fmt: skip
    outcomes = _events(*[(f"c{n}", "won" if won[n] else "lost", 10) for n in range(leads)])
    block = performance_report(predictions, outcomes, now=NOW)["control"]
    assert block["leads"] == block["control_sql_leads"] == control.sum()
    assert block["treated_sql_won"] == (won & ~control).sum()
    assert block["effect"]["value"] == pytest.approx(won[~control].mean() - won[control].mean())
    assert 0 < block["effect"]["low"] < block["effect"]["value"] < block["effect"]["high"]
    assert block["control_known"] == control.sum()
    assert block["control_auc"]["value"] == pytest.approx(
        roc_auc_score(won[control], chance[control])
    )


def test_without_control_leads_the_control_block_says_so() -> None:
    predictions, outcomes, _, _ = _drawn(100, seed=4)
    block = performance_report(predictions, outcomes, now=NOW)["control"]
    assert (block["leads"], block["control_known"]) == (0, 0)
    assert block["control_auc"] is block["control_sql_win_rate"] is block["effect"] is None
    assert block["treated_sql_leads"] > 0


def test_empty_tables_give_zeros_and_nothing_to_measure() -> None:
    report = performance_report(
        _scores(), pd.DataFrame(columns=OUTCOME_TABLE), now=NOW, bootstrap=50
    )
    overall = report["overall"]
    assert overall["funnel"]["scored"] == overall["funnel"]["won"] == 0
    assert overall["funnel"]["win_rate"] is None
    assert overall["funnel"]["median_days_to_close"] is None
    assert overall["realised"] == {
        "known": 0, "auc": None, "ece": None, "sql_precision": None, "win_rate": None
    }  # fmt: skip
    assert overall["expected_wins"] == overall["projected_wins"] == 0.0
    assert [report[name] for name in ("by_model_version", "by_week", "by_source")] == [[], [], []]
    assert report["control"]["leads"] == 0
    assert report["leads_without_id"] == 0
    json.dumps(report, allow_nan=False)


def test_the_report_is_plain_json(drawn: tuple[dict[str, Any], np.ndarray, np.ndarray]) -> None:
    predictions = _scores(
        {"lead_id": "a", "probability": float("nan"), "source": None, "campaign": None},
        {"lead_id": None, "probability": 0.4},
        {"lead_id": "b", "probability": 0.4, "control": None},
    )
    small = performance_report(predictions, _events(("b", "won", 1)), now=NOW)
    for report in (small, drawn[0]):
        assert _only_plain_json(report)
        json.dumps(report, allow_nan=False)
    assert small["generated_at"] == "2026-06-01T00:00:00+00:00"
    assert set(small["definitions"]) == {"funnel", "realised", "expected_wins", "control"}


def test_scores_without_a_lead_id_are_counted_and_left_out() -> None:
    predictions = _scores(
        {"lead_id": None, "probability": 0.9},
        {"lead_id": "", "probability": 0.9},
        {"lead_id": "a", "probability": 0.2},
    )
    report = performance_report(predictions, _events(("a", "won", 1)), now=NOW)
    assert report["leads_without_id"] == 2
    assert report["overall"]["funnel"]["scored"] == 1
    assert report["overall"]["expected_wins"] == pytest.approx(0.2)


def test_a_missing_source_or_campaign_is_a_group_of_its_own() -> None:
    predictions = _scores(
        {"lead_id": "a", "source": None, "campaign": None},
        {"lead_id": "b", "source": None, "campaign": None},
        {"lead_id": "c", "source": "web", "campaign": None},
        {"lead_id": "d", "source": "web", "campaign": "spring"},
        {"lead_id": "e", "source": "web", "campaign": "spring"},
        {"lead_id": "f", "source": "web", "campaign": "spring"},
    )
    report = performance_report(predictions, _events(), now=NOW)
    sources = [(row["source"], row["funnel"]["scored"]) for row in report["by_source"]]
    assert sources == [("web", 4), (None, 2)]
    campaigns = [
        (row["source"], row["campaign"], row["funnel"]["scored"]) for row in report["by_campaign"]
    ]
    assert campaigns == [("web", "spring", 3), (None, None, 2), ("web", None, 1)]


def test_model_versions_sort_as_numbers() -> None:
    predictions = _scores(*[{"lead_id": v, "model_version": v} for v in ("10", "9", "2")])
    rows = performance_report(predictions, _events(), now=NOW)["by_model_version"]
    assert [row["model_version"] for row in rows] == ["2", "9", "10"]


def test_a_table_without_its_columns_is_refused() -> None:
    with pytest.raises(DataContractError, match="expected the columns control"):
        performance_report(_scores().drop(columns="control"), _events(), now=NOW)
