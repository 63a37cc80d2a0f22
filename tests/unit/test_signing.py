"""ember.api.signing: every operation of the APIs sharing one endpoint is told apart by its request alone."""

from __future__ import annotations

import botocore.session
import pytest

from ember.api.signing import api_of

SESSION = botocore.session.get_session()


def _paths(service: str) -> list[tuple[str, str]]:
    """(method, path) of each operation, its labels filled in as a client would fill them."""
    model = SESSION.get_service_model(service)
    found = []
    for name in model.operation_names:
        http = model.operation_model(name).http
        path = http["requestUri"].split("?")[0]
        path = path.replace("{resource_arn}", "arn:aws:apigateway:us-east-1::/restapis/abc")
        path = path.replace("{ResourceArn}", "arn:aws:scheduler:us-east-1:000000000000:schedule-group/g")
        found.append((http["method"], path))
    return found


@pytest.mark.parametrize(("service", "expected"), [("apigateway", ("apigateway", "apigateway")),
                                                  ("apigatewayv2", ("apigatewayv2", "apigateway")),
                                                  ("scheduler", ("scheduler", "scheduler")),
                                                  ("lambda", ("lambda", "lambda"))])
def test_every_operation_of_each_api_is_told_apart_by_its_path(service, expected):
    paths = _paths(service)
    assert len(paths) >= 12  # the Scheduler has 12 operations; the others more
    assert [(method, path) for method, path in paths if api_of(method, path, {}) != expected] == []


def test_another_services_tags_are_not_api_gateways():
    assert api_of("GET", "/tags/arn:aws:scheduler:us-east-1:000000000000:schedule/default/s", {})[0] != "apigateway"
