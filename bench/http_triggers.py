"""A function reached over HTTP through its function URL and through an HTTP API route, next to a direct Invoke
of the same function and the bare uvicorn app, in the same run.

`wrk -t1 -c8 -d5s --latency` POSTing `{}` to each of: the hello function's URL (AuthType NONE, by its path form
/_aws/lambda-url/<id>/, so the front door, the resource policy check, the format 2.0 event and the response
mapping are all in the path), an HTTP API quick-created on the function (its `$default` route, a format 2.0
integration, the `$default` stage; by /_aws/execute-api/<api-id>/hello, so stage and route selection are in the
path too), the Invoke API for that function (`--auth none`, no signing), and bench/bare_app.py. The four take
turns, the order rotating each repeat, 3 repeats each; a short unrecorded run against each first warms the 8
environments. Per run: requests/s, and wrk's p50 and p99 latency.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile

import boto3
import harness
from bare_app import bare_app
from botocore.config import Config
from throughput import LUA

REPEATS = 3
CONNECTIONS = 8
DURATION_S = 5
WARM_UP_S = 2
FUNCTION = "bench-http"
SIDES = ("url", "api", "invoke", "bare")
REQUESTS_PER_S = re.compile(r"^Requests/sec:\s+([\d.]+)", re.MULTILINE)
PERCENTILE = re.compile(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", re.MULTILINE)
TO_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def wrk(url: str, script: str, seconds: int) -> tuple[float, float, float]:
    """(requests/s, p50 ms, p99 ms) of one wrk run; raises on errors or non-2xx answers."""
    command = ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency", "-s", script, url]
    out = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 30, check=True).stdout
    rps = REQUESTS_PER_S.search(out)
    latency = {q: float(v) * TO_MS[unit] for q, v, unit in PERCENTILE.findall(out)}
    if "Non-2xx" in out or "Socket errors" in out or not rps or set(latency) != {"50", "99"}:
        raise RuntimeError(f"wrk against {url} reported errors:\n{out}")
    return float(rps.group(1)), latency["50"], latency["99"]


def public_url(client, name: str) -> str:
    """A NONE URL with the two permissions AWS requires; its url-id."""
    client.add_permission(FunctionName=name, StatementId="url", Action="lambda:InvokeFunctionUrl", Principal="*",
                          FunctionUrlAuthType="NONE")
    client.add_permission(FunctionName=name, StatementId="via-url", Action="lambda:InvokeFunction", Principal="*",
                          InvokedViaFunctionUrl=True)
    function_url = client.create_function_url_config(FunctionName=name, AuthType="NONE")["FunctionUrl"]
    return function_url.split("//", 1)[1].split(".", 1)[0]


def http_api(server: harness.EmberServer, name: str) -> str:
    """A quick-created HTTP API on the function, with the permission AWS's docs give; its api-id."""
    gateway = boto3.session.Session().client(
        "apigatewayv2", endpoint_url=server.url, region_name="us-east-1", aws_access_key_id="bench",
        aws_secret_access_key="bench", config=Config(retries={"total_max_attempts": 1}))
    api_id: str = gateway.create_api(Name="bench", ProtocolType="HTTP",
                                     Target=f"arn:aws:lambda:us-east-1:000000000000:function:{name}")["ApiId"]
    server.client().add_permission(FunctionName=name, StatementId="apigw", Action="lambda:InvokeFunction",
                                   Principal="apigateway.amazonaws.com",
                                   SourceArn=f"arn:aws:execute-api:us-east-1:000000000000:{api_id}/*")
    return api_id


def run() -> list[dict]:
    if shutil.which("wrk") is None:
        raise RuntimeError("wrk is not installed: run `make bench` (it installs wrk) or apt-get install wrk")
    rps: dict[str, list[float]] = {side: [] for side in SIDES}
    p50: dict[str, list[float]] = {side: [] for side in SIDES}
    p99: dict[str, list[float]] = {side: [] for side in SIDES}
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script, \
            harness.EmberServer() as server, bare_app() as bare_url:
        script.write(LUA)
        script.flush()
        client = server.client()
        harness.create_function(client, FUNCTION)
        url_id = public_url(client, FUNCTION)
        api_id = http_api(server, FUNCTION)
        urls = {"url": f"{server.url}/_aws/lambda-url/{url_id}/",
                "api": f"{server.url}/_aws/execute-api/{api_id}/hello",
                "invoke": server.url + server.invoke_path(FUNCTION), "bare": bare_url + "/"}
        for side in SIDES:
            wrk(urls[side], script.name, WARM_UP_S)
        environments = server.environments()
        for repeat in range(REPEATS):
            order = SIDES[repeat % len(SIDES):] + SIDES[:repeat % len(SIDES)]
            for side in order:
                one_rps, one_p50, one_p99 = wrk(urls[side], script.name, DURATION_S)
                rps[side].append(one_rps)
                p50[side].append(one_p50)
                p99[side].append(one_p99)
    common = {"benchmark": "http_triggers", "repeats": REPEATS, "function": FUNCTION,
              "load_generator": f"wrk -t1 -c{CONNECTIONS} -d{DURATION_S}s --latency, Lua POST {{}}",
              "warm_up_s": WARM_UP_S, "environments_after_warm_up": environments}
    what = {"url": ("function_url", "candidate", "the function URL's path form, AuthType NONE"),
            "api": ("api", "candidate", "an HTTP API's $default route, payload 2.0, by its path form"),
            "invoke": ("direct_invoke", "baseline", "the Invoke API, --auth none"),
            "bare": ("bare_uvicorn", "baseline", "bench/bare_app.py")}
    records = []
    for side in SIDES:
        name, role, through = what[side]
        records.append(harness.record(f"http_{name}_rps", "requests/s", rps[side], **common, role=role,
                                      through=through))
        records.append(harness.record(f"http_{name}_p50_ms", "ms", p50[side], **common, role=role, through=through,
                                      statistic="wrk p50 of each run"))
        records.append(harness.record(f"http_{name}_p99_ms", "ms", p99[side], **common, role=role, through=through,
                                      statistic="wrk p99 of each run"))
    return records


if __name__ == "__main__":
    import run as runner

    sys.exit(runner.main(["http_triggers"]))
