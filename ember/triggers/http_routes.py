"""API Gateway's route selection, pure: which route a method and path reach, and its path parameters.

API Gateway picks the most specific match: a route whose every segment matched (literal segments
before `{variables}`, left to right) beats one with a greedy `{proxy+}` (the longer prefix first),
a route naming the request's method beats `ANY` on the same path, and `$default` comes last. The
same table serves HTTP APIs and REST APIs (which have no `$default`). Stage selection is
`split_stage`: a named stage owns `/<stage>/…`, the `$default` stage every other path.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar
from urllib.parse import unquote

T = TypeVar("T")
DEFAULT = "$default"
METHODS = frozenset({"ANY", "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})
VARIABLE_RE = re.compile(r"^\{([A-Za-z0-9._:-]+)(\+?)\}$")
LITERAL_RE = re.compile(r"^[^{}/]+$")


class RouteKeyError(ValueError):
    """A route key AWS would refuse; the message says why."""


@dataclass(frozen=True)
class RouteKey:
    text: str
    method: str  # GET, …, ANY; "" for $default
    segments: tuple[str, ...]  # literal segments and {variables}, the greedy one excluded
    greedy: str | None = None  # the name of a trailing {name+}

    @property
    def is_default(self) -> bool:
        return self.text == DEFAULT

    @property
    def path(self) -> str:
        """The route's path as written, e.g. `/items/{id}` (empty for $default)."""
        if self.is_default:
            return ""
        parts = [*self.segments, *([f"{{{self.greedy}+}}"] if self.greedy else [])]
        return "/" + "/".join(parts)


def parse_route_key(text: str) -> RouteKey:
    """`$default`, or `METHOD /path` with `{var}` segments and at most one trailing `{var+}`."""
    if text == DEFAULT:
        return RouteKey(text, "", ())
    method, _, path = text.partition(" ")
    if method not in METHODS:
        raise RouteKeyError(f"Invalid route key: {text}. The HTTP method must be one of {', '.join(sorted(METHODS))}")
    return RouteKey(text, method, *_path_pattern(text, path))


def _path_pattern(text: str, path: str) -> tuple[tuple[str, ...], str | None]:
    if not path.startswith("/") or " " in path:
        raise RouteKeyError(f"Invalid route key: {text}. The path must start with '/'")
    parts = [part for part in path.split("/")[1:] if part] if path != "/" else []
    segments: list[str] = []
    greedy = None
    for index, part in enumerate(parts):
        variable = VARIABLE_RE.match(part)
        if variable and variable[2]:
            if index != len(parts) - 1:
                raise RouteKeyError(f"Invalid route key: {text}. A greedy path variable must be the last segment")
            greedy = variable[1]
        elif variable or LITERAL_RE.match(part):
            segments.append(part)
        else:
            raise RouteKeyError(f"Invalid route key: {text}. Invalid path segment '{part}'")
    names = [m[1] for m in map(VARIABLE_RE.match, segments) if m] + ([greedy] if greedy else [])
    if len(names) != len(set(names)):
        raise RouteKeyError(f"Invalid route key: {text}. Path variable names must be unique")
    return tuple(segments), greedy


@dataclass(frozen=True)
class RouteMatch(Generic[T]):
    value: T
    key: RouteKey
    path_parameters: dict[str, str]


class RouteTable(Generic[T]):
    """The routes of one API; `match` answers the most specific one, or None."""

    def __init__(self, routes: Iterable[tuple[RouteKey, T]]) -> None:
        self.routes = list(routes)

    def match(self, method: str, path: str) -> RouteMatch[T] | None:
        segments = path_segments(path)
        best: tuple[tuple[int, ...], RouteMatch[T]] | None = None
        for key, value in self.routes:
            params = _match(key, method, segments, path)
            if params is None:
                continue
            rank = _rank(key, method)
            if best is None or rank < best[0]:
                best = (rank, RouteMatch(value, key, params))
        return best[1] if best else None


def path_segments(path: str) -> list[str]:
    """A request path as decoded segments; one trailing slash is not a segment (`/hello/` is `/hello`)."""
    parts = path.split("/")[1:]
    if parts and parts[-1] == "":
        parts.pop()
    return [unquote(part) for part in parts]


def _match(key: RouteKey, method: str, segments: list[str], path: str) -> dict[str, str] | None:
    if key.is_default:
        return {}
    if key.method not in ("ANY", method):
        return None
    fixed = len(key.segments)
    if len(segments) < fixed or (key.greedy is None and len(segments) != fixed) or \
            (key.greedy is not None and len(segments) == fixed):
        return None
    params: dict[str, str] = {}
    for pattern, segment in zip(key.segments, segments, strict=False):
        variable = VARIABLE_RE.match(pattern)
        if variable:
            if not segment:
                return None
            params[variable[1]] = segment
        elif pattern != segment:
            return None
    if key.greedy is not None:
        rest = "/".join(segments[fixed:]) + ("/" if path.endswith("/") else "")
        params[key.greedy] = rest
    return params


def _rank(key: RouteKey, method: str) -> tuple[int, ...]:
    """Lower is more specific: full matches, then greedy (longest prefix first), then $default."""
    if key.is_default:
        return (2,)
    literals = tuple(1 if VARIABLE_RE.match(s) else 0 for s in key.segments)
    any_method = 1 if key.method == "ANY" and method != "ANY" else 0
    if key.greedy is not None:
        return (1, -len(key.segments), *literals, any_method)
    return (0, *literals, any_method)


def split_stage(path: str, stages: Iterable[str]) -> tuple[str, str] | None:
    """(stage, the path the routes see): `/prod/items` is stage `prod`'s `/items`; any other path is
    the `$default` stage's whole path; None when no stage serves it."""
    names = set(stages)
    first, _, rest = path[1:].partition("/")
    if first and first != DEFAULT and unquote(first) in names:
        return unquote(first), "/" + rest
    if DEFAULT in names:
        return DEFAULT, path
    return None
