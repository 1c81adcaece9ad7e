"""A dataset config's [[features]], [accounts] and [next_steps]: read, checked, and the declared
features computed on the demo export beside the defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from features import (
    ACCOUNT_FEATURE_NAMES,
    MICROS_PER_DAY,
    ActivityCount,
    ActivityRatio,
    DaysSinceLast,
    DecayedIntent,
    OnlineFeatures,
    build_features,
    micros_to_datetime,
    series_to_micros,
)
from training import ConfigError, CrmExport, load_config
from training.columns import feature_set_for
from training.config import AccountsSection, DatasetConfig, MoveSection, NextStepsSection

TABLES = '[leads]\npath = "leads.csv"\nid = "id"\n\n[outcome]\nlabel = "converted"\n'
DECLARED = """
[[features]]
name = "demo_intent"
type = "decayed"
description = "Buying intent, each activity counting half as much a week later."
weights = { demo_request = 3.0, pricing_page_view = 2, email_open = 0.25 }
half_life_days = 7

[[features]]
name = "click_rate"
type = "ratio"
group = "engagement"
description = "Email clicks per email opened in the last 30 days."
numerator = ["email_click"]
denominator = ["email_open"]
window_days = 30

[[features]]
name = "demos_ever"
type = "count"
group = "account"
description = "Demos the lead has ever asked for."
activity_types = ["demo_request", "chat_started"]

