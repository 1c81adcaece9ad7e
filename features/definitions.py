"""Every feature, declared once: name, group, plain-words description and computation.

A computation is plain data (see `Attribute`, `CreatedAt`, `ActivityCount`, `DaysSinceLast`,
`DecayedIntent`, `ActivityRatio`), so the same declaration drives the batch engine, the online
engine, and travels inside a saved model. The default features and those derived from a dataset
config come from one generator, `feature_set`, so a family of features is named and described in
one place; every activity feature, default or declared in a config's `[[features]]`, becomes a
`Feature` through `declared_feature`.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from features.errors import InvalidFeatureError
from features.schema import ACTIVITY_TYPES, HIGH_INTENT_ACTIVITIES
from features.timestamps import MICROS_PER_DAY
from features.transforms import (
    DEFAULT_PLACEHOLDERS,
    TRANSFORMS,
    category,
    placeholder_key,
    tracked_types,
)

Group = Literal["fit", "engagement", "source", "account"]
Kind = Literal["numeric", "categorical"]
DatePart = Literal["weekday", "hour", "month"]
GROUPS: tuple[Group, ...] = ("fit", "engagement", "source", "account")
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


@dataclass(frozen=True)
class DecayedIntent:
    """Intent that fades: over the distinct activities up to as-of (inclusive; within
    `window_days` when given), the sum of each one's type weight times 0.5 ** (age in days /
    `half_life_days`). Types without a weight are ignored; 0.0 when none happened. `weights` are
    (type, weight) pairs, so the declaration stays hashable; a saved model holds them as a table."""

    weights: tuple[tuple[str, float], ...]
    half_life_days: float
    window_days: float | None = None
    kind: Kind = field(default="numeric", init=False)

    def __post_init__(self) -> None:
        if isinstance(self.weights, str | Mapping) or not self.weights:
            raise InvalidFeatureError(
                "expected weights as (activity type, weight) pairs such as "
                f"(('demo_request', 3.0),), got {self.weights!r}"
            )
        weights = tuple(
            (kind, _finite(f"the weight of {kind!r}", weight)) for kind, weight in self.weights
        )
        spelled = [category(kind) for kind, _ in weights]
        if None in spelled or len(set(spelled)) < len(spelled):
            raise InvalidFeatureError(
                "expected each activity type once in weights, spelled as a type such as "
                f"'demo_request', got {[kind for kind, _ in weights]}"
            )
        object.__setattr__(self, "weights", weights)
        object.__setattr__(self, "half_life_days", _positive("half_life_days", self.half_life_days))
        _check_window(self.window_days)

    @property
    def half_life_micros(self) -> float:
        """The half-life in microseconds: both engines divide an age by exactly this number."""
        return self.half_life_days * MICROS_PER_DAY

    def tracked_weights(self) -> dict[str, float]:
        """Weight per type spelled as events are read (`category`), types in alphabetical order:
        both engines add the terms in that order, youngest first within a type, so that their
        floating-point sums agree to the bit."""
        kinds = tracked_types(kind for kind, _ in self.weights)  # one per pair: none repeat
        return dict(sorted(zip(kinds, (weight for _, weight in self.weights), strict=True)))


@dataclass(frozen=True)
class ActivityRatio:
    """How many activities of the numerator types per activity of the denominator types, both
    counted as `ActivityCount` counts them (in the `window_days` up to as-of, when given); missing
    when there is no denominator activity."""

    numerator_types: tuple[str, ...]
    denominator_types: tuple[str, ...]
    window_days: float | None = None
    kind: Kind = field(default="numeric", init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "numerator_types", _types("numerator_types", self.numerator_types))
        object.__setattr__(
            self, "denominator_types", _types("denominator_types", self.denominator_types)
        )
        _check_window(self.window_days)


def _finite(what: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidFeatureError(f"expected {what} as a finite number, got {value!r}")
    return float(value)


def _positive(what: str, value: object) -> float:
    number = _finite(what, value)
    if number <= 0:
        raise InvalidFeatureError(f"expected {what} above 0, got {value!r}")
    return number


def _check_window(window_days: float | None) -> None:
    if window_days is not None:
        _positive("window_days", window_days)


def _types(what: str, activity_types: Sequence[str]) -> tuple[str, ...]:
    """Declared activity types as a tuple, at least one of which reads as a type; a bare text is
    refused, where a tuple of it would read it letter by letter."""
    if isinstance(activity_types, str) or not tracked_types(activity_types):
        raise InvalidFeatureError(
            f"expected {what} as a list of activity types such as ['demo_request'], got "
            f"{activity_types!r}"
        )
    return tuple(activity_types)


Computation = Attribute | CreatedAt | ActivityCount | DaysSinceLast | DecayedIntent | ActivityRatio
ActivityComputation = ActivityCount | DaysSinceLast | DecayedIntent | ActivityRatio
_COMPUTATIONS: dict[str, type[Computation]] = {
    cls.__name__: cls
    for cls in (Attribute, CreatedAt, ActivityCount, DaysSinceLast, DecayedIntent, ActivityRatio)
}
# Computation fields saved as JSON lists, read back as tuples.
_TYPE_LISTS = ("activity_types", "numerator_types", "denominator_types")


def activity_types_of(computation: Computation) -> tuple[str, ...]:
    """The activity types a computation reads, as declared: none for attributes and dates. The
    engines read events of these types (as `tracked_types` spells them) and no others."""
    if isinstance(computation, ActivityCount | DaysSinceLast):
        return computation.activity_types
    if isinstance(computation, DecayedIntent):
        return tuple(kind for kind, _ in computation.weights)
    if isinstance(computation, ActivityRatio):
        return (*computation.numerator_types, *computation.denominator_types)
    return ()


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
            key: dict(value) if key == "weights" else list(value) if key in _TYPE_LISTS else value
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
        for key in _TYPE_LISTS:
            if key in spec:
                spec[key] = tuple(spec[key])
        if "weights" in spec:
            spec["weights"] = tuple(spec["weights"].items())
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


def _count(activity_types: Sequence[str], window_days: float | None = None) -> ActivityCount:
    _check_window(window_days)
    return ActivityCount(_types("activity_types", activity_types), window_days)


def _days_since(activity_types: Sequence[str]) -> DaysSinceLast:
    return DaysSinceLast(_types("activity_types", activity_types))


def _decayed(
    weights: Mapping[str, float], half_life_days: float, window_days: float | None = None
) -> DecayedIntent:
    if not isinstance(weights, Mapping):
        raise InvalidFeatureError(
            f"expected weights as a table such as {{demo_request = 3.0}}, got {weights!r}"
        )
    return DecayedIntent(tuple(weights.items()), half_life_days, window_days)


def _ratio(
    numerator: Sequence[str], denominator: Sequence[str], window_days: float | None = None
) -> ActivityRatio:
    return ActivityRatio(
        _types("numerator", numerator), _types("denominator", denominator), window_days
    )


DeclaredType = Literal["count", "days_since", "decayed", "ratio"]
# Each declared type's computation; its parameters are the keys a declaration of it takes.
DECLARED_TYPES: dict[DeclaredType, Callable[..., Computation]] = {
    "count": _count,
    "days_since": _days_since,
    "decayed": _decayed,
    "ratio": _ratio,
}
_DECLARED_KEYS = {
    kind: inspect.signature(build).parameters for kind, build in DECLARED_TYPES.items()
}


def declared_feature(
    name: str, type: DeclaredType, group: Group, description: str, **spec: Any
) -> Feature:
    """A declared activity feature: its type ("count", "days_since", "decayed", "ratio") and
    that type's keys (see `DECLARED_TYPES`). The one place a declaration becomes a `Feature`,
    for the default activity features and a dataset config's `[[features]]` alike."""
    if type not in DECLARED_TYPES:
        raise InvalidFeatureError(
            f"expected a type among {list(DECLARED_TYPES)} for {name!r}, got {type!r}"
        )
    if group not in GROUPS:
        raise InvalidFeatureError(
            f"expected a group among {list(GROUPS)} for {name!r}, got {group!r}"
        )
    if not description.strip():
        raise InvalidFeatureError(
            f"expected a description of {name!r} in plain words for a marketer, got {description!r}"
        )
    keys = _DECLARED_KEYS[type]
    required = [key for key, parameter in keys.items() if parameter.default is parameter.empty]
    if not set(required) <= set(spec) <= set(keys):
        raise InvalidFeatureError(
            f"expected the keys {required} (and optionally {sorted(set(keys) - set(required))}) "
            f"for the {type} feature {name!r}, got {sorted(spec)}"
        )
    return Feature(name, group, description, DECLARED_TYPES[type](**spec))


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
        declared_feature(
            f"{kind}_count_{window_days:g}d",
            "count",
            "engagement",
            f"Number of {_pretty(kind)} events in the last {window_days:g} days.",
            activity_types=(kind,),
            window_days=window_days,
        )
        for kind in types
    ]
    overall = [
        declared_feature(
            "activity_count_total",
            "count",
            "engagement",
            "Number of recorded activities of any kind so far.",
            activity_types=types,
        ),
        declared_feature(
            "days_since_last_activity",
            "days_since",
            "engagement",
            "Days since the lead last did anything we recorded.",
            activity_types=types,
        ),
    ]
    recent = [
        declared_feature(
            f"days_since_last_{kind}",
            "days_since",
            "engagement",
            f"Days since the lead's last {_pretty(kind)}.",
            activity_types=(kind,),
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
