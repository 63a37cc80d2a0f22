"""Physical names and ids, decided from the stack and the logical id so that a deploy is repeatable.

CloudFormation names what a template leaves unnamed `<stack>-<LogicalId>-<random suffix>` (the suffix 12-13
upper-case letters and digits, the whole cut to the type's limit). Ember keeps the shape but derives the suffix
from the stack and logical id, so a second deploy finds the same function, and a template's environment variable
naming a DynamoDB table gets the name CloudFormation would have given it.

API ids and function URL ids are chosen by the server on AWS. Here they are derived the same way (10 and 32
characters of [a-z0-9], AWS's own lengths), so Outputs such as `https://${ServerlessRestApi}.execute-api...` and
permissions' SourceArns resolve before anything is created. The apply step asks the server to use these ids;
for a server that assigns its own, `physical.Where.known_ids` (logical id -> id) overrides them and the stack
is loaded again with them.
"""

from __future__ import annotations

import hashlib
import string

ALPHABET = string.digits + string.ascii_lowercase


def _digest(*parts: str) -> int:
    return int.from_bytes(hashlib.sha256("\0".join(parts).encode()).digest(), "big")


def _base36(number: int, length: int) -> str:
    chars = []
    for _ in range(length):
        number, index = divmod(number, 36)
        chars.append(ALPHABET[index])
    return "".join(chars)


def suffix(stack: str, logical_id: str, length: int = 12) -> str:
    return _base36(_digest("name", stack, logical_id), length).upper()


def physical_name(stack: str, logical_id: str, limit: int = 64, lowercase: bool = False) -> str:
    """`<stack>-<LogicalId>-<SUFFIX>`, the prefix cut so the whole fits `limit`, as CloudFormation does."""
    tail = suffix(stack, logical_id)
    head = f"{stack}-{logical_id}"[: max(1, limit - len(tail) - 1)]
    name = f"{head}-{tail}"
    return name.lower() if lowercase else name


def api_id(stack: str, logical_id: str) -> str:
    """An API Gateway (v1 or v2) id: 10 characters of [a-z0-9]."""
    return _base36(_digest("api", stack, logical_id), 10)


def url_id(stack: str, logical_id: str) -> str:
    """A function URL's id, the first label of its host: 32 characters of [a-z0-9]."""
    return _base36(_digest("url", stack, logical_id), 32)


def deployment_id(stack: str, logical_id: str) -> str:
    return _base36(_digest("deployment", stack, logical_id), 6)
