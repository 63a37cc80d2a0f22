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
    variables: tuple[str | None, ...] = ()  # per segment: its variable's name, None for a literal

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
    segments, greedy = _path_pattern(text, path)
    variables = tuple(match[1] if (match := VARIABLE_RE.match(part)) else None for part in segments)
    return RouteKey(text, method, segments, greedy, variables)


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
    """The routes of one API, sorted once by specificity; `match` answers the first that fits, or None."""

    def __init__(self, routes: Iterable[tuple[RouteKey, T]]) -> None:
        self.routes = list(routes)
        self._full: dict[int, list[tuple[RouteKey, T]]] = {}  # by segment count
        greedy: list[tuple[RouteKey, T]] = []
        self._default: tuple[RouteKey, T] | None = None
        for key, value in self.routes:
            if key.is_default:
                self._default = (key, value)
            elif key.greedy is None:
                self._full.setdefault(len(key.segments), []).append((key, value))
            else:
                greedy.append((key, value))
        for bucket in self._full.values():
            bucket.sort(key=lambda route: _specificity(route[0]))
        self._greedy = sorted(greedy, key=lambda route: (-len(route[0].segments), _specificity(route[0])))

    def match(self, method: str, path: str) -> RouteMatch[T] | None:
        segments = path_segments(path)
        for key, value in self._full.get(len(segments), ()):
            params = _params(key, method, segments)
            if params is not None:
                return RouteMatch(value, key, params)
        for key, value in self._greedy:
            if len(segments) > len(key.segments):
                params = _params(key, method, segments)
                if params is not None:
                    rest = "/".join(segments[len(key.segments):]) + ("/" if path.endswith("/") else "")
                    return RouteMatch(value, key, {**params, str(key.greedy): rest})
        return RouteMatch(self._default[1], self._default[0], {}) if self._default else None


def path_segments(path: str) -> list[str]:
    """A request path as decoded segments; one trailing slash is not a segment (`/hello/` is `/hello`)."""
    parts = path.split("/")[1:]
    if parts and parts[-1] == "":
        parts.pop()
    return [unquote(part) if "%" in part else part for part in parts]


def _specificity(key: RouteKey) -> tuple[tuple[int, ...], int]:
    """Literal segments before variables, left to right; then a route's own method before ANY."""
    return tuple(0 if name is None else 1 for name in key.variables), int(key.method == "ANY")


def _params(key: RouteKey, method: str, segments: list[str]) -> dict[str, str] | None:
    """The path parameters of the route's fixed segments, or None if the method or a segment differs."""
    if key.method != method and key.method != "ANY":
        return None
    params: dict[str, str] = {}
    for pattern, name, segment in zip(key.segments, key.variables, segments, strict=False):
        if name is not None:
            if not segment:
                return None
            params[name] = segment
        elif pattern != segment:
            return None
    return params


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