[[features]]
name = "days_since_meeting"
type = "days_since"
description = "Days since the lead last booked a meeting."
activity_types = ["meeting_booked"]
"""


def _config(tmp_path: Path, text: str, tables: str = TABLES) -> DatasetConfig:
    config = tmp_path / "own.toml"
    config.write_text(tables + text)
    return load_config(config)


def test_declared_features_are_read_in_order_each_as_its_computation(tmp_path: Path) -> None:
    features = [declared.feature() for declared in _config(tmp_path, DECLARED).features]
    assert [(f.name, f.group) for f in features] == [
        ("demo_intent", "engagement"),
        ("click_rate", "engagement"),
        ("demos_ever", "account"),
        ("days_since_meeting", "engagement"),
    ]
    assert features[0].computation == DecayedIntent(
        (("demo_request", 3.0), ("pricing_page_view", 2.0), ("email_open", 0.25)), 7.0
    )
    assert features[1].computation == ActivityRatio(("email_click",), ("email_open",), 30.0)
    assert features[2].computation == ActivityCount(("demo_request", "chat_started"))
    assert features[3].computation == DaysSinceLast(("meeting_booked",))
    assert features[1].description == "Email clicks per email opened in the last 30 days."


def _one(key_values: str, kind: str = "decayed") -> str:
    """A [[features]] entry of `kind` with its required keys; each `key = value` line of
    `key_values` sets a key, each bare key removes one."""
    keys = {
        "name": '"demo_intent"',
        "type": f'"{kind}"',
        "description": '"Buying intent."',
        **{
            "decayed": {"weights": "{ demo_request = 3.0 }", "half_life_days": "7"},
            "ratio": {"numerator": '["email_click"]', "denominator": '["email_open"]'},
            "count": {"activity_types": '["demo_request"]'},
        }[kind],
    }
    for line in key_values.splitlines():
        key, _, value = line.partition(" = ")
        if value:
            keys[key] = value
        else:
            keys.pop(key)
    return "[[features]]\n" + "".join(f"{key} = {value}\n" for key, value in keys.items())


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (
            _one("half_life_days = 0"),
            "[features][1] half_life_days: expected greater than 0, got 0",
        ),
        (
            _one("half_life_days = inf"),
            "[features][1] half_life_days: expected a finite number, got inf",
        ),
        (_one("half_life_days"), "[features][1] half_life_days: expected this key; it is required"),
        (
            _one("half_life_days = 'a week'"),
            "[features][1] half_life_days: expected a number, got 'a week'",
        ),
        (
            _one("weights = { demo_request = nan }"),
            "[features][1] weights.demo_request: expected a finite number, got nan",
        ),
        (_one("weights = {}"), "[features][1] weights: expected at least one entry"),
        (
            _one('weights = { demo_request = 3, " Demo_Request" = 1 }'),
            "[features][1] weights: expected each activity type once, got 'demo_request' and "
            "' Demo_Request', which read as one type",
        ),
        (
            _one('weights = { demo_request = "high" }'),
            "[features][1] weights.demo_request: expected a number, got 'high'",
        ),
        (
            _one("window_days = -30"),
            "[features][1] window_days: expected greater than 0, got -30",
        ),
        (
            _one("description"),
            "[features][1] description: expected this key; it is required",
        ),
        (
            _one('description = "  "'),
            "[features][1] description: expected a sentence in plain words, got '  '",
        ),
        (
            _one('name = "demo intent"'),
            "[features][1] name: expected a name of letters, digits, underscores and dots that "
            "starts with a letter, such as demo_intent, got 'demo intent'",
        ),
        (
            _one('group = "intent"'),
            "[features][1] group: expected 'fit', 'engagement', 'source' or 'account', got "
            "'intent'",
        ),
        (
            _one("type"),
            "[features][1] type: expected one of 'count', 'days_since', 'decayed', 'ratio'",
        ),
        (
            _one('type = "decay"'),
            "[features][1] type: expected one of 'count', 'days_since', 'decayed', 'ratio', got "
            "'decay'",
        ),
        (
            _one("activity_types = ['demo_request']"),
            "[features][1] activity_types: unknown key; see the README for the keys this "
            "section takes",
        ),
        (
            _one("denominator = []", "ratio"),
            "[features][1] denominator: expected at least one entry, got []",
        ),
        (
            _one("numerator = 'email_click'", "ratio"),
            "[features][1] numerator: expected a list, got 'email_click'",
        ),
        (
            _one('activity_types = ["demo_request", " "]', "count"),
            "[features][1] activity_types[1]: expected an activity type such as demo_request, "
            "got ' '",
        ),
        (
            _one('name = "click_rate"', "count"),
            "[features]: expected each declared feature named once, got 'click_rate' in "
            "[features][0] and [features][1]",
        ),
    ],
)
def test_each_mistake_in_a_declared_feature_is_one_line_naming_its_entry_and_key(
    tmp_path: Path, entry: str, message: str
) -> None:
    first = _one('name = "click_rate"', "ratio")
    with pytest.raises(ConfigError) as refused:
        _config(tmp_path, first + entry)
    assert str(refused.value) == f"{tmp_path / 'own.toml'}: {message}"


def test_features_as_one_table_instead_of_a_list_of_tables_is_explained(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"\[features\]: expected \[\[features\]\] tables"):
        _config(tmp_path, _one("").replace("[[features]]", "[features]"))


def test_accounts_and_next_steps_are_read_with_their_defaults(tmp_path: Path) -> None:
    config = _config(
        tmp_path,
        '[accounts]\nkey = "email_domain"\n\n'
        '[next_steps.moves.demo_request_count_30d]\naction = "Book a demo"\nrise = 1\n\n'
        '[next_steps.moves.days_since_last_demo_request]\naction = "Call back today"\nset = 0\n',
    )
    assert config.accounts == AccountsSection(key="email_domain")
    assert (config.accounts.title_column, config.accounts.high_intent) == ("job_title", None)
    assert config.next_steps == NextStepsSection(
        moves={
            "demo_request_count_30d": MoveSection(action="Book a demo", rise=1.0),
            "days_since_last_demo_request": MoveSection(action="Call back today", set=0.0),
        },
        min_support=30,
    )
    custom = _config(
        tmp_path,
        '[accounts]\nkey = "account_id"\ntitle_column = "title"\n'
        'high_intent = ["demo_request", "Trial_Started"]\n\n'
        "[next_steps]\nmin_support = 50\n[next_steps.moves.web_visit_count_30d]\n"
        'action = "Send the case study"\nrise = 2.5\n',
    )
    assert custom.accounts == AccountsSection(
        key="account_id", title_column="title", high_intent=["demo_request", "Trial_Started"]
    )
    assert custom.next_steps is not None and custom.next_steps.min_support == 50


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[next_steps.moves.x]\naction = "Book a demo"\nrise = 1\nset = 0\n',
            "[next_steps] moves.x: expected exactly one of rise or set, got both",
        ),
        (
            '[next_steps.moves.x]\naction = "Book a demo"\n',
            "[next_steps] moves.x: expected exactly one of rise or set, got neither",
        ),
        ("[next_steps.moves.x]\nrise = 1\n", "[next_steps] moves.x.action: expected this key"),
        (
            '[next_steps.moves.x]\naction = ""\nrise = 1\n',
            "[next_steps] moves.x.action: expected a sentence in plain words, got ''",
        ),
        (
            '[next_steps.moves.x]\naction = "Book a demo"\nrise = -1\n',
            "[next_steps] moves.x.rise: expected greater than 0, got -1",
        ),
        (
            '[next_steps.moves.x]\naction = "Book a demo"\nset = "zero"\n',
            "[next_steps] moves.x.set: expected a number, got 'zero'",
        ),
        (
            '[next_steps.moves.x]\naction = "Book a demo"\nrise = 1\nby = "phone"\n',
            "[next_steps] moves.x.by: unknown key",
        ),
        ("[next_steps]\nmin_support = 30\n", "[next_steps] moves: expected this key"),
        (
            '[next_steps]\nmin_support = 0.5\n[next_steps.moves.x]\naction = "Call"\nset = 0\n',
            "[next_steps] min_support: expected a whole number, got 0.5",
        ),
        ('[accounts]\ntitle_column = "title"\n', "[accounts] key: expected this key"),
        (
            '[accounts]\nkey = "domain"\nhigh_intent = "demo_request"\n',
            "[accounts] high_intent: expected a list, got 'demo_request'",
        ),
        (
            '[accounts]\nkey = "domain"\nhigh_intent = []\n',
            "[accounts] high_intent: expected at least one entry, got []",
        ),
        ('[account]\nkey = "domain"\n', "[account]: unknown section; expected among"),
    ],
)
def test_accounts_and_next_steps_mistakes_name_their_key(
    tmp_path: Path, text: str, message: str
) -> None:
    with pytest.raises(ConfigError) as refused:
        _config(tmp_path, text)
    assert f"{tmp_path / 'own.toml'}: {message}" in str(refused.value)


@pytest.fixture(scope="module")
def demo_config(tmp_path_factory: pytest.TempPathFactory, demo_dir: Path) -> DatasetConfig:
    """The demo export as a user's own, declaring features of types it has and one it lacks."""
    text = (Path(__file__).parents[2] / "examples" / "demo.toml").read_text()
    directory = tmp_path_factory.mktemp("declared")
    return _config(directory, DECLARED, text.replace("../data/demo", str(demo_dir)))


