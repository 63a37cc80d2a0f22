"""The public HTTP app: every Lambda API route (each as its IAM action), CloudWatch Logs reads and the
IAM subset, behind the error nets and SigV4; Prometheus metrics beside them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, Router
from starlette.types import ASGIApp, Receive, Scope, Send

from ember.api.authorization import Authorizer
from ember.api.iam_api import IamApi
from ember.api.lambda_api.aliases import AliasesApi
from ember.api.lambda_api.concurrency import ConcurrencyApi
from ember.api.lambda_api.functions import FunctionsApi
from ember.api.lambda_api.invoke import InvokeApi
from ember.api.lambda_api.permissions import LambdaPermissions
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
    NotFound,
)
from ember.api.services import Services
from ember.api.signing import api_of

FN = "/2015-03-31/functions"
INVOKE_PREFIX, INVOKE_SUFFIX = f"{FN}/", "/invocations"
PC = "/2019-09-30/functions/{name}/provisioned-concurrency"


def build_app(services: Services, credentials: dict[str, str] | None, open_paths: bool = True) -> AwsApiMiddleware:
    """`credentials` None turns SigV4 off (`--auth none`); `open_paths` leaves /metrics and /ember/info unsigned."""
    functions = FunctionsApi(services)
    invoke = InvokeApi(services)
    stream_invoke = StreamInvokeApi(services)
    versions = VersionsApi(services)
    aliases = AliasesApi(services)
    concurrency = ConcurrencyApi(services)
    provisioned = ProvisionedApi(services)
    tags = TagsApi(services)
    authorizer = Authorizer(services.roles, services.region)
    logs = LogsApi(services, authorizer)
    iam = IamApi(services.roles, authorizer)
    metrics = MetricsApi(services.metrics)
    guard = LambdaPermissions(authorizer, services.region)
    fn = guard.function
    routes = [
        Route(f"{FN}/{{name}}/invocations", fn("lambda:InvokeFunction", invoke.invoke),
              methods=["POST"]),  # first: the hot path
        Route("/2021-11-15/functions/{name}/response-streaming-invocations",
              fn("lambda:InvokeFunction", stream_invoke.invoke), methods=["POST"]),
        Route(FN, guard.create(functions.create), methods=["POST"]),
        Route(FN, guard.account("lambda:ListFunctions", functions.list), methods=["GET"]),
        Route(f"{FN}/", guard.account("lambda:ListFunctions", functions.list), methods=["GET"]),
        Route(f"{FN}/{{name}}", fn("lambda:GetFunction", functions.get), methods=["GET"]),
        Route(f"{FN}/{{name}}", fn("lambda:DeleteFunction", functions.delete), methods=["DELETE"]),
        Route(f"{FN}/{{name}}/configuration", fn("lambda:GetFunctionConfiguration", functions.get_configuration),
              methods=["GET"]),
        Route(f"{FN}/{{name}}/configuration",
              fn("lambda:UpdateFunctionConfiguration", functions.update_configuration), methods=["PUT"]),
        Route(f"{FN}/{{name}}/code", fn("lambda:UpdateFunctionCode", functions.update_code), methods=["PUT"]),
        Route(f"{FN}/{{name}}/versions", fn("lambda:PublishVersion", versions.publish), methods=["POST"]),
        Route(f"{FN}/{{name}}/versions", fn("lambda:ListVersionsByFunction", versions.list), methods=["GET"]),
        Route(f"{FN}/{{name}}/aliases", fn("lambda:CreateAlias", aliases.create), methods=["POST"]),
        Route(f"{FN}/{{name}}/aliases", fn("lambda:ListAliases", aliases.list), methods=["GET"]),
        Route(f"{FN}/{{name}}/aliases/{{alias}}", fn("lambda:GetAlias", aliases.get), methods=["GET"]),
        Route(f"{FN}/{{name}}/aliases/{{alias}}", fn("lambda:UpdateAlias", aliases.update), methods=["PUT"]),
        Route(f"{FN}/{{name}}/aliases/{{alias}}", fn("lambda:DeleteAlias", aliases.delete), methods=["DELETE"]),
        Route("/2017-10-31/functions/{name}/concurrency", fn("lambda:PutFunctionConcurrency", concurrency.put),
              methods=["PUT"]),
        Route("/2019-09-30/functions/{name}/concurrency", fn("lambda:GetFunctionConcurrency", concurrency.get),
              methods=["GET"]),
        Route("/2017-10-31/functions/{name}/concurrency",
              fn("lambda:DeleteFunctionConcurrency", concurrency.delete), methods=["DELETE"]),
        Route(PC, fn("lambda:PutProvisionedConcurrencyConfig", provisioned.put), methods=["PUT"]),
        Route(PC, guard.provisioned_get(provisioned.get), methods=["GET"]),  # and, with ?List=ALL, the list
        Route(PC, fn("lambda:DeleteProvisionedConcurrencyConfig", provisioned.delete), methods=["DELETE"]),
        Route("/2016-08-19/account-settings", guard.account("lambda:GetAccountSettings", concurrency.account_settings),
              methods=["GET"]),
        Route("/2016-08-19/account-settings/",
              guard.account("lambda:GetAccountSettings", concurrency.account_settings), methods=["GET"]),
        Route("/2017-03-31/tags/{arn}", guard.tagged("lambda:TagResource", tags.tag), methods=["POST"]),
        Route("/2017-03-31/tags/{arn}", guard.tagged("lambda:ListTags", tags.list), methods=["GET"]),
        Route("/2017-03-31/tags/{arn}", guard.tagged("lambda:UntagResource", tags.untag), methods=["DELETE"]),
        Route("/", RootApi(iam, logs).dispatch, methods=["POST"]),
        Route(f"{PUBLIC_PREFIX}{{digest}}.zip", functions.download_code, methods=["GET"]),
        Route(METRICS_PATH, metrics.scrape, methods=["GET"]),
        Route(INFO_PATH, lambda request: JSONResponse(services.info), methods=["GET"]),
        # Every method: a path or method no operation has is UnknownOperationException, never a 405
        # (and the Router's default for what no route matches, such as a path with a newline).
        Route("/{path:path}", NotFound()),
    ]
    # A bare Router under our middleware: it already is both error nets, so Starlette's own
    # ServerErrorMiddleware/ExceptionMiddleware would only add cost to every call.
    router = InvokeFirst(routes[0].endpoint, Router(routes=routes, default=NotFound()))
    return AwsApiMiddleware(router, credentials=credentials,
                            sessions=services.sessions, code_links=services.code_links, region=services.region,
                            open_paths=open_paths)


class InvokeFirst:
    """`POST …/functions/{name}/invocations` straight to its endpoint, the rest through the Router: the
    hot path skips the Router's scan and its per-route wrappers (the same route, matched the same way)."""

    def __init__(self, invoke: Callable[[Request], Awaitable[Response]], router: ASGIApp) -> None:
        self.invoke = invoke
        self.router = router

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope["path"]
        if scope["type"] == "http" and scope["method"] == "POST" and path.startswith(INVOKE_PREFIX) \
                and path.endswith(INVOKE_SUFFIX):
            name = path[len(INVOKE_PREFIX):-len(INVOKE_SUFFIX)]
            if name and "/" not in name:
                scope["path_params"] = {"name": name}
                response = await self.invoke(Request(scope, receive))
                await response(scope, receive, send)
                return
        await self.router(scope, receive, send)


class RootApi:
    """`POST /` is IAM's query protocol when form-encoded, else CloudWatch Logs' JSON targets."""

    def __init__(self, iam: IamApi, logs: LogsApi) -> None:
        self.iam = iam
        self.logs = logs

    async def dispatch(self, request: Request) -> Response:
        api, _ = api_of(request.method, request.url.path, request.headers)
        return await (self.iam.dispatch(request) if api == "iam" else self.logs.dispatch(request))
