"""How Ember's Python runtime turns a handler's result into the response body: as awslambdaric does.

Stdlib only and no `ember` import, like the bootstrap that loads it by path."""

from __future__ import annotations

import decimal
import json
from collections.abc import Iterator
from typing import Any


class MarshalError(Exception):
    """The result can't be written as JSON; the message is awslambdaric's."""


class Marshaller:
    """Results as awslambdaric's marshaller writes them (simplejson, which Ember does not ship): a Decimal as
    its str() for a raw number, bytes inside a result as UTF-8 text, a namedtuple (anything with `_asdict`) as
    an object, NaN and Infinity bare; raw UTF-8 from python3.12 on, `\\u` escapes before (awslambdaric
    decides by AWS_EXECUTION_ENV). A result that is bytes is sent as it is, as application/unknown.

    The C-accelerated json module writes everything it can; only what it can't, or a result holding
    arrays that may be namedtuples, takes the slower walk below."""

    def __init__(self, execution_env: str) -> None:
        version = execution_env.removeprefix("AWS_Lambda_python3.")
        self.ensure_ascii = not (version.isdigit() and int(version) >= 12)
        self._string = json.encoder.encode_basestring_ascii if self.ensure_ascii else json.encoder.encode_basestring

    def response(self, result: Any) -> tuple[bytes, str]:
        if isinstance(result, bytes):
            return result, "application/unknown"
        try:
            return self.dumps(result).encode(), "application/json"
        except (TypeError, ValueError) as exc:  # UnicodeError is a ValueError
            raise MarshalError(f"Unable to marshal response: {exc}") from exc

    def dumps(self, value: Any) -> str:
        try:
            text = json.dumps(value, ensure_ascii=self.ensure_ascii, default=_not_plain)
        except (TypeError, ValueError):
            text = None  # a Decimal, bytes, a bytes key, an unknown type: the walk decides
        if text is None or ("[" in text and _has_asdict(value)):
            return "".join(self._walk(value, set()))
        return text

    def _walk(self, value: Any, open_ids: set[int]) -> Iterator[str]:
        if isinstance(value, str):
            yield self._string(value)
        elif isinstance(value, bytes):
            yield self._string(value.decode("utf-8"))
        elif value is None or value is True or value is False:
            yield {None: "null", True: "true", False: "false"}[value]
        elif isinstance(value, int):
            yield int.__repr__(value)
        elif isinstance(value, float):
            yield _float_text(value)
        elif isinstance(value, decimal.Decimal):
            yield "NaN" if value.is_nan() else str(value)
        else:
            yield from self._walk_container(value, open_ids)

    def _walk_container(self, value: Any, open_ids: set[int]) -> Iterator[str]:
        if id(value) in open_ids:
            raise ValueError("Circular reference detected")
        open_ids.add(id(value))
        as_dict = getattr(value, "_asdict", None)
        if callable(as_dict):
            yield from self._walk_object(as_dict(), open_ids)
        elif isinstance(value, (list, tuple)):
            yield "[" + ", ".join("".join(self._walk(item, open_ids)) for item in value) + "]"
        elif isinstance(value, dict):
            yield from self._walk_object(value, open_ids)
        else:
            raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")
        open_ids.discard(id(value))

    def _walk_object(self, value: dict[Any, Any], open_ids: set[int]) -> Iterator[str]:
        members = (f"{self._string(_key_text(key))}: {''.join(self._walk(item, open_ids))}"
                   for key, item in value.items())
        yield "{" + ", ".join(members) + "}"


def _not_plain(value: Any) -> Any:
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _has_asdict(value: Any) -> bool:
    """Whether anything inside has `_asdict` (a namedtuple), which json would write as an array."""
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is dict:
            stack.extend(item.values())
        elif kind is list:
            stack.extend(item)
        elif kind not in (str, int, float, bool, type(None)):
            if callable(getattr(item, "_asdict", None)):
                return True
            if isinstance(item, (list, tuple)):
                stack.extend(item)
            elif isinstance(item, dict):
                stack.extend(item.values())
    return False


def _float_text(value: float) -> str:
    if value != value:
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "Infinity" if value > 0 else "-Infinity"
    return float.__repr__(value)


def _key_text(key: Any) -> str:
    if isinstance(key, str):
        return key
    if isinstance(key, bytes):
        return key.decode("utf-8")
    if isinstance(key, float):
        return _float_text(key)
    if key is True or key is False or key is None:
        return {None: "null", True: "true", False: "false"}[key]
    if isinstance(key, int):
        return str(int(key))
    raise TypeError(f"keys must be str, int, float, bool or None, not {type(key).__name__}")
