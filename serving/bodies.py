"""Request bodies parsed straight from bytes, and documented in OpenAPI as if FastAPI had.

FastAPI decodes a JSON body to Python objects and then validates those, which for our lead
model costs several times more than pydantic validating the raw JSON in one pass. The scoring
routes read their bodies with `read_json` instead; `document_bodies` puts the models back into
the OpenAPI document, so clients see the same contract.
"""

from __future__ import annotations

from typing import Any, TypeVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError

Body = TypeVar("Body", bound=BaseModel)


async def read_json(request: Request, model: type[Body]) -> Body:
    """The raw request body validated as `model`; problems become our 422, naming the field."""
    try:
        return model.model_validate_json(await request.body())
    except ValidationError as error:
        problems = [
            {**problem, "loc": ("body", *problem["loc"])}
            for problem in error.errors(include_url=False)
        ]
        raise RequestValidationError(problems) from None


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
