"""The hardened sandbox, seen from inside a function: no_new_privs, no capabilities, the seccomp
allowlist (namespaces, mounts, ptrace, keyrings, io_uring refused; clone3 says ENOSYS) — and threads
and child processes still work, on Ember's Python runtime (zygote and exec), Node.js and bash + curl.
Each refused call below succeeds, or fails differently, in an unfiltered process of the same uid
(checked by running them with the filter off), except bpf: this kernel refuses it to every
unprivileged process (kernel.unprivileged_bpf_disabled), so there it is defence in depth only."""

from __future__ import annotations

import json

from conftest import ROLE, make_zip

PROBE = """
import ctypes, errno, os, subprocess, threading
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
CLONE_NEWUSER, CLONE_NEWNS = 0x10000000, 0x00020000
PTRACE_ATTACH, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING = 16, 0, -3
SYS_CLONE3, SYS_BPF, SYS_KEYCTL, SYS_IO_URING_SETUP = 435, 321, 250, 425

def status():
    fields = dict(line.split(":", 1) for line in open("/proc/self/status").read().splitlines())
    names = ("NoNewPrivs", "Seccomp", "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb")
    return {name: fields[name].strip() for name in names}

def outcome(call):
    ctypes.set_errno(0)
    return "ok" if call() >= 0 else errno.errorcode[ctypes.get_errno()]

def in_a_child(call):
    # `outcome` in a forked child, so that a call that worked changes nothing for the next
    pid = os.fork()
    if pid == 0:
        ctypes.set_errno(0)
        os._exit(0 if call() >= 0 else ctypes.get_errno())
    code = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
    return "ok" if code == 0 else errno.errorcode[code]

def ptrace_a_child():
    child = subprocess.Popen(["/bin/sleep", "5"])
    try:
        return outcome(lambda: libc.ptrace(PTRACE_ATTACH, child.pid, None, None))
    finally:
        child.kill()
        child.wait()

def handler(event, context):
    found = {
        "status": status(),
        "unshare_user": in_a_child(lambda: libc.unshare(CLONE_NEWUSER)),
        "unshare_user_mount": in_a_child(lambda: libc.unshare(CLONE_NEWUSER | CLONE_NEWNS)),
        "mount": in_a_child(lambda: (libc.unshare(CLONE_NEWUSER | CLONE_NEWNS),  # unfiltered, this lets it mount
                                     libc.mount(b"none", b"/tmp", b"tmpfs", 0, None))[1]),
        "clone3": outcome(lambda: libc.syscall(SYS_CLONE3, None, 0)),
        "ptrace": ptrace_a_child(),
        "bpf": outcome(lambda: libc.syscall(SYS_BPF, 5, None, 0)),
        "keyctl": outcome(lambda: libc.syscall(SYS_KEYCTL, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0)),
        "io_uring_setup": outcome(lambda: libc.syscall(SYS_IO_URING_SETUP, 1, ctypes.create_string_buffer(120))),
    }
    ran = []
    thread = threading.Thread(target=lambda: ran.append(threading.get_native_id()))
    thread.start()
    thread.join()
    found["thread"] = len(ran)
    found["subprocess"] = subprocess.run(["/bin/sh", "-c", "echo ok"], capture_output=True, text=True).stdout
    return found
"""

NODE = """
const fs = require("fs");
const { execFileSync } = require("child_process");
const { Worker } = require("worker_threads");
exports.handler = async () => {
  const status = {};
  for (const line of (await fs.promises.readFile("/proc/self/status", "utf8")).split("\\n")) {
    const at = line.indexOf(":");
    if (at > 0) status[line.slice(0, at)] = line.slice(at + 1).trim();
  }
  const child = execFileSync("/bin/sh", ["-c", "echo ok"]).toString();
  let userns = "ok";
  try { execFileSync("/usr/bin/unshare", ["--user", "true"], { stdio: "pipe" }); }
  catch (error) { userns = error.stderr.toString().trim(); }
  const worker = await new Promise((resolve, reject) => {
    const thread = new Worker("require('worker_threads').parentPort.postMessage(6 * 7)", { eval: true });
    thread.once("message", resolve);
    thread.once("error", reject);
  });
  const { NoNewPrivs, Seccomp, CapBnd, CapEff, CapPrm, CapAmb } = status;
  return { NoNewPrivs, Seccomp, CapBnd, CapEff, CapPrm, CapAmb, child, userns, worker };
};
"""

