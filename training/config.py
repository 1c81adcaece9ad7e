"""The dataset config: one TOML file that says where each table is and what its columns mean.

    [dataset]            name, model_name
    [leads]              path | (url + table | query), separator, id, created_at, order,
                         categorical, numeric, text, exclude, groups, placeholders, aliases
    [outcome]            label (a column of leads) | path/url/table/query + id, status, closed_at
    [activities]         optional: path/url/table/query + id, occurred_at, type
    [training]           snapshot_days, horizon_days, holdout_share, validation_share,
                         min_per_class, seed, segment_by
    [model]              LightGBM parameters that override the defaults
    [audit]              auc_threshold, missingness_gap, allow
    [policy]             path (the policy file, unless --policy or LEADSCORE_POLICY_FILE)
    [costs]              currency, then a cost per lead for each source or "source/campaign"
    [[features]]         one per declared feature: name, type, group, description, then per type
                         count: activity_types, window_days; days_since: activity_types;
                         decayed: weights, half_life_days, window_days;
                         ratio: numerator, denominator, window_days
    [accounts]           key, title_column, high_intent
    [next_steps]         min_support; [next_steps.moves.<feature>] action, rise | set

Every section is a pydantic model, so a mistake is found when the file is read and reported as
"file: [section] key: expected X, got Y" ("file: [features][2] key: ..." for the third declared
feature). Paths are relative to the config file.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from features import (
    DECLARED_TYPES,
    DEFAULT_PLACEHOLDERS,
    TRANSFORMS,
    DeclaredType,
    Feature,
    Group,
    InvalidFeatureError,
    category,
    declared_feature,
)
from training.errors import ConfigError

ROW_ORDER = "row"  # `order = "row"`: the rows are in time order as stored
Transform = Literal[tuple(sorted(TRANSFORMS))]  # type: ignore[valid-type]


@dataclass(frozen=True)
class TableSource:
    """Where one table comes from: a CSV or Parquet file, or a SQL table or query."""

    name: str
    path: Path | None = None
    url: str | None = None
    table: str | None = None
    query: str | None = None
    separator: str = ","

    def describe(self) -> str:
        if self.path is not None:
            return str(self.path)
        return f"{_hide_password(self.url or '')} {self.table or 'query'}"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Located(_Section):
    """A section that may name a table: a file path, or a database URL with a table or query."""

    path: Path | None = None
    url: str | None = None
    table: str | None = None
    query: str | None = None
    separator: str = Field(",", min_length=1, max_length=1)

    @field_validator("path")
    @classmethod
    def _relative_to_the_config(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        base = (info.context or {}).get("base")
        if value is None or base is None:
            return value
        return (Path(base) / value).resolve()

    def _has_source(self) -> bool:
        return self.path is not None or self.url is not None

    def _check_source(self, table: str) -> None:
        if (self.path is None) == (self.url is None):
            raise ValueError(f"expected exactly one of path or url for the {table} table")
        if self.url is not None and (self.table is None) == (self.query is None):
            raise ValueError(f"expected exactly one of table or query with the {table} url")

    def _source(self, table: str) -> TableSource:
        return TableSource(table, self.path, self.url, self.table, self.query, self.separator)


class DatasetSection(_Section):
    name: str | None = None
    model_name: str | None = Field(None, min_length=1)


class LeadsSection(_Located):
    id: str | None = None
    created_at: str | None = None
    order: str | None = None
    categorical: list[str] | None = None
    numeric: list[str] | None = None
    text: dict[str, Transform] = Field(default_factory=dict)
    exclude: list[str] = Field(default_factory=list)
    groups: dict[Group, list[str]] = Field(default_factory=dict)
    # Form values that mean "not filled in" ("Select", "--", "N/A"): read as missing.
    placeholders: tuple[str, ...] = DEFAULT_PLACEHOLDERS
    # A CRM's field names for these columns, as live leads arrive ({NumberOfEmployees =
    # "company_size"}): they travel inside the model and apply to every lead it scores.
    aliases: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_table_one_clock(self) -> LeadsSection:
        self._check_source("leads")
        if self.order and self.created_at:
            raise ValueError("expected either created_at or order, got both")
        return self

    @property
    def source(self) -> TableSource:
        return self._source("leads")

    @property
    def group_of(self) -> dict[str, str]:
        """`{engagement = ["a", "b"]}` -> `{"a": "engagement", "b": "engagement"}`."""
        return {column: group for group, columns in self.groups.items() for column in columns}


class OutcomeSection(_Located):
    label: str | None = None
    id: str = "lead_id"
    status: str = "status"
    closed_at: str = "closed_at"

    @model_validator(mode="after")
    def _label_or_table(self) -> OutcomeSection:
        if self.label is not None and self._has_source():
            raise ValueError("expected either label or an outcomes table (path or url), got both")
        if self.label is None:
            self._check_source("outcomes")
        return self

    @property
    def source(self) -> TableSource | None:
        return None if self.label is not None else self._source("outcomes")


class ActivitiesSection(_Located):
    id: str = "lead_id"
    occurred_at: str = "occurred_at"
    type: str = "activity_type"

    @model_validator(mode="after")
    def _has_a_table(self) -> ActivitiesSection:
        self._check_source("activities")
        return self

    @property
    def source(self) -> TableSource:
        return self._source("activities")


class TrainingSection(_Section):
    snapshot_days: float = Field(7.0, ge=0)
    horizon_days: float = Field(90.0, gt=0)
    holdout_share: float = Field(0.20, gt=0, lt=1)
    validation_share: float = Field(0.15, gt=0, lt=1)
    min_per_class: int = Field(40, ge=1)
    seed: int = 0
    segment_by: str | None = None

    @model_validator(mode="after")
    def _room_to_train(self) -> TrainingSection:
        if self.holdout_share + self.validation_share >= 0.9:
            raise ValueError(
                "expected holdout_share + validation_share below 0.9, so that training keeps "
                f"rows, got {self.holdout_share + self.validation_share:g}"
            )
        return self


class PolicySection(_Section):
    """The policy file this dataset trains with, unless --policy or LEADSCORE_POLICY_FILE
    names another."""

    path: Path

    @field_validator("path")
    @classmethod
    def _relative_to_the_config(cls, value: Path, info: ValidationInfo) -> Path:
        base = (info.context or {}).get("base")
        return value if base is None else (Path(base) / value).resolve()


class AuditSection(_Section):
    auc_threshold: float = Field(0.9, gt=0.5, le=1)
    missingness_gap: float = Field(0.3, gt=0, le=1)
    allow: list[str] = Field(default_factory=list)


class CostsSection(_Section):
    """What one lead costs, per source or per `"source/campaign"`, in one currency: the report's
    cost per won lead. Keys are read as the model reads categories (trimmed, lower case)."""

    currency: str = Field(min_length=1, max_length=12)
    per_lead: dict[str, float]

    @model_validator(mode="before")
    @classmethod
    def _costs_beside_the_currency(cls, raw: Any) -> Any:
        """`currency = "EUR"` and `paid_search = 40` sit side by side in the TOML table."""
        if not isinstance(raw, dict) or "per_lead" in raw:
            return raw
        costs = {key: value for key, value in raw.items() if key != "currency"}
        if not costs:
            raise ValueError(
                "expected a cost per lead for at least one source, such as paid_search = 40 or "
                '"paid_search/brand-search" = 25'
            )
        for key, value in costs.items():
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise ValueError(
                    f"expected a cost per lead (a number, 0 or more) for {key!r}, got {value!r}"
                )
        per_lead = {_cost_key(key): float(value) for key, value in costs.items()}
        currency = {"currency": raw["currency"]} if "currency" in raw else {}
        return {**currency, "per_lead": per_lead}

    def cost_per_lead(self, source: str | None, campaign: str | None = None) -> float | None:
        """A campaign's own cost, else its source's; None when neither is known."""
        if source is None:
            return None
        if campaign is not None and f"{source}/{campaign}" in self.per_lead:
            return self.per_lead[f"{source}/{campaign}"]
        return self.per_lead.get(source)


def _cost_key(key: str) -> str:
    """ "Paid_Search / Brand-Search" -> "paid_search/brand-search", as the categories read."""
    return "/".join(category(part) or "" for part in key.split("/", 1))


# A name a policy rule can read ("demo_intent >= 2"): letters, digits, underscores and dots.
_FEATURE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")


def _feature_name(name: str) -> str:
    if not _FEATURE_NAME.fullmatch(name):
        raise ValueError(
            "expected a name of letters, digits, underscores and dots that starts with a letter, "
            f"such as demo_intent, got {name!r}"
        )
    return name


def _plain_words(text: str) -> str:
    if not text.strip():
        raise ValueError(f"expected a sentence in plain words, got {text!r}")
    return text


def _activity_type(kind: str) -> str:
    if category(kind) is None:
        raise ValueError(f"expected an activity type such as demo_request, got {kind!r}")
    return kind


def _each_type_once(weights: dict[str, float]) -> dict[str, float]:
    spelled = [category(kind) for kind in weights]
    repeated = [kind for kind in weights if spelled.count(category(kind)) > 1]
    if repeated:
        raise ValueError(
            f"expected each activity type once, got {' and '.join(map(repr, repeated))}, which "
            "read as one type"
        )
    return weights


ActivityType = Annotated[str, AfterValidator(_activity_type)]
ActivityTypes = Annotated[list[ActivityType], Field(min_length=1)]
FiniteNumber = Annotated[float, Field(allow_inf_nan=False)]
WindowDays = Annotated[float | None, Field(gt=0, allow_inf_nan=False)]


class _DeclaredFeature(_Section):
    """One `[[features]]` entry: a feature computed from the lead's activities, beside the
    defaults. Its description is required: the report and the reasons show it to marketers."""

    name: Annotated[str, AfterValidator(_feature_name)]
    type: DeclaredType
    group: Group = "engagement"
    description: Annotated[str, AfterValidator(_plain_words)]

    @model_validator(mode="after")
    def _computable(self) -> _DeclaredFeature:
        """A declaration that parses is one `declared_feature` builds: should it refuse one the
        keys above let through, that reads as this entry's mistake, not later as a crash."""
        try:
            self.feature()
        except InvalidFeatureError as error:
            raise ValueError(str(error)) from None
        return self

    def feature(self) -> Feature:
        spec = self.model_dump(exclude={"name", "type", "group", "description"})
        return declared_feature(self.name, self.type, self.group, self.description, **spec)


