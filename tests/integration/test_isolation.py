"""Each isolation promise, tested from inside a function: only the sandbox can stop what it tries."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from conftest import ROLE, EmberProcess, lambda_client, make_zip, wait_for

PROBE = """
import os, socket
def handler(event, context):
    found = {}
    for path in event["paths"]:
        try:
            with open(path, "rb") as f:
                f.read(1)
            found[path] = "read"
        except OSError as exc:
            found[path] = type(exc).__name__
    try:
        open("/var/task/new-file", "w")
        code = "writable"
    except OSError as exc:
        code = exc.strerror
    return {"uid": os.getuid(), "pid": os.getpid(), "task_root": os.environ["LAMBDA_TASK_ROOT"], "cwd": os.getcwd(),
            "found": found, "code": code, "processes": sorted(int(p) for p in os.listdir("/proc") if p.isdigit()),
            "hostname": socket.gethostname()}
"""


def call(client, name: str, payload: object = None) -> object:
    return json.loads(client.invoke(FunctionName=name, Payload=json.dumps(payload or {}))["Payload"].read())


def open_up(path: Path) -> None:
    """World-readable all the way down, so that only the namespaces can stop a read."""
    for parent in [path, *path.parents]:
        parent.chmod(parent.stat().st_mode | stat.S_IROTH | stat.S_IXOTH)
    for root, dirs, files in os.walk(path):
        for entry in dirs + files:
            target = Path(root, entry)
            target.chmod(target.stat().st_mode | stat.S_IROTH | (stat.S_IXOTH if target.is_dir() else 0))


def test_a_function_sees_only_its_own_sandbox(ember, client, deploy):
    other = deploy("SECRET = 'other function'\ndef handler(e, c):\n    return 1\n")
    client.invoke(FunctionName=other)
    open_up(ember.data_dir)
    other_code = next(path for path in ember.data_dir.glob("code/*/index.py")
                      if "other function" in path.read_text())
    repo_file = Path(__file__).resolve()
    paths = [str(ember.data_dir / "ember.db"), str(other_code), str(repo_file), "/root/.bashrc", "/etc/hostname"]
    assert all(Path(path).exists() for path in paths[:3]), "the test's targets exist on the host"
    name = deploy(PROBE)
    seen = call(client, name, {"paths": paths})
    assert seen["found"][paths[0]] == "FileNotFoundError", "the data dir is not in the sandbox"
    assert seen["found"][paths[1]] == "FileNotFoundError", "another function's code is not in the sandbox"
    assert seen["found"][paths[2]] == "FileNotFoundError", "the repo is not in the sandbox"
    assert seen["found"]["/root/.bashrc"] == "FileNotFoundError"
    assert seen["found"]["/etc/hostname"] == "read", "the host's /etc is there, read-only"
    assert seen["task_root"] == seen["cwd"] == "/var/task"
    assert seen["code"] == "Read-only file system"
    assert seen["pid"] == 1 and len(seen["processes"]) <= 2, "its own pid namespace"
    assert seen["hostname"] != os.uname().nodename, "its own uts namespace"


def test_each_function_has_its_own_unprivileged_uid(client, deploy):
    first, second = deploy(PROBE), deploy(PROBE)
    uid_first = call(client, first, {"paths": []})["uid"]
    assert uid_first >= 100_000
    assert call(client, second, {"paths": []})["uid"] not in (0, uid_first)
    assert call(client, first, {"paths": []})["uid"] == uid_first


TMP = """
import os, time
def handler(event, context):
    if event.get("write"):
        with open("/tmp/marker", "w") as f:
            f.write(event["write"])
    if event.get("sleep"):
        time.sleep(event["sleep"])
    if event.get("fill"):
        written, chunk = 0, b"x" * (1 << 20)
        try:
            with open("/tmp/fill", "wb") as f:
                while written < event["fill"] << 20:
                    f.write(chunk)
                    written += len(chunk)
        except OSError as exc:
            os.remove("/tmp/fill")
            return {"error": exc.strerror, "mb": written >> 20}
        os.remove("/tmp/fill")
        return {"mb": written >> 20}
    return open("/tmp/marker").read() if os.path.exists("/tmp/marker") else None
