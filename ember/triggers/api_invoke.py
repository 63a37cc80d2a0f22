"""How API Gateway calls a function, whichever API type routed the request: ask, invoke, wait at most so long.

API Gateway invokes only where the function's resource policy lets `apigateway.amazonaws.com` do
`lambda:InvokeFunction` with the route's `AWS:SourceArn` (or, with an integration's `CredentialsArn`,
as that role). The call goes through the one Invoker (`source="apigateway"`), so limits, REPORT,
records and metrics are a direct call's. If the integration times out first, the caller is answered
and the function runs on to its end, as on AWS; its call is metered all the same.
"""

from __future__ import annotations

import asyncio
import enum
import json
import logging
from dataclasses import dataclass
from typing import Any

from ember.arns import FunctionRef
from ember.core.invoker import Invoker, InvokeRequest
from ember.core.resource_policy import ResourcePolicies
from ember.errors import AwsError
from ember.execution.model import MAX_PAYLOAD_BYTES

log = logging.getLogger("ember.triggers")
PRINCIPAL = "apigateway.amazonaws.com"


class Outcome(enum.Enum):
    ANSWERED = "answered"  # the function returned; its payload is to be mapped
    DENIED = "denied"  # no resource policy lets API Gateway invoke
    REJECTED = "rejected"  # Lambda refused the invoke: throttled, no such function, event too large
    FUNCTION_ERROR = "function_error"  # the function raised, timed out or crashed
    TIMED_OUT = "timed_out"  # the integration timeout passed first


@dataclass(frozen=True)
class Target:
    function: FunctionRef
    source_arn: str  # what API Gateway sends as AWS:SourceArn
    timeout_s: float
    role: bool = False  # the integration has a CredentialsArn: API Gateway calls as that role


@dataclass(frozen=True)
class Invoked:
    outcome: Outcome
    payload: bytes = b""


class ApiInvoker:
    def __init__(self, invoker: Invoker, policies: ResourcePolicies) -> None:
        self.invoker = invoker
        self.policies = policies
        self._running: set[asyncio.Task[Any]] = set()  # calls the caller stopped waiting for

    async def call(self, target: Target, event: dict[str, Any]) -> Invoked:
        if not target.role and not self._permitted(target):
            return Invoked(Outcome.DENIED)
        payload = json.dumps(event, separators=(",", ":")).encode()
        if len(payload) > MAX_PAYLOAD_BYTES:
            return Invoked(Outcome.REJECTED)
        request = InvokeRequest(target.function.name, payload, target.function.qualifier, source="apigateway")
        task = asyncio.ensure_future(self.invoker.invoke(request))
        done, _ = await asyncio.wait({task}, timeout=target.timeout_s)
        if not done:
            self._running.add(task)
            task.add_done_callback(self._finished)
            return Invoked(Outcome.TIMED_OUT)
        try:
            result = task.result()
        except AwsError as error:
            log.info("Lambda refused API Gateway's invoke of %s: %s %s", target.function.name, error.code, error)
            return Invoked(Outcome.REJECTED)
        if result.function_error:
            return Invoked(Outcome.FUNCTION_ERROR, result.payload)
        return Invoked(Outcome.ANSWERED, result.payload)

    def _permitted(self, target: Target) -> bool:
        try:
            return self.policies.allows(target.function.name, target.function.qualifier, PRINCIPAL,
                                        context={"aws:sourcearn": target.source_arn})
        except AwsError:  # the function is gone: nothing allows it
            return False

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._running.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.info("an invoke API Gateway stopped waiting for failed: %s", task.exception())
