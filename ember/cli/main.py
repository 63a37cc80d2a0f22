"""The `ember` command. Errors are one line and a non-zero exit, never a traceback."""

from __future__ import annotations

import base64
import io
import sys
import time
from pathlib import Path
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from ember.cli.apis import api_rows, rest_api_rows
from ember.cli.client import aws_client, endpoint_url
from ember.cli.urls import function_names, url_rows

OK, FUNCTION_ERROR, API_ERROR = 0, 1, 2
STARTUP_FAILURE = 3
LOCAL_ERROR = 4  # the user's own mistake, found before any call: a missing file, a malformed option or argument

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Ember: AWS Lambda that you run yourself.")
console = Console(highlight=False, soft_wrap=True)
errors = Console(stderr=True, highlight=False, soft_wrap=True)
EndpointOption = typer.Option(None, "--endpoint-url", envvar="EMBER_ENDPOINT_URL",
                              help="Ember's URL (default http://127.0.0.1:9000).")


@app.command("serve")
def serve_command(
    host: str = typer.Option("127.0.0.1", envvar="EMBER_HOST", show_default=True),
    port: int = typer.Option(9000, envvar="EMBER_PORT", show_default=True, help="0 picks a free port."),
    data_dir: str | None = typer.Option(None, envvar="EMBER_DATA_DIR",
                                        help="Default: $EMBER_HOME, else ./.ember"),
    region: str = typer.Option("us-east-1", envvar="EMBER_REGION", show_default=True),
    keep_alive: float = typer.Option(600, envvar="EMBER_KEEP_ALIVE", show_default=True,
                                     help="Seconds an idle environment lives."),
    auth: str = typer.Option("sigv4", envvar="EMBER_AUTH", show_default=True, help="sigv4 or none."),
    account_concurrency: int = typer.Option(1000, envvar="EMBER_ACCOUNT_CONCURRENCY", show_default=True,
                                            help="Concurrent executions for the whole account (AWS: 1000)."),
    isolation: str = typer.Option("auto", envvar="EMBER_ISOLATION", show_default=True,
                                  help="auto, full (refuse to start without it) or rlimits."),
    zygote: str = typer.Option("on", envvar="EMBER_ZYGOTE", show_default=True,
                               help="on: fork Python environments from a preloaded zygote; off: exec each."),
    preload: str = typer.Option("boto3", envvar="EMBER_PRELOAD", show_default=True,
                                help="Modules the zygote imports ahead (comma-separated; missing ones skipped)."),
    init_burst: str = typer.Option("on", envvar="EMBER_INIT_BURST", show_default=True,
                                   help="on: Init runs without the CPU quota (AWS's init burst); "
                                        "off: quota from the start."),
    spares: int = typer.Option(2, envvar="EMBER_SPARES", show_default=True,
                               help="Sandboxes kept cloned and prepared ahead of cold starts (0-64)."),
    freeze: str = typer.Option("on", envvar="EMBER_FREEZE", show_default=True,
                               help="on: idle environments are frozen between calls, as on AWS (cgroup freezer); "
                                    "off: their timers and threads run on."),
    network: str = typer.Option("egress", envvar="EMBER_NETWORK", show_default=True,
                                help="egress: each environment's own network with NAT out, nothing of the host; "
                                     "none: loopback only; "
                                     "host: the host's network (no network isolation: benchmarks only)."),
    price_model: str | None = typer.Option(None, "--price-model", envvar="EMBER_PRICE_MODEL",
                                           help="How calls are billed: 2018, 2020 or 2025 (default: today's)."),
    strict_roles: bool = typer.Option(False, "--strict-roles", envvar="EMBER_STRICT_ROLES",
                                      help="Refuse CreateFunction with a role Ember's IAM does not know, as AWS does."),
    unsigned_metrics: bool = typer.Option(False, "--unsigned-metrics", envvar="EMBER_UNSIGNED_METRICS",
                                          help="Serve /metrics and /ember/info unsigned on a non-loopback bind too."),
    log_retention_days: float = typer.Option(30.0, "--log-retention-days", envvar="EMBER_LOG_RETENTION_DAYS",
                                             show_default=True, help="Log streams older than this are removed."),
    log_cap_mb: int = typer.Option(1024, "--log-cap-mb", envvar="EMBER_LOG_CAP_MB", show_default=True,
                                   help="Log a function keeps (oldest streams go first; a stream stops at it too)."),
    header_timeout: float = typer.Option(20.0, "--header-timeout", envvar="EMBER_HEADER_TIMEOUT", show_default=True,
                                         help="Seconds a client has to send a request's head before its "
                                              "connection is closed."),
    body_timeout: float = typer.Option(30.0, "--body-timeout", envvar="EMBER_BODY_TIMEOUT", show_default=True,
                                       help="Seconds a request's body may pause before its connection is closed."),
    clock_speed: float = typer.Option(1.0, "--clock-speed", envvar="EMBER_CLOCK_SPEED", show_default=True,
                                      help="Rules and schedules run on a clock this many times faster than the wall "
                                           "clock (tests and benchmarks: 60 makes rate(5 minutes) every 5 s)."),
    async_retry_scale: float = typer.Option(
        1.0, "--async-retry-scale", envvar="EMBER_ASYNC_RETRY_SCALE", show_default=True,
        help="Multiply async retry delays and event ages by this (0.01: a 1-minute retry waits 0.6 s). Tests only."),
    deploy_path: Path | None = typer.Option(None, "--deploy", help="Deploy this folder once started."),
    cluster: str = typer.Option("none", "--cluster", envvar="EMBER_CLUSTER", show_default=True,
                                help="none: environments on this machine; ray: on the nodes of a Ray cluster "
                                     "(pip install 'ember[cluster]')."),
    ray_address: str | None = typer.Option(None, "--ray-address", envvar="EMBER_RAY_ADDRESS",
                                           help="The Ray cluster to join (its head's host:port); "
                                                "default: start one on this machine."),
    cluster_host: str | None = typer.Option(None, "--cluster-host", envvar="EMBER_CLUSTER_HOST",
                                            help="The address node agents reach this server at "
                                                 "(default: this node's Ray address; 127.0.0.1 for a local cluster)."),
    cluster_grace: float = typer.Option(60.0, "--cluster-grace", envvar="EMBER_CLUSTER_GRACE", show_default=True,
                                        help="Seconds node agents keep environments frozen after losing this server."),
    cluster_data_path: str = typer.Option("socket", "--cluster-data-path", envvar="EMBER_CLUSTER_DATA_PATH",
                                          show_default=True, help="socket: calls travel on Ember's own channel to "
                                          "each node; ray: as Ray actor calls (slower: for benchmarks only)."),
) -> None:
    """Run the Ember server in the foreground until Ctrl-C."""
    from ember.cli.serve import SandboxOptions, StartupError, build_config, run_server
    from ember.config import ClusterSettings, LogLimits, ReadTimeouts

    try:
        sandbox = SandboxOptions.parse(isolation, zygote, preload, init_burst, spares, network, freeze)
        run_server(build_config(host, port, data_dir, region, keep_alive, auth, account_concurrency, sandbox,
                                price_model, strict_roles, unsigned_metrics,
                                LogLimits(log_retention_days, log_cap_mb), async_retry_scale, clock_speed,
                                ClusterSettings(cluster, ray_address, cluster_host, cluster_grace,
                                                data_path=cluster_data_path),
                                ReadTimeouts(header_timeout, body_timeout)), deploy_path)
    except StartupError as exc:
        _fail(str(exc), STARTUP_FAILURE)


