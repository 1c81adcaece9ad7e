"""API keys with scopes: `score` for scoring and model info, `feedback` for posting outcomes,
`admin` for everything.

`LEADSCORE_API_KEYS` lists `key:scope` pairs separated by commas (`scoring.Settings` checks
them at start-up); only SHA-256 digests are kept in memory. Clients send the key as
`X-API-Key: <key>` or `Authorization: Bearer <key>`.

A browser cannot send a header, so `/report` also opens from a signed, expiring link that
`leadscore report-link` prints: `/report?expires=<unix seconds>&signature=<hex>`, where the
signature is HMAC-SHA256 of `GET /report\\n<expires>` under the server's secret
(`Settings.secret()`). It binds the method, the path and the expiry only (not the host, nor
the model version: it shows whichever model serves): anyone holding the link reads the report
until it expires, no other route accepts it, and no key is in it. A link cannot be revoked
on its own; changing the secret revokes them all (and changes the hashes of lead ids that are
emails or phones, see `serving.privacy`).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import FastAPI, Request

from scoring import Scope, key_digest
from serving.errors import ApiError, Forbidden, Unauthorized

REPORT_LINK_ROUTE = "GET /report"
# Ten digits reach the year 2286; the bound keeps int() and the HMAC cheap on junk input.
MAX_EXPIRES_DIGITS = 12


class LinkExpired(ApiError):
    """A report link that was valid once: the marketer needs a new one, not a key."""

    status_code = 403
    code = "link_expired"


def require(scope: Scope) -> Callable[[Request], Coroutine[Any, Any, None]]:
    """A dependency that lets a request through only with a key of `scope` (or admin)."""

    async def check(request: Request) -> None:
        authorize(request, scope)

    return check


def authorize(request: Request, scope: Scope) -> None:
    """Raise 401 without a valid key, 403 when the key's scope is not enough."""
    keys: dict[str, Scope] = request.app.state.api_keys
    if not keys:
        return  # no keys configured: the server only listens on loopback
    header = request.headers.get("x-api-key") or ""
    if not header:
        bearer = request.headers.get("authorization", "")
        header = bearer[7:] if bearer.lower().startswith("bearer ") else ""
    if not header:
        raise Unauthorized("expected an API key in the X-API-Key header, got none")
    digest = key_digest(header)
    granted = next((s for d, s in keys.items() if hmac.compare_digest(d, digest)), None)
    if granted is None:
        raise Unauthorized("expected a valid API key, got an unknown one")
    if granted != scope and granted != "admin":
        wanted = "the admin scope" if scope == "admin" else f"the {scope} scope (or admin)"
        raise Forbidden(f"expected a key with {wanted}, got a {granted} key")


async def admin_key_or_report_link(request: Request) -> None:
    """`/report`'s check: an admin key, or a valid, unexpired report link.

    A request that carries `expires` or `signature` is judged by its link alone, so a bad or
    old link is refused with its own reason; one with neither is judged by its key, as before.
    """
    query = request.query_params
    if request.app.state.api_keys and ("expires" in query or "signature" in query):
        check_report_link(
            _link_secret(request.app), query.get("expires", ""), query.get("signature", "")
        )
    else:
        authorize(request, "admin")


def report_link_signature(secret: bytes, expires: str) -> str:
    """The hex HMAC-SHA256 of `GET /report\\n<expires>`: the expiry is signed as written, so a
    link whose digits are changed in any way (leading zeros included) no longer matches."""
    message = f"{REPORT_LINK_ROUTE}\n{expires}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def check_report_link(secret: bytes, expires: str, signature: str) -> None:
    """403 `forbidden` for a link this server did not sign, 403 `link_expired` for one it did
    sign that is past its time; the signature is checked first, so a forged link never learns
    whether its expiry would have passed.

    403 rather than 401: the request did present a credential, and sending it again, or with
    the same link, cannot succeed; the browser user needs a new link, not a login.
    """
    well_formed = expires.isascii() and expires.isdigit() and len(expires) <= MAX_EXPIRES_DIGITS
    if not well_formed or not hmac.compare_digest(
        report_link_signature(secret, expires).encode(), signature.encode()
    ):
        raise Forbidden(
            "expected a report link signed by this server (`expires` and `signature` as "
            "`leadscore report-link` prints them), got one that does not match; ask for a new link"
        )
    if int(expires) <= time.time():
        ended = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(int(expires)))
        raise LinkExpired(
            f"expected an unexpired report link, got one that expired at {ended}; "
            "ask for a new link (`leadscore report-link`)"
        )


def _link_secret(app: FastAPI) -> bytes:
    """The server's secret, read once: without LEADSCORE_SECRET_KEY it is a file read."""
    secret: bytes | None = getattr(app.state, "link_secret", None)
    if secret is None:
        secret = app.state.link_secret = app.state.settings.secret()
    return secret
