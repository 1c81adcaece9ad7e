"""The report's words for features, values, ranges and rules: a marketer reads "Number of
employees at the lead's company" and "10-49 employees" (with an en dash), never `company_size`
or `(9.5, 49.0]`."""

from __future__ import annotations

import math
import re

from features import ActivityCount, Attribute, CreatedAt, DaysSinceLast, Feature
from scoring import Rule

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December")  # fmt: skip
# Values that transforms write, as a person says them.
TRANSFORM_VALUES = {
    "seniority": {
        "c_level": "C-level",
        "vp": "VP",
        "director": "director",
        "manager": "manager",
        "individual": "individual contributor",
        "student": "student",
    },
    "email_kind": {"business": "business address", "free": "free webmail address"},
}
RANGE_DASH = "\u2013"  # an en dash, as ranges are typeset; ruff flags it written out
OPERATORS = {
    ">=": "is at least",
    "<=": "is at most",
    ">": "is more than",
    "<": "is less than",
    "==": "is",
    "!=": "is not",
    "in": "is",
    "not in": "is not",
}
_NUMBER_OF = re.compile(r"^Number of ([a-z]+)\b")
_PARENTHESES = re.compile(r"\s*\([^)]*\)")


def label(feature: Feature) -> str:
    """The feature's description as a name: no closing full stop, no aside in brackets."""
    return _PARENTHESES.sub("", feature.description).strip().rstrip(".")


def unit(feature: Feature) -> tuple[str, str] | None:
    """(one, many) of what a numeric feature counts, from its computation or description."""
    spec = feature.computation
    if isinstance(spec, DaysSinceLast):
        return "day", "days"
    if isinstance(spec, ActivityCount):
        return ("event", "events") if len(spec.activity_types) == 1 else ("activity", "activities")
    match = _NUMBER_OF.match(feature.description)
    if isinstance(spec, Attribute) and match:
        many = match.group(1)
        return many.removesuffix("s"), many
    return None


def value_words(feature: Feature, value: object) -> str:
    """One value as a person says it: "C-level", "Tuesday", "3 days", "never"."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "never" if isinstance(feature.computation, DaysSinceLast) else "not known"
    spec = feature.computation
    if isinstance(spec, CreatedAt):
        number = int(float(str(value)))
        if spec.part == "weekday":
            return WEEKDAYS[number % 7]
        if spec.part == "month":
            return MONTHS[(number - 1) % 12]
        return f"{number:02d}:00 UTC"
    if isinstance(spec, Attribute) and spec.kind == "categorical":
        return TRANSFORM_VALUES.get(spec.transform or "", {}).get(str(value), str(value))
    number = float(str(value))
    return _counted(feature, number, f"{number:,.0f}" if number.is_integer() else f"{number:,.3g}")


def range_words(feature: Feature, low: float, high: float, *, open_ended: bool = False) -> str:
    """A range of a numeric feature with its unit: "10-49 employees", "0-2 days", "500 or more
    employees"; `open_ended` for the top range, whose upper end is just the largest value seen."""
    spec = feature.computation
    if isinstance(spec, CreatedAt) and spec.part == "hour":
        return f"{int(low):02d}:00 to {int(high):02d}:59 UTC"
    if isinstance(spec, CreatedAt):
        return f"{value_words(feature, low)} to {value_words(feature, high)}"
    if low == high:
        return value_words(feature, low)
    if open_ended:
        return _counted(feature, math.inf, f"{_number(low)} or more")
    whole = low >= 0 and float(low).is_integer() and float(high).is_integer()
    between = (
        RANGE_DASH if whole else " to "
    )  # "-2.5 to -1 employees", never a dash between minus signs
    return _counted(feature, math.inf, f"{_number(low)}{between}{_number(high)}")


def rule_words(rule: Rule, feature: Feature | None) -> str:
    """An ICP rule or exclusion in words: "seniority is C-level, VP or director"."""
    subject = rule.feature.replace("_", " ")
    values = rule.value if isinstance(rule.value, tuple) else (rule.value,)
    shown = [value_words(feature, v) if feature else str(v) for v in values]
    listed = shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " or " + shown[-1]
    return f"{subject} {OPERATORS[rule.op]} {listed}"


def reason_words(feature: Feature, value: object, push: float, said: str) -> str:
    """One reason for a lead's score, saying which way it pushed: a lead attribute by its column
    and plain value ("Job title: C-level"), anything else as the API `said` it ("Requested a demo
    today")."""
    spec = feature.computation
    if isinstance(spec, Attribute) and not said.endswith("(scored as unknown)"):
        said = f"{spec.column.replace('_', ' ').capitalize()}: {value_words(feature, value)}"
    return f"{said} ({'raises' if push > 0 else 'lowers'} the score)"


def _counted(feature: Feature, count: float, shown: str) -> str:
    """`shown` followed by the unit, singular only for exactly one."""
    words = unit(feature)
    if words is None:
        return shown
    return f"{shown} {words[0] if count == 1 else words[1]}"


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.3g}"