BASH = """#!/bin/bash
API="http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime"
while true; do
  HEADERS="$(mktemp)"
  curl -sS -o /dev/null -D "$HEADERS" "$API/invocation/next"
  REQUEST_ID=$(grep -Fi Lambda-Runtime-Aws-Request-Id "$HEADERS" | tr -d '[:space:]' | cut -d: -f2)
  rm -f "$HEADERS"
  SECCOMP=$(sed -n 's/^Seccomp:[[:space:]]*//p' /proc/self/status)
  BOUNDING=$(sed -n 's/^CapBnd:[[:space:]]*//p' /proc/self/status)
  if unshare --user true 2>/dev/null; then USERNS=ok; else USERNS=refused; fi
  curl -sS "$API/invocation/$REQUEST_ID/response" \\
    -d "{\\"Seccomp\\": \\"$SECCOMP\\", \\"CapBnd\\": \\"$BOUNDING\\", \\"userns\\": \\"$USERNS\\"}" >/dev/null
done
"""

NO_CAPABILITIES = "0000000000000000"


def call(client, name: str) -> dict:
    response = client.invoke(FunctionName=name, Payload=b"{}")
    body = json.loads(response["Payload"].read())
    assert "FunctionError" not in response, body
    return body


def test_python_runs_without_privileges_under_the_allowlist(client, deploy):
    found = call(client, deploy(PROBE, timeout=10))
    assert found["status"] == {"NoNewPrivs": "1", "Seccomp": "2", "CapInh": NO_CAPABILITIES,
                               "CapPrm": NO_CAPABILITIES, "CapEff": NO_CAPABILITIES,
                               "CapBnd": NO_CAPABILITIES, "CapAmb": NO_CAPABILITIES}
    assert found["unshare_user"] == found["unshare_user_mount"] == "EPERM", "no user namespace"
    assert found["mount"] == "EPERM"
    assert found["clone3"] == "ENOSYS", "clone3 must say ENOSYS so that libraries fall back to clone"
    assert {call: found[call] for call in ("ptrace", "bpf", "keyctl", "io_uring_setup")} == \
        {"ptrace": "EPERM", "bpf": "EPERM", "keyctl": "EPERM", "io_uring_setup": "EPERM"}
    assert found["thread"] == 1 and found["subprocess"] == "ok\n", "threads and child processes still work"


def test_node_runs_under_the_allowlist_and_its_children_inherit_it(client):
    name = "hardening-node"
    client.create_function(FunctionName=name, Runtime="nodejs20.x", Role=ROLE, Handler="index.handler",
                           Timeout=10, MemorySize=256, Code={"ZipFile": make_zip({"index.js": NODE})})
    try:
        found = call(client, name)
    finally:
        client.delete_function(FunctionName=name)
    assert (found["NoNewPrivs"], found["Seccomp"]) == ("1", "2")
    assert {found[cap] for cap in ("CapBnd", "CapEff", "CapPrm", "CapAmb")} == {NO_CAPABILITIES}
    assert found["child"] == "ok\n" and found["worker"] == 42, "child processes and worker threads still work"
    assert "Operation not permitted" in found["userns"], found["userns"]


def test_a_bash_and_curl_bootstrap_runs_under_the_allowlist(client):
    name = "hardening-bash"
    client.create_function(FunctionName=name, Runtime="provided.al2023", Role=ROLE, Handler="function.handler",
                           Timeout=10, Code={"ZipFile": make_zip({"bootstrap": BASH}, {"bootstrap": 0o755})})
    try:
        found = call(client, name)
    finally:
        client.delete_function(FunctionName=name)
    assert found == {"Seccomp": "2", "CapBnd": NO_CAPABILITIES, "userns": "refused"}
