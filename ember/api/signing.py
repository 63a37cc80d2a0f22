"""Which API a request is for, and so the signing name its SigV4 scope must carry.

Every API shares one endpoint, so the request itself says which it is: IAM's query protocol is a
form-encoded POST, JSON-protocol APIs name a target, REST APIs their paths. The signing names are
botocore's (`service_model.signing_name`): apigatewayv2's client signs as `apigateway`, as apigateway's (v1) does.
"""

from __future__ import annotations

from collections.abc import Mapping

FORM = "application/x-www-form-urlencoded"
# X-Amz-Target prefixes of the JSON-protocol APIs: (prefix, api, signing name).
TARGETS = (("Logs_20140328.", "logs", "logs"), ("AWSEvents.", "events", "events"))
# Path prefixes of apigateway's (v1) operations, from its model (tests/unit/test_signing.py checks them); its
# tags are told from other services' `/tags/<arn>` by the ARN.
APIGATEWAY_V1 = ("/restapis", "/account", "/apikeys", "/clientcertificates", "/domainname", "/sdktypes",
                 "/rejectdomainnameaccessassociations", "/usageplans", "/vpclinks", "/tags/arn:aws:apigateway:")
# Path prefixes of REST APIs other than Lambda's: (prefix, api, signing name).
PATHS = (("/v2/", "apigatewayv2", "apigateway"), ("/schedules", "scheduler", "scheduler"),
         ("/schedule-groups", "scheduler", "scheduler"), ("/tags/arn:aws:scheduler:", "scheduler", "scheduler"),
         *((prefix, "apigateway", "apigateway") for prefix in APIGATEWAY_V1))
# Services whose clients sign with whatever region they were given (IAM is global: boto3 signs a
# custom endpoint with the client's region), so any region in the scope is accepted.
GLOBAL = frozenset({"iam"})


def api_of(method: str, path: str, headers: Mapping[str, str]) -> tuple[str, str]:
    """(the API, its signing name) for one request."""
    if method == "POST" and path == "/" and headers.get("content-type", "").startswith(FORM):
        return "iam", "iam"
    target = headers.get("x-amz-target", "")
    for prefix, api, signing_name in TARGETS:
        if target.startswith(prefix):
            return api, signing_name
    for prefix, api, signing_name in PATHS:
        if path.startswith(prefix):
            return api, signing_name
    return "lambda", "lambda"


def expected_region(signing_name: str, server_region: str) -> str | None:
    """The region a scope must name; None accepts any."""
    return None if signing_name in GLOBAL else server_region
