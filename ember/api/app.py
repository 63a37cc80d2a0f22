"""The public HTTP app: every Lambda API route (each as its IAM action), CloudWatch Logs reads, the
IAM subset, API Gateway's HTTP and REST APIs, EventBridge's rules and the Scheduler, behind the error nets
and SigV4; Prometheus metrics and Ember's failed-events store beside them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, Router
from starlette.types import ASGIApp, Receive, Scope, Send

from ember.api.apigateway.operations import ApiGatewayApi
from ember.api.apigateway.rest_operations import RestApiGatewayApi
from ember.api.authorization import Authorizer, Endpoint
from ember.api.events_api import EventsApi
from ember.api.failed_events_api import PATH as FAILED_EVENTS
from ember.api.failed_events_api import FailedEventsApi
from ember.api.iam_api import IamApi
from ember.api.lambda_api.aliases import AliasesApi
from ember.api.lambda_api.concurrency import ConcurrencyApi
from ember.api.lambda_api.event_invoke_config import EventInvokeConfigApi
from ember.api.lambda_api.function_urls import FunctionUrlsApi
from ember.api.lambda_api.functions import FunctionsApi
from ember.api.lambda_api.invoke import InvokeApi
from ember.api.lambda_api.layers import LayersApi
from ember.api.lambda_api.permissions import LambdaPermissions
from ember.api.lambda_api.policy import PolicyApi
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
from ember.api.scheduler_api import SchedulerApi
from ember.api.services import Services
from ember.api.signing import api_of
from ember.api.url_auth import SignedCallers
from ember.triggers.api_invoke import ApiInvoker
from ember.triggers.execute_api import ExecuteApi
from ember.triggers.front_door import FrontDoor
from ember.triggers.function_url import FunctionUrlHandler
from ember.triggers.http_api_gateway import HttpApiGateway
from ember.triggers.rest_api_gateway import RestApiGateway

FN = "/2015-03-31/functions"
INVOKE_PREFIX, INVOKE_SUFFIX = f"{FN}/", "/invocations"
PC = "/2019-09-30/functions/{name}/provisioned-concurrency"
LAYERS = "/2018-10-31/layers"
LV = f"{LAYERS}/{{layer}}/versions"
URL = "/2021-10-31/functions/{name}/url"
EIC = "/2019-09-25/functions/{name}/event-invoke-config"


def build_app(services: Services, credentials: dict[str, str] | None, open_paths: bool = True) -> FrontDoor:
    """`credentials` None turns SigV4 off (`--auth none`); `open_paths` leaves /metrics and /ember/info unsigned.

    The front door sits before SigV4: function URLs and APIs are reached there, each kind's handler
    registered below (`door.register(kind, handler)`, see ember.triggers.front_door)."""
    invoke = InvokeApi(services)
    stream_invoke = StreamInvokeApi(services)
    versions = VersionsApi(services)
    aliases = AliasesApi(services)
    concurrency = ConcurrencyApi(services)
    provisioned = ProvisionedApi(services)
    tags = TagsApi(services)
    policy = PolicyApi(services)
    layers = LayersApi(services)
    urls = FunctionUrlsApi(services)
    event_configs = EventInvokeConfigApi(services)
    failed_events = FailedEventsApi(services)
    authorizer = Authorizer(services.roles, services.region)
    functions = FunctionsApi(services, authorizer)
    logs = LogsApi(services, authorizer)
    iam = IamApi(services.roles, authorizer)
    metrics = MetricsApi(services.metrics)
    guard = LambdaPermissions(authorizer, services.region)
    scheduler = services.scheduler
    fn = guard.function
    invoke_endpoint = fn("lambda:InvokeFunction", invoke.invoke)
    routes = [
        Route(f"{FN}/{{name}}/invocations", invoke_endpoint,
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
        Route(f"{FN}/{{name}}/policy", fn("lambda:AddPermission", policy.add), methods=["POST"]),
        Route(f"{FN}/{{name}}/policy", fn("lambda:GetPolicy", policy.get), methods=["GET"]),
        Route(f"{FN}/{{name}}/policy/{{sid}}", fn("lambda:RemovePermission", policy.remove), methods=["DELETE"]),
        Route(URL, fn("lambda:CreateFunctionUrlConfig", urls.create), methods=["POST"]),
        Route(URL, fn("lambda:GetFunctionUrlConfig", urls.get), methods=["GET"]),
        Route(URL, fn("lambda:UpdateFunctionUrlConfig", urls.update), methods=["PUT"]),
        Route(URL, fn("lambda:DeleteFunctionUrlConfig", urls.delete), methods=["DELETE"]),
        Route(f"{URL}s", fn("lambda:ListFunctionUrlConfigs", urls.list), methods=["GET"]),
        Route("/2017-10-31/functions/{name}/concurrency", fn("lambda:PutFunctionConcurrency", concurrency.put),
              methods=["PUT"]),
        Route("/2019-09-30/functions/{name}/concurrency", fn("lambda:GetFunctionConcurrency", concurrency.get),
              methods=["GET"]),
        Route("/2017-10-31/functions/{name}/concurrency",
              fn("lambda:DeleteFunctionConcurrency", concurrency.delete), methods=["DELETE"]),
        Route(PC, fn("lambda:PutProvisionedConcurrencyConfig", provisioned.put), methods=["PUT"]),
        Route(PC, guard.provisioned_get(provisioned.get), methods=["GET"]),  # and, with ?List=ALL, the list
        Route(PC, fn("lambda:DeleteProvisionedConcurrencyConfig", provisioned.delete), methods=["DELETE"]),
        Route(EIC, fn("lambda:PutFunctionEventInvokeConfig", event_configs.put), methods=["PUT"]),
        Route(EIC, fn("lambda:UpdateFunctionEventInvokeConfig", event_configs.update), methods=["POST"]),
        Route(EIC, fn("lambda:GetFunctionEventInvokeConfig", event_configs.get), methods=["GET"]),
        Route(EIC, fn("lambda:DeleteFunctionEventInvokeConfig", event_configs.delete), methods=["DELETE"]),
        Route(f"{EIC}/list", fn("lambda:ListFunctionEventInvokeConfigs", event_configs.list), methods=["GET"]),
        Route(FAILED_EVENTS, fn("lambda:GetFunction", failed_events.list), methods=["GET"]),
        Route(f"{FAILED_EVENTS}/redrive", fn("lambda:InvokeFunction", failed_events.redrive), methods=["POST"]),
        Route("/2016-08-19/account-settings", guard.account("lambda:GetAccountSettings", concurrency.account_settings),
              methods=["GET"]),
        Route("/2016-08-19/account-settings/",
              guard.account("lambda:GetAccountSettings", concurrency.account_settings), methods=["GET"]),
        Route(LAYERS, LayerListing(guard.layer_by_arn(layers.get_by_arn),
                                   guard.account("lambda:ListLayers", layers.list_layers)).dispatch, methods=["GET"]),
        Route(LV, guard.layer("lambda:PublishLayerVersion", layers.publish), methods=["POST"]),
        Route(LV, guard.account("lambda:ListLayerVersions", layers.list_versions), methods=["GET"]),
        Route(f"{LV}/{{version}}", guard.layer("lambda:GetLayerVersion", layers.get), methods=["GET"]),
        Route(f"{LV}/{{version}}", guard.layer("lambda:DeleteLayerVersion", layers.delete), methods=["DELETE"]),
        Route(f"{LV}/{{version}}/policy", guard.layer("lambda:AddLayerVersionPermission", layers.add_permission),
              methods=["POST"]),
        Route(f"{LV}/{{version}}/policy", guard.layer("lambda:GetLayerVersionPolicy", layers.get_policy),
              methods=["GET"]),
        Route(f"{LV}/{{version}}/policy/{{sid}}",
              guard.layer("lambda:RemoveLayerVersionPermission", layers.remove_permission), methods=["DELETE"]),
        Route("/2017-03-31/tags/{arn}", guard.tagged("lambda:TagResource", tags.tag), methods=["POST"]),
        Route("/2017-03-31/tags/{arn}", guard.tagged("lambda:ListTags", tags.list), methods=["GET"]),
        Route("/2017-03-31/tags/{arn}", guard.tagged("lambda:UntagResource", tags.untag), methods=["DELETE"]),
        *SchedulerApi(scheduler.schedules, authorizer).routes(),  # before API Gateway's `/tags/{any ARN}`
        *ApiGatewayApi(services.http_apis, authorizer, services.region).routes(),
        *RestApiGatewayApi(services.rest_apis, authorizer, services.region).routes(),
        Route("/", RootApi(iam, logs, EventsApi(scheduler.rules, authorizer)).dispatch, methods=["POST"]),
        Route(f"{PUBLIC_PREFIX}{{digest}}.zip", functions.download_code, methods=["GET"]),
        Route(METRICS_PATH, metrics.scrape, methods=["GET"]),
        Route(INFO_PATH, lambda request: JSONResponse({**services.info, "scheduler_time": scheduler.clock.now()}),
              methods=["GET"]),
        # Every method: a path or method no operation has is UnknownOperationException, never a 405
        # (and the Router's default for what no route matches, such as a path with a newline).
        Route("/{path:path}", NotFound()),
    ]
    # A bare Router under our middleware: it already is both error nets, so Starlette's own
    # ServerErrorMiddleware/ExceptionMiddleware would only add cost to every call.
    router = InvokeFirst(invoke_endpoint, Router(routes=routes, default=NotFound()))
    signed = AwsApiMiddleware(router, credentials=credentials,
                              sessions=services.sessions, code_links=services.code_links, region=services.region,
                              open_paths=open_paths)
    door = FrontDoor(signed)
    door.register("lambda-url", FunctionUrlHandler(
        services.urls, services.policies, services.invoker, services.region,
        SignedCallers(signed.keys if credentials is not None else None, authorizer, services.policies,
                      services.region)))
    caller = ApiInvoker(services.invoker, services.policies)
    execute_api = ExecuteApi(HttpApiGateway(services.http_apis, caller, services.region),
                             RestApiGateway(services.rest_apis, caller, services.region))
    door.register("execute-api", execute_api.handle)
    return door


class LayerListing:
    """`GET /2018-10-31/layers` is GetLayerVersionByArn with `?find=LayerVersion`, ListLayers otherwise."""

    def __init__(self, by_arn: Endpoint, listing: Endpoint) -> None:
        self.by_arn = by_arn
        self.listing = listing

    async def dispatch(self, request: Request) -> Response:
        find = request.query_params.get("find") == "LayerVersion"
        return await (self.by_arn(request) if find else self.listing(request))


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
    """`POST /` is IAM's query protocol when form-encoded, else a JSON-protocol API named by its X-Amz-Target:
    EventBridge's (`AWSEvents.*`) or CloudWatch Logs' (anything else, which answers an unknown target)."""

    def __init__(self, iam: IamApi, logs: LogsApi, events: EventsApi) -> None:
        self.apis = {"iam": iam.dispatch, "events": events.dispatch}
        self.logs = logs

    async def dispatch(self, request: Request) -> Response:
        api, _ = api_of(request.method, request.url.path, request.headers)
        return await self.apis.get(api, self.logs.dispatch)(request)
