"""Placing the policy: thresholds by capacity or precision, the what-if table, the policy file."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from leadscore.cli import DEMO_POLICY
from scoring import Settings
from training import ConfigError, load_config
from training.pipeline import resolve_policy
from training.policy import PolicySpec, fit_policy, load_policy


def test_capacity_places_the_sql_threshold_at_the_top_n_a_week() -> None:
    rng = np.random.default_rng(0)
    scores = rng.integers(0, 101, 10_000)
    labels = (rng.random(10_000) < scores / 100).astype(int)
    values = pd.DataFrame({"company_size": rng.choice([5.0, 100.0], 10_000)})
    spec = PolicySpec.from_dict(
        {"sql": {"sales_capacity_per_week": 50}, "mql": {"min_precision": 0.7},
         "icp": {"rules": ["company_size >= 50"]}}
    )  # fmt: skip
    policy, what_if = fit_policy(spec, scores, labels, values, weeks=10.0, base_rate=0.3)
    sql_per_week = np.sum((scores >= policy.sql_threshold) & (values["company_size"] >= 50)) / 10
    assert abs(sql_per_week - 50) / 50 <= 0.10
    chosen = scores >= policy.mql_threshold
    assert labels[chosen].mean() >= 0.7 > labels[scores >= policy.mql_threshold - 1].mean()
    assert list(what_if.columns) == [
        "threshold", "leads_per_week", "expected_win_rate", "share_of_wins_captured"
    ]  # fmt: skip
    assert what_if["share_of_wins_captured"].is_monotonic_decreasing


def test_a_policy_file_with_both_ways_for_one_threshold_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"p.toml: \[sql\]: expected exactly one of"):
        PolicySpec.from_dict(
            {"sql": {"sales_capacity_per_week": 5, "min_precision": 0.5}}, "p.toml"
        )


def test_policy_file_mistakes_name_the_section_and_key() -> None:
    with pytest.raises(ConfigError, match=r"\[icp\] rules: expected a list of rules"):
        PolicySpec.from_dict({"icp": {"rules": "company_size >= 5"}}, "p.toml")
    with pytest.raises(ConfigError, match=r"\[exclusions\] rules: expected a rule like"):
        PolicySpec.from_dict({"exclusions": {"rules": ["size is big"]}}, "p.toml")
    with pytest.raises(ConfigError, match=r"\[sales\]: unknown section"):
        PolicySpec.from_dict({"sales": {}}, "p.toml")
    spec = PolicySpec.from_dict({"icp": {"rules": ["seniority == 'vp'"]}}, "p.toml")
    with pytest.raises(ConfigError, match=r"rules to name features of the model.*\['seniority'\]"):
        spec.check_features(["industry"], "p.toml")


def test_a_policy_reads_back_from_what_a_version_logs() -> None:
    spec = load_policy(DEMO_POLICY)
    again = PolicySpec.from_dict(json.loads(json.dumps(spec.to_dict())))
    assert again == spec and again.digest() == spec.digest()
    rules_only = PolicySpec.from_rules(spec.icp, spec.exclusions)
    assert rules_only.icp == spec.icp and rules_only.sql is None
    assert rules_only.digest() != spec.digest()


def test_the_policy_comes_from_the_flag_then_the_environment_then_the_config(
    tmp_path: Path,
) -> None:
    other = tmp_path / "other.toml"
    other.write_text('[exclusions]\nrules = ["company_size < 5"]\n')
    (tmp_path / "data.toml").write_text(
        '[leads]\npath = "leads.csv"\n[outcome]\nlabel = "won"\n[policy]\npath = "other.toml"\n'
    )
    config = load_config(tmp_path / "data.toml")
    assert config.policy is not None and config.policy.path == other.resolve()
    given = load_policy(DEMO_POLICY)
    from_env = Settings(policy_file=DEMO_POLICY)
    assert resolve_policy(from_env, config, "m", given).origin == "the policy given (--policy)"
    chosen = resolve_policy(from_env, config, "m")
    assert chosen.spec == given and chosen.origin.startswith("LEADSCORE_POLICY_FILE")
    chosen = resolve_policy(Settings(policy_file=None), config, "m")
    assert chosen.origin.startswith("the dataset config's [policy]")
    assert [str(rule) for rule in chosen.spec.exclusions] == ["company_size < 5"]
    assert chosen.metadata()["hash"] == chosen.spec.digest()