"""


def test_tmp_is_private_and_survives_a_timeout(client, deploy):
    name, other = deploy(TMP, timeout=1), deploy(TMP)
    client.invoke(FunctionName=name, Payload=json.dumps({"write": "kept"}))
    timed_out = client.invoke(FunctionName=name, Payload=json.dumps({"sleep": 5}))
    assert json.loads(timed_out["Payload"].read())["errorType"] == "Sandbox.Timedout"
    assert call(client, name) == "kept", "the replacement environment gets the same /tmp"
    assert call(client, other) is None, "another function's /tmp is its own"


def test_tmp_is_limited_to_ephemeral_storage(client, deploy):
    name = deploy(TMP, memory=1024, timeout=20)
    client.update_function_configuration(FunctionName=name, EphemeralStorage={"Size": 512})
    client.get_waiter("function_updated_v2").wait(FunctionName=name)
    result = call(client, name, {"fill": 600})
    assert result["error"] == "No space left on device" and 500 <= result["mb"] <= 512, result


def test_a_fork_bomb_is_contained_by_the_pids_limit(client, deploy):
    name = deploy("import os\ndef handler(e, c):\n    started = 0\n    try:\n        while started < 5000:\n"
                  "            os.posix_spawn('/bin/sleep', ['sleep', '30'], {})\n            started += 1\n"
                  "    except OSError:\n        pass\n    return started\n", memory=1024, timeout=20)
    started = call(client, name)
    assert isinstance(started, int) and 100 < started < 1024, started


@pytest.mark.local_backend
def test_no_mount_is_left_on_the_host(tmp_path):
    server = EmberProcess(tmp_path / "data").start()
    client = lambda_client(server.url)
    client.create_function(FunctionName="m", Runtime="python3.11", Role=ROLE, Handler="index.handler",
                           Code={"ZipFile": make_zip({"index.py": "def handler(e, c):\n    return 1\n"})})
    client.invoke(FunctionName="m")
    stage = str(tmp_path / "data" / "sandbox")
    assert stage not in Path("/proc/self/mountinfo").read_text(), "environments' mounts stay in their namespaces"
    server.stop()
    assert stage not in Path("/proc/self/mountinfo").read_text()
    assert not any(Path(stage).iterdir())


def test_rlimits_isolation_says_so_and_still_caps_memory(ember_with):
    server = ember_with("--isolation", "rlimits")
    assert any("rlimits" in line for line in server.preamble), server.preamble
    client = lambda_client(server.url)
    client.create_function(FunctionName="r", Runtime="python3.11", Role=ROLE, Handler="index.handler",
                           Code={"ZipFile": make_zip({"index.py": "import os\ndef handler(e, c):\n"
                                                                  "    x = bytearray(300 << 20)\n    return 1\n"})})
    response = client.invoke(FunctionName="r")
    assert json.loads(response["Payload"].read())["errorType"] == "MemoryError"


@pytest.mark.local_backend
def test_idle_tmp_goes_back_to_the_host_after_the_keep_alive(ember_with):
    """The audit's case: /tmp of reaped environments stayed in host RAM until the function was deleted."""
    import psutil

    server = ember_with("--keep-alive", "1")
    client = lambda_client(server.url)
    source = "def handler(e, c):\n    open('/tmp/big', 'wb').write(b'x' * (20 << 20))\n    return 1\n"
    client.create_function(FunctionName="tmp-user", Runtime="python3.11", Role=ROLE, Handler="index.handler",
                           Code={"ZipFile": make_zip({"index.py": source})}, MemorySize=256)
    client.invoke(FunctionName="tmp-user")
    zygote = next(p for p in psutil.Process(server.proc.pid).children() if "zygote" in " ".join(p.cmdline()))

    def slot_mounts() -> int:
        return sum("/sandbox/tmp/" in line for line in Path(f"/proc/{zygote.pid}/mountinfo").read_text().splitlines())

    assert slot_mounts() == 1
    assert wait_for(lambda: slot_mounts() == 0, timeout=15), \
        "the slot's tmpfs is unmounted once no environment has used it for the keep-alive"
