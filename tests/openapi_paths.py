"""Every GET operation of the OpenAPI document as a path a test can request."""

from __future__ import annotations

from typing import Any

import httpx

MUNICIPALITY = "564"  # Oulu: the sample's PTV services are there


async def concrete_paths(api: httpx.AsyncClient, spec: dict[str, Any]) -> list[str]:
    """Every GET path of the document, its parameters filled by following the document's
    links (list -> detail: the first item's id) or with a municipality code."""
    by_operation = {
        op["operationId"]: path for path, ops in spec["paths"].items() for op in ops.values()
    }
    filled: dict[str, str] = {}
    for path, ops in spec["paths"].items():
        links = ops.get("get", {}).get("responses", {}).get("200", {}).get("links", {})
        for link in links.values():
            value: Any = (await api.get(path)).json()
            ((parameter, expression),) = link["parameters"].items()
            for step in expression.removeprefix("$response.body#/").split("/"):
                value = value[int(step)] if isinstance(value, list) else value[step]
            target = by_operation[link["operationId"]]
            filled[target] = target.replace(f"{{{parameter}}}", str(value))
    paths = []
    for path, ops in spec["paths"].items():
        if "get" in ops:
            path = filled.get(path, path).replace("{code}", MUNICIPALITY)
            assert "{" not in path, f"no value for a parameter of {path}"
            paths.append(path)
    return paths
