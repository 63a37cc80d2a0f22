"""The boto3 clients a stack is read and applied through, all on Ember's one endpoint."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

SERVICES = ("lambda", "iam", "apigatewayv2", "apigateway", "events", "scheduler")


@dataclass(frozen=True)
class Clients:
    lambda_: Any
    iam: Any
    apigatewayv2: Any
    apigateway: Any
    events: Any
    scheduler: Any

    @classmethod
    def make(cls, client: Callable[[str], Any]) -> Clients:
        """`client(service)` makes one boto3 client (the CLI's, or a test's)."""
        lambda_, iam, v2, v1, events, scheduler = (client(service) for service in SERVICES)
        return cls(lambda_, iam, v2, v1, events, scheduler)