@app.command()
def deploy(
    path: Path = typer.Argument(Path("."), help="A SAM template or serverless.yml (or the folder holding one), "
                                                "or a folder of code / a .zip for one function."),
    template: Path | None = typer.Option(None, "--template", "-t", help="The template or serverless.yml to deploy."),
    stack: str | None = typer.Option(None, "--stack", help="Stack name (default: the folder's name for a template, "
                                                            "<service>-<stage> for a serverless.yml)."),
    parameter_overrides: list[str] = typer.Option([], "--parameter-overrides",
                                                  help="A template's Parameters: K=V (repeatable, or several "
                                                       "space-separated)."),
    stage: str | None = typer.Option(None, "--stage", help="serverless.yml's stage (default: its own, else dev)."),
    param: list[str] = typer.Option([], "--param", help="serverless.yml's ${param:K}: K=V, repeatable."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the plan only; change nothing."),
    name: str | None = typer.Option(None, "--name", help="One function: default the folder's name."),
    handler: str | None = typer.Option(None, help="One function: default index.handler."),
    runtime: str | None = typer.Option(None, help="One function: default python3.11."),
    memory: int | None = typer.Option(None, help="One function: MB, default 128."),
    timeout: int | None = typer.Option(None, help="One function: seconds, default 3."),
    env: list[str] = typer.Option([], "--env", help="One function: K=V, repeatable."),
    layer: list[str] = typer.Option([], "--layer", help="One function: a layer version ARN, repeatable, in order "
                                                        "(later ones win)."),
    endpoint: str | None = EndpointOption,
) -> None:
    """Deploy a SAM or Serverless project as a stack (plan, then apply), or one function from a folder or zip."""
    from ember.cli.deploy import DeploySpec, project_file
    from ember.cli.deploy import deploy as run_deploy

    target = template or path
    if not target.exists():
        _fail(f"no such file or folder: {target}", LOCAL_ERROR)
    project = template if template is not None else _call(project_file, path)
    if project is not None:
        _deploy_stack(project, stack, parameter_overrides, stage, param, dry_run, endpoint)
        return
    settings: dict[str, Any] = {k: v for k, v in {"Handler": handler, "Runtime": runtime, "MemorySize": memory,
                                                  "Timeout": timeout}.items() if v is not None}
    if env:
        settings["Environment"] = {"Variables": _pairs(env)}
    if layer:
        settings["Layers"] = layer
    config = _call(run_deploy, DeploySpec(path, name, settings), endpoint_url(endpoint),
                   lambda warning: errors.print(f"ember: warning: {warning}", markup=False))
    console.print(f"deployed {config['FunctionName']} ({config['Runtime']}, {config['MemorySize']} MB, "
                  f"{config['Timeout']} s) sha256 {config['CodeSha256']}")


def _deploy_stack(project: Path, stack: str | None, overrides: list[str], stage: str | None, params: list[str],
                  dry_run: bool, endpoint: str | None, dev: bool = False) -> None:
    """`ember deploy` of a project once, or `ember dev` of it (deploy, then follow and redeploy until Ctrl-C)."""
    from ember.apps.apply import ApplyError
    from ember.cli.dev import run_dev
    from ember.cli.stack_deploy import StackOptions, deploy_stack
    from ember.cli.stack_session import StackSession
    from ember.errors import TemplateError

    settings = StackOptions(stack, _parameter_overrides(overrides), {"stage": stage} if stage else {},
                            _pairs(params, "--param"), dry_run)
    try:
        _call(run_dev if dev else deploy_stack, StackSession(project, settings, endpoint_url(endpoint)), console,
              errors)
    except TemplateError as exc:
        _fail(str(exc), LOCAL_ERROR)
    except ApplyError as exc:
        for failure in exc.undo_failures:
            errors.print(f"ember: could not undo {failure}", markup=False)
        _fail(f"deploy failed: {exc}", API_ERROR)


@app.command("dev")
def dev_command(
    path: Path = typer.Argument(Path("."), help="A SAM template or serverless.yml, or the folder holding one."),
    template: Path | None = typer.Option(None, "--template", "-t", help="The template or serverless.yml."),
    stack: str | None = typer.Option(None, "--stack", help="Stack name (as for deploy)."),
    parameter_overrides: list[str] = typer.Option([], "--parameter-overrides",
                                                  help="A template's Parameters: K=V (as for deploy)."),
    stage: str | None = typer.Option(None, "--stage", help="serverless.yml's stage (default: its own, else dev)."),
    param: list[str] = typer.Option([], "--param", help="serverless.yml's ${param:K}: K=V, repeatable."),
    endpoint: str | None = EndpointOption,
) -> None:
    """Deploy the project, print its URLs, then follow every function's logs in one stream and redeploy only what
    changed each time a file is saved, until Ctrl-C (the stack stays deployed)."""
    from ember.cli.deploy import project_file

    target = template or path
    if not target.exists():
        _fail(f"no such file or folder: {target}", LOCAL_ERROR)
    project = template if template is not None else _call(project_file, path)
    if project is None:
        _fail(f"{path} holds no template.yaml or serverless.yml: ember dev runs a SAM or Serverless project "
              "(ember deploy takes a folder of code)", LOCAL_ERROR)
    _deploy_stack(project, stack, parameter_overrides, stage, param, False, endpoint, dev=True)


@app.command("stacks")
def list_stacks(endpoint: str | None = EndpointOption) -> None:
    """List the stacks `ember deploy` made and what each owns."""
    from ember.cli.stacks import clients_for, stack_rows

    table = Table(box=None, pad_edge=False)
    for column in ("STACK", "OWNS", "RESOURCES"):
        table.add_column(column, no_wrap=True)
    for row in _call(stack_rows, clients_for(endpoint_url(endpoint))):
        table.add_row(*(Text(cell) for cell in row))
    _print_table(table)


layers_app = typer.Typer(no_args_is_help=True, help="Publish and list Lambda layers.")
app.add_typer(layers_app, name="layers")


@layers_app.command("publish")
def publish_layer(
    name: str,
    path: Path = typer.Argument(..., help="A folder (zipped for you, file modes kept) or a .zip."),
    runtime: list[str] = typer.Option([], "--runtime", help="A compatible runtime, repeatable."),
    architecture: list[str] = typer.Option([], "--architecture", help="x86_64 or arm64, repeatable."),
    description: str | None = typer.Option(None, "--description"),
    endpoint: str | None = EndpointOption,
) -> None:
    """Publish a folder or zip as the layer's next version; prints its ARN."""
    from ember.cli.layers import publish_layer as run_publish

    if not path.exists():
        _fail(f"no such file or folder: {path}", LOCAL_ERROR)
    client = aws_client("lambda", endpoint_url(endpoint))
    version = _call(run_publish, client, name, path, runtime, architecture, description)
    console.print(f"published {version['LayerVersionArn']} ({version['Content']['CodeSize']} bytes, "
                  f"sha256 {version['Content']['CodeSha256']})", markup=False)


@layers_app.command("ls")
def list_layers(endpoint: str | None = EndpointOption) -> None:
    """List every version of every layer, newest first."""
    from ember.cli.layers import layers_table

    _print_table(_call(layers_table, aws_client("lambda", endpoint_url(endpoint))))


@app.command()
def invoke(
    name: str,
    payload: str | None = typer.Option(None, help="JSON, or @file.json."),
    async_: bool = typer.Option(False, "--async", help="InvocationType=Event: queue it and return."),
    tail: bool = typer.Option(False, "--tail", help="Print the call's log (START…REPORT) to stderr."),
    qualifier: str | None = typer.Option(None),
    endpoint: str | None = EndpointOption,
) -> None:
    """Invoke a function: its payload goes to stdout, everything else to stderr."""
    client = aws_client("lambda", endpoint_url(endpoint))
    args: dict[str, Any] = {"FunctionName": name, "Payload": _payload(payload),
                            "InvocationType": "Event" if async_ else "RequestResponse"}
    if tail and not async_:
        args["LogType"] = "Tail"
    if qualifier:
        args["Qualifier"] = qualifier
    response = _call(client.invoke, **args)
    body = response["Payload"].read()
    sys.stdout.buffer.write(body + (b"\n" if body and not body.endswith(b"\n") else b""))
    sys.stdout.flush()
    if "LogResult" in response:
        errors.print(base64.b64decode(response["LogResult"]).decode(), end="", markup=False)
    meta = f"StatusCode {response['StatusCode']}"
    if response.get("ExecutedVersion"):
        meta += f"  ExecutedVersion {response['ExecutedVersion']}"
    if response.get("FunctionError"):
        meta += f"  FunctionError {response['FunctionError']}"
    errors.print(meta, markup=False)
    raise typer.Exit(FUNCTION_ERROR if response.get("FunctionError") else OK)


@app.command("ls")
def list_functions(endpoint: str | None = EndpointOption) -> None:
    """List functions."""
    client = aws_client("lambda", endpoint_url(endpoint))
    table = Table(box=None, pad_edge=False)
    for column in ("NAME", "RUNTIME", "MEMORY", "TIMEOUT", "HANDLER", "LAST MODIFIED"):
        table.add_column(column, no_wrap=True)
    for page in _call(lambda: list(client.get_paginator("list_functions").paginate())):
        for fn in page["Functions"]:
            table.add_row(fn["FunctionName"], fn["Runtime"], f"{fn['MemorySize']} MB", f"{fn['Timeout']} s",
                          fn["Handler"], fn["LastModified"])
    _print_table(table)


@app.command("schedules")
def list_schedules(
    data_dir: str | None = typer.Option(None, envvar="EMBER_DATA_DIR",
                                        help="Default: $EMBER_HOME, else the running server's, else ./.ember"),
    endpoint: str | None = EndpointOption,
) -> None:
    """List every rule and schedule with its targets, state and next run."""
    from ember.cli.cost import find_data_dir
    from ember.cli.schedules import SchedulesError, read_rows, table

    try:
        rows, speed = read_rows(find_data_dir(data_dir, endpoint_url(endpoint)) / "ember.db")
    except SchedulesError as exc:
        _fail(str(exc), LOCAL_ERROR)
    if not rows:
        errors.print("no rules or schedules", markup=False)
        return
    _print_table(table(rows))
    if speed != 1:
        errors.print(f"next runs are on the scheduler's clock, which runs {speed:g} times faster than the wall "
                     "clock (ember serve --clock-speed)", markup=False)


@app.command("apis")
def list_apis(endpoint: str | None = EndpointOption) -> None:
    """List HTTP and REST APIs: each stage's URL, by host (*.localhost) and by path (/_aws/execute-api/<id>/), and
    its routes."""
    url = endpoint_url(endpoint)
    table = Table(box=None, pad_edge=False)
    for column in ("API ID", "NAME", "STAGE", "URL", "PATH URL", "ROUTES"):
        table.add_column(column, no_wrap=True)
    for row in [*_call(api_rows, aws_client("apigatewayv2", url), url),
                *_call(rest_api_rows, aws_client("apigateway", url), url)]:
        table.add_row(*row)
    _print_table(table)


def _print_table(table: Table) -> None:
    """On a terminal, fitted to it; piped, whole rows whatever their width, so `| grep` finds full names."""
    if console.is_terminal:
        console.print(table)
        return
    buffer = io.StringIO()
    wide = Console(file=buffer, width=100_000, highlight=False, color_system=None)
    wide.print(table)
    sys.stdout.write("".join(line.rstrip() + "\n" for line in buffer.getvalue().splitlines()))


@app.command("urls")
def list_urls(name: str | None = typer.Argument(None, help="Only this function's URLs."),
              endpoint: str | None = EndpointOption) -> None:
    """List function URLs, by host (*.localhost) and by path (/_aws/lambda-url/<id>/)."""
    url = endpoint_url(endpoint)
    client = aws_client("lambda", url)
    names = [name] if name else _call(function_names, client)
    table = Table(box=None, pad_edge=False)
    for column in ("FUNCTION", "ALIAS", "AUTH", "MODE", "URL", "PATH URL"):
        table.add_column(column, no_wrap=True)
    for row in _call(url_rows, client, url, names):
        table.add_row(*row)
    _print_table(table)


@app.command("rm")
def remove(name: str | None = typer.Argument(None, help="The function to delete."),
           stack: str | None = typer.Option(None, "--stack", help="Delete this stack and everything it owns."),
           endpoint: str | None = EndpointOption) -> None:
    """Delete a function, or a whole stack (--stack)."""
    if (name is None) == (stack is None):
        _fail("name a function, or a stack with --stack", LOCAL_ERROR)
    if stack is not None:
        _remove_stack(stack, endpoint_url(endpoint))
        return
    client = aws_client("lambda", endpoint_url(endpoint))
    _call(client.delete_function, FunctionName=name)
    console.print(f"deleted {name}")


def _remove_stack(stack: str, endpoint: str) -> None:
    from ember.apps.apply import remove_stack
    from ember.apps.deployed import read_stack
    from ember.cli.stacks import clients_for, owned_summary

    clients = clients_for(endpoint)
    deployed = _call(read_stack, clients, stack)
    if not deployed.resources:
        _fail(f"no stack named {stack} on {endpoint} (ember stacks lists them)", API_ERROR)
    _call(remove_stack, clients, stack, deployed)
    console.print(f"deleted stack {stack}: {owned_summary(deployed)}", markup=False)


@app.command()
def logs(
    name: str,
    follow: bool = typer.Option(False, "--follow", "-f", help="Keep printing new lines."),
    since: str | None = typer.Option(None, help="Only lines newer than this: 30s, 10m, 2h, 1d."),
    endpoint: str | None = EndpointOption,
) -> None:
    """Print a function's log lines (INIT_START, START, output, END, REPORT), oldest first."""
    from ember.cli.log_follow import parse_since, print_events

    client = aws_client("logs", endpoint_url(endpoint))
    start_ms = None
    if since:
        seconds = parse_since(since)
        if seconds is None:
            _fail(f"--since must look like 30s, 10m, 2h or 1d, not {since!r}", LOCAL_ERROR)
        start_ms = int((time.time() - seconds) * 1000)
    _call(print_events, client, name, start_ms, follow, sys.stdout)


@app.command()
def events(
    name: str,
    redrive: bool = typer.Option(False, "--redrive", help="Send them again as new async events, and remove them."),
    endpoint: str | None = EndpointOption,
) -> None:
    """A function's failed async events: those Lambda gave up on that no function destination received."""
    from urllib.parse import quote

    from ember.cli.client import ember_api

    path = f"/ember/functions/{quote(name, safe='')}/failed-events"
    if redrive:
        moved = _call(ember_api, endpoint_url(endpoint), "POST", f"{path}/redrive")["Redriven"]
        for pair in moved:
            console.print(f"{pair['RequestId']} -> {pair['NewRequestId']}", markup=False)
        errors.print(f"redrove {len(moved)} failed event{'s' * (len(moved) != 1)} of {name}", markup=False)
        return
    failed = _call(ember_api, endpoint_url(endpoint), "GET", path)["FailedEvents"]
    table = Table(box=None, pad_edge=False)
    for column in ("REQUEST ID", "FAILED AT", "CONDITION", "ATTEMPTS", "ERROR", "MEANT FOR"):
        table.add_column(column, no_wrap=column != "ERROR")
    for event in failed:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(event["FailedAt"]))
        cells = (event["RequestId"], when, event["Condition"], str(event["ApproximateInvokeCount"]),
                 event.get("Error", ""), " ".join(event["Targets"]) or "-")
        table.add_row(*(Text(cell) for cell in cells))  # an error message is text, never rich markup
    _print_table(table)
    errors.print(f"{len(failed)} failed event{'s' * (len(failed) != 1)} of {name}", markup=False)


