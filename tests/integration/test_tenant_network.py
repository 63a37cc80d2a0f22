"""Functions that distrust each other, attacked as an audit would with ordinary deployed functions:
each environment's network is its own, its Runtime API answers it alone, and nothing of the host
is reachable but Ember's own API inside the namespace. The server runs in its default egress mode,
so an attack that fails here fails because of the isolation, not because everything was cut."""

from __future__ import annotations

import json
import threading
import uuid

from conftest import ROLE, lambda_client, make_zip

SCAN = """
import json, os, socket

def gateway():
    for line in open("/proc/net/route").read().splitlines()[1:]:
        fields = line.split()
        if fields[1] == "00000000":
            return socket.inet_ntoa(int(fields[2], 16).to_bytes(4, "little"))

def is_open(host, port):
    sock = socket.socket()
    sock.settimeout(0.5)
    try:  # a connection to itself (TCP simultaneous open on an ephemeral port) is no listener
        return sock.connect_ex((host, port)) == 0 and sock.getsockname() != sock.getpeername()
    except OSError:
        return False
    finally:
        sock.close()

def handler(event, context):
    ports = sorted(set(range(1, 1025)) | set(event["ports"]) | {9000, 9001})
    found = {"loopback": [p for p in range(1, 65536) if is_open("127.0.0.1", p)],
             "gateway": [p for p in ports if is_open(gateway(), p)]}
    for host in event["hosts"]:
        found[host] = [p for p in event["ports"] + [9000, 9001] if is_open(host, p)]
    found["tcp"] = open("/proc/net/tcp").read()
    return found
"""

ADDRESS = """
import socket
def handler(event, context):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.connect((event["outside"], 9))
    return sock.getsockname()[0]
"""

RAW_RUNTIME_API = """
import json, os, urllib.error, urllib.request

API = "http://" + os.environ["AWS_LAMBDA_RUNTIME_API"] + "/2018-06-01/runtime"

def call(method, path, body=None):
    request = urllib.request.Request(API + path, data=body, method=method)
    try:
        with urllib.request.urlopen(request, timeout=2) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())

def handler(event, context):
    return {"address": os.environ["AWS_LAMBDA_RUNTIME_API"],
            "next": call("GET", "/invocation/next"),
            "other_id": call("POST", "/invocation/not-this-one/response", b"{}"),
            "init_error": call("POST", "/init/error", b"{}"),
            "request": context.aws_request_id}
"""

STEAL = """
import json, os, time, urllib.error, urllib.request

def handler(event, context):
    url = "http://127.0.0.1:9001/2018-06-01/runtime/invocation/next"
    stolen, refused, end = [], 0, time.monotonic() + event["seconds"]
    while time.monotonic() < end:
        try:
            with urllib.request.urlopen(url, timeout=0.5) as response:
                stolen.append(response.read().decode())
        except urllib.error.HTTPError:
            refused += 1
        except OSError:
            pass
    return {"stolen": stolen, "refused": refused}
"""


def invoke(client, name: str, event: dict) -> object:
    response = client.invoke(FunctionName=name, Payload=json.dumps(event))
    assert "FunctionError" not in response, response["Payload"].read()
    return json.loads(response["Payload"].read())


def test_the_runtime_api_is_the_environments_own_and_refuses_illegal_moves(client, deploy):
    name = deploy(RAW_RUNTIME_API)
    found = invoke(client, name, {})
    assert found["address"] == "127.0.0.1:9001"
    assert found["next"] == [403, {"errorType": "InvalidStateTransition",
                                   "errorMessage": "State transition is not allowed"}]
    assert found["other_id"] == [400, {"errorType": "InvalidRequestID", "errorMessage": "Invalid request ID"}]
    assert found["init_error"][0] == 403
    again = invoke(client, name, {})  # nothing changed: the runtime serves the next call as usual
    assert again["request"] != found["request"] and again["next"][0] == 403


def test_a_function_reaches_nothing_of_the_host_or_another_environment(ember, client, deploy, outside, collector):
    victim = deploy(ADDRESS, timeout=10)
    victim_address = invoke(client, victim, {"outside": outside.address})
    server_port = int(ember.url.rsplit(":", 1)[1])
    collector_port = int(collector.url.rstrip("/").rsplit(":", 1)[1])
    host_address = f"198.18.{outside.block}.1"  # the host's own address on the outside link
    attacker = deploy(SCAN, timeout=60, memory=512)
    found = invoke(client, attacker, {"ports": [server_port, collector_port, 22], "hosts": [victim_address,
                                                                                             host_address]})
    assert found["loopback"] == [9000, 9001], "only its own Runtime API and Ember's API listener"
    assert found["gateway"] == [] and found[host_address] == [] and found[victim_address] == []
    assert f":{server_port:04X} " not in found["tcp"], "the host's sockets are not in its /proc/net/tcp"
    assert victim_address.startswith("100.") and victim_address != found.get("self")


def test_another_environments_events_cannot_be_stolen(ember, client, deploy):
    victim = deploy("def handler(event, context):\n    return {'secret': event['secret']}\n")
    thief = deploy(STEAL, timeout=10)
    results: dict[str, object] = {}
    thread = threading.Thread(target=lambda: results.update(invoke(lambda_client(ember.url), thief, {"seconds": 3})))
    thread.start()
    secrets = [uuid.uuid4().hex for _ in range(40)]
    answers = [invoke(client, victim, {"secret": secret})["secret"] for secret in secrets]
    thread.join()
    assert answers == secrets
    assert results["stolen"] == [] and results["refused"] > 0, "the thief only ever reached its own Runtime API"


def test_egress_reaches_the_outside_host_through_nat(client, deploy, collector):
    name = deploy(collector.SEND + "def handler(event, context):\n    send({'hello': 'outside'})\n    return 1\n",
                  env={"OUT": collector.url}, timeout=10)
    assert invoke(client, name, {}) == 1
    assert collector.lines == [{"hello": "outside"}]


def test_with_network_none_only_embers_api_is_reachable(ember_with, outside, collector):
    server = ember_with("--network", "none")
    client = lambda_client(server.url)
    probe = ("import os, urllib.error, urllib.request\n" + collector.SEND +
             "def handler(event, context):\n"
             "    try:\n        send({'escaped': True})\n        out = 'reached'\n"
             "    except OSError as exc:\n        out = type(exc).__name__\n"
             "    try:\n        urllib.request.urlopen(os.environ['AWS_ENDPOINT_URL_LAMBDA'] + "
             "'/2015-03-31/functions/', timeout=2)\n        api = 200\n"
             "    except urllib.error.HTTPError as error:\n        api = error.code\n"
             "    return {'outside': out, 'api': api, 'endpoint': os.environ['AWS_ENDPOINT_URL_LAMBDA']}\n")
    client.create_function(FunctionName="probe", Runtime="python3.11", Role=ROLE, Handler="index.handler",
                           Code={"ZipFile": make_zip({"index.py": probe})}, Timeout=10,
                           Environment={"Variables": {"OUT": collector.url}})
    found = json.loads(client.invoke(FunctionName="probe")["Payload"].read())
    assert found["outside"] != "reached" and collector.lines == []
    assert found["endpoint"] == "http://127.0.0.1:9000"
    assert found["api"] == 403, "Ember's API answers inside, and wants a signature"
