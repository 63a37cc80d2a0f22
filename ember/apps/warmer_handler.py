"""The warmer function Ember deploys for serverless-plugin-warmup (shipped as the function's `index.py`; never
imported by Ember itself).

As the plugin's own warmer does: each target is invoked synchronously `concurrency` times at once, so that many
environments are busy together and each stays warm; the payload is the warmer's, and the ClientContext is
`{"custom": <payload>}` so a handler can tell a warm-up call from a real one either way. `WARMUP_CONCURRENCY` and
`WARMUP_CONCURRENCY_<FUNCTION_NAME>` override the concurrency, as the plugin reads them.
"""

import base64
import json
import os
from concurrent.futures import ThreadPoolExecutor

import boto3
from botocore.config import Config

TARGETS = json.loads(os.environ.get("WARMUP_TARGETS", "[]"))  # [{"name", "qualifier", "concurrency"}]
PAYLOAD = os.environ.get("WARMUP_PAYLOAD", '{"source":"serverless-plugin-warmup"}')


def concurrency(target):
    own = os.environ.get("WARMUP_CONCURRENCY_" + target["name"].upper().replace("-", "_"))
    return int(own or os.environ.get("WARMUP_CONCURRENCY") or target["concurrency"])


def handler(event, context):
    calls = [target for target in TARGETS for _ in range(concurrency(target))]
    if not calls:
        return {"warmed": 0, "errors": 0}
    client = boto3.client("lambda", config=Config(max_pool_connections=len(calls), retries={"max_attempts": 1},
                                                  connect_timeout=1))
    client_context = base64.b64encode(('{"custom":' + PAYLOAD + "}").encode()).decode()

    def invoke(target):
        request = {"FunctionName": target["name"], "InvocationType": "RequestResponse", "LogType": "None",
                   "Payload": PAYLOAD.encode(), "ClientContext": client_context}
        if target.get("qualifier"):
            request["Qualifier"] = target["qualifier"]
        try:
            answer = client.invoke(**request)
            answer["Payload"].read()
            return answer.get("FunctionError") is None
        except Exception as error:  # one failed warm-up call must not stop the others
            print(f"Warm Up Invoke Error: {target['name']}: {error}")
            return False

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        results = list(pool.map(invoke, calls))
    failures = results.count(False)
    print(f"Warm Up Finished with {failures} invoke errors")
    return {"warmed": len(results) - failures, "errors": failures}
