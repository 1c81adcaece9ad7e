"""The page of realised performance, from a hand-made dictionary shaped as
`scoring.performance` returns it: every block renders, with and without drift and a control
group, and a browser finds no feature code name on it."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from features import DEFAULT_FEATURES
from tests.helpers import headless_chromium
from training.report import render_performance_page
from training.report.words import RANGE_DASH

WORST = "days_since_last_demo_request"
WORST_WORDS = "Days since the lead's last demo request"


def _interval(value: float, spread: float | None = 0.05) -> dict[str, float | None]:
    if spread is None:
        return {"value": value, "low": None, "high": None}
    return {"value": value, "low": value - spread, "high": value + spread}


def _block(scored: int, won: int, lost: int, auc: float | None) -> dict[str, Any]:
    closed = won + lost
    return {
        "funnel": {
            "scored": scored, "mql": scored // 2, "sql": scored // 5, "sales_accepted": scored // 6,
            "sales_qualified": scored // 8, "opportunities": scored // 10, "won": won,
            "lost": lost, "open": scored - closed, "mql_rate": 0.5, "mql_to_sql": 0.4,
            "sql_to_won": None if not closed else 0.3, "win_rate": won / closed if closed else None,
            "median_days_to_close": 31.5 if won else None,
        },
        "realised": {
            "known": closed,
            "auc": None if auc is None else _interval(auc),
            "ece": _interval(0.021, 0.01),
            "sql_precision": _interval(0.31),
            "win_rate": _interval(won / closed) if closed else None,
        },
        "expected_wins": scored * 0.12, "expected_wins_open": (scored - closed) * 0.1,
        "projected_wins": won + (scored - closed) * 0.1,
    }  # fmt: skip


def _week(week: str, version: str, block: dict[str, Any]) -> dict[str, Any]:
    return {"week": week, "model_name": "lead-scoring", "model_version": version, **block}


PERFORMANCE: dict[str, Any] = {
    "generated_at": "2026-04-06T09:00:00+00:00",
    "leads_without_id": 3,
    "definitions": {
        "funnel": "Each lead counts once, in the week it was first scored.",
        "realised": "Measured on leads whose outcome is known, with 95% bootstrap intervals.",
        "expected_wins": "The sum of the calibrated chances scored; policy_recommendation is kept.",
        "control": "Leads in the control group were given a fixed recommendation.",
    },
    "overall": _block(1200, 90, 400, 0.74),
    "by_model_version": [
        {"model_name": "lead-scoring", "model_version": "3", **_block(700, 60, 250, 0.75)},
        {"model_name": "lead-scoring", "model_version": "4", **_block(500, 30, 150, 0.72)},
    ],
    "by_week": [
        _week("2026-03-02", "3", _block(300, 30, 100, 0.76)),
        _week("2026-03-09", "3", _block(400, 30, 150, 0.74)),
        _week("2026-03-16", "4", _block(350, 25, 120, 0.71)),
        _week("2026-03-23", "4", _block(150, 5, 30, None)),
    ],
    "by_source": [
        {"source": "paid_search", **_block(600, 40, 220, 0.73)},
        {"source": None, **_block(20, 0, 5, None)},
    ],
    "by_campaign": [
        {"source": "paid_search", "campaign": "brand-search", **_block(300, 25, 100, 0.75)},
        {"source": "webinar", "campaign": None, **_block(40, 3, 10, None)},
    ],
    "control": {
        "leads": 120,
        "treated_sql_win_rate": _interval(0.31),
        "control_sql_win_rate": _interval(0.22, 0.08),
        "effect": _interval(0.09, 0.07),
        "control_auc": _interval(0.7, None),
    },
    "drift": {
        "last_check": {
            "checked_at": "2026-04-06T08:59:00+00:00",
            "score_psi": 0.31,
            "worst_feature": WORST,
            "worst_feature_psi": 0.42,
            "unseen_share": 0.012,
            "alert": True,
            "reasons": [f"{WORST} PSI 0.42 >= 0.25", "score PSI 0.31 >= 0.25"],
        },
        "alerts": [
            {"checked_at": "2026-04-05T10:00:00+00:00", "reasons": ["company_size PSI 0.3"]},
            {"checked_at": None},
        ],
    },
}
CODE_NAMES = [name for name in DEFAULT_FEATURES.names if not name.isalpha()]


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    driver = headless_chromium(tmp_path_factory.mktemp("profile"), height=2400)
    yield driver
    driver.quit()


def _open(browser: Any, page: str, folder: Path) -> tuple[str, list[str], list[dict[str, Any]]]:
    """The page's visible text, every chart label and the browser's errors."""
    file = folder / "performance.html"
    file.write_text(page)
    browser.get(file.as_uri())
    text = browser.execute_script("return document.body.innerText;")
    labels = browser.execute_script(
        "return Array.from(document.images).flatMap(i => JSON.parse(i.dataset.labels || '[]'));"
    )
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    return text, labels, errors


def _code_names_in(text: str) -> list[str]:
    return [name for name in CODE_NAMES if re.search(rf"\b{name}\b", text)]


def test_the_whole_page_renders_without_a_code_name(browser: Any, tmp_path: Path) -> None:
    page = render_performance_page(PERFORMANCE, model_name="lead-scoring")
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)
    text, labels, errors = _open(browser, page, tmp_path)
    assert errors == []
    headings = browser.execute_script(
        "return Array.from(document.querySelectorAll('section > h2')).map(h => h.innerText);"
    )
    assert headings == [
        "The funnel", "Week by week", "By model version", "By source and campaign",
        "The control group", "Drift", "What the words mean",
    ]  # fmt: skip
    assert browser.execute_script(
        "return Array.from(document.images).every(i => i.complete && i.naturalWidth > 0);"
    )
    assert len(labels) > 20 and "week starting" in labels and "2026-03-09" in labels
    assert _code_names_in(text) == [] and _code_names_in(" ".join(labels)) == []
    assert "policy_recommendation" not in text and "policy recommendation is kept" in text
    assert f"item that moved most\t{WORST_WORDS}" in text
    assert f"{WORST_WORDS} PSI 0.42 >= 0.25" in text
    assert "Number of employees at the lead's company PSI 0.3" in text
    assert f"0.74 (0.69{RANGE_DASH}0.79)" in text  # the overall AUC with its interval
    assert f"+9.0% (+2.0%{RANGE_DASH}+16.0%)" in text  # the control effect
    assert "3 scores came without a lead id" in text
    assert "paid_search" in text and "no source" in text and "no campaign (webinar)" in text


def test_without_drift_or_control_the_page_says_so(browser: Any, tmp_path: Path) -> None:
    performance = copy.deepcopy(PERFORMANCE)
    del performance["drift"]
    performance["control"] = {"leads": 0, "treated_sql_win_rate": None, "effect": None}
    page = render_performance_page(performance, model_name="lead-scoring")
    text, _, errors = _open(browser, page, tmp_path)
    assert errors == []
    assert "Drift" not in text and "No control group" in text


def test_an_empty_dictionary_renders_a_page_with_nothing_yet(browser: Any, tmp_path: Path) -> None:
    page = render_performance_page({}, model_name="<b>x</b>")
    assert "<b>x</b>" not in page
    text, labels, errors = _open(browser, page, tmp_path)
    assert errors == [] and labels == []
    assert "Realised performance: <b>x</b>" in text
    assert "No lead has been scored yet" in text and "No control group" in text
