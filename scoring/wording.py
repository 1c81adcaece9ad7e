"""One plain sentence per reason, such as "Requested a demo 2 days ago", from the declarations."""

from __future__ import annotations

import difflib
import functools
import math

from features import (
    CREATED_AT,
    LEAD_ID,
    ActivityCount,
    ActivityRatio,
    Attribute,
    CreatedAt,
    DecayedIntent,
    Feature,
)

# What a lead carries besides its attributes: never an unknown field.
LEAD_KEYS = frozenset({LEAD_ID, CREATED_AT, "as_of", "activities"})

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December")  # fmt: skip

# What a lead did, in the past tense, per activity type; other types read "<type> happened".
DID = {
    "demo_request": "Requested a demo",
    "meeting_booked": "Booked a meeting",
    "pricing_page_view": "Viewed the pricing page",
    "webinar_attended": "Attended a webinar",
    "content_download": "Downloaded content",
    "form_submit": "Submitted a form",
    "web_visit": "Visited the website",
    "email_open": "Opened an email",
    "email_click": "Clicked a link in an email",
}


def sentence(feature: Feature, value: float | str | None) -> str:
    spec = feature.computation
    missing = value is None or (isinstance(value, float) and math.isnan(value))
    label = feature.name.replace("_", " ").capitalize()
    if isinstance(spec, Attribute):
        shown = f"{value:,.0f}" if isinstance(value, float) and value.is_integer() else value
        if feature.group == "account":  # "Other contacts of the account engaged ...: 3"
            if missing:
                return "No account to compare with"
            return f"{feature.description.rstrip('.')}: {shown}"
        if missing:
            return f"{label} is unknown"
        return f"{label} is {shown}"
    if isinstance(spec, CreatedAt):
        return _created(spec.part, None if missing else int(value))
    if isinstance(spec, DecayedIntent):  # "Demo intent is 2.3 (halves every 7 days)"
        level = 0.0 if missing else float(value)
        return f"{label} is {level:.2g} (halves every {spec.half_life_days:g} days)"
    if isinstance(spec, ActivityRatio):
        below = " or ".join(t.replace("_", " ") for t in spec.denominator_types)
        if missing:
            return f"{label} is unknown: no {below} yet"
        return f"{label} is {float(value):.2f}"
    kinds = (
        " or ".join(t.replace("_", " ") for t in spec.activity_types)
        if len(spec.activity_types) <= 2
        else "activity"
    )
    if not isinstance(spec, ActivityCount):
        did = _did(spec.activity_types)
        if missing:
            return f"No {kinds} yet"
        days = float(value)
        when = "today" if days < 1 else ("1 day ago" if days < 2 else f"{days:.0f} days ago")
        return f"{did} {when}"
    window = f" in the last {spec.window_days:g} days" if spec.window_days else " so far"
    count = 0 if missing else int(value)
    if count == 0:
        return f"No {kinds}{window}"
    noun = (
        "activities"
        if kinds == "activity" and count != 1
        else (kinds if kinds == "activity" else f"{kinds} event{'s' if count != 1 else ''}")
    )
    return f"{count} {noun}{window}"


def unseen_sentence(feature: Feature, value: object) -> str:
    """The honest reason for a category training never saw: it was scored as unknown."""
    label = feature.name.replace("_", " ").capitalize()
    return f"{label} {value!r} is new to the model (scored as unknown)"


@functools.lru_cache(maxsize=1024)
def unknown_field(name: str, known: tuple[str, ...]) -> str:
    """A field the model does not read, with the column (of `known`) it most likely meant."""
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.75)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"{name} is not a field the model reads: not used{hint}"


def _created(part: str, value: int | None) -> str:
    """ "Created on a Saturday", "Created at 14:00 UTC", "Created in March"."""
    if value is None:
        return "Creation time is unknown"
    if part == "weekday":
        return f"Created on a {WEEKDAYS[value % 7]}"
    if part == "hour":
        return f"Created at {value:02d}:00 UTC"
    return f"Created in {MONTHS[(value - 1) % 12]}"


def _did(activity_types: tuple[str, ...]) -> str:
    if len(activity_types) == 1:
        kind = activity_types[0]
        return DID.get(kind, f"Last {kind.replace('_', ' ')}")
    return "Last activity"