class CountFeature(_DeclaredFeature):
    """How many activities of these types, in the last `window_days` (else ever)."""

    type: Literal["count"]
    activity_types: ActivityTypes
    window_days: WindowDays = None


class DaysSinceFeature(_DeclaredFeature):
    """Days since the last activity of these types; missing when there was none."""

    type: Literal["days_since"]
    activity_types: ActivityTypes


class DecayedFeature(_DeclaredFeature):
    """Each activity's weight halved every `half_life_days`, summed: intent that fades."""

    type: Literal["decayed"]
    weights: Annotated[
        dict[ActivityType, FiniteNumber], Field(min_length=1), AfterValidator(_each_type_once)
    ]
    half_life_days: Annotated[float, Field(gt=0, allow_inf_nan=False)]
    window_days: WindowDays = None


class RatioFeature(_DeclaredFeature):
    """Activities of the numerator types per activity of the denominator types."""

    type: Literal["ratio"]
    numerator: ActivityTypes
    denominator: ActivityTypes
    window_days: WindowDays = None


FeatureDeclaration = Annotated[
    CountFeature | DaysSinceFeature | DecayedFeature | RatioFeature, Field(discriminator="type")
]


class AccountsSection(_Section):
    """How leads roll up to accounts: the lead column naming the account (a company domain or
    an account id), the column seniority is read from, and the activity types that count as high
    intent for the account (None: `features.HIGH_INTENT_ACTIVITIES`)."""

    key: str = Field(min_length=1)
    title_column: str = Field("job_title", min_length=1)
    high_intent: Annotated[list[ActivityType], Field(min_length=1)] | None = None


