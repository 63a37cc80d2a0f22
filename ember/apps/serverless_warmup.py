"""serverless.yml's `plugins`: serverless-plugin-warmup's `custom.warmup.<warmer>` and each function's
`warmup.<warmer>` → Warmers; any other plugin is named in a warning.

As the plugin reads them: a warmer is off unless `enabled` says on (true, this stage, or a list holding it); a
function takes part in every enabled warmer unless its own `warmup.<warmer>.enabled` is false (or turns on one
the warmer leaves off); `concurrency` (function's, else warmer's, else 1); `events` default to every 5 minutes;
`payload` defaults to `{"source": "serverless-plugin-warmup"}`.
"""

from __future__ import annotations

import json
from typing import Any

from ember.apps.cfn_context import Build
from ember.apps.schedule_expressions import check_expression
from ember.apps.triggers import FunctionTarget, Warmer, WarmTarget

DEFAULT_SCHEDULE = "rate(5 minutes)"
DEFAULT_PAYLOAD = {"source": "serverless-plugin-warmup"}


def enabled(setting: Any, stage: str) -> bool:
    if isinstance(setting, bool):
        return setting
    if isinstance(setting, str):
        return setting == stage
    if isinstance(setting, list):
        return stage in setting
    return False


def warmers(custom: dict[str, Any], functions: list[tuple[dict[str, Any], FunctionTarget]], stage: str,
            file: str) -> list[Warmer]:
    """One Warmer per warmer that has at least one function to warm."""
    result = []
    for name, config in (custom or {}).items():
        config = config if isinstance(config, dict) else {}
        targets = []
        for spec, target in functions:
            own = ((spec.get("warmup") or {}).get(name) or {})
            if not enabled(own.get("enabled", config.get("enabled", False)), stage):
                continue
            concurrency = int(own.get("concurrency") or config.get("concurrency") or 1)
            targets.append(WarmTarget(target, concurrency))
        if not targets:
            continue
        schedules = tuple(_schedule(event) for event in config.get("events") or [{"schedule": DEFAULT_SCHEDULE}])
        for expression in schedules:
            check_expression(expression, file)
        payload = config.get("payloadRaw") and config.get("payload")
        payload = payload if isinstance(payload, str) else json.dumps(config.get("payload", DEFAULT_PAYLOAD),
                                                                      separators=(",", ":"))
        result.append(Warmer(str(name), schedules, targets, payload))
    return result


def _schedule(event: Any) -> str:
    spec = event.get("schedule") if isinstance(event, dict) else event
    return str(spec.get("rate") if isinstance(spec, dict) else spec)


def apply_plugins(build: Build, doc: dict[str, Any], warmable: list[tuple[dict[str, Any], FunctionTarget]],
             stage: str) -> None:
    """serverless-plugin-warmup's warmers; any other plugin is named in a warning (Ember does not run them)."""
    plugins = doc.get("plugins") or []
    plugins = plugins.get("modules") or [] if isinstance(plugins, dict) else plugins
    for plugin in plugins:
        if plugin == "serverless-plugin-warmup":
            build.stack.warmers = warmers((doc.get("custom") or {}).get("warmup") or {},
                                                            warmable, stage, build.resolver.file or "")
        else:
            build.stack.warnings.append(f"plugin {plugin} is not run by Ember")
