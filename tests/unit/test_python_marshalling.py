"""ember/runtimes/python/marshalling.py writes every result byte for byte as awslambdaric 4.2.2's marshaller."""

from __future__ import annotations

import datetime
import math
from collections import namedtuple
from decimal import Decimal

import pytest
from awslambdaric.lambda_runtime_exception import FaultException
from awslambdaric.lambda_runtime_marshaller import LambdaMarshaller

from ember.runtimes.python.marshalling import MarshalError, Marshaller

Point = namedtuple("Point", "x y")
CASES = {
    "dynamodb item": {"Item": {"id": "1", "price": Decimal("19.99"), "qty": Decimal("3"), "big": Decimal("1E+400")}},
    "decimal specials": [Decimal("NaN"), Decimal("-0"), Decimal("Infinity"), Decimal("0.000001")],
    "non-ascii": {"名前": "José ☃ 😀", "quote": "\"\\\n\t\x01", "sep": "\u2028\u2029"},
    "floats": [1.5, 1e300, math.nan, math.inf, -math.inf, 0.1 + 0.2],
    "nested bytes": {"body": b"caf\xc3\xa9", b"key": [b"x"]},
    "namedtuple": {"at": Point(1, 2), "list": [Point(x=3, y=(4, 5))]},
    "tuples and keys": {3: (1, 2), 2.5: None, True: False, None: True},  # True == 1: another int key
    "plain": {"statusCode": 200, "headers": {"Content-Type": "text/plain"}, "body": "ok"},
    "text": "plain text",
    "empty": [{}, [], ""],
}
FAILURES = {"datetime": {"at": datetime.datetime(2026, 1, 1)}, "set": {1, 2}, "bad key": {(1, 2): 1},
            "circular": (lambda d: d.setdefault("self", d))({}), "bad bytes": {"b": b"\xff"}}
RUNTIMES = ["AWS_Lambda_python3.10", "AWS_Lambda_python3.11", "AWS_Lambda_python3.12", "AWS_Lambda_python3.13",
            "AWS_Lambda_python3.14"]


def awslambdaric(monkeypatch, execution_env: str, value) -> tuple[bytes, str]:
    monkeypatch.setenv("AWS_EXECUTION_ENV", execution_env)
    body, content_type = LambdaMarshaller().marshal_response(value)
    return (body if isinstance(body, bytes) else body.encode()), content_type


@pytest.mark.parametrize("execution_env", RUNTIMES)
@pytest.mark.parametrize("case", sorted(CASES))
def test_results_are_the_bytes_awslambdaric_writes(monkeypatch, execution_env, case):
    assert Marshaller(execution_env).response(CASES[case]) == awslambdaric(monkeypatch, execution_env, CASES[case])


def test_bytes_pass_through_as_application_unknown(monkeypatch):
    assert Marshaller("AWS_Lambda_python3.12").response(b"\x00\xff") == (b"\x00\xff", "application/unknown")
    assert awslambdaric(monkeypatch, "AWS_Lambda_python3.12", b"\x00\xff") == (b"\x00\xff", "application/unknown")


def test_text_is_raw_utf8_from_python312_and_escaped_before():
    assert Marshaller("AWS_Lambda_python3.12").response("é")[0] == '"é"'.encode()
    assert Marshaller("AWS_Lambda_python3.11").response("é")[0] == b'"\\u00e9"'


@pytest.mark.parametrize("case", sorted(FAILURES))
def test_what_awslambdaric_refuses_is_a_marshal_error_with_its_message(monkeypatch, case):
    monkeypatch.setenv("AWS_EXECUTION_ENV", "AWS_Lambda_python3.12")
    with pytest.raises(FaultException) as theirs:
        LambdaMarshaller().marshal_response(FAILURES[case])
    with pytest.raises(MarshalError) as ours:
        Marshaller("AWS_Lambda_python3.12").response(FAILURES[case])
    assert str(ours.value) == theirs.value.msg