class MoveSection(_Section):
    """One move a rep can make on one actionable feature, in plain words ("Book a demo"), and
    what it does to the feature: `rise` lets it grow by up to that much, `set` makes it that
    value (0 for a days-since feature)."""

    action: Annotated[str, AfterValidator(_plain_words)]
    rise: Annotated[float | None, Field(gt=0, allow_inf_nan=False)] = None
    set: Annotated[float | None, Field(allow_inf_nan=False)] = None

    @model_validator(mode="after")
    def _rise_or_set(self) -> MoveSection:
        if (self.rise is None) == (self.set is None):
            found = "both" if self.rise is not None else "neither"
            raise ValueError(f"expected exactly one of rise or set, got {found}")
        return self


class NextStepsSection(_Section):
    """The moves offered beside a score, one per actionable feature
    (`[next_steps.moves.demo_request_count_30d]`); a move is offered only where at least
    `min_support` training leads sit in the region of the feature it aims for."""

    moves: Annotated[dict[str, MoveSection], Field(min_length=1)]
    min_support: int = Field(30, ge=1)


class DatasetConfig(_Section):
    """A whole dataset config; `location` is the file it came from."""

    dataset: DatasetSection = Field(default_factory=DatasetSection)
    leads: LeadsSection
    outcome: OutcomeSection
    activities: ActivitiesSection | None = None
    training: TrainingSection = Field(default_factory=TrainingSection)
    model: dict[str, Any] = Field(default_factory=dict)
    audit: AuditSection = Field(default_factory=AuditSection)
    policy: PolicySection | None = None
    costs: CostsSection | None = None
    features: list[FeatureDeclaration] = Field(default_factory=list)
    accounts: AccountsSection | None = None
    next_steps: NextStepsSection | None = None
    location: str = ""

    @field_validator("features")
    @classmethod
    def _named_once(cls, features: list[FeatureDeclaration]) -> list[FeatureDeclaration]:
        names = [feature.name for feature in features]
        for position, name in enumerate(names):
            if name in names[:position]:
                raise ValueError(
                    f"expected each declared feature named once, got {name!r} in "
                    f"[features][{names.index(name)}] and [features][{position}]"
                )
        return features

    @model_validator(mode="after")
    def _times_where_needed(self) -> DatasetConfig:
        if self.outcome.label is None and not self.leads.created_at:
            raise ValueError(
                "expected [leads] created_at when outcomes come from their own table: the label "
                "is 'won within the horizon after the snapshot', which needs a creation time"
            )
        if self.activities is not None and not self.leads.created_at:
            raise ValueError(
                "expected [leads] created_at when there is an activities table: features are "
                "computed as of a moment after creation"
            )
        return self

    @property
    def name(self) -> str:
        return self.dataset.name or Path(self.location).stem

    @property
    def model_name(self) -> str | None:
        return self.dataset.model_name


