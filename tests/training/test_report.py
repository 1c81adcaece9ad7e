"""The marketer's report: every section, self-contained, escaped, and clean in a real headless
browser."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from mlflow import MlflowClient
from typer.testing import CliRunner

from leadscore.cli import app
from tests.conftest import FittedModel, TrainedModel
from tests.helpers import headless_chromium
from training.report import render_report

SECTIONS = (
    "What drives conversion",
    "By group",
    "Which values convert",
    "Lead source and campaign quality",
    "Lift and gain",
    "Are the scores honest?",
    "What if sales took every lead above a score?",
    "Model card",
)


@pytest.fixture(scope="module")
def report_file(trained: TrainedModel, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report") / "report.html"
    env = {"LEADSCORE_MLFLOW_TRACKING_URI": trained.settings.mlflow_tracking_uri}
    result = CliRunner().invoke(app, ["report", "--out", str(out)], env=env)
    assert result.exit_code == 0, result.output
    return out


def _assert_complete_and_self_contained(page: str) -> None:
    for section in SECTIONS:
        assert section in page, section
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)
    assert page.count('src="data:image/png;base64,') >= 5


def test_report_renders_from_a_fitted_model_and_escapes_the_model_name(
    fitted: FittedModel,
) -> None:
    page = render_report(fitted.trainer, fitted.dataset, model_name="lead-scoring", version="1")
    _assert_complete_and_self_contained(page)
    assert "lead-scoring</b> version 1" in page
    # The agreement in words, never as rule expressions.
    assert "The ideal customer profile: company size is at least 10; seniority is one of" in page
    assert "Never passed on, whatever the score, when:\nseniority is student." in page
    assert "&gt;=" not in page and "seniority ==" not in page
    page = render_report(fitted.trainer, fitted.dataset, model_name="<b>x</b>", version="1")
    assert "<b>x</b>" not in page
    assert "<b>&lt;b&gt;x&lt;/b&gt;</b> version 1" in page


@pytest.mark.integration
def test_report_has_every_section_and_fetches_nothing(report_file: Path) -> None:
    page = report_file.read_text()
    _assert_complete_and_self_contained(page)
    assert "lead-scoring</b> version 1" in page


@pytest.mark.integration
def test_report_is_logged_with_the_training_run(trained: TrainedModel) -> None:
    client = MlflowClient(trained.settings.mlflow_tracking_uri)
    artifacts = {a.path for a in client.list_artifacts(trained.result.registration.run_id)}
    assert "report.html" in artifacts
    assert "ece" in client.get_run(trained.result.registration.run_id).data.metrics


@pytest.mark.integration
def test_report_renders_cleanly_in_headless_chromium(report_file: Path, tmp_path: Path) -> None:
    from PIL import Image, ImageStat

    driver = headless_chromium(tmp_path / "profile", height=2400)
    try:
        driver.get(report_file.as_uri())
        images = driver.execute_script(
            "return Array.from(document.images).map(i => [i.complete, i.naturalWidth]);"
        )
        errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
        shot = tmp_path / "report.png"
        driver.save_screenshot(str(shot))
    finally:
        driver.quit()
    assert errors == []
    assert len(images) >= 5 and all(done and width > 0 for done, width in images)
    spread = ImageStat.Stat(Image.open(shot).convert("L")).stddev[0]
    assert spread > 10, "the screenshot is blank"
