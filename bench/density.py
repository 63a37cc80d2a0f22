"""Density: how many idle environments fit, and what each one costs in memory nobody else shares.

A hello function at 128 MB is published and given provisioned concurrency N, so Ember starts N environments
and keeps them idle (the account limit is raised with `--account-concurrency` to allow it). Once all are
READY, each environment's unique memory is read: USS (pages no other process maps, from
/proc/<pid>/smaps_rollup) and the environment cgroup's own charge (memory.usage_in_bytes: pages it
allocated or copied, not the zygote's). Candidate: environments forked from the zygote (N = 1000).
Baseline, same run: `--zygote off`, each environment a freshly exec'd interpreter (N = 100).
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import harness
import psutil

IDLE_TARGET = 1000
BASELINE_N = 100
READY_TIMEOUT_S = 300


def environments(server: harness.EmberServer) -> list[psutil.Process]:
    """The server's descendants running as a function's uid (the zygote and its spares run as root)."""
    found = []
    for process in harness.descendants(server.proc.pid):
        try:
            if process.uids().real >= 100_000:
                found.append(process)
        except psutil.Error:
            continue
    return found


def cgroup_charge_mb(pid: int) -> float | None:
    for line in Path(f"/proc/{pid}/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if "memory" in controllers.split(","):
            usage = Path("/sys/fs/cgroup/memory") / path.lstrip("/") / "memory.usage_in_bytes"
            return int(usage.read_text()) / 2**20 if usage.exists() else None
    return None


def provision(server: harness.EmberServer, n: int) -> float:
    """Publish the hello function, provision n environments; seconds until READY."""
    client = server.client()
    harness.create_function(client, "dense", memory_mb=128)
    version = client.publish_version(FunctionName="dense")["Version"]
    start = time.monotonic()
    client.put_provisioned_concurrency_config(FunctionName="dense", Qualifier=version,
                                              ProvisionedConcurrentExecutions=n)
    while time.monotonic() - start < READY_TIMEOUT_S:
        config = client.get_provisioned_concurrency_config(FunctionName="dense", Qualifier=version)
        if config["Status"] != "IN_PROGRESS":
            if config["Status"] != "READY":
                raise RuntimeError(f"provisioning failed: {config}")
            return time.monotonic() - start
        time.sleep(0.5)
    raise RuntimeError(f"{n} environments were not READY after {READY_TIMEOUT_S} s")


def measure(zygote: str, n: int) -> dict[str, list[float] | float]:
    used_before = psutil.virtual_memory().used
    with harness.EmberServer("--zygote", zygote, "--account-concurrency", str(2 * n + 200),
                             "--keep-alive", "3600") as server:
        seconds = provision(server, n)
        time.sleep(2)  # let the spares settle
        envs = environments(server)
        if len(envs) != n:
            raise RuntimeError(f"expected {n} idle environments, found {len(envs)}")
        uss = [p.memory_full_info().uss / 2**20 for p in envs]
        charged = [c for c in (cgroup_charge_mb(p.pid) for p in envs) if c is not None]
        used_after = psutil.virtual_memory().used
    return {"uss": uss, "charged": charged, "seconds": seconds,
            "system_mb_per_env": (used_after - used_before) / 2**20 / n}


def run() -> list[dict]:
    records = []
    for zygote, n, role in (("on", IDLE_TARGET, "candidate"), ("off", BASELINE_N, "baseline")):
        print(f"  {n} idle environments, --zygote {zygote} ...", file=sys.stderr, flush=True)
        found = measure(zygote, n)
        suffix = "" if zygote == "on" else "_exec"
        common = {"benchmark": "density", "environments": n, "zygote": zygote, "memory_mb": 128,
                  "seconds_to_ready": round(found["seconds"], 1),
                  "system_used_mb_per_environment": round(found["system_mb_per_env"], 2),
                  "fit_in_total_memory": int(psutil.virtual_memory().total / 2**20 /
                                             statistics.median(found["uss"]))}
        records += [harness.record(f"idle_env_uss{suffix}_mb", "MB", found["uss"], **common, role=role,
                                   source="USS from /proc/<pid>/smaps_rollup, one sample per environment"),
                    harness.record(f"idle_env_cgroup_charge{suffix}_mb", "MB", found["charged"], **common,
                                   role=role, source="memory.usage_in_bytes of the environment's cgroup")]
    return records


if __name__ == "__main__":
    import run as runner

    sys.exit(runner.main(["density"]))
