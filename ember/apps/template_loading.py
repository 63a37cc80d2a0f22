"""Read a CloudFormation/SAM template or a serverless.yml: YAML (or JSON) with CloudFormation's short tags.

`!Ref X` becomes `{"Ref": "X"}`, `!GetAtt A.B` becomes `{"Fn::GetAtt": ["A", "B"]}`, every other short form
`!Name v` becomes `{"Fn::Name": v}`, so the rest of Ember only sees the long form. A small SafeLoader subclass
rather than cfn-flip: cfn-flip's last release is from 2021 and brings click and six for these few lines.
Timestamps stay strings (`AWSTemplateFormatVersion: 2010-09-09` is a string to CloudFormation, a date to YAML).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from ember.errors import TemplateError

FN_TAGS = ("Sub", "Join", "If", "Select", "Split", "FindInMap", "Equals", "Not", "And", "Or",
           "ImportValue", "Base64", "GetAZs", "Cidr", "Length", "ToJsonString", "Transform")


class CloudFormationLoader(yaml.SafeLoader):
    """PyYAML's safe loader, knowing CloudFormation's tags."""


def _construct(node: yaml.Node, loader: CloudFormationLoader) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_mapping(node, deep=True)


def _function(name: str) -> Any:
    def construct(loader: CloudFormationLoader, node: yaml.Node) -> dict[str, Any]:
        return {name: _construct(node, loader)}
    return construct


def _get_att(loader: CloudFormationLoader, node: yaml.Node) -> dict[str, Any]:
    value = _construct(node, loader)
    if isinstance(value, str):  # !GetAtt Resource.Attribute (the attribute may hold dots: Endpoint.Address)
        resource, _, attribute = value.partition(".")
        value = [resource, attribute]
    return {"Fn::GetAtt": value}


def _timestamp_as_text(loader: CloudFormationLoader, node: yaml.Node) -> str:
    return str(loader.construct_scalar(node))


CloudFormationLoader.add_constructor("!Ref", _function("Ref"))
CloudFormationLoader.add_constructor("!Condition", _function("Condition"))
CloudFormationLoader.add_constructor("!GetAtt", _get_att)
for _tag in FN_TAGS:
    CloudFormationLoader.add_constructor(f"!{_tag}", _function(f"Fn::{_tag}"))
CloudFormationLoader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_as_text)


def load_text(text: str, file: str = "<template>") -> Any:
    """Parse; a YAML error becomes one TemplateError naming file, line and column (1-based)."""
    try:
        return yaml.load(text, Loader=CloudFormationLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = " ".join(part for part in (exc.context, exc.problem) if part)
        line, column = (mark.line + 1, mark.column + 1) if mark else (None, None)
        raise TemplateError(problem or "malformed YAML", file, line, column) from exc
    except yaml.YAMLError as exc:
        raise TemplateError(str(exc).splitlines()[0], file) from exc


def load_file(path: Path) -> dict[str, Any]:
    """A template file as a mapping (an empty or non-mapping document is an error here, as in CloudFormation)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise TemplateError(f"cannot read: {exc}", str(path)) from exc
    document = load_text(text, str(path))
    if not isinstance(document, dict):
        raise TemplateError("the template must be a YAML or JSON mapping", str(path), 1, 1)
    return document
