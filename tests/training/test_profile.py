"""The data profile counts each form placeholder it read as missing, as written in the export."""

from __future__ import annotations

import json
from pathlib import Path

from leadscore import demo_data
from training.columns import demo_feature_set
from training.data import load_export
from training.profile import profile


def test_the_profile_counts_exactly_the_placeholders_the_demo_planted(tmp_path: Path) -> None:
    demo_data.write(demo_data.generate(3000, 11), tmp_path, seed=11)
    export = load_export(tmp_path)
    found = profile(export.leads, demo_feature_set(export))
    planted = json.loads((tmp_path / demo_data.TRUTH_COLUMNS_FILE).read_text())["placeholders"]
    assert found.placeholders == planted
    assert found.leads == 3000
    industry_filled = export.leads["industry"].notna().sum() - sum(planted["industry"].values())
    assert found.filled["industry"] == round(industry_filled / 3000, 4)
    [industry] = [line for line in found.lines() if line.startswith("industry: ")]
    assert f"'Select' x{planted['industry']['Select']}" in industry
