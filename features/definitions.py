"""Every feature, declared once: name, group, plain-words description and computation.

A computation is plain data (see `Attribute`, `ActivityCount`, `DaysSinceLast`), so the same
declaration drives the batch engine, the online engine, and travels inside a saved model.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from features.errors import ModelArtifactError
from features.schema import ACTIVITY_TYPES, HIGH_INTENT_ACTIVITIES
from features.transforms import TRANSFORMS

Group = Literal["fit", "engagement", "source"]
Kind = Literal["numeric", "categorical"]
GROUPS: tuple[Group, ...] = ("fit", "engagement", "source")


@dataclass(frozen=True)
class Attribute:
    """A lead column, optionally cleaned by a named transform from `features.transforms`."""

    column: str
    kind: Kind = "categorical"
    transform: str | None = None

    def __post_init__(self) -> None:
        if self.kind == "categorical" and self.transform is None:
            object.__setattr__(self, "transform", "category")
        if self.transform is not None and self.transform not in TRANSFORMS:
            raise ValueError(
                f"expected a transform among {sorted(TRANSFORMS)}, got {self.transform!r}"
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


Computation = Attribute | ActivityCount | DaysSinceLast
_COMPUTATIONS: dict[str, type[Computation]] = {
    cls.__name__: cls for cls in (Attribute, ActivityCount, DaysSinceLast)
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
            raise ModelArtifactError(
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
    """An ordered set of features: the model's input columns, in this order."""

    features: tuple[Feature, ...]

    def __post_init__(self) -> None:
        names = [feature.name for feature in self.features]
        duplicated = sorted({name for name in names if names.count(name) > 1})
        if duplicated:
            raise ValueError(f"expected unique feature names, got duplicates {duplicated}")

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
        """The lead columns these features read."""
        return sorted(
            {f.computation.column for f in self.features if isinstance(f.computation, Attribute)}
        )

    def to_dict(self) -> dict[str, Any]:
        return {"features": [feature.to_dict() for feature in self.features]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FeatureSet:
        return cls(tuple(Feature.from_dict(item) for item in data["features"]))


def _pretty(activity_type: str) -> str:
    return activity_type.replace("_", " ")


def _default_features() -> tuple[Feature, ...]:
    fit = [
        Feature("industry", "fit", "The lead's industry.", Attribute("industry")),
        Feature(
            "company_size",
            "fit",
            "Number of employees at the lead's company.",
            Attribute("company_size", kind="numeric"),
        ),
        Feature(
            "seniority",
            "fit",
            "Seniority read from the job title (C-level, VP, director, manager, individual, "
            "student).",
            Attribute("job_title", transform="seniority"),
        ),
        Feature("country", "fit", "The lead's country.", Attribute("country")),
        Feature(
            "email_kind",
            "fit",
            "Whether the lead signed up with a business or a free webmail address.",
            Attribute("email_domain", transform="email_kind"),
        ),
    ]
    source = [
        Feature("source", "source", "The channel the lead came from.", Attribute("source")),
        Feature(
            "campaign", "source", "The campaign that brought the lead in.", Attribute("campaign")
        ),
    ]
    engagement = [
        Feature(
            f"{activity}_count_30d",
            "engagement",
            f"Number of {_pretty(activity)} events in the last 30 days.",
            ActivityCount((activity,), 30.0),
        )
        for activity in ACTIVITY_TYPES
    ]
    engagement += [
        Feature(
            "activity_count_total",
            "engagement",
            "Number of recorded activities of any kind so far.",
            ActivityCount(ACTIVITY_TYPES),
        ),
        Feature(
            "days_since_last_activity",
            "engagement",
            "Days since the lead last did anything we recorded.",
            DaysSinceLast(ACTIVITY_TYPES),
        ),
    ]
    engagement += [
        Feature(
            f"days_since_last_{activity}",
            "engagement",
            f"Days since the lead's last {_pretty(activity)}.",
            DaysSinceLast((activity,)),
        )
        for activity in HIGH_INTENT_ACTIVITIES
    ]
    return (*fit, *source, *engagement)


DEFAULT_FEATURES = FeatureSet(_default_features())
