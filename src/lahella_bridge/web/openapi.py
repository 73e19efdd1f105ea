"""The OpenAPI document with the error responses the service sends.

FastAPI documents every 422 as its own `HTTPValidationError` JSON, while the handlers answer
with RFC 9457 problem details (`application/problem+json`), and it knows nothing of the 404s
and 503s the handlers raise. The rules below derive them from each route's parameters and
dependencies, so a new route is documented without listing its errors by hand. The Linked
Events and HSDS profiles answer their own errors as those APIs do (`{"detail": ...}`, 400/404,
listed on their routes, 422 too where their parameters have checks FastAPI makes:
interop.profile answers those in the profile's shape); FastAPI's own 422 document is dropped
for them. Unknown paths and methods are problems everywhere (web.problems).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from fastapi import params
from fastapi.dependencies.models import Dependant
from fastapi.dependencies.utils import get_flat_params
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.routing import BaseRoute

from lahella_bridge.web.deps import get_db, require_admin
from lahella_bridge.web.filters import reject_unknown_parameters

PROFILE_PREFIXES = ("/linkedevents/", "/hsds/")
PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 problem details.",
    "type": "object",
    "required": ["type", "title", "status", "detail", "instance"],
    "properties": {
        "type": {"type": "string", "example": "about:blank"},
        "title": {"type": "string", "example": "Invalid parameter"},
        "status": {"type": "integer", "example": 422},
        "detail": {"type": "string", "example": "stage: unknown value 'nope'; one of ..."},
        "instance": {
            "type": "string",
            "description": "The path the request asked for.",
            "example": "/v1/activities",
        },
        "errors": {
            "type": "array",
            "description": "One entry per refused parameter, all of them at once.",
            "items": {
                "type": "object",
                "required": ["parameter", "in", "message"],
                "properties": {
                    "parameter": {"type": "string"},
                    "in": {"type": "string"},
                    "message": {"type": "string"},
                },
            },
        },
    },
}


def opens_first_item(operation_id: str, parameter: str, items: str) -> dict[str, Any]:
    """An OpenAPI link from a list's 200 response: the first item's `id` (at JSON pointer
    `items`/0/id) opens it in `operation_id`. Readers of the document see how the operations
    connect; schemathesis' stateful phase reaches the detail with an id that exists."""
    return {
        "links": {
            operation_id: {
                "operationId": operation_id,
                "parameters": {parameter: f"$response.body#{items}/0/id"},
            }
        }
    }


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for dependency in dependant.dependencies:
        if dependency.call is not None:
            yield dependency.call
        yield from _calls(dependency)


def _problem(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {
            "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
        },
    }


def _problem_errors(route: APIRoute, declared: dict[str, Any]) -> dict[str, Any]:
    calls = set(_calls(route.dependant))
    parameters = get_flat_params(route.dependant)
    errors: dict[str, str] = {}
    if parameters or "422" in declared:
        errors["422"] = "Invalid parameter"
    if reject_unknown_parameters in calls:
        errors["422"] = "Invalid or unknown parameter"
    if any(isinstance(p.field_info, params.Path) for p in parameters):
        errors["404"] = "Not found"
    elif any(p.alias == "page" for p in parameters):
        errors["404"] = "A page past the end of the list"
    if require_admin in calls:
        errors["401"] = "No X-API-Key header"
        errors["403"] = "A wrong X-API-Key, or admin endpoints disabled (no key configured)"
    if get_db in calls:
        errors["503"] = "Database unavailable, or the query took too long; retry shortly"
    # Errors a route lists itself (a description, no body): its wording, the problem body.
    errors.update(
        (status, response["description"])
        for status, response in declared.items()
        if status[0] in "45" and "content" not in response
    )
    return {status: _problem(description) for status, description in errors.items()}


def document_errors(spec: dict[str, Any], routes: list[BaseRoute]) -> dict[str, Any]:
    """Rewrites `spec` (FastAPI's document) in place and returns it."""
    for context in iter_route_contexts(routes):  # included routers' routes, with their prefix
        route, path = context.original_route, context.path_format
        if not isinstance(route, APIRoute) or not route.include_in_schema or path is None:
            continue
        for method in route.methods or ():
            responses = spec["paths"][path][method.lower()]["responses"]
            if path.startswith(PROFILE_PREFIXES):
                if "HTTPValidationError" in str(responses.get("422")):
                    responses.pop("422")  # a route that lists its 422 answers it itself
            else:
                responses.update(_problem_errors(route, responses))
    schemas = spec.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = PROBLEM_SCHEMA
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    return spec
