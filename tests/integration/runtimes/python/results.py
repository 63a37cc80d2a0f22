"""Results that JSON alone can't write, returned by name: the same handler on Ember's Python runtime and on
awslambdaric must answer with the same bytes."""

import datetime
import math
from collections import namedtuple
from decimal import Decimal

Point = namedtuple("Point", "x y")
RESULTS = {
    "dynamodb": lambda: {"Item": {"id": "1", "price": Decimal("19.99"), "qty": Decimal("3"), "nan": Decimal("NaN")}},
    "unicode": lambda: {"名前": "José ☃ 😀", "ctl": "\"\\\n\x01"},
    "bytes": lambda: b"\x00\x01binary\xff",
    "nested-bytes": lambda: {"body": b"caf\xc3\xa9"},
    "namedtuple": lambda: {"at": Point(1, (2, 3))},
    "floats": lambda: [1.5, math.nan, math.inf, 0.1 + 0.2],
    "plain": lambda: {"statusCode": 200, "body": "ok"},
    "datetime": lambda: {"at": datetime.datetime(2026, 1, 1)},
    "set": lambda: {1, 2},
}


def handler(event, context):
    return RESULTS[event["case"]]()