def load_config(path: str | Path) -> DatasetConfig:
    """Read and check a dataset config; every mistake is named by file, section and key."""
    file = Path(path)
    raw = read_toml(file, "a TOML dataset config")
    return parse_config(raw, source=str(file), base=file.parent)


def parse_config(raw: dict[str, Any], *, source: str, base: Path) -> DatasetConfig:
    """A config from already-read TOML (or a dict); relative paths are resolved from `base`."""
    try:
        return DatasetConfig.model_validate({**raw, "location": source}, context={"base": base})
    except ValidationError as error:
        raise config_error(error, source) from None


def read_toml(file: Path, what: str) -> dict[str, Any]:
    try:
        return tomllib.loads(file.read_text())
    except (FileNotFoundError, IsADirectoryError):
        raise ConfigError(f"expected {what}, found no file at {file}") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"expected valid TOML, got {error}", source=str(file)) from None


_SECTIONS = (
    "dataset", "leads", "outcome", "activities", "training", "model", "audit", "policy", "costs",
    "features", "accounts", "next_steps",
)  # fmt: skip
_EXPECTED = {
    "list_type": "expected a list",
    "dict_type": "expected a table of keys",
    "string_type": "expected text",
    "float_parsing": "expected a number",
    "float_type": "expected a number",
    "int_parsing": "expected a whole number",
    "int_type": "expected a whole number",
    "int_from_float": "expected a whole number",
    "bool_type": "expected true or false",
    "bool_parsing": "expected true or false",
    "missing": "expected this key; it is required",
    "model_type": "expected a [section] of keys",
    "model_attributes_type": "expected a table of keys",
    "too_short": "expected at least one entry",
}
# The one union told apart by a key: a [[features]] entry by its type.
_DECLARED_TYPES = ", ".join(repr(kind) for kind in DECLARED_TYPES)


def config_error(
    error: ValidationError, source: str, sections: tuple[str, ...] = _SECTIONS
) -> ConfigError:
    """Pydantic's findings as one line: each one's section and key, expected and found."""
    problems = []
    for problem in error.errors(include_url=False):
        kind = problem["type"]
        location = _untagged(problem["loc"])
        if kind == "list_type" and location == ("features",):
            text = "expected [[features]] tables, one per feature, with two brackets"
        elif kind in ("union_tag_not_found", "union_tag_invalid"):
            location = (*location, "type")
            text = f"expected one of {_DECLARED_TYPES}"
            if kind == "union_tag_invalid":
                text += f", got {problem['input']['type']!r}"
        elif kind == "extra_forbidden" and len(location) == 1:
            text = f"unknown section; expected among {', '.join(f'[{s}]' for s in sections)}"
        elif kind == "extra_forbidden":
            text = "unknown key; see the README for the keys this section takes"
        elif kind in _EXPECTED:
            text = _EXPECTED[kind]
        else:
            text = str(problem["msg"]).removeprefix("Value error, ")
            text = text.replace("Input should be ", "expected ")
        if kind not in ("missing", "extra_forbidden", "value_error") and not isinstance(
            problem.get("input"), dict
        ):
            text += f", got {problem['input']!r}"
        problems.append(f"{_key(location)}: {text}" if location else text)
    return ConfigError("; ".join(problems), source=source)


def _untagged(location: tuple[int | str, ...]) -> tuple[int | str, ...]:
    """('features', 2, 'decayed', 'weights') -> ('features', 2, 'weights'): pydantic names the
    type that told a [[features]] entry apart, which the file does not show as a key."""
    if len(location) > 2 and location[0] == "features" and isinstance(location[1], int):
        return (*location[:2], *location[3:])
    return location


def _key(location: tuple[int | str, ...]) -> str:
    """('leads', 'categorical', 0) -> '[leads] categorical[0]';
    ('features', 2, 'weights', 'demo') -> '[features][2] weights.demo'."""
    section, *rest = location
    text = f"[{section}]"
    keyed = False
    for part in rest:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if keyed else f" {part}"
            keyed = True
    return text


def _hide_password(url: str) -> str:
    if "@" not in url or "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    credentials, host = rest.rsplit("@", 1)
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}@{host}"
