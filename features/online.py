"""The online engine: features of one live lead, from a JSON-like dict, in plain Python.

No pandas here: building one pandas row costs milliseconds, this costs microseconds. It computes
the declarations of `definitions.py` exactly as `batch.py` does.
"""

from __future__ import annotations

import functools
import math
from bisect import bisect_left
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from operator import attrgetter
from typing import Any

from features.definitions import (
    DEFAULT_FEATURES,
    ActivityCount,
    ActivityRatio,
    Attribute,
    CreatedAt,
    DecayedIntent,
    FeatureSet,
    activity_types_of,
)
from features.errors import BadValue, InvalidLeadError
from features.schema import ACTIVITY_TYPE, CREATED_AT, OCCURRED_AT
from features.timestamps import (
    MICROS_PER_DAY,
    ONE_MICROSECOND,
    calendar_micros,
    micros_to_datetime,
    to_micros,
    window_micros,
)
from features.transforms import TRANSFORMS, category, number, placeholder_key, tracked_types

FeatureValue = float | str | None
AgesByType = dict[str, list[int]]
Step = Callable[[Mapping[str, Any], AgesByType], FeatureValue]

_DATE_PARTS: dict[str, Callable[[datetime], int]] = {
    "weekday": datetime.weekday,
    "hour": attrgetter("hour"),
    "month": attrgetter("month"),
}


@dataclass
class Unused:
    """Activities a lead sent that no feature could use."""

    after_as_of: int = 0
    types: dict[str, int] = field(default_factory=dict)  # unknown type as sent -> how many


class OnlineFeatures:
    """Compiled feature declarations for scoring one lead at a time."""

    def __init__(self, feature_set: FeatureSet = DEFAULT_FEATURES) -> None:
        self.feature_set = feature_set
        placeholders = frozenset(feature_set.placeholders)
        self._steps: list[tuple[str, Step]] = [
            (feature.name, _compile(feature.computation, placeholders)) for feature in feature_set
        ]
        self._known_types = frozenset(
            t
            for feature in feature_set
            for t in tracked_types(activity_types_of(feature.computation))
        )

    def compute(
        self, lead: Mapping[str, Any], as_of: datetime | str | int
    ) -> dict[str, FeatureValue]:
        """Features of `lead` as of `as_of`; `lead["activities"]` lists its activities, if any."""
        return self.compute_checked(lead, as_of)[0]

    def compute_checked(
        self, lead: Mapping[str, Any], as_of: datetime | str | int
    ) -> tuple[dict[str, FeatureValue], Unused]:
        """The features, and the activities they could not use: so an answer can say so."""
        activities = lead.get("activities")
        ages, unused = self._ages_by_type(
            () if activities is None else activities, to_micros(as_of, field="as_of")
        )
        return {name: step(lead, ages) for name, step in self._steps}, unused

    def _ages_by_type(self, activities: Any, as_of_us: int) -> tuple[AgesByType, Unused]:
        """Ages in microseconds of each distinct past activity, grouped by type, youngest first;
        and those left out because they come after as-of or are of a type the model does not
        know."""
        ages: AgesByType = {}
        seen: set[tuple[str, int]] = set()
        known = self._known_types
        as_of = micros_to_datetime(as_of_us)
        unused = Unused()
        for index, activity in enumerate(activities):
            raw_type = activity[ACTIVITY_TYPE]
            activity_type = raw_type if raw_type in known else _activity_type(raw_type)
            if activity_type not in known:
                unused.types[str(raw_type)] = unused.types.get(str(raw_type), 0) + 1
                continue
            occurred = activity[OCCURRED_AT]
            if type(occurred) is datetime and occurred.tzinfo is not None:  # what the API parses
                age = (as_of - occurred) // ONE_MICROSECOND
            else:
                age = as_of_us - to_micros(occurred, field=f"activities[{index}].occurred_at")
            if age < 0:
                unused.after_as_of += 1
                continue
            if (activity_type, age) in seen:
                continue
            seen.add((activity_type, age))
            ages.setdefault(activity_type, []).append(age)
        for values in ages.values():
            values.sort()
        return ages, unused


@functools.lru_cache(maxsize=4096)
def _activity_type(raw: str) -> str | None:
    """A CRM's spelling of an activity type ('Email Open ') as ours; the few spellings repeat."""
    return category(raw)


