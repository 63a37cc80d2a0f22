"""What a rule or a schedule may name as its target: a Lambda function, version or alias of this server.

AWS accepts many services' ARNs; Ember runs functions only, and says so at PutTargets (a failed
entry) and CreateSchedule (a ValidationException) rather than accepting a target it can never reach.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from ember.config import ACCOUNT_ID

TARGET_ID = re.compile(r"[\.\-_A-Za-z0-9]+")
TARGET_ID_PATTERN = r"[\.\-_A-Za-z0-9]+"
ANY_ARN = re.compile(r"^arn:[\w:\-/.$*]*$")
FUNCTION_ARN = re.compile(
    r"^arn:aws:lambda:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):function:(?P<name>[a-zA-Z0-9-_]{1,64})"
    r"(?::(?P<qualifier>[a-zA-Z0-9-_$]{1,128}))?$")
JSON_PATH = re.compile(r"^\$(?:\.[^.\[\]]+|\[\d+\])*$")


@dataclass(frozen=True)
class FunctionTarget:
    name: str
    qualifier: str | None  # a version, an alias, or None for the unqualified function ($LATEST)


def function_of(arn: str, region: str) -> FunctionTarget | None:
    """The function an ARN names, if it is one of this region and account."""
    match = FUNCTION_ARN.match(arn)
    if not match or match["region"] != region or match["account"] != ACCOUNT_ID:
        return None
    return FunctionTarget(match["name"], match["qualifier"])


def not_a_function(arn: str, region: str) -> str:
    return (f"Ember delivers to Lambda functions only: {arn} is not the ARN of a function, version or alias "
            f"in {region} of account {ACCOUNT_ID}.")


def check_target(target: dict[str, Any], index: int, region: str) -> str | None:
    """Why PutTargets cannot take this target (its FailedEntries message), or None."""
    target_id, arn = target["Id"], target["Arn"]
    if not TARGET_ID.fullmatch(target_id):
        return (f"Value '{target_id}' at 'targets.{index}.member.id' failed to satisfy constraint: "
                f"Member must satisfy regular expression pattern: {TARGET_ID_PATTERN}")
    if not ANY_ARN.match(arn):
        return f"Parameter {arn} is not valid. Reason: Provided Arn is not in correct format."
    if function_of(arn, region) is None:
        return not_a_function(arn, region)
    if target.get("Input") is not None and not _is_json(target["Input"]):
        return f"Parameter Input is not valid for target {target_id}. Reason: Input is not valid JSON text."
    paths = [target.get("InputPath")] if target.get("InputPath") is not None else []
    paths += list((target.get("InputTransformer") or {}).get("InputPathsMap", {}).values())
    bad = next((path for path in paths if not JSON_PATH.match(str(path))), None)
    if bad is not None:
        return f"Parameter {bad} is not valid for target {target_id}. Reason: Ember reads JSONPath like $.detail.key."
    return None


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True
