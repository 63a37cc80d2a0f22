"""What a function finds around it, as on AWS: a passwd entry for its uid (no HOME), AWS's PATH shape with the
runtime's interpreter first, AWS's library and module paths, and the JavaScript SDK v3 preinstalled for Node."""

from __future__ import annotations

import json

PYTHON_USER = """
import grp, os, pwd, subprocess
def handler(event, context):
    user = pwd.getpwuid(os.getuid())
    child = subprocess.run(["python3", "-c", "import sys, boto3; print(sys.executable)"],
                           capture_output=True, text=True)
    return {"name": user.pw_name, "home": user.pw_dir, "expanded": os.path.expanduser("~"),
            "group": grp.getgrgid(os.getgid()).gr_name, "has_home": "HOME" in os.environ,
            "path": os.environ["PATH"], "ld": os.environ["LD_LIBRARY_PATH"], "pythonpath": os.environ["PYTHONPATH"],
            "child": child.stdout.strip() or child.stderr, "python": __import__("sys").executable}
"""

NODE_USER = """
const os = require('os');
const { execFileSync } = require('child_process');
exports.handler = async () => {
  const { LambdaClient } = require('@aws-sdk/client-lambda');   // not bundled: the runtime's copy
  new LambdaClient({});
  return { home: os.homedir(), name: os.userInfo().username, hasHome: 'HOME' in process.env,
           path: process.env.PATH, nodePath: process.env.NODE_PATH,
           sdk: require.resolve('@aws-sdk/client-lambda'),
           child: execFileSync('node', ['-p', 'process.execPath']).toString().trim(), node: process.execPath };
};
"""

AWS_TAIL = "/usr/local/bin:/usr/bin/:/bin:/opt/bin"


def invoke(client, name: str) -> dict:
    response = client.invoke(FunctionName=name, Payload=b"{}")
    body = json.loads(response["Payload"].read())
    assert "FunctionError" not in response, body
    return body


def test_the_sandbox_user_has_a_passwd_entry_and_no_home_variable(client, deploy):
    found = invoke(client, deploy(PYTHON_USER, memory=1024, timeout=20))
    assert (found["name"], found["home"], found["group"]) == ("sbx_user1051", "/home/sbx_user1051", "sbx_user1051")
    assert found["expanded"] == "/home/sbx_user1051" and not found["has_home"], "as on AWS: from passwd, HOME unset"


def test_path_puts_the_runtimes_interpreter_first_and_nothing_of_the_hosts(client, deploy):
    found = invoke(client, deploy(PYTHON_USER, memory=1024, timeout=20))
    first, _, rest = found["path"].partition(":")
    assert rest == AWS_TAIL and first == found["python"].rpartition("/")[0]
    assert found["child"] == first + "/python3", "a subprocess's python3 is the runtime's, with boto3"
    assert found["pythonpath"] == "/var/runtime"
    assert found["ld"] == ("/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:"
                           "/var/task:/var/task/lib:/opt/lib")


def test_node_finds_its_home_and_the_preinstalled_sdk(client, deploy):
    found = invoke(client, deploy({"index.js": NODE_USER}, runtime="nodejs20.x", memory=256, timeout=10))
    assert (found["home"], found["name"], found["hasHome"]) == ("/home/sbx_user1051", "sbx_user1051", False)
    assert found["sdk"].startswith("/var/runtime/node_modules/@aws-sdk/client-lambda/")
    assert found["nodePath"] == ("/opt/nodejs/node20/node_modules:/opt/nodejs/node_modules:"
                                 "/var/runtime/node_modules:/var/runtime:/var/task")
    assert found["path"].endswith(":" + AWS_TAIL) and found["child"] == found["node"]


def test_a_provided_runtime_gets_awss_system_path(client, deploy):
    bootstrap = ("#!/bin/sh\nwhile true; do\n  h=$(mktemp)\n"
                 "  curl -sS -D \"$h\" -o /dev/null \"http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime/invocation/next\"\n"
                 "  id=$(grep -i lambda-runtime-aws-request-id \"$h\" | tr -d '\\r' | cut -d' ' -f2)\n"
                 "  printf '{\"path\": \"%s\", \"user\": \"%s\"}' \"$PATH\" \"$(id -un)\" "
                 "| curl -sS -o /dev/null -d @- "
                 "\"http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime/invocation/$id/response\"\ndone\n")
    found = invoke(client, deploy({"bootstrap": bootstrap}, runtime="provided.al2023", handler="x",
                                  modes={"bootstrap": 0o755}))
    assert found == {"path": AWS_TAIL, "user": "sbx_user1051"}