@functools.lru_cache(maxsize=4096)
def _placeholder_key(text: str) -> str | None:
    """`placeholder_key`, remembered: most cells are picklist values, whose few spellings repeat."""
    return placeholder_key(text)


def _compile(spec: Any, placeholders: frozenset[str]) -> Step:
    if isinstance(spec, Attribute):
        return _attribute(spec, placeholders)
    if isinstance(spec, CreatedAt):
        return _created_at(_DATE_PARTS[spec.part])
    if isinstance(spec, DecayedIntent):
        return _decayed(spec)
    if isinstance(spec, ActivityRatio):
        return _ratio(spec)
    types = tracked_types(spec.activity_types)
    if isinstance(spec, ActivityCount):
        count = _counter(types, spec.window_days)
        return lambda _lead, ages: float(count(ages))

    def days_since_last(_lead: Mapping[str, Any], ages: AgesByType) -> float:
        youngest = min((ages[t][0] for t in types if t in ages), default=None)
        return math.nan if youngest is None else youngest / MICROS_PER_DAY

    return days_since_last


def _counter(types: tuple[str, ...], window_days: float | None) -> Callable[[AgesByType], int]:
    """How many distinct activities of these types happened, in the window when there is one:
    the ages are sorted, so those inside it are found by bisection."""
    if window_days is None:
        return lambda ages: sum(len(ages[t]) for t in types if t in ages)
    window = window_micros(window_days)
    return lambda ages: sum(bisect_left(ages[t], window) for t in types if t in ages)


def _ratio(spec: ActivityRatio) -> Step:
    """Numerator count over denominator count (an exact division of two integers, as numpy
    divides them); NaN without a denominator activity."""
    numerator = _counter(tracked_types(spec.numerator_types), spec.window_days)
    denominator = _counter(tracked_types(spec.denominator_types), spec.window_days)

    def ratio(_lead: Mapping[str, Any], ages: AgesByType) -> float:
        below = denominator(ages)
        return math.nan if below == 0 else numerator(ages) / below

    return ratio


def _decayed(spec: DecayedIntent) -> Step:
    """The weighted sum of 2 ** (-age / half-life), term by term in the order the batch engine
    adds them (types alphabetically, youngest first) and each decay by `math.exp2`, as it does:
    the two sums agree to the bit. Weights are looked up once, here."""
    weights = tuple(spec.tracked_weights().items())
    half_life = spec.half_life_micros
    window = math.inf if spec.window_days is None else window_micros(spec.window_days)
    exp2 = math.exp2

    def decayed(_lead: Mapping[str, Any], ages: AgesByType) -> float:
        total = 0.0
        for kind, weight in weights:
            for age in ages.get(kind, ()):
                if age >= window:
                    break
                total += weight * exp2(-age / half_life)
        return total

    return decayed


def _attribute(spec: Attribute, placeholders: frozenset[str]) -> Step:
    """A lead cell, read as a number or through its transform; a placeholder is missing. Without
    placeholders (models saved before them) the cell is read as it always was, at no cost."""
    column = spec.column
    if spec.kind == "numeric":
        if not placeholders:
            return lambda lead, _ages: _number(lead.get(column), column)

        def numeric(lead: Mapping[str, Any], _ages: AgesByType) -> float:
            value = lead.get(column)
            if isinstance(value, str) and _placeholder_key(value) in placeholders:
                return math.nan
            return _number(value, column)

        return numeric
    transform = TRANSFORMS[spec.transform or "category"]
    if not placeholders:
        return lambda lead, _ages: transform(lead.get(column))

    def categorical(lead: Mapping[str, Any], _ages: AgesByType) -> str | None:
        value = lead.get(column)
        if isinstance(value, str) and _placeholder_key(value) in placeholders:
            return None
        return transform(value)

    return categorical


def _created_at(part: Callable[[datetime], int]) -> Step:
    """A part of `lead["created_at"]` in UTC; NaN when the lead has none."""

    def created(lead: Mapping[str, Any], _ages: AgesByType) -> float:
        micros = calendar_micros(lead.get(CREATED_AT), field=CREATED_AT)
        return math.nan if micros is None else float(part(micros_to_datetime(micros)))

    return created


def _number(value: Any, column: str) -> float:
    try:
        return number(value)
    except BadValue as error:
        raise InvalidLeadError(str(error), field=column) from None
