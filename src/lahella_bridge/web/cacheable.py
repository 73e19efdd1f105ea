"""Which requests the response cache may answer: GETs of the routes declared cacheable (a
router's `route_class=CacheableRoute`), so a new surface declares it where its routes are
instead of in a list of path prefixes.

The declarations are read once, when the app starts, into one regular expression of the
app's GET routes in the router's order: a path costs one match (then remembered), and the
route that decides is the one the router will pick (the first that matches), without
routing twice.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence

from fastapi.routing import APIRoute, iter_route_contexts
from starlette.routing import BaseRoute, Mount, Route

PATHS_REMEMBERED = 4096
_PARAMETER = re.compile(r"\(\?P<\w+>")  # a path parameter's group in a route's regex


class CacheableRoute(APIRoute):
    """A route of the published data: its GET answers change only when a harvest moves the
    data version, so the response cache may keep and replay them. Otherwise an `APIRoute`
    (the OpenAPI document is the same)."""


def cacheable_paths(routes: Sequence[BaseRoute]) -> Callable[[str], bool]:
    """Whether a GET for a path reaches a `CacheableRoute` of `routes` (included routers'
    routes too, with their prefixes)."""
    alternatives = []
    for index, context in enumerate(iter_route_contexts(routes)):
        route, methods = context.original_route, context.methods
        if isinstance(route, Mount) or (
            isinstance(route, Route) and (methods is None or "GET" in methods)
        ):
            # One named group per route, its name telling whether it is cacheable; the
            # route's own parameter groups made anonymous (their names repeat).
            name = f"{'c' if isinstance(route, CacheableRoute) else 'n'}{index}"
            pattern = _PARAMETER.sub("(?:", context.path_regex.pattern)
            alternatives.append(f"(?P<{name}>{pattern})")
    matcher = re.compile("|".join(alternatives) or "(?!)")

    # The paths asked for repeat (a feed page, its 304s): one match each while remembered.
    @functools.lru_cache(maxsize=PATHS_REMEMBERED)
    def cacheable(path: str) -> bool:
        match = matcher.match(path)
        return match is not None and str(match.lastgroup).startswith("c")

    return cacheable
