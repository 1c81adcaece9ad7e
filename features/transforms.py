"""Named, pure value cleaners that features apply to raw CRM text.

They are referenced by name in feature declarations so that a saved model can name the exact
cleaning it was trained with, and both engines call the very same function.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable

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


def _is_missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


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


TRANSFORMS: dict[str, Callable[[object], str | None]] = {
    "category": category,
    "seniority": seniority,
    "email_kind": email_kind,
}
