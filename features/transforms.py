"""Named, pure value cleaners that features apply to raw CRM text.

They are referenced by name in feature declarations so that a saved model can name the exact
cleaning it was trained with, and both engines call the very same function.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from numbers import Number

from features.errors import BadValue

FREE_EMAIL_DOMAINS = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "yahoo.com",
        "hotmail.com",
        "outlook.com",
        "live.com",
        "aol.com",
        "icloud.com",
        "proton.me",
        "protonmail.com",
        "gmx.de",
        "web.de",
        "mail.com",
        "yandex.ru",
    }
)

SENIORITY_LEVELS = ("c_level", "vp", "director", "manager", "individual", "student")

_WORD = re.compile(r"[a-z]+")
_C_LEVEL = frozenset(
    {
        "ceo",
        "cto",
        "cfo",
        "coo",
        "cmo",
        "cio",
        "cro",
        "cso",
        "chief",
        "founder",
        "cofounder",
        "owner",
        "president",
        "partner",
    }
)
_VP = frozenset({"vp", "svp", "evp", "avp", "vice"})
_DIRECTOR = frozenset({"director", "directr", "dir", "head"})
_MANAGER = frozenset({"manager", "mgr", "maneger", "manger", "lead", "supervisor"})
_STUDENT = frozenset({"student", "intern", "trainee", "phd", "graduate"})


# Text that means "no value", as pandas reads it from a CSV: the same cells are missing whether a
# lead comes from a file or as JSON.
MISSING_TEXT = frozenset({"", "na", "n/a", "nan", "-nan", "null", "none", "<na>", "#n/a", "#na"})


# What CRM forms write into a field nobody filled in: a picklist's prompt ("Select", "-- Select
# --"), dashes, and words for "no answer". Each spelling is one no real category would take (an
# empty answer, not "Other"), and "na"/"none"/"null" read as missing here as pandas reads them in a
# file. A region field whose "NA" means North America needs a list without "na".
DEFAULT_PLACEHOLDERS: tuple[str, ...] = (
    "",
    "select",
    "select one",
    "select...",
    "please select",
    "please choose",
    "choose one",
    "-- select --",
    "--select--",
    "-",
    "--",
    "---",
    "?",
    "n/a",
    "na",
    "none",
    "null",
    "unknown",
    "not specified",
    "not provided",
    "not applicable",
    "(not set)",
    "(none)",
)


def placeholder_key(value: object) -> str | None:
    """Text as placeholders are compared, spaced and cased as `category` reads it, so " SELECT "
    is "select"; None for anything but text, since forms write placeholders as text."""
    return " ".join(value.split()).lower() if isinstance(value, str) else None


def _is_missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _is_numpy_bool(value: object) -> bool:
    """numpy's booleans without importing numpy (the online engine must not): a pandas bool
    column hands them out, and numpy 2 calls their type `bool` where numpy 1 said `bool_`."""
    kind = type(value)
    return kind.__module__ == "numpy" and kind.__name__ in ("bool", "bool_")


def number(value: object) -> float:
    """A numeric cell as a float, NaN when missing; anything else is a `BadValue` that says why.

    Both engines read every numeric attribute through this, so a cell means the same in a file
    and in a live lead: booleans, text such as "1,000" and infinite numbers are refused alike.
    """
    if type(value) is float:
        if math.isfinite(value) or math.isnan(value):
            return value
        raise BadValue(f"expected a finite number, got {value!r}")
    if value is None:
        return math.nan
    if isinstance(value, bool) or _is_numpy_bool(value):
        raise BadValue(f"expected a number, got {bool(value)!r}")
    if isinstance(value, Number) and not isinstance(value, complex):
        try:
            converted = float(value)
        except OverflowError:
            raise BadValue(f"expected a finite number, got {value!r}") from None
        return number(converted)
    if isinstance(value, str):
        text = value.strip()
        if text.lower() in MISSING_TEXT:
            return math.nan
        try:
            converted = math.nan if "_" in text else float(text)
        except ValueError:
            converted = math.nan
        if math.isnan(converted):
            hint = " (no thousands separators)" if "," in text else ""
            raise BadValue(f"expected a number such as 1200.5{hint}, got {value!r}")
        return number(converted)
    raise BadValue(f"expected a number, got {type(value).__name__} {value!r}")


def category(value: object) -> str | None:
    """Trim and lower-case a label so 'Software ', 'SOFTWARE' and 'software' are one category."""
    if _is_missing(value):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # 3.0 read from a CSV column with gaps is the code "3"
    text = " ".join(str(value).split()).lower()
    return text or None


def seniority(title: object) -> str | None:
    """Seniority parsed from a free-text job title ('V.P. of Sales', 'Sr Mgr', 'Head of IT')."""
    if _is_missing(title):
        return None
    words = _WORD.findall(str(title).lower().replace(".", ""))
    if not words:
        return None
    found = set(words)
    if found & _STUDENT:
        return "student"
    if found & _VP or ("vice" in found and "president" in found):
        return "vp"
    if found & _C_LEVEL:
        return "c_level"
    if found & _DIRECTOR:
        return "director"
    if found & _MANAGER:
        return "manager"
    return "individual"


def email_kind(domain: object) -> str | None:
    """'free' for webmail addresses, 'business' otherwise: a company domain signals a real buyer."""
    cleaned = category(domain)
    if cleaned is None:
        return None
    cleaned = cleaned.rsplit("@", 1)[-1]
    return "free" if cleaned in FREE_EMAIL_DOMAINS else "business"


def tracked_types(declared: Iterable[str]) -> tuple[str, ...]:
    """Declared activity types spelled as `category` reads events, each once: a config's
    ' Demo_Request' counts the export's 'demo_request', and only once beside 'demo_request'."""
    return tuple(dict.fromkeys(kind for kind in map(category, declared) if kind is not None))


TRANSFORMS: dict[str, Callable[[object], str | None]] = {
    "category": category,
    "seniority": seniority,
    "email_kind": email_kind,
}
