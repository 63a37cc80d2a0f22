"""The public HTTP app: every Lambda API route, CloudWatch Logs reads, behind the error nets and SigV4;
Prometheus metrics beside them."""

from __future__ import annotations

from starlette.responses import JSONResponse
from starlette.routing import Route, Router

from ember.api.lambda_api.aliases import AliasesApi
from ember.api.lambda_api.concurrency import ConcurrencyApi
from ember.api.lambda_api.functions import FunctionsApi
from ember.api.lambda_api.invoke import InvokeApi
from ember.api.lambda_api.provisioned import ProvisionedApi
from ember.api.lambda_api.stream_invoke import StreamInvokeApi
from ember.api.lambda_api.tags import TagsApi
from ember.api.lambda_api.versions import VersionsApi
from ember.api.logs_api import LogsApi
from ember.api.metrics_api import MetricsApi
from ember.api.middleware import (
    INFO_PATH,
    METRICS_PATH,
    PUBLIC_PREFIX,
    AwsApiMiddleware,
    not_found,
)
from ember.api.services import Services

FN = "/2015-03-31/functions"
PC = "/2019-09-30/functions/{name}/provisioned-concurrency"


def build_app(services: Services, credentials: dict[str, str] | None) -> AwsApiMiddleware:
    """`credentials` None turns SigV4 off (`--auth none`)."""
    functions = FunctionsApi(services)
    invoke = InvokeApi(services)
    stream_invoke = StreamInvokeApi(services)
    versions = VersionsApi(services)
    aliases = AliasesApi(services)
    concurrency = ConcurrencyApi(services)
    provisioned = ProvisionedApi(services)
    tags = TagsApi(services)
    logs = LogsApi(services)
    metrics = MetricsApi(services.metrics)
    routes = [
        Route(f"{FN}/{{name}}/invocations", invoke.invoke, methods=["POST"]),  # first: the hot path
        Route("/2021-11-15/functions/{name}/response-streaming-invocations", stream_invoke.invoke,
              methods=["POST"]),
        Route(FN, functions.create, methods=["POST"]),
        Route(FN, functions.list, methods=["GET"]),
        Route(f"{FN}/", functions.list, methods=["GET"]),
        Route(f"{FN}/{{name}}", functions.get, methods=["GET"]),
        Route(f"{FN}/{{name}}", functions.delete, methods=["DELETE"]),
        Route(f"{FN}/{{name}}/configuration", functions.get_configuration, methods=["GET"]),
        Route(f"{FN}/{{name}}/configuration", functions.update_configuration, methods=["PUT"]),
        Route(f"{FN}/{{name}}/code", functions.update_code, methods=["PUT"]),
        Route(f"{FN}/{{name}}/versions", versions.publish, methods=["POST"]),
        Route(f"{FN}/{{name}}/versions", versions.list, methods=["GET"]),
        Route(f"{FN}/{{name}}/aliases", aliases.create, methods=["POST"]),
        Route(f"{FN}/{{name}}/aliases", aliases.list, methods=["GET"]),
        Route(f"{FN}/{{name}}/aliases/{{alias}}", aliases.get, methods=["GET"]),
        Route(f"{FN}/{{name}}/aliases/{{alias}}", aliases.update, methods=["PUT"]),
        Route(f"{FN}/{{name}}/aliases/{{alias}}", aliases.delete, methods=["DELETE"]),
        Route("/2017-10-31/functions/{name}/concurrency", concurrency.put, methods=["PUT"]),
        Route("/2019-09-30/functions/{name}/concurrency", concurrency.get, methods=["GET"]),
        Route("/2017-10-31/functions/{name}/concurrency", concurrency.delete, methods=["DELETE"]),
        Route(PC, provisioned.put, methods=["PUT"]),
        Route(PC, provisioned.get, methods=["GET"]),  # and, with ?List=ALL, the list
        Route(PC, provisioned.delete, methods=["DELETE"]),
        Route("/2016-08-19/account-settings", concurrency.account_settings, methods=["GET"]),
        Route("/2016-08-19/account-settings/", concurrency.account_settings, methods=["GET"]),
        Route("/2017-03-31/tags/{arn}", tags.tag, methods=["POST"]),
        Route("/2017-03-31/tags/{arn}", tags.list, methods=["GET"]),
        Route("/2017-03-31/tags/{arn}", tags.untag, methods=["DELETE"]),
        Route("/", logs.dispatch, methods=["POST"]),
        Route(f"{PUBLIC_PREFIX}{{digest}}.zip", functions.download_code, methods=["GET"]),
        Route(METRICS_PATH, metrics.scrape, methods=["GET"]),
        Route(INFO_PATH, lambda request: JSONResponse(services.info), methods=["GET"]),
        Route("/{path:path}", not_found, methods=["GET", "POST", "PUT", "DELETE", "PATCH"]),
    ]
    # A bare Router under our middleware: it already is both error nets, so Starlette's own
    # ServerErrorMiddleware/ExceptionMiddleware would only add cost to every call.
    return AwsApiMiddleware(Router(routes=routes), credentials=credentials)
