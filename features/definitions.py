"""Every feature, declared once: name, group, plain-words description and computation.

A computation is plain data (see `Attribute`, `CreatedAt`, `ActivityCount`, `DaysSinceLast`),
so the same declaration drives the batch engine, the online engine, and travels inside a saved
model. The default features and those derived from a dataset config come from one generator,
`feature_set`, so a family of features is named and described in one place.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from features.errors import InvalidFeatureError
from features.schema import ACTIVITY_TYPES, HIGH_INTENT_ACTIVITIES
from features.transforms import DEFAULT_PLACEHOLDERS, TRANSFORMS, placeholder_key

Group = Literal["fit", "engagement", "source"]
Kind = Literal["numeric", "categorical"]
DatePart = Literal["weekday", "hour", "month"]
GROUPS: tuple[Group, ...] = ("fit", "engagement", "source")
DATE_PARTS: tuple[DatePart, ...] = ("weekday", "hour", "month")


@dataclass(frozen=True)
class Attribute:
    """A lead column, optionally cleaned by a named transform from `features.transforms`."""

    column: str
    kind: Kind = "categorical"
    transform: str | None = None

    def __post_init__(self) -> None:
        if self.kind == "categorical" and self.transform is None:
            object.__setattr__(self, "transform", "category")
        if self.kind not in ("numeric", "categorical"):
            raise InvalidFeatureError(
                f"expected kind 'numeric' or 'categorical' for {self.column!r}, got {self.kind!r}"
            )
        if self.kind == "numeric" and self.transform is not None:
            raise InvalidFeatureError(
                f"expected no transform on the numeric column {self.column!r}, got "
                f"{self.transform!r}; transforms turn text into categories"
            )
        if self.transform is not None and self.transform not in TRANSFORMS:
            raise InvalidFeatureError(
                f"expected a transform among {sorted(TRANSFORMS)} for {self.column!r}, got "
                f"{self.transform!r}"
            )


@dataclass(frozen=True)
class ActivityCount:
    """How many activities of these types happened in the `window_days` up to as-of (inclusive)."""

    activity_types: tuple[str, ...]
    window_days: float | None = None
    kind: Kind = field(default="numeric", init=False)


@dataclass(frozen=True)
class DaysSinceLast:
    """Days from the most recent activity of these types to as-of; missing when there was none."""

    activity_types: tuple[str, ...]
    kind: Kind = field(default="numeric", init=False)


@dataclass(frozen=True)
class CreatedAt:
    """A calendar part of when the lead was created, in UTC: weekday (0 = Monday), hour (0-23) or
    month (1-12). Fixed at creation, so it never looks past as-of; missing without a created_at."""

    part: DatePart
    kind: Kind = field(default="numeric", init=False)

    def __post_init__(self) -> None:
        if self.part not in DATE_PARTS:
            raise InvalidFeatureError(
                f"expected a date part among {list(DATE_PARTS)}, got {self.part!r}"
            )


Computation = Attribute | CreatedAt | ActivityCount | DaysSinceLast
_COMPUTATIONS: dict[str, type[Computation]] = {
    cls.__name__: cls for cls in (Attribute, CreatedAt, ActivityCount, DaysSinceLast)
}


@dataclass(frozen=True)
class Feature:
    """One model input: what it is called, what it means to a marketer, and how it is computed."""

    name: str
    group: Group
    description: str
    computation: Computation

    @property
    def kind(self) -> Kind:
        return self.computation.kind

    def to_dict(self) -> dict[str, Any]:
        spec = {
            key: list(value) if isinstance(value, tuple) else value
            for key, value in self.computation.__dict__.items()
            if key != "kind" or isinstance(self.computation, Attribute)
        }
        return {
            "name": self.name,
            "group": self.group,
            "description": self.description,
            "computation": {"type": type(self.computation).__name__, **spec},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Feature:
        spec = dict(data["computation"])
        kind_name = spec.pop("type")
        if kind_name not in _COMPUTATIONS:
            raise InvalidFeatureError(
                f"expected a computation among {sorted(_COMPUTATIONS)}, got {kind_name!r}; "
                "upgrade leadscore to load this model"
            )
        if "activity_types" in spec:
            spec["activity_types"] = tuple(spec["activity_types"])
        return cls(
            name=data["name"],
            group=data["group"],
            description=data["description"],
            computation=_COMPUTATIONS[kind_name](**spec),
        )


@dataclass(frozen=True)
class FeatureSet:
    """An ordered set of features: the model's input columns, in this order, and the placeholder
    texts that read as missing in any lead attribute. Both travel inside a saved model, so serving
    reads cells exactly as training did."""

    features: tuple[Feature, ...]
    placeholders: tuple[str, ...] = DEFAULT_PLACEHOLDERS

    def __post_init__(self) -> None:
        object.__setattr__(self, "placeholders", _placeholders(self.placeholders))
        names = [feature.name for feature in self.features]
        duplicated = sorted({name for name in names if names.count(name) > 1})
        if duplicated:
            raise InvalidFeatureError(
                f"expected unique feature names, got duplicates {duplicated}; give the columns "
                "distinct names"
            )

    @property
    def names(self) -> list[str]:
        return [feature.name for feature in self.features]

    def __iter__(self) -> Iterator[Feature]:
        return iter(self.features)

    def __len__(self) -> int:
        return len(self.features)

    def __getitem__(self, name: str) -> Feature:
        for feature in self.features:
            if feature.name == name:
                return feature
        raise KeyError(name)

    def lead_columns(self) -> list[str]:
        """The lead attribute columns these features read (created_at, which date features read,
        is a column of the data contract rather than an attribute)."""
        return sorted(
            {f.computation.column for f in self.features if isinstance(f.computation, Attribute)}
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "features": [feature.to_dict() for feature in self.features],
            "placeholders": list(self.placeholders),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FeatureSet:
        """A saved feature set; one saved before placeholders existed reads none, as trained."""
        return cls(
            tuple(Feature.from_dict(item) for item in data["features"]),
            placeholders=tuple(data.get("placeholders", ())),
        )


def _placeholders(values: Iterable[str]) -> tuple[str, ...]:
    """Placeholders spaced and cased as cells are compared, each once, in the order given."""
    if isinstance(values, str):
        raise InvalidFeatureError(
            "expected a list of placeholder texts such as ['select', 'n/a'], got the text "
            f"{values!r}"
        )
    keys = []
    for value in values:
        key = placeholder_key(value)
        if key is None:
            raise InvalidFeatureError(
                f"expected placeholders as text, got {type(value).__name__} {value!r}"
            )
        keys.append(key)
    return tuple(dict.fromkeys(keys))


# How each transform's feature reads to a marketer; {column} is the column in plain words.
TRANSFORM_DESCRIPTIONS = {
    "category": "The lead's {column}.",
    "seniority": "Seniority read from the {column} (C-level, VP, director, manager, individual, "
    "student).",
    "email_kind": "Whether the lead's {column} is a business or a free webmail address.",
}


@dataclass(frozen=True)
class LeadColumn:
    """A lead column offered to the model: how to read it, its group, and optional wording."""

    column: str
    kind: Kind = "categorical"
    transform: str | None = None
    group: Group = "fit"
    name: str | None = None
    description: str | None = None

    def feature(self) -> Feature:
        computation = Attribute(self.column, kind=self.kind, transform=self.transform)
        pretty = _pretty(self.column)
        if self.description is not None:
            description = self.description
        elif self.kind == "numeric":
            description = f"The lead's {pretty}."
        else:
            description = TRANSFORM_DESCRIPTIONS[computation.transform or "category"].format(
                column=pretty
            )
        return Feature(self.name or self.column, self.group, description, computation)


def activity_features(
    activity_types: Sequence[str],
    *,
    recency_types: Sequence[str] | None = None,
    window_days: float = 30.0,
) -> list[Feature]:
    """Per type: a count in the window; in all: a total and the days since the last activity;
    per recency type (default: every type): the days since its last one."""
    types = tuple(activity_types)
    if not types:
        return []
    recency = types if recency_types is None else tuple(recency_types)
    counts = [
        Feature(
            f"{kind}_count_{window_days:g}d",
            "engagement",
            f"Number of {_pretty(kind)} events in the last {window_days:g} days.",
            ActivityCount((kind,), window_days),
        )
        for kind in types
    ]
    overall = [
        Feature(
            "activity_count_total",
            "engagement",
            "Number of recorded activities of any kind so far.",
            ActivityCount(types),
        ),
        Feature(
            "days_since_last_activity",
            "engagement",
            "Days since the lead last did anything we recorded.",
            DaysSinceLast(types),
        ),
    ]
    recent = [
        Feature(
            f"days_since_last_{kind}",
            "engagement",
            f"Days since the lead's last {_pretty(kind)}.",
            DaysSinceLast((kind,)),
        )
        for kind in recency
    ]
    return [*counts, *overall, *recent]


# How each date feature reads to a marketer.
DATE_DESCRIPTIONS: dict[str, str] = {
    "weekday": "Day of the week the lead was created (0 = Monday).",
    "hour": "Hour of the day the lead was created (0 to 23, UTC).",
    "month": "Month the lead was created (1 = January).",
}


def date_features(date_parts: Sequence[str]) -> list[Feature]:
    """One feature per part of the lead's creation time, in the order given."""
    if isinstance(date_parts, str):
        raise InvalidFeatureError(
            "expected a list of date parts such as ['weekday', 'hour'], got the text "
            f"{date_parts!r}"
        )
    features = []
    for part in date_parts:
        computation = CreatedAt(part)  # refuses a part it does not know
        features.append(Feature(f"created_{part}", "source", DATE_DESCRIPTIONS[part], computation))
    return features


