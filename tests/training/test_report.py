"""The marketer's report: every section, self-contained, escaped, opening with what to do this
week, and in a real headless browser clean and free of code names."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest
from mlflow import MlflowClient
from typer.testing import CliRunner

from leadscore.cli import app
from tests.conftest import FittedModel, TrainedModel
from tests.helpers import headless_chromium
from training.data import DEMO_NEXT_STEPS
from training.report import LEADS_TO_CALL_ARTIFACT, render_report
from training.report.words import RANGE_DASH

SECTIONS = (
    "What to do this week",
    "In short",
    "The agreement between marketing and sales",
    "The funnel",
    "Week by week",
    "Lead source and campaign quality",
    "What drives conversion",
    "Which moves turn MQLs into SQLs",
    "Which values convert",
    "Lift and gain",
    "Are the scores honest?",
    "What if sales took every lead above a score?",
    "Columns left out, and why",
    "Model card",
)
ICP = (
    "The ideal customer profile: company size is at least 10 employees; seniority is C-level, VP, "
    "director or manager."
)
CUT_OFFS = re.compile(
    r"A lead goes to sales as an SQL from score \d+ out of 100 when it meets every rule of the "
    r"ideal customer profile; marketing works it as an MQL from score \d+; below that it is "
    r"nurtured, down to score \d+, under which its chance of winning is less than half the "
    r"average lead's and it is disqualified\."
)


RANGE = re.compile(rf"^(?P<low>[\d,]+)({RANGE_DASH}[\d,]+| or more) employees$")


@pytest.fixture(scope="module")
def report_file(trained: TrainedModel, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report") / "report.html"
    env = {"LEADSCORE_MLFLOW_TRACKING_URI": trained.settings.mlflow_tracking_uri}
    result = CliRunner().invoke(app, ["report", "--out", str(out)], env=env)
    assert result.exit_code == 0, result.output
    return out


def _assert_complete_and_self_contained(page: str) -> None:
    headings = re.findall(r"<section><h2>(.*?)</h2>", page)
    assert headings == list(SECTIONS)
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)
    assert page.count('src="data:image/png;base64,') >= 8


@pytest.fixture(scope="module")
def page(fitted: FittedModel) -> str:
    return render_report(fitted.trainer, fitted.dataset, model_name="lead-scoring", version="1")


def test_report_renders_from_a_fitted_model_and_escapes_the_model_name(
    page: str, fitted: FittedModel
) -> None:
    _assert_complete_and_self_contained(page)
    assert "lead-scoring</b> version 1" in page
    # The agreement in words, never as rule expressions, and with plain values.
    assert ICP in page
    assert "Never passed on, whatever the score, when:\nseniority is student." in page
    assert "&gt;=" not in page and "seniority ==" not in page and "c_level" not in page
    # Without the export, there is no list of open leads, and the page says so.
    assert "no export was given" in page and LEADS_TO_CALL_ARTIFACT not in page
    page = render_report(fitted.trainer, fitted.dataset, model_name="<b>x</b>", version="1")
    assert "<b>x</b>" not in page
    assert "<b>&lt;b&gt;x&lt;/b&gt;</b> version 1" in page


def test_numbers_are_charted_in_ranges_of_their_unit_sorted_by_value(page: str) -> None:
    title = "<h3>Number of employees at the lead&#39;s company</h3>"
    found = re.search(re.escape(title) + r"<img [^>]*data-labels='([^']*)'", page)
    assert found, "the company size chart"
    drawn = json.loads(html.unescape(found.group(1)))
    ranges = [label for label in drawn if label.endswith(" employees")]
    assert len(ranges) >= 3 and all(RANGE.match(label) for label in ranges), ranges
    assert "not known" in drawn and not any("(" in label or "]" in label for label in drawn)
    lows = [int(RANGE.match(label)["low"].replace(",", "")) for label in ranges]
    # The axis lists its ticks bottom up; the chart reads top down, smallest first.
    assert lows[::-1] == sorted(lows)
    assert ranges[0].endswith(" or more employees")


@pytest.mark.integration
def test_report_has_every_section_and_fetches_nothing(report_file: Path) -> None:
    page = report_file.read_text()
    _assert_complete_and_self_contained(page)
    assert "lead-scoring</b> version 1" in page
    assert f"open leads listed in <code>{LEADS_TO_CALL_ARTIFACT}</code>" in page


def test_report_says_which_moves_turn_mqls_into_sqls_and_that_it_is_no_promise(
    report_file: Path,
) -> None:
    page = report_file.read_text()
    section = page.split("Which moves turn MQLs into SQLs</h2>")[1].split("</section>")[0]
    assert "not a promise" in section and "does not" in section
    rows = re.findall(r"<tr><td>([^<]+)</td><td class=num>([\d,]+)</td>", section)
    assert rows, section
    actions = {move["action"] for move in DEMO_NEXT_STEPS["moves"].values()}
    assert {html.unescape(action) for action, _ in rows} <= actions
    counts = [int(count.replace(",", "")) for _, count in rows]
    assert counts == sorted(counts, reverse=True) and counts[0] > 0


@pytest.mark.integration
def test_report_and_the_leads_to_call_are_logged_with_the_training_run(
    trained: TrainedModel,
) -> None:
    client = MlflowClient(trained.settings.mlflow_tracking_uri)
    artifacts = {a.path for a in client.list_artifacts(trained.result.registration.run_id)}
    assert {"report.html", LEADS_TO_CALL_ARTIFACT} <= artifacts
    assert "ece" in client.get_run(trained.result.registration.run_id).data.metrics


@pytest.mark.integration
def test_report_reads_plainly_in_headless_chromium(
    report_file: Path, trained: TrainedModel, tmp_path: Path
) -> None:
    from PIL import Image, ImageStat

    driver = headless_chromium(tmp_path / "profile", height=2400)
    try:
        driver.get(report_file.as_uri())
        images = driver.execute_script(
            "return Array.from(document.images).map(i => [i.complete, i.naturalWidth]);"
        )
        labels = driver.execute_script(
            "return Array.from(document.images).map(i => JSON.parse(i.dataset.labels));"
        )
        first = driver.execute_script("return document.querySelector('section > h2').innerText;")
        text = driver.execute_script("return document.body.innerText;")
        cells = driver.execute_script(
            "return Array.from(document.querySelectorAll('td, th, h3')).map(c => c.innerText);"
        )
        errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
        shot = tmp_path / "report.png"
        driver.save_screenshot(str(shot))
    finally:
        driver.quit()
    assert errors == []
    assert len(images) >= 8 and all(done and width > 0 for done, width in images)
    assert all(chart for chart in labels), "every chart lists the labels it drew"
    assert first == "What to do this week"
    assert ICP in text and CUT_OFFS.search(" ".join(text.split()))
    names = trained.result.trainer.scorer_.feature_set.names
    # Names such as `industry` are plain words too; those with an underscore or a digit are code.
    code = [name for name in names if not name.isalpha()]
    assert len(code) > 10
    drawn = " ".join(label for chart in labels for label in chart)
    assert [name for name in code if re.search(rf"\b{name}\b", text)] == []
    assert [name for name in code if re.search(rf"\b{name}\b", drawn)] == []
    # No table cell, heading or chart label is a bare name, single words included.
    assert set(names).isdisjoint([c.strip() for c in cells])
    assert set(names).isdisjoint(label for chart in labels for label in chart)
    spread = ImageStat.Stat(Image.open(shot).convert("L")).stddev[0]
    assert spread > 10, "the screenshot is blank"
