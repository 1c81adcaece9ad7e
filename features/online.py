"""The online engine: features of one live lead, from a JSON-like dict, in plain Python.

No pandas here: building one pandas row costs milliseconds, this costs microseconds. It computes
the declarations of `definitions.py` exactly as `batch.py` does.
"""

from __future__ import annotations

import functools
import math
from bisect import bisect_left
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from features.definitions import DEFAULT_FEATURES, ActivityCount, Attribute, FeatureSet
from features.errors import BadValue, InvalidLeadError
from features.schema import ACTIVITY_TYPE, OCCURRED_AT
from features.timestamps import (
    MICROS_PER_DAY,
    ONE_MICROSECOND,
    micros_to_datetime,
    to_micros,
    window_micros,
)
from features.transforms import TRANSFORMS, category, number, tracked_types

FeatureValue = float | str | None
AgesByType = dict[str, list[int]]


class OnlineFeatures:
    """Compiled feature declarations for scoring one lead at a time."""

    def __init__(self, feature_set: FeatureSet = DEFAULT_FEATURES) -> None:
        self.feature_set = feature_set
        self._steps: list[tuple[str, Callable[[Mapping[str, Any], AgesByType], FeatureValue]]] = [
            (feature.name, _compile(feature.computation)) for feature in feature_set
        ]
        self._known_types = frozenset(
            t
            for feature in feature_set
            if not isinstance(feature.computation, Attribute)
            for t in tracked_types(feature.computation.activity_types)
        )

    def compute(
        self, lead: Mapping[str, Any], as_of: datetime | str | int
    ) -> dict[str, FeatureValue]:
        """Features of `lead` as of `as_of`; `lead["activities"]` lists its activities, if any."""
        activities = lead.get("activities")
        ages = self._ages_by_type(
            () if activities is None else activities, to_micros(as_of, field="as_of")
        )
        return {name: step(lead, ages) for name, step in self._steps}

    def _ages_by_type(self, activities: Any, as_of_us: int) -> AgesByType:
        """Ages in microseconds of each distinct past activity, grouped by type, youngest first."""
        ages: AgesByType = {}
        seen: set[tuple[str, int]] = set()
        known = self._known_types
        as_of = micros_to_datetime(as_of_us)
        for index, activity in enumerate(activities):
            raw_type = activity[ACTIVITY_TYPE]
            activity_type = raw_type if raw_type in known else _activity_type(raw_type)
            if activity_type not in known:
                continue
            occurred = activity[OCCURRED_AT]
            if type(occurred) is datetime and occurred.tzinfo is not None:  # what the API parses
                age = (as_of - occurred) // ONE_MICROSECOND
            else:
                age = as_of_us - to_micros(occurred, field=f"activities[{index}].occurred_at")
            if age < 0 or (activity_type, age) in seen:
                continue
            seen.add((activity_type, age))
            ages.setdefault(activity_type, []).append(age)
        for values in ages.values():
            values.sort()
        return ages


@functools.lru_cache(maxsize=4096)
def _activity_type(raw: str) -> str | None:
    """A CRM's spelling of an activity type ('Email Open ') as ours; the few spellings repeat."""
    return category(raw)


def _compile(spec: Any) -> Callable[[Mapping[str, Any], AgesByType], FeatureValue]:
    if isinstance(spec, Attribute):
        column = spec.column
        if spec.kind == "numeric":
            return lambda lead, _ages: _number(lead.get(column), column)
        transform = TRANSFORMS[spec.transform or "category"]
        return lambda lead, _ages: transform(lead.get(column))
    types = tracked_types(spec.activity_types)
    if isinstance(spec, ActivityCount):
        if spec.window_days is None:
            return lambda _lead, ages: float(sum(len(ages[t]) for t in types if t in ages))
        window = window_micros(spec.window_days)
        return lambda _lead, ages: float(
            sum(bisect_left(ages[t], window) for t in types if t in ages)
        )

    def days_since_last(_lead: Mapping[str, Any], ages: AgesByType) -> float:
        youngest = min((ages[t][0] for t in types if t in ages), default=None)
        return math.nan if youngest is None else youngest / MICROS_PER_DAY

    return days_since_last


def _number(value: Any, column: str) -> float:
    try:
        return number(value)
    except BadValue as error:
        raise InvalidLeadError(str(error), field=column) from None