@app.command()
def doctor(
    strict: bool = typer.Option(False, "--strict", help="Exit 1 when any feature is inactive."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object instead of lines."),
    isolation: str = typer.Option("auto", envvar="EMBER_ISOLATION", help="As for serve: auto, full or rlimits."),
    zygote: str = typer.Option("on", envvar="EMBER_ZYGOTE", help="As for serve: on or off."),
) -> None:
    """Start one probe sandbox as environments start, and report what isolation it really got."""
    import asyncio
    import json

    from ember.cli.serve import SandboxOptions, StartupError
    from ember.execution.local.doctor import examine
    from ember.execution.local.isolation import IsolationUnavailable

    try:
        options = SandboxOptions.parse(isolation, zygote, "")
        findings = asyncio.run(examine(options.isolation, options.zygote))
    except (StartupError, IsolationUnavailable) as exc:
        _fail(str(exc), STARTUP_FAILURE)
    if as_json:
        console.print_json(json.dumps({f.feature: {"active": f.active, "detail": f.detail} for f in findings}))
    else:
        for finding in findings:
            console.print(finding.line(), markup=False)
    raise typer.Exit(1 if strict and not all(f.active for f in findings) else OK)


@app.command()
def pricing(
    model: str | None = typer.Option(None, "--model", help="2018, 2020 or 2025 (default: today's, 2025)."),
    arch: str = typer.Option("x86_64", "--arch", help="x86_64 or arm64."),
    memory: str | None = typer.Option(None, "--memory", help="Comma-separated MB (default: the model's table)."),
    fmt: str = typer.Option("table", "--format", help="table, markdown or json."),
) -> None:
    """Lambda's prices per memory size under a price model (no server needed)."""
    from ember.billing.prices import PriceModelError, get_model
    from ember.cli.pricing import price_rows, render

    try:
        chosen = get_model(model)
        rows = price_rows(chosen, arch, _sizes(memory) if memory else None)
        sys.stdout.write(render(rows, chosen, arch, fmt) + "\n")
    except PriceModelError as exc:
        _fail(str(exc), LOCAL_ERROR)


@app.command()
def cost(
    name: str | None = typer.Argument(None, help="One function (default: all, and the total)."),
    month: str | None = typer.Option(None, "--month", help="UTC calendar month YYYY-MM (default: this one)."),
    model: str | None = typer.Option(None, "--model", help="Re-price under 2018, 2020 or 2025 (default: 2025)."),
    free_tier: bool = typer.Option(True, "--free-tier/--no-free-tier", help="Net the total of the monthly free tier."),
    what_if_memory: int | None = typer.Option(None, "--what-if-memory", help="Re-price every call at this MB."),
    fmt: str = typer.Option("table", "--format", help="table or json."),
    data_dir: str | None = typer.Option(None, envvar="EMBER_DATA_DIR",
                                        help="Default: $EMBER_HOME, else the running server's, else ./.ember"),
    endpoint: str | None = EndpointOption,
) -> None:
    """What recorded calls cost, per function and in total, from the data dir (no server needed)."""
    from ember.cli.cost import CostError, cost_report, find_data_dir, render

    try:
        if fmt not in ("table", "json"):
            raise CostError(f"--format must be table or json, not {fmt!r}")
        found = find_data_dir(data_dir, endpoint_url(endpoint))
        report, label = cost_report(found, month, model, free_tier, what_if_memory)
        sys.stdout.write(render(report, name, label, free_tier, what_if_memory, fmt, found) + "\n")
    except CostError as exc:
        _fail(str(exc), LOCAL_ERROR)


@app.command()
def tune(
    name: str,
    payload: str | None = typer.Option(None, help="JSON, or @file.json (default {})."),
    memory: str = typer.Option("128,256,512,1024,1769,3008", "--memory", help="Comma-separated MB."),
    runs: int = typer.Option(20, "--runs", help="Warm calls per size (after one cold call)."),
    chart: Path | None = typer.Option(None, "--chart", help="Write a PNG of duration and cost against memory."),
    endpoint: str | None = EndpointOption,
) -> None:
    """Run a function at several memory sizes and recommend the cheapest, fastest and balanced one."""
    from rich.progress import Progress

    from ember.billing.prices import PriceModelError, get_model
    from ember.cli.tune import TuneError, server_info
    from ember.cli.tune import tune as run_tune
    from ember.cli.tune_report import recommendations, results_text, write_chart

    url = endpoint_url(endpoint)
    sizes = _sizes(memory)
    if runs < 1 or not sizes or len(name) + len(f"--tune-{max(sizes)}") > 64:
        _fail("--runs must be at least 1, --memory non-empty, and the name short enough for "
              f"{name}--tune-<MB> (64 characters)", LOCAL_ERROR)
    try:
        info = server_info(url)
        if not info.get("cpu_quota"):
            raise TuneError("the server does not enforce CPU quotas (no cpu cgroup), so durations would not "
                            "change with memory and the chart would lie; see `ember doctor`")
        model = get_model(str(info["price_model"]))
        client = aws_client("lambda", url)
        with Progress(console=errors, transient=True) as progress:
            task = progress.add_task(f"tuning {name}", total=len(sizes) * (runs + 1))
            results = _call(run_tune, client, name, _payload(payload), sizes, runs, model,
                            lambda: progress.advance(task))
        sys.stdout.write("\n".join([results_text(results, model.name), *recommendations(results)]) + "\n")
        if chart is not None:
            write_chart(results, chart, f"{name}: duration and cost against memory ({model.name} prices)")
            sys.stdout.write(f"chart: {chart}\n")
    except (TuneError, PriceModelError) as exc:
        _fail(str(exc), API_ERROR)


def _sizes(raw: str) -> list[int]:
    try:
        return [int(part) for part in raw.split(",") if part.strip()]
    except ValueError:
        _fail(f"--memory takes comma-separated whole MB, not {raw!r}", LOCAL_ERROR)
        raise


def _payload(raw: str | None) -> bytes:
    if raw is None:
        return b"{}"
    if raw.startswith("@"):
        path = Path(raw[1:])
        if not path.exists():
            _fail(f"no such payload file: {path}", LOCAL_ERROR)
        return path.read_bytes()
    return raw.encode()


def _parameter_overrides(raw: list[str]) -> dict[str, str]:
    """SAM CLI's forms: `K=V K2=V2` (space-separated, or the flag repeated) and
    `ParameterKey=K,ParameterValue=V`."""
    items = []
    for item in (part for text in raw for part in text.split()):
        if item.startswith("ParameterKey="):
            key, _, value = item.removeprefix("ParameterKey=").partition(",ParameterValue=")
            item = f"{key}={value}"
        items.append(item)
    return _pairs(items, "--parameter-overrides")


def _pairs(items: list[str], flag: str = "--env") -> dict[str, str]:
    pairs = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            _fail(f"{flag} wants K=V, got {item!r}", LOCAL_ERROR)
        pairs[key] = value
    return pairs


def _call(function: Any, *args: Any, **kwargs: Any) -> Any:
    """Run a client call; an AWS or connection error becomes one line and exit 2, a local one (a file that
    can't be read, sources javac refuses) exit 4."""
    from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError

    try:
        return function(*args, **kwargs)
    except ClientError as exc:
        error = exc.response.get("Error", {})
        _fail(f"{error.get('Code', 'Error')}: {error.get('Message', str(exc))}", API_ERROR)
    except EndpointConnectionError as exc:
        _fail(f"cannot reach Ember at {exc.kwargs.get('endpoint_url')}: is `ember serve` running?", API_ERROR)
    except BotoCoreError as exc:
        _fail(f"{type(exc).__name__}: {exc}", API_ERROR)
    except (OSError, ValueError) as exc:
        _fail(f"{type(exc).__name__}: {exc}", LOCAL_ERROR)


def _fail(message: str, code: int) -> NoReturn:
    errors.print(f"ember: {message}", markup=False, soft_wrap=True)
    raise typer.Exit(code)


def main() -> None:
    try:
        sys.exit(app(standalone_mode=False) or OK)
    except typer.TyperException as exc:  # a missing argument, an unknown option: click's own message (typer
        show = getattr(exc, "show", None)  # vendors click), and the local mistake's code, not the API error's
        show() if show else errors.print(f"ember: {exc.format_message()}", markup=False)
        sys.exit(LOCAL_ERROR)
    except (KeyboardInterrupt, typer.Abort):
        sys.exit(130)
    except Exception as exc:  # the last net: one line, never a traceback
        errors.print(f"ember: {type(exc).__name__}: {exc}", markup=False, soft_wrap=True)
        sys.exit(API_ERROR)
