"""AWS_IAM function URLs: the request's SigV4 signature (service `lambda`) and the caller's permission.

The signature is checked as every API request's is (ember.api.sigv4 over the path as sent, with
the server's keys and the environments' session keys). The operator's keys are the account's own
and may always; a session's role, with the function's resource policy, must allow both
`lambda:InvokeFunctionUrl` and `lambda:InvokeFunction`, as AWS has asked since October 2025.
"""

from __future__ import annotations

from typing import Any

from ember.api import sigv4
from ember.api.authorization import Authorizer
from ember.api.middleware import KeyRing
from ember.arns import function_arn
from ember.config import ACCOUNT_ID
from ember.core.function_urls import FunctionUrl
from ember.core.resource_policy import ResourcePolicies
from ember.errors import AwsError
from ember.triggers.http_call import HttpCall

CONTEXT = {"lambda:functionurlauthtype": "AWS_IAM", "lambda:invokedviafunctionurl": "true"}


class SignedCallers:
    """The `SignedCaller` ember.triggers.function_url asks (None: not signed, or not allowed)."""

    def __init__(self, keys: KeyRing | None, authorizer: Authorizer, policies: ResourcePolicies, region: str) -> None:
        self.keys = keys  # None: `--auth none`, where nothing is signed and every caller is the operator
        self.authorizer = authorizer
        self.policies = policies
        self.region = region

    def __call__(self, call: HttpCall, url: FunctionUrl) -> dict[str, Any] | None:
        headers = headers_of(call)
        if self.keys is None:
            return identity("", f"arn:aws:iam::{ACCOUNT_ID}:root", ACCOUNT_ID)
        query = f"?{call.query}" if call.query else ""
        try:
            key = sigv4.verify(call.method, f"http://{headers.get('host', 'localhost')}{call.sent_path}{query}",
                               headers, call.body, self.keys, "lambda", self.region)
            session = self.keys.session(key, headers.get("x-amz-security-token"))
        except AwsError:
            return None
        if session is None:
            return identity(key, f"arn:aws:iam::{ACCOUNT_ID}:root", ACCOUNT_ID)
        arn = function_arn(self.region, url.function, url.qualifier)
        policy = self.policies.document(url.function, url.qualifier)
        for action in ("lambda:InvokeFunctionUrl", "lambda:InvokeFunction"):
            if not self.authorizer.decide(session, action, arn, policy, CONTEXT).allowed:
                return None
        return identity(key, session.principal, f"{session.role_name}:{session.function_name}")


def headers_of(call: HttpCall) -> dict[str, str]:
    """Lower-case names, repeats joined as SigV4's canonical form joins them."""
    headers: dict[str, str] = {}
    for name, value in call.headers:
        key = name.lower()
        headers[key] = f"{headers[key]},{value}" if key in headers else value
    return headers


def identity(access_key: str, user_arn: str, caller: str) -> dict[str, Any]:
    """requestContext.authorizer.iam, as function URLs fill it."""
    return {"accessKey": access_key, "accountId": ACCOUNT_ID, "callerId": caller, "cognitoIdentity": None,
            "principalOrgId": None, "userArn": user_arn, "userId": caller}
