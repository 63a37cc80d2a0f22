"""Choosing the isolation level at start: what was asked for, what this machine allows, said once."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from ember.execution.local.cgroups import CgroupError, CgroupTree, open_tree
from ember.execution.local.network import MODES, NetworkUnavailable, prepare_host, resolver_problem
from ember.execution.local.sandbox import Sandboxes
from ember.execution.local.spawner import Spawner

LEVELS = ("auto", "full", "rlimits")
DEFAULT_PRELOADS = ("boto3",)
log = logging.getLogger("ember.isolation")


class IsolationUnavailable(Exception):
    """`--isolation full` was asked for and this machine cannot give it; the message says what is missing."""


@dataclass(frozen=True)
class SandboxSettings:
    level: str = "auto"
    preload: tuple[str, ...] | None = DEFAULT_PRELOADS  # None: `--zygote off`, environments exec
    init_burst: bool = True  # Init runs without the CPU quota, like AWS's init burst
    mounts: Path = Path("/proc/mounts")  # where cgroup hierarchies are looked up
    spares: int = 2  # sandboxes the zygote keeps cloned and prepared ahead of cold starts
    network: str = "egress"  # egress | none: each environment's own network (ember.execution.local.network)
    freeze: bool = True  # idle environments frozen between calls, where a freezer exists


async def open_sandboxes(stage: Path, settings: SandboxSettings) -> Sandboxes:
    """Start the zygote and the cgroup tree the settings ask for, or say why this machine can't."""
    level = settings.level
    if level not in LEVELS:
        raise ValueError(f"isolation must be one of {', '.join(LEVELS)}")
    if settings.network not in MODES:
        raise ValueError(f"network must be one of {', '.join(MODES)}")
    cgroups, cgroup_error = _open_cgroups(settings.mounts) if level != "rlimits" else (None, "not requested")
    network, network_error = _open_network(settings.network) if level != "rlimits" else ("host", None)
    preload = list(settings.preload) if settings.preload is not None else None
    spawner = Spawner(stage, isolate=level != "rlimits", preload=preload, cgroups=cgroups, spares=settings.spares,
                      network=network)
    try:
        info = await spawner.start()
    except BaseException:
        if cgroups is not None:
            cgroups.remove()
        raise
    missing = {"cgroups": cgroup_error, "namespaces": info.isolation_error, "egress": network_error,
               "seccomp": info.seccomp_error}
    missing = {feature: reason for feature, reason in missing.items() if reason is not None}
    if level == "full" and missing:
        spawner.close()
        if cgroups is not None:
            cgroups.remove()
        raise IsolationUnavailable("--isolation full is not possible here: " +
                                   "; ".join(f"{feature}: {reason}" for feature, reason in missing.items()))
    if level == "rlimits":
        log.warning("--isolation rlimits: environments run without cgroups or namespaces, limited by rlimits "
                    "only (memory approximately, CPU not at all)")
    elif level == "auto" and missing:
        log.warning("environments are not fully isolated (%s); they run with rlimits where these are "
                    "missing. `ember doctor` explains.", "; ".join(f"no {k}: {v}" for k, v in missing.items()))
    if settings.freeze and cgroups is not None and "freezer" not in cgroups.hierarchies:
        log.warning("no cgroup freezer here (v1 freezer, or cgroup2 holding memory): idle environments are "
                    "not frozen, so their timers and background threads run between calls")
    isolated = info.isolation_error is None
    return Sandboxes(spawner, cgroups, isolate=isolated, init_burst=settings.init_burst,
                     network=network if isolated else "host", freeze=settings.freeze)


def _open_network(mode: str) -> tuple[str, str | None]:
    """The network environments get, and why not the one asked for: without egress they keep their
    own namespace with loopback only, never the host's."""
    if mode != "egress":
        return mode, None
    try:
        prepare_host()
    except NetworkUnavailable as exc:
        return "none", f"{exc}; environments get loopback only"
    problem = resolver_problem()
    if problem is not None:
        log.warning("%s", problem)
    return "egress", None


def _open_cgroups(mounts: Path) -> tuple[CgroupTree | None, str | None]:
    try:
        return open_tree(mounts), None
    except (CgroupError, OSError) as exc:
        return None, str(exc)
