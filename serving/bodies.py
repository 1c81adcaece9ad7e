"""Request bodies read straight from bytes with bounded work, and documented in OpenAPI as if
FastAPI had read them.

The scoring routes parse the body with orjson and validate each lead with pydantic themselves:
FastAPI's own body handling costs several times more for our lead model, reads the whole batch
before any cap applies, and cannot answer one error per lead. Before anything is parsed, a
batch's lead count is bounded from the raw bytes, so a body of a million tiny leads is refused
in milliseconds instead of being built in memory. Duplicate keys, which JSON parsers settle
silently (the last one wins), are refused. `document_bodies` puts the models back into the
OpenAPI document, so clients see the same contract.
"""

from __future__ import annotations

import json
import re
from typing import Any

import orjson
from fastapi import FastAPI, Request
from pydantic import BaseModel

from serving.errors import BatchTooLarge, InvalidParameter, UnsupportedMediaType

# A key is a string followed by a colon; inside a string a quote is always escaped.
_KEY = re.compile(rb'"[ \t\r\n]*:')
_LEADS_START = re.compile(r'\s*\{\s*"leads"\s*:\s*\[\s*')
_SEPARATOR = re.compile(r"\s*,?\s*")


def require_json(request: Request) -> None:
    """415 unless the body says it is JSON: a form post or a text body is a client mistake."""
    kind = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if kind != "application/json" and not kind.endswith("+json"):
        raise UnsupportedMediaType(f"expected Content-Type application/json, got {kind or 'none'}")


def parse_body(body: bytes) -> Any:
    """The JSON document; 422 for text that is not JSON or that repeats a key in an object."""
    document = _parse(body)
    _refuse_duplicates(body, document)
    return document


def _parse(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise InvalidParameter(f"body: expected JSON, got {error}", field="body") from None


def batch_leads(body: bytes, limit: int) -> list[Any]:
    """The raw leads of a batch body, at most `limit` of them (413 otherwise, before parsing)."""
    if _most_leads(body) > limit and _count_leads(body, limit) > limit:
        raise BatchTooLarge(
            f"expected at most {limit} leads, got more; split the batch", field="leads"
        )
    document = _parse(body)
    leads = document.get("leads") if isinstance(document, dict) else None
    if not isinstance(leads, list):
        raise InvalidParameter("leads: expected a list of leads", field="leads")
    if len(leads) > limit:
        raise BatchTooLarge(
            f"expected at most {limit} leads, got {len(leads)}; split the batch", field="leads"
        )
    _refuse_duplicates(body, document)
    return leads


def _most_leads(body: bytes) -> int:
    """An upper bound on the leads of a valid batch, from byte counts alone: every object but the
    body itself and the activities (which hold both of their keys) is a lead, or a brace inside
    a text, which only makes the bound looser."""
    activities = min(body.count(b'"activity_type"'), body.count(b'"occurred_at"'))
    return body.count(b"{") - 1 - activities


def _count_leads(body: bytes, limit: int) -> int:
    """The exact count, stopping past `limit`: the bound was loose (braces in texts, say)."""
    decoder = json.JSONDecoder()
    text = body.decode("utf-8", errors="replace")
    match = _LEADS_START.match(text)
    if match is None:
        return 0  # another shape: parsing it says what is wrong
    position, count = match.end(), 0
    try:
        while count <= limit and text[position] != "]":
            _, position = decoder.raw_decode(text, position)
            count += 1
            position = _SEPARATOR.match(text, position).end()  # type: ignore[union-attr]
    except (ValueError, IndexError):
        return count
    return count


def _keys(document: Any) -> int:
    """Keys in every object of a parsed document (scalars are skipped without a call)."""
    if type(document) is dict:
        count = len(document)
        for value in document.values():
            if type(value) is dict or type(value) is list:
                count += _keys(value)
        return count
    return sum(_keys(value) for value in document if type(value) is dict or type(value) is list)


def _refuse_duplicates(body: bytes, document: Any) -> None:
    """422 when an object repeats a key. Counting keys in the bytes and in the parsed document
    is cheap; only when they differ (a repeated key, or a text holding a quote before a colon)
    does the slower, exact check run."""
    if not isinstance(document, dict | list):
        return
    keys = _keys(document)
    # Compact JSON first (`"key":`), then keys with spaces before the colon.
    if body.count(b'":') == keys or len(_KEY.findall(body)) == keys:
        return

    def check(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise InvalidParameter(
                    f"{key}: appears twice in one object; send each field once", field=key
                )
            seen.add(key)
        return dict(pairs)

    json.loads(body, object_pairs_hook=check)


def body_doc(
    model: type[BaseModel], description: str, parameters: list[dict[str, Any]]
) -> dict[str, Any]:
    """`openapi_extra` for a route whose body is `model`, with these query `parameters`."""
    reference = {"$ref": f"#/components/schemas/{model.__name__}"}
    return {
        "parameters": parameters,
        "requestBody": {
            "required": True,
            "description": description,
            "content": {"application/json": {"schema": reference}},
        },
    }


def document_bodies(app: FastAPI, models: list[type[BaseModel]]) -> None:
    """Add `models` (and the models they use) to the app's OpenAPI components."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        document = generate()
        schemas = document.setdefault("components", {}).setdefault("schemas", {})
        for model in models:
            schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
            schemas.update(schema.pop("$defs", {}))
            schemas[model.__name__] = schema
        app.openapi_schema = document
        return document

    app.openapi = openapi  # type: ignore[method-assign]
