"""A project folder (or file) → which kind it is, and the model of its stack: the one entry point of ember.apps.

A SAM or CloudFormation template (`template.yaml`/`.yml`/`.json`, or any file given with `-t`) is expanded and
resolved as CloudFormation would; a `serverless.yml` as the Serverless framework would. The stack is named after
the folder for a template (SAM CLI's default asks for one; the folder is what `sam init` names), and
`<service>-<stage>` for a serverless.yml, as the framework names its CloudFormation stack.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from ember.apps.cloudformation import TEMPLATE_NAMES, find_template, load_stack
from ember.apps.model import Stack
from ember.apps.serverless import SERVERLESS_NAMES, find_serverless, load_serverless
from ember.config import ACCOUNT_ID
from ember.errors import TemplateError


def find_project(path: Path) -> Path | None:
    """The template or serverless.yml `path` is or holds, or None (a plain folder of code)."""
    if path.is_file():
        return path if path.name in (*TEMPLATE_NAMES, *SERVERLESS_NAMES) else None
    if not path.is_dir():
        return None
    template, serverless = find_template(path), find_serverless(path)
    if template and serverless:
        raise TemplateError(f"{path} holds both {template.name} and {serverless.name}: name one with -t FILE")
    return template or serverless


def is_serverless(file: Path) -> bool:
    return file.name in SERVERLESS_NAMES


def stack_name_for(folder: Path) -> str:
    """A CloudFormation stack name from a folder's name: [A-Za-z][-A-Za-z0-9]*, at most 128 characters."""
    name = re.sub(r"[^A-Za-z0-9-]+", "-", folder.resolve().name).strip("-") or "stack"
    return (name if name[0].isalpha() else f"s-{name}")[:128]


def load_project(file: Path, stack_name: str | None = None, region: str = "us-east-1",
                 parameter_overrides: Mapping[str, str] | None = None, options: Mapping[str, str] | None = None,
                 params: Mapping[str, str] | None = None, known_ids: Mapping[str, str] | None = None) -> Stack:
    """The model of the stack `file` describes. `options` are serverless's (--stage, --region…), `params` its
    --param values; `parameter_overrides` a template's; `known_ids` the ids a server chose (ember.apps.names)."""
    if is_serverless(file):
        return load_serverless(file, {"region": region, **dict(options or {})}, params, account=ACCOUNT_ID,
                               stack_name=stack_name, known_ids=known_ids)
    return load_stack(file, stack_name or stack_name_for(file.parent), region, ACCOUNT_ID, parameter_overrides,
                      known_ids)
