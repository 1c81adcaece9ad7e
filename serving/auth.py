"""API keys with scopes: `score` for scoring and model info, `admin` for everything.

`LEADSCORE_API_KEYS` lists `key:scope` pairs separated by commas (`scoring.Settings` checks
them at start-up); only SHA-256 digests are kept in memory. Clients send the key as
`X-API-Key: <key>` or `Authorization: Bearer <key>`.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request

from scoring import Scope, key_digest
from serving.errors import Forbidden, Unauthorized


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
    if scope == "admin" and granted != "admin":
        raise Forbidden("expected a key with the admin scope, got a score key")