def feature_set(
    columns: Sequence[LeadColumn],
    activity_types: Sequence[str] = (),
    *,
    recency_types: Sequence[str] | None = None,
    date_parts: Sequence[str] = (),
    placeholders: Iterable[str] = DEFAULT_PLACEHOLDERS,
) -> FeatureSet:
    """Lead attributes first, in the order given, then the date features, then the activity
    features; `placeholders` are the texts that read as missing in the attributes."""
    return FeatureSet(
        (
            *(column.feature() for column in columns),
            *date_features(date_parts),
            *activity_features(activity_types, recency_types=recency_types),
        ),
        placeholders=tuple(placeholders),
    )


def _pretty(name: str) -> str:
    return name.replace("_", " ")


DEFAULT_COLUMNS: tuple[LeadColumn, ...] = (
    LeadColumn("industry", description="The lead's industry."),
    LeadColumn("company_size", "numeric", description="Number of employees at the lead's company."),
    LeadColumn("job_title", transform="seniority", name="seniority"),
    LeadColumn("country", description="The lead's country."),
    LeadColumn("email_domain", transform="email_kind", name="email_kind"),
    LeadColumn("source", group="source", description="The channel the lead came from."),
    LeadColumn("campaign", group="source", description="The campaign that brought the lead in."),
)
# The demo's features: its export spans 18 months, so the month of creation is one of them.
DEFAULT_FEATURES = feature_set(
    DEFAULT_COLUMNS, ACTIVITY_TYPES, recency_types=HIGH_INTENT_ACTIVITIES, date_parts=DATE_PARTS
)
