"""Costs: a `[costs]` table in the dataset config gives each source's or campaign's cost per
lead; the report then shows the cost per won lead, worked out on the recent leads, and without
the table it says costs are not known."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import FittedModel
from training import ConfigError, load_config
from training.config import CostsSection
from training.report import render_report

CONFIG = """
[leads]
path = "leads.csv"
[outcome]
label = "won"
"""
COSTS = {"partner": 60.0, "paid_search": 40.0, "paid_search/brand-search": 25.0}


@pytest.fixture(scope="module")
def pages(fitted: FittedModel) -> dict[str, str]:
    costs = CostsSection(currency="EUR", per_lead=COSTS)
    return {
        "with": render_report(
            fitted.trainer, fitted.dataset, model_name="m", version="1", costs=costs
        ),
        "without": render_report(fitted.trainer, fitted.dataset, model_name="m", version="1"),
    }


def _row(page: str, first_cell: str) -> str:
    match = re.search(rf"<tr><td>{re.escape(first_cell)}</td>(.*?)</tr>", page, re.DOTALL)
    assert match, first_cell
    return " ".join(re.sub(r"<[^>]+>", " ", match.group(1)).split())


def _holdout_counts(fitted: FittedModel, source: str) -> tuple[int, int]:
    rows = fitted.trainer.splits_rows_["holdout"]
    chosen = (fitted.dataset.features["source"].iloc[rows] == source).to_numpy()
    return int(chosen.sum()), int(fitted.dataset.labels[rows][chosen].sum())


def test_the_costs_table_is_read_beside_its_currency(tmp_path: Path) -> None:
    file = tmp_path / "costs.toml"
    costs = '[costs]\ncurrency = "EUR"\n" Paid_Search " = 40\n"paid_search/Brand-Search" = 25\n'
    file.write_text(CONFIG + costs)
    costs = load_config(file).costs
    assert costs is not None and costs.currency == "EUR"
    assert costs.cost_per_lead("paid_search", "brand-search") == 25.0
    assert costs.cost_per_lead("paid_search", "generic-crm") == 40.0
    assert costs.cost_per_lead("webinar", None) is None
    file.write_text(CONFIG)
    assert load_config(file).costs is None


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('currency = "EUR"\npaid_search = "cheap"', "[costs]: expected a cost per lead (a number"),
        ('currency = "EUR"\npaid_search = -3', "for 'paid_search', got -3"),
        ("paid_search = 40", "[costs] currency: expected this key; it is required"),
        ('currency = "EUR"', "expected a cost per lead for at least one source"),
    ],
)
def test_a_wrong_costs_table_is_named_with_what_was_expected(
    tmp_path: Path, table: str, message: str
) -> None:
    file = tmp_path / "costs.toml"
    file.write_text(CONFIG + "[costs]\n" + table + "\n")
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_config(file)


def test_with_costs_the_report_shows_the_cost_per_won_lead(
    pages: dict[str, str], fitted: FittedModel
) -> None:
    page = pages["with"]
    assert "<th>cost per won lead</th>" in page and "Costs are per lead, in EUR" in page
    leads, won = _holdout_counts(fitted, "partner")
    assert won > 0
    assert f"EUR 60 EUR {60 * leads / won:,.0f}" in _row(page, "partner")
    # A source whose cost is not known shows none, and is left out of the average.
    assert _row(page, "webinar").split().count("-") == 2
    assert "a won lead cost EUR " in " ".join(page.split())


def test_a_source_whose_campaigns_cost_differently_adds_up_their_costs(
    pages: dict[str, str], fitted: FittedModel
) -> None:
    rows = fitted.trainer.splits_rows_["holdout"]
    features = fitted.dataset.features.iloc[rows]
    paid = (features["source"] == "paid_search").to_numpy()
    brand = paid & (features["campaign"] == "brand-search").to_numpy()
    spent = 25.0 * brand.sum() + 40.0 * (paid & ~brand).sum()
    assert brand.any() and (paid & ~brand).any()
    assert f"EUR {spent / paid.sum():,.0f}" in _row(pages["with"], "paid_search")
    assert "EUR 25 EUR " in _row(pages["with"], "brand-search (paid_search)")


def test_without_costs_the_report_says_they_are_not_known(pages: dict[str, str]) -> None:
    page = re.sub(r"data:image/png;base64,[^\"]+", "", pages["without"])
    assert "cost per won lead</th>" not in page and "EUR" not in page
    assert "Costs are not known." in page
    assert "not known. Add a <code>[costs]</code> table to the dataset config" in page