def test_declared_features_follow_the_defaults_and_both_engines_compute_them_alike(
    demo_config: DatasetConfig, demo_export: CrmExport
) -> None:
    features = feature_set_for(demo_config, demo_export)
    declared = ["demo_intent", "click_rate", "demos_ever", "days_since_meeting"]
    own = [name for name in features.names if name not in ACCOUNT_FEATURE_NAMES]  # come last
    assert own[-4:] == declared
    assert "demo_request_count_30d" in own[:-4]

    leads = demo_export.leads.head(300)
    created = series_to_micros(leads["created_at"], source="leads", column="created_at")
    as_of = created + 30 * MICROS_PER_DAY
    batch = build_features(leads, demo_export.activities, as_of, features)[declared]
    assert (batch["demo_intent"] > 0).any() and batch["click_rate"].notna().any()

    engine = OnlineFeatures(features)
    activities = demo_export.activities.set_index("lead_id")
    for position, lead_id in enumerate(leads["lead_id"]):
        events = activities.loc[[lead_id]] if lead_id in activities.index else activities.iloc[:0]
        lead = {
            "activities": [
                {"activity_type": kind, "occurred_at": at}
                for kind, at in zip(events["activity_type"], events["occurred_at"], strict=True)
            ]
        }
        online = engine.compute(lead, micros_to_datetime(int(as_of[position])))
        for name in declared:  # bit for bit; NaN reads 'nan' in both
            assert float(online[name]).hex() == float(batch[name].iloc[position]).hex(), name


def test_a_declared_name_taken_by_a_default_feature_is_refused_naming_the_key(
    tmp_path: Path, demo_dir: Path, demo_export: CrmExport
) -> None:
    text = (Path(__file__).parents[2] / "examples" / "demo.toml").read_text()
    taken = DECLARED.replace('name = "demos_ever"', 'name = "activity_count_total"')
    config = _config(tmp_path, taken, text.replace("../data/demo", str(demo_dir)))
    with pytest.raises(ConfigError) as refused:
        feature_set_for(config, demo_export)
    assert str(refused.value) == (
        f"{tmp_path / 'own.toml'}: [features][4] name: expected a name other than the default "
        "feature 'activity_count_total' (Number of recorded activities of any kind so far)"
    )
