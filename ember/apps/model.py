"""The desired state of a stack: what a SAM template or a serverless.yml asks Ember to run.

Every reference between resources is already physical: a function is named by its FunctionName, a role by its
ARN, a route's target by the function's name (and qualifier), because names are decided when the model is built
(`ember.apps.names`). The one exception is a layer version, whose number the server assigns when it is
published: functions name their layers with `LayerRef`, and applying publishes layers first.

Applying (ember.apps.apply) is a walk over `Stack.resources()` in its order (roles, layers, functions,
permissions, APIs, rules, schedules), each resource kind mapping to calls on Ember's one endpoint:

    Role          iam.create_role (AssumeRolePolicyDocument), put_role_policy per inline policy,
                  attach_role_policy per managed ARN
    LayerVersion  lambda.publish_layer_version (Content.ZipFile = the packaged `code`)
    Function      lambda.create_function(**function.create_request(zip, layer_arns)) / update_function_code /
                  update_function_configuration; put_function_concurrency (reserved); publish_version +
                  create_alias (alias) + put_provisioned_concurrency_config; put_function_event_invoke_config;
                  create_function_url_config; tag_resource (ember:stack)
    Permission    lambda.add_permission(**permission.request())
    HttpApi       apigatewayv2.create_api, create_integration + create_route per route, create_stage
    RestApi       apigateway.create_rest_api, put_rest_api (a Swagger document of its routes), create_deployment
                  per stage
    Rule          events.put_rule + put_targets
    Schedule      scheduler.create_schedule

A serverless-plugin-warmup `Warmer` is what the project asked for; loading expands it into the resources the plugin
generates (ember.apps.warmup_resources: a role, a function running Ember's warmer, a rule per schedule and the rule's
permission), so it is planned, applied and removed like everything else.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ember.apps.triggers import FunctionTarget, HttpApi, RestApi, Rule, Schedule, Warmer

STACK_TAG = "ember:stack"  # every resource a stack owns carries it, so `ember stacks` and the plan can find them
LOGICAL_ID_TAG = "ember:logical-id"


@dataclass(frozen=True)
class CodeSource:
    """Where a function's or layer's code comes from: a folder or zip on disk, or inline source."""

    path: Path | None = None
    inline: str | None = None
    inline_name: str = "index.py"  # the file InlineCode becomes (index.js for Node.js)
    patterns: tuple[str, ...] = ()  # serverless `package.patterns`: globs, `!glob` excludes, in order


@dataclass(frozen=True)
class LayerRef:
    """A layer a function uses: a layer of this stack (its logical id) or an ARN from elsewhere."""

    logical_id: str | None = None
    arn: str | None = None


@dataclass
class Alias:
    name: str
    provisioned: int | None = None  # ProvisionedConcurrentExecutions on this alias


@dataclass
class Role:
    logical_id: str
    name: str
    arn: str
    assume_role_policy: dict[str, Any]
    inline_policies: dict[str, dict[str, Any]] = field(default_factory=dict)
    managed_policy_arns: tuple[str, ...] = ()
    path: str = "/"
    tags: dict[str, str] = field(default_factory=dict)

    def desired(self) -> dict[str, Any]:
        return {"AssumeRolePolicyDocument": self.assume_role_policy, "Policies": self.inline_policies,
                "ManagedPolicyArns": sorted(self.managed_policy_arns), "Path": self.path}


@dataclass
class LayerVersion:
    logical_id: str
    name: str
    code: CodeSource
    compatible_runtimes: tuple[str, ...] = ()
    compatible_architectures: tuple[str, ...] = ()
    description: str = ""
    license_info: str | None = None

    def desired(self) -> dict[str, Any]:
        return {"CompatibleRuntimes": list(self.compatible_runtimes), "Description": self.description,
                "CompatibleArchitectures": list(self.compatible_architectures), "LicenseInfo": self.license_info}


@dataclass
class Function:
    logical_id: str
    name: str
    code: CodeSource
    config: dict[str, Any]  # CreateFunction's members but FunctionName, Code, Layers, Publish, Tags
    layers: tuple[LayerRef, ...] = ()
    reserved_concurrency: int | None = None
    alias: Alias | None = None
    event_invoke_config: dict[str, Any] | None = None  # PutFunctionEventInvokeConfig's members
    url_config: dict[str, Any] | None = None  # CreateFunctionUrlConfig's members (AuthType, Cors, Qualifier...)
    url_id: str | None = None  # the host's first label: http://<url_id>.lambda-url.<region>.localhost:<port>/
    url_logical_id: str | None = None  # the AWS::Lambda::Url's logical id, which known_ids name the url id by
    tags: dict[str, str] = field(default_factory=dict)

    def create_request(self, zipped: bytes, layer_arns: list[str]) -> dict[str, Any]:
        """lambda.create_function's keyword arguments, once the code is packaged and the layers published."""
        request = {"FunctionName": self.name, "Code": {"ZipFile": zipped}, **self.config, "Tags": self.tags}
        if layer_arns:
            request["Layers"] = layer_arns
        return request

    def desired(self) -> dict[str, Any]:
        """What the plan compares with the server (code apart: that is compared by CodeSha256)."""
        return {"Configuration": self.config, "Layers": [ref.logical_id or ref.arn for ref in self.layers],
                "ReservedConcurrentExecutions": self.reserved_concurrency,
                "Alias": None if self.alias is None else {"Name": self.alias.name,
                                                          "Provisioned": self.alias.provisioned},
                "EventInvokeConfig": invoke_config_spec(self.event_invoke_config), "Url": url_spec(self.url_config)}


