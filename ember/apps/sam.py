"""Expand a SAM template into plain CloudFormation with AWS's own translator, offline.

The translator wants an AWS session only for its region and a managed-policy map only to turn names such as
`AWSLambdaBasicExecutionRole` into ARNs: a region-only boto3 session (no credentials, no call is made) and
Ember's own managed policies serve. It refuses local paths ("'CodeUri' is not a valid S3 Uri"), so each local
`CodeUri`/`ContentUri` is swapped for a placeholder `s3://` URI before translating and mapped back after, by the
placeholder's bucket and key in the output's `Code`/`Content`. A local `DefinitionUri` (an OpenAPI file) is read
and given as `DefinitionBody`, so the translator merges the functions' events into it as it would on AWS.
"""

from __future__ import annotations

import copy
import logging
from pathlib import Path
from typing import Any

from ember.apps.template_loading import load_file
from ember.core.managed_policies import managed_policies
from ember.errors import TemplateError

SAM_TRANSFORM = "AWS::Serverless-2016-10-31"
PLACEHOLDER_BUCKET = "ember-local-code"
CODE_PROPERTIES = {"AWS::Serverless::Function": "CodeUri", "AWS::Serverless::LayerVersion": "ContentUri"}
DEFINITION_TYPES = ("AWS::Serverless::Api", "AWS::Serverless::HttpApi")


def is_sam(template: dict[str, Any]) -> bool:
    transform = template.get("Transform")
    transforms = transform if isinstance(transform, list) else [transform]
    return SAM_TRANSFORM in transforms


def managed_policy_map() -> dict[str, str]:
    """Name → ARN for every AWS managed policy Ember knows (what the translator would ask IAM for)."""
    return {policy.name: arn for arn, policy in managed_policies().items()}


def translate(template: dict[str, Any], folder: Path, parameters: dict[str, Any], region: str,
              file: str) -> tuple[dict[str, Any], dict[str, Path]]:
    """The CloudFormation a SAM template expands to, and each local code path by the placeholder key used."""
    if not is_sam(template):
        return template, {}
    template = copy.deepcopy(template)
    local = _swap_local_paths(template, folder, file)
    try:
        translated = _translator(region).translate(template, parameter_values=dict(parameters),
                                                   get_managed_policy_map=managed_policy_map)
    except Exception as exc:  # the translator's own exceptions carry `causes`; anything else is a bug in a template
        raise TemplateError(translator_message(exc), file) from exc
    return translated, local


def _translator(region: str) -> Any:
    import boto3
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.translator import Translator

    logging.getLogger("samtranslator").setLevel(logging.ERROR)  # its "unpublished metrics" notice
    return Translator(None, Parser(), boto_session=boto3.Session(region_name=region))


def translator_message(exc: Exception) -> str:
    """The translator's errors on one line: every cause, as `sam validate` prints them."""
    causes = getattr(exc, "causes", None)
    if causes:
        return " ".join(str(getattr(cause, "message", cause)) for cause in causes)
    return str(getattr(exc, "message", None) or exc).replace("\n", " ")


def _swap_local_paths(template: dict[str, Any], folder: Path, file: str) -> dict[str, Path]:
    local: dict[str, Path] = {}
    function_globals = ((template.get("Globals") or {}).get("Function") or {})
    _swap(function_globals, "CodeUri", folder, local, file)
    for resource in (template.get("Resources") or {}).values():
        if not isinstance(resource, dict):
            continue
        props = resource.setdefault("Properties", {}) or {}
        kind = resource.get("Type")
        if kind in CODE_PROPERTIES:
            _swap(props, CODE_PROPERTIES[kind], folder, local, file)
        elif kind in DEFINITION_TYPES and isinstance(props.get("DefinitionUri"), str):
            _inline_definition(props, folder, file)
        elif kind == "AWS::Serverless::Application":  # from the Serverless Application Repository: not fetched,
            resource.clear()  # listed as the nested stack CloudFormation would have made
            resource.update({"Type": "AWS::CloudFormation::Stack", "Properties": {}})
        elif kind == "AWS::Serverless::StateMachine" and isinstance(props.get("DefinitionUri"), str):
            props["DefinitionUri"] = f"s3://{PLACEHOLDER_BUCKET}/definition"  # not run here; only translated
    return local


def _swap(props: dict[str, Any], key: str, folder: Path, local: dict[str, Path], file: str) -> None:
    value = props.get(key)
    if not isinstance(value, str) or value.startswith("s3://"):
        return
    path = (folder / value).resolve()
    if not path.exists():
        raise TemplateError(f"{key} {value!r}: no such file or folder ({path})", file)
    placeholder = str(len(local))
    local[placeholder] = path
    props[key] = f"s3://{PLACEHOLDER_BUCKET}/{placeholder}"


def _inline_definition(props: dict[str, Any], folder: Path, file: str) -> None:
    path = folder / props.pop("DefinitionUri")
    if not path.is_file():
        raise TemplateError(f"DefinitionUri: no such file ({path})", file)
    props["DefinitionBody"] = load_file(path)


def local_code(code: Any, local: dict[str, Path]) -> Path | None:
    """The local path behind a translated `Code`/`Content` ({S3Bucket, S3Key}), or None if it is not ours."""
    if isinstance(code, dict) and code.get("S3Bucket") == PLACEHOLDER_BUCKET:
        return local.get(str(code.get("S3Key")))
    return None
