"""serverless-plugin-warmup's warmers → the resources the plugin generates, so a warmer is planned, applied and
removed like any other part of the stack.

Per warmer, named as the plugin names them: a role `<service>-<stage>-<region>-<warmer>-role` allowed to invoke
the warmed functions, a function `<service>-<stage>-warmup-plugin-<warmer>` (128 MB, 10 s) running Ember's warmer
(`warmer_handler.py`, Python: the plugin's own is Node.js code calling the SDK the same way), and per schedule an
EventBridge rule targeting it with the permission that lets the rule invoke it.
"""

from __future__ import annotations

import json
from pathlib import Path

from ember.apps import names
from ember.apps.cfn_context import Build
from ember.apps.model import CodeSource, Function, Permission, Role
from ember.apps.triggers import FunctionTarget, Rule, RuleTarget, Warmer

HANDLER_SOURCE = Path(__file__).with_name("warmer_handler.py")
RUNTIME = "python3.12"
LAMBDA_TRUST = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                        "Principal": {"Service": ["lambda.amazonaws.com"]}}]}


def expand(build: Build, warmer: Warmer, service: str, stage: str) -> None:
    where, stack = build.resolver.where, build.stack
    prefix = warmer.logical_id  # WarmUpPlugin<Name>
    role_id, function_id = f"{prefix}Role", f"{prefix}LambdaFunction"
    function_name = f"{service}-{stage}-warmup-plugin-{warmer.name}"
    role_name = f"{service}-{stage}-{where.region}-{warmer.name.lower()}-role"
    invoke = {"Effect": "Allow", "Action": ["lambda:InvokeFunction"],
              "Resource": sorted({where.arn("lambda", f"function:{t.function.name}*") for t in warmer.targets})}
    logs = {"Effect": "Allow", "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": [where.arn("logs", f"log-group:/aws/lambda/{function_name}:*")]}
    role_arn = where.arn("iam", f"role/{role_name}", region=False)
    stack.roles.append(Role(role_id, role_name, role_arn, LAMBDA_TRUST,
                            {f"{service}-{stage}-warmer-{warmer.name.lower()}-policy":
                             {"Version": "2012-10-17", "Statement": [logs, invoke]}},
                            tags=build.tags(role_id)))
    targets = [{"name": t.function.name, "qualifier": t.function.qualifier, "concurrency": t.concurrency}
               for t in warmer.targets]
    config = {"Runtime": RUNTIME, "Handler": "index.handler", "MemorySize": 128, "Timeout": 10, "Role": role_arn,
              "Description": f'Serverless WarmUp Plugin (warmer "{warmer.name}")',
              "Environment": {"Variables": {"WARMUP_TARGETS": json.dumps(targets, separators=(",", ":")),
                                            "WARMUP_PAYLOAD": warmer.payload}},
              "Architectures": ["x86_64"], "EphemeralStorage": {"Size": 512}}
    stack.functions.append(Function(function_id, function_name,
                                    CodeSource(inline=HANDLER_SOURCE.read_text(), inline_name="index.py"), config,
                                    tags=build.tags(function_id)))
    for n, expression in enumerate(warmer.schedules, 1):
        rule_id = f"{prefix}EventsRuleSchedule{n}"
        rule_name = names.physical_name(stack.name, rule_id)
        stack.rules.append(Rule(rule_id, rule_name, expression, targets=[
            RuleTarget(f"{prefix}Schedule", FunctionTarget(function_name))]))
        stack.permissions.append(Permission(f"{prefix}LambdaPermissionEventsRuleSchedule{n}",
                                            FunctionTarget(function_name), "lambda:InvokeFunction",
                                            "events.amazonaws.com", where.arn("events", f"rule/{rule_name}")))
