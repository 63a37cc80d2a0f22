"""An HTTP API route under wrk, next to a direct Invoke of the same function and the bare uvicorn app, same run.

One `ember serve --auth none`, the hello function, an HTTP API quick-created on it (the `$default` route, a
payload 2.0 integration, the `$default` stage) with API Gateway's permission added. `wrk -t1 -c8 -d5s
--latency` POSTs `{}` to each of three URLs, rotating which goes first, 3 repeats: the API by Ember's path
form (`/_aws/execute-api/<api-id>/hello`), the function's invoke URL, and bench/bare_app.py. The hello
handler's answer (no `statusCode`) is a 200 JSON body through the API, the same bytes all three send.
Per wrk run: requests/s, and the p50 and p99 of wrk's latency distribution.
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
FUNCTION = "bench-http-api"
SIDES = ("http_api", "direct_invoke", "bare_uvicorn")
LATENCY = re.compile(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", re.MULTILINE)
UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def wrk(url: str, script: str, seconds: int) -> tuple[float, float, float]:
    """One wrk run: (requests/s, p50 ms, p99 ms). Raises on errors or non-2xx answers."""
    command = ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency", "-s", script, url]
    out = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 30, check=True).stdout
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", out, re.MULTILINE)
    latency = {q: float(value) * UNIT_MS[unit] for q, value, unit in LATENCY.findall(out)}
    if "Non-2xx" in out or "Socket errors" in out or not rps or set(latency) != {"50", "99"}:
        raise RuntimeError(f"wrk against {url} reported errors:\n{out}")
    return float(rps.group(1)), latency["50"], latency["99"]


def quick_create(server: harness.EmberServer) -> str:
    """The HTTP API, and the permission AWS's docs give for its $default stage and route."""
    gateway = boto3.session.Session().client(
        "apigatewayv2", endpoint_url=server.url, region_name="us-east-1", aws_access_key_id="bench",
        aws_secret_access_key="bench", config=Config(retries={"total_max_attempts": 1}))
    api_id: str = gateway.create_api(Name="bench", ProtocolType="HTTP",
                                     Target=f"arn:aws:lambda:us-east-1:000000000000:function:{FUNCTION}")["ApiId"]
    server.client().add_permission(FunctionName=FUNCTION, StatementId="apigw", Action="lambda:InvokeFunction",
                                   Principal="apigateway.amazonaws.com",
                                   SourceArn=f"arn:aws:execute-api:us-east-1:000000000000:{api_id}/*")
    return api_id


def run() -> list[dict]:
    if shutil.which("wrk") is None:
        raise RuntimeError("wrk is not installed: run `make bench` (it installs wrk) or apt-get install wrk")
    samples: dict[str, dict[str, list[float]]] = {side: {"rps": [], "p50": [], "p99": []} for side in SIDES}
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script, \
            harness.EmberServer() as server, bare_app() as bare_url:
        script.write(LUA)
        script.flush()
        harness.create_function(server.client(), FUNCTION)
        api_id = quick_create(server)
        urls = {"http_api": f"{server.url}/_aws/execute-api/{api_id}/hello",
                "direct_invoke": server.url + server.invoke_path(FUNCTION), "bare_uvicorn": bare_url + "/"}
        for side in SIDES:
            wrk(urls[side], script.name, WARM_UP_S)
        environments = server.environments()
        for repeat in range(REPEATS):
            order = SIDES[repeat % 3:] + SIDES[:repeat % 3]
            for side in order:
                rps, p50, p99 = wrk(urls[side], script.name, DURATION_S)
                samples[side]["rps"].append(rps)
                samples[side]["p50"].append(p50)
                samples[side]["p99"].append(p99)
    common = {"benchmark": "http_api", "repeats": REPEATS, "warm_up_s": WARM_UP_S,
              "load_generator": f"wrk -t1 -c{CONNECTIONS} -d{DURATION_S}s --latency, Lua POST {{}}",
              "function": FUNCTION, "environments_after_warm_up": environments}
    records = []
    for side in SIDES:
        role = "candidate" if side == "http_api" else "baseline"
        records += [harness.record(f"{side}_rps", "requests/s", samples[side]["rps"], **common, role=role),
                    harness.record(f"{side}_p50_ms", "ms", samples[side]["p50"], **common, role=role,
                                   statistic="p50 of one wrk run's latency distribution"),
                    harness.record(f"{side}_p99_ms", "ms", samples[side]["p99"], **common, role=role,
                                   statistic="p99 of one wrk run's latency distribution")]
    return records


if __name__ == "__main__":
    import run as runner

    sys.exit(runner.main(["http_api"]))
