"""Server CPU to verify one SigV4 signature: Ember's verifier against botocore's signer used as is.

The baseline is how `ember.api.sigv4` verified before: a botocore `SigV4Auth` over the signed headers,
deriving the signing key with four HMACs and hashing the body through `AWSRequest` on every request.
The candidate caches the day's key and hashes the body once. Both verify the same signed Invoke request
(a 2-byte body, as a warm no-op call sends), in 20 interleaved blocks of 500; microseconds per verify.
"""

from __future__ import annotations

import sys
import time

import harness
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from ember.api import sigv4

URL = "http://127.0.0.1:9000/2015-03-31/functions/f/invocations"
BLOCKS, PER_BLOCK = 20, 500


class Keys(dict):
    def session(self, *_: object) -> None:
        return None


class PlainVerifier(SigV4Auth):
    def __init__(self, names: list[str]) -> None:
        super().__init__(Credentials("test", "test"), "lambda", "us-east-1")
        self._names = names

    def headers_to_sign(self, request):  # the signed headers, as the verifier before this change chose them
        chosen = super().headers_to_sign(request)
        for name in list(chosen.keys()):
            if name.lower() not in self._names:
                del chosen[name]
        return chosen


def ember(headers: dict[str, str], keys: Keys) -> None:
    sigv4.verify("POST", URL, headers, b"{}", keys, "lambda", "us-east-1")


def signed_headers() -> dict[str, str]:
    request = AWSRequest(method="POST", url=URL, data=b"{}", headers={"Host": "127.0.0.1:9000"})
    SigV4Auth(Credentials("test", "test"), "lambda", "us-east-1").add_auth(request)
    return {name.lower(): value for name, value in request.headers.items()} | {"host": "127.0.0.1:9000"}


def baseline(headers: dict[str, str], keys: Keys) -> None:
    sigv4.precheck(headers, keys, "lambda", "us-east-1")  # the same header checks as the candidate
    names = headers["authorization"].split("SignedHeaders=")[1].split(",")[0].split(";")
    request = AWSRequest(method="POST", url=URL, headers={n: headers[n] for n in names}, data=b"{}")
    request.context["timestamp"] = headers["x-amz-date"]
    signer = PlainVerifier(names)
    signer.signature(signer.string_to_sign(request, signer.canonical_request(request)), request)


def per_call_us(call, headers: dict[str, str], keys: Keys) -> float:
    started = time.perf_counter_ns()
    for _ in range(PER_BLOCK):
        call(headers, keys)
    return (time.perf_counter_ns() - started) / PER_BLOCK / 1000


def run() -> list[dict]:
    headers, keys = signed_headers(), Keys(test="test")
    candidate, plain = [], []
    for _ in range(BLOCKS):
        candidate.append(per_call_us(ember, headers, keys))
        plain.append(per_call_us(baseline, headers, keys))
    common = {"benchmark": "sigv4_verify", "blocks": BLOCKS, "per_block": PER_BLOCK}
    return [harness.record("sigv4_verify_us", "us", candidate, **common, role="candidate",
                           baseline="sigv4_botocore_plain_us"),
            harness.record("sigv4_botocore_plain_us", "us", plain, **common, role="baseline")]


if __name__ == "__main__":
    for record in run():
        print(record["metric"], harness.percentile(record["samples"], 50), file=sys.stderr)
