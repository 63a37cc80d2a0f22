"""Choosing the isolation level at start: what was asked for, what this machine allows, said once."""

from __future__ import annotations

import logging
from pathlib import Path

from ember.execution.cgroups import CgroupError, CgroupTree, open_tree
from ember.execution.sandbox import Sandboxes
from ember.execution.spawner import Spawner

LEVELS = ("auto", "full", "rlimits")
DEFAULT_PRELOADS = ("boto3",)
log = logging.getLogger("ember.isolation")


class IsolationUnavailable(Exception):
    """`--isolation full` was asked for and this machine cannot give it; the message says what is missing."""


async def open_sandboxes(stage: Path, level: str, preload: list[str] | None) -> Sandboxes:
    """Start the zygote and the cgroup tree for `level`; `preload` None runs without a zygote."""
    if level not in LEVELS:
        raise ValueError(f"isolation must be one of {', '.join(LEVELS)}")
    cgroups, cgroup_error = _open_cgroups() if level != "rlimits" else (None, "not requested")
    spawner = Spawner(stage, isolate=level != "rlimits", preload=preload, cgroups=cgroups)
    try:
        info = await spawner.start()
    except BaseException:
        if cgroups is not None:
            cgroups.remove()
        raise
    missing = {"cgroups": cgroup_error, "namespaces": info.isolation_error}
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
    return Sandboxes(spawner, cgroups, isolate=info.isolation_error is None)


def _open_cgroups() -> tuple[CgroupTree | None, str | None]:
    try:
        return open_tree(), None
    except (CgroupError, OSError) as exc:
        return None, str(exc)
