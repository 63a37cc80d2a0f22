"""A REST API's MOCK integration, answered as API Gateway answers it: no backend, a status code from the request
template, then the integration response that status selects (what SAM's `Cors` and CDK's preflight build).

The steps, as AWS's "Mock integrations for REST APIs" and "Integration passthrough behaviors" describe them:
1. The request template is chosen by the request's Content-Type (none: `application/json`). With no template
   for it, the body itself passes (`WHEN_NO_MATCH`; `WHEN_NO_TEMPLATES` when the method has none), else 415
   `{"message":"Unsupported Media Type"}`.
2. Its `statusCode` is read: a JSON object's integer, or the `{statusCode: 200}` CDK writes (not JSON; AWS
   reads it). No integer there (no template and no body included) is AWS's 500 "Internal server error"
   ("Unable to parse statusCode. It should be an integer that is defined in the request template").
3. The integration response whose `selectionPattern` matches the whole status code string (several: the one
   whose own status it is), else the one without a pattern (the default); none is AWS's 500 ("No match for
   output mapping and no default output mapping configured").
4. The answer has that response's `statusCode`, a header per `method.response.header.<Name>` mapped from a
   static `'value'`, and its `application/json` template (else its first) as the body, as text.
Ember does not evaluate VTL: a template with `$` or `#` is read as it is, and said so at import.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ember.triggers.http_call import HttpCall, HttpResponse
from ember.triggers.http_responses import JSON, json_message, rest_api_error

Record = dict[str, Any]
HEADER_TARGET = "method.response.header."
STATIC_RE = re.compile(r"^'(.*)'$", re.DOTALL)
# `{statusCode: 200}` and `{'statusCode': 200}`: what AWS's own reading of a template accepts beyond JSON.
LOOSE_STATUS_RE = re.compile(r"""["']?\bstatusCode["']?\s*:\s*(-?\d+)\s*(?=[,}\s]|$)""")
VTL_RE = re.compile(r"[$#]")


@dataclass(frozen=True)
class Mock:
    """What a deployed MOCK method answers from: read once per deployment."""

    request_templates: Mapping[str, str]
    passthrough: str  # WHEN_NO_MATCH, WHEN_NO_TEMPLATES or NEVER
    responses: tuple[Record, ...]  # the integration responses, by status code


def mock_of(integration: Record) -> Mock:
    responses = integration.get("integrationResponses") or {}
    return Mock({key.lower(): value for key, value in (integration.get("requestTemplates") or {}).items()},
                str(integration.get("passthroughBehavior") or "WHEN_NO_MATCH").upper(),
                tuple(responses[code] for code in sorted(responses)))


def answer(mock: Mock, call: HttpCall) -> HttpResponse:
    """The MOCK integration's answer to one call."""
    text = request_text(mock, call)
    if text is None:
        return json_message(415, "Unsupported Media Type")
    status = status_of(text)
    chosen = select(mock.responses, status) if status is not None else None
    if chosen is None:
        return rest_api_error(500)
    return HttpResponse(int(chosen["statusCode"]), [("content-type", JSON), *headers_of(chosen)], body_of(chosen))


def request_text(mock: Mock, call: HttpCall) -> str | None:
    """The request template for the call's content type, the body passed through, or None (415)."""
    kind = (call.header("content-type") or JSON).split(";", 1)[0].strip().lower()
    template = mock.request_templates.get(kind)
    if template is not None:
        return template
    if mock.passthrough == "NEVER" or (mock.passthrough == "WHEN_NO_TEMPLATES" and mock.request_templates):
        return None
    return call.body.decode("utf-8", "replace")


def status_of(text: str) -> int | None:
    """The integer `statusCode` a request template's output names, or None where it names none."""
    try:
        document = json.loads(text)
    except ValueError:
        match = LOOSE_STATUS_RE.search(text) if text.lstrip().startswith("{") else None
        return int(match.group(1)) if match else None
    value = document.get("statusCode") if isinstance(document, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def select(responses: tuple[Record, ...], status: int) -> Record | None:
    """The integration response a status code selects: a pattern's (its own status first), else the default."""
    code = str(status)
    matched = [response for response in responses if response.get("selectionPattern")
               and _full_match(response["selectionPattern"], code)]
    own = [response for response in matched if response["statusCode"] == code]
    default = [response for response in responses if not response.get("selectionPattern")]
    chosen = own or matched or default
    return chosen[0] if chosen else None


def _full_match(pattern: str, text: str) -> bool:
    try:
        return re.fullmatch(pattern, text) is not None
    except re.error:
        return False


def headers_of(response: Record) -> list[tuple[str, str]]:
    """The method response's headers mapped from static values (`'*'` → `*`); any other source is skipped."""
    headers = []
    for target, source in (response.get("responseParameters") or {}).items():
        static = STATIC_RE.match(str(source))
        if target.startswith(HEADER_TARGET) and static:
            headers.append((target[len(HEADER_TARGET):], static.group(1)))
    return headers


def body_of(response: Record) -> bytes:
    templates = response.get("responseTemplates") or {}
    template = templates.get(JSON, next(iter(templates.values()), None))
    return str(template or "").encode()


def mock_warnings(integration: Record) -> list[str]:
    """What of a MOCK integration Ember answers otherwise than API Gateway would."""
    if integration.get("type") != "MOCK":
        return []
    warnings = [f"request template {kind} has VTL ($ or #), which Ember does not evaluate: its text is read "
                "as it is for statusCode" for kind, text in (integration.get("requestTemplates") or {}).items()
                if VTL_RE.search(str(text))]
    for code, response in sorted((integration.get("integrationResponses") or {}).items()):
        warnings += [f"integration response {code}: template {kind} has VTL ($ or #), which Ember does not "
                     "evaluate: it is sent as literal text"
                     for kind, text in (response.get("responseTemplates") or {}).items() if VTL_RE.search(str(text))]
        warnings += [f"integration response {code}: {target} from {source} is skipped (Ember maps only static "
                     "'values' for a MOCK integration)"
                     for target, source in (response.get("responseParameters") or {}).items()
                     if not (target.startswith(HEADER_TARGET) and STATIC_RE.match(str(source)))]
    return warnings