def url_spec(config: dict[str, Any] | None) -> dict[str, Any] | None:
    """A URL config as the plan compares it: Lambda's default InvokeMode (BUFFERED) written as unset."""
    if config is None:
        return None
    return {key: value for key, value in config.items() if (key, value) != ("InvokeMode", "BUFFERED")}


def invoke_config_spec(config: dict[str, Any] | None) -> dict[str, Any] | None:
    """An async config as the plan compares it: `$LATEST` and empty destinations written as unset."""
    if config is None:
        return None
    spec = {key: value for key, value in config.items() if (key, value) != ("Qualifier", "$LATEST")}
    destinations = {key: value for key, value in (spec.pop("DestinationConfig", None) or {}).items() if value}
    return {**spec, **({"DestinationConfig": destinations} if destinations else {})}


@dataclass
class Permission:
    logical_id: str
    function: FunctionTarget
    action: str
    principal: str
    source_arn: str | None = None
    source_account: str | None = None
    function_url_auth_type: str | None = None
    invoked_via_function_url: bool | None = None

    @property
    def statement_id(self) -> str:
        return self.logical_id

    def request(self) -> dict[str, Any]:
        """lambda.add_permission's keyword arguments."""
        request = {"FunctionName": self.function.name, "StatementId": self.statement_id, "Action": self.action,
                   "Principal": self.principal, "Qualifier": self.function.qualifier, "SourceArn": self.source_arn,
                   "SourceAccount": self.source_account, "FunctionUrlAuthType": self.function_url_auth_type,
                   "InvokedViaFunctionUrl": self.invoked_via_function_url}
        return {key: value for key, value in request.items() if value is not None}

    def desired(self) -> dict[str, Any]:
        return self.request()


@dataclass(frozen=True)
class Unsupported:
    """Something of the template Ember does not run: a resource type, or a property of one it does run."""

    logical_id: str
    what: str  # `AWS::DynamoDB::Table`, or `AWS::Serverless::Function.Events.Stream (DynamoDB)`


@dataclass
class Output:
    value: Any
    description: str = ""
    export: str | None = None


Resource = Role | LayerVersion | Function | Permission | HttpApi | RestApi | Rule | Schedule | Warmer


@dataclass
class Stack:
    name: str
    region: str
    account: str
    source: Path  # the template or serverless.yml it came from
    roles: list[Role] = field(default_factory=list)
    layers: list[LayerVersion] = field(default_factory=list)
    functions: list[Function] = field(default_factory=list)
    permissions: list[Permission] = field(default_factory=list)
    http_apis: list[HttpApi] = field(default_factory=list)
    rest_apis: list[RestApi] = field(default_factory=list)
    rules: list[Rule] = field(default_factory=list)
    schedules: list[Schedule] = field(default_factory=list)
    warmers: list[Warmer] = field(default_factory=list)
    outputs: dict[str, Output] = field(default_factory=dict)
    unsupported: list[Unsupported] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def resources(self) -> Iterator[Resource]:
        """Everything the stack owns, in the order applying creates it (deletion goes the other way)."""
        yield from self.roles
        yield from self.layers
        yield from self.functions
        yield from self.permissions
        yield from self.http_apis
        yield from self.rest_apis
        yield from self.rules
        yield from self.schedules

    def function(self, name: str) -> Function:
        return next(function for function in self.functions if function.name == name)

    def unsupported_warning(self) -> str | None:
        """The one warning that lists everything Ember will not run, or None."""
        if not self.unsupported:
            return None
        listed = ", ".join(f"{item.logical_id} ({item.what})" for item in self.unsupported)
        return f"not run by Ember (deployed without them): {listed}"
