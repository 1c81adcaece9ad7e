"""Lead ids that are personal data (an email, a phone number) are stored as keyed hashes.

CRMs sometimes use the contact's email or phone as its id. The prediction log keeps
`h:` + the first 32 hex digits of HMAC-SHA256(secret, id) instead, with emails lower-cased and
phones reduced to their digits first, so the same contact always gets the same key and a team
holding the secret can join the log with its outcomes. Other ids are kept as sent.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
from collections.abc import Callable

HASHED_PREFIX = "h:"
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
# A phone is written with '+', a leading 0 or separators; a bare run of digits is a CRM id.
PHONE = re.compile(r"(?=(?:\D*\d){7,15}\D*$)(?:\+|0|.*[\s().-])[\d\s().+-]*")


class LeadKey:
    """`lead_key(id)`: the id to store, hashed when it is an email or a phone number."""

    def __init__(self, secret: Callable[[], bytes]) -> None:
        self._secret = secret  # read on first use: most CRMs never send such ids

    def __call__(self, lead_id: str | None) -> str | None:
        if lead_id is None:
            return None
        bare = lead_id.strip()
        if EMAIL.fullmatch(bare):
            return self.hashed(bare.lower())
        if PHONE.fullmatch(bare):
            return self.hashed(re.sub(r"\D", "", bare))
        return lead_id

    def hashed(self, normalized: str) -> str:
        digest = hmac.new(self._key, normalized.encode(), hashlib.sha256).hexdigest()
        return HASHED_PREFIX + digest[:32]

    @functools.cached_property
    def _key(self) -> bytes:
        return self._secret()
