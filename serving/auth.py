"""API keys with scopes: `score` for scoring and model info, `admin` for everything.

`LEADSCORE_API_KEYS` lists `key:scope` pairs separated by commas; only SHA-256 digests are kept
in memory. Clients send the key as `X-API-Key: <key>` or `Authorization: Bearer <key>`.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Coroutine
from typing import Any, Literal

from fastapi import Request

from serving.errors import ApiError

Scope = Literal["score", "admin"]
SCOPES: tuple[Scope, ...] = ("score", "admin")


class Unauthorized(ApiError):
    status_code = 401
    code = "unauthorized"


class Forbidden(ApiError):
    status_code = 403
    code = "forbidden"


def parse_keys(spec: str) -> dict[str, Scope]:
    """`"k1:score,k2:admin"` -> {sha256(k1): "score", sha256(k2): "admin"}."""
    keys: dict[str, Scope] = {}
    for item in filter(None, (part.strip() for part in spec.split(","))):
        key, _, scope = item.rpartition(":")
        if not key or scope not in SCOPES:
            raise ValueError(
                f"expected LEADSCORE_API_KEYS entries like 'key:score' or 'key:admin', got "
                f"{item.split(':')[0][:4]}...:{scope!r}"
            )
        keys[_digest(key)] = scope  # type: ignore[assignment]
    return keys


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


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
    digest = _digest(header)
    granted = next((s for d, s in keys.items() if hmac.compare_digest(d, digest)), None)
    if granted is None:
        raise Unauthorized("expected a valid API key, got an unknown one")
    if scope == "admin" and granted != "admin":
        raise Forbidden("expected a key with the admin scope, got a score key")
