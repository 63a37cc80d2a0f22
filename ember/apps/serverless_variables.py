"""The Serverless framework's variables (v3 and v4): `${source:address, fallback, …}`, nested, resolved the way
`serverless deploy` resolves them before anything is packaged.

Sources: `self:` (this file, by dotted path), `opt:` (the command's options: stage, region, …), `env:`,
`sls:stage`, `sls:instanceId`, `aws:region`, `aws:accountId`, `param:` (`--param` values, then v4's
`stages.<stage>.params` and v3's `params.<stage>`, each before its `default`), and `file(path)` with an optional
`:dotted.key`. Fallbacks are quoted strings, numbers, `null`, `true`/`false`, or another source.
A variable that is the whole value keeps its type (a mapping, a list, a number); inside text it is
interpolated. `ssm:`, `s3:`, `cf:`, `aws:` beyond the two above and `{{resolve:…}}` read AWS services Ember
does not serve, and are refused with one line.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ember.apps.template_loading import load_file
from ember.errors import TemplateError

INNERMOST = re.compile(r"\$\{([^${}]*)\}")
MISSING = object()
NOT_SERVED = {"ssm", "s3", "cf", "secretsmanager", "cloudformation", "resolve"}


@dataclass
class Variables:
    document: dict[str, Any]
    file: Path
    options: dict[str, str] = field(default_factory=dict)  # --stage, --region, any --KEY
    params: dict[str, str] = field(default_factory=dict)  # --param KEY=VALUE
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    account: str = "000000000000"
    _resolving: list[str] = field(default_factory=list)

    def error(self, message: str) -> TemplateError:
        return TemplateError(message, str(self.file))

    @property
    def stage(self) -> str:
        if "stage" in self.options:
            return self.options["stage"]
        given = self._self("provider.stage")
        return "dev" if given in (MISSING, None) else str(given)

    @property
    def region(self) -> str:
        if "region" in self.options:
            return self.options["region"]
        given = self._self("provider.region")
        return "us-east-1" if given in (MISSING, None) else str(given)

    def resolve(self, value: Any) -> Any:
        """A value with every variable in it resolved (mappings and lists walked)."""
        if isinstance(value, dict):
            return {key: self.resolve(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        if isinstance(value, str):
            return self._text(value)
        return value

    def _text(self, text: str) -> Any:
        if "{{resolve:" in text:
            raise self.error(f"{text!r}: dynamic references read SSM or Secrets Manager, which Ember does not "
                             f"serve; use ${{env:…}} or ${{param:…}} instead")
        while True:
            match = INNERMOST.search(text)
            if match is None:
                return text
            value = self._variable(match.group(1).strip())
            if match.span() == (0, len(text)):
                return self.resolve(value) if isinstance(value, str) and "${" in value else value
            text = text[:match.start()] + ("" if value is None else str(value)) + text[match.end():]

    def _variable(self, body: str) -> Any:
        candidates = _split_top_level(body)
        for candidate in candidates:
            value = self._candidate(candidate.strip())
            if value is not MISSING:
                return value
        raise self.error(f"Cannot resolve variable ${{{body}}}: Value not found at "
                         f"\"{_source_of(candidates[0])}\" source")

    def _candidate(self, text: str) -> Any:
        literal = _literal(text)
        if literal is not MISSING:
            return literal
        if text.startswith("file("):
            return self._file(text)
        source, colon, address = text.partition(":")
        if not colon:
            raise self.error(f"Invalid variable reference syntax for variable {text}")
        return self._source(source, address)

    def _source(self, source: str, address: str) -> Any:
        if source == "self":
            return self._self(address)
        if source == "opt":
            return self.options.get(address, MISSING)
        if source == "env":
            return self.environ.get(address, MISSING)
        if source == "sls":
            return {"stage": self.stage, "instanceId": _instance_id(self.file)}.get(address, MISSING)
        if source == "aws" and address in ("region", "accountId"):
            return self.region if address == "region" else self.account
        if source == "param":
            return self._param(address)
        if source in NOT_SERVED or source == "aws":
            raise self.error(f"${{{source}:{address}}} reads AWS ({source}), which Ember does not serve; use "
                             f"${{env:…}}, ${{param:…}} or ${{opt:…}} instead")
        raise self.error(f"Unrecognized configuration variable source: \"{source}\"")

    def _self(self, address: str) -> Any:
        if address in self._resolving:
            raise self.error(f"Cannot resolve variable ${{self:{address}}}: it refers to itself")
        node: Any = self.document
        for part in [p for p in address.split(".") if p]:
            if isinstance(node, str) and "${" in node:  # `custom.config: ${file(…)}`, then `.memory` into it
                node = self._text(node)
            if isinstance(node, dict) and part in node:
                node = node[part]
            elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            else:
                return MISSING
        self._resolving.append(address)
        try:
            return self.resolve(node)
        finally:
            self._resolving.pop()

    def _param(self, name: str) -> Any:
        if name in self.params:
            return self.params[name]
        v3 = self.document.get("params") or {}  # v3: params.<stage>.<name>; v4: stages.<stage>.params.<name>
        v4 = {stage: (spec or {}).get("params") or {} for stage, spec in (self.document.get("stages") or {}).items()}
        for declared in (v4, v3):
            for group in (self.stage, "default"):
                values = declared.get(group) or {}
                if name in values:
                    return self.resolve(values[name])
        return MISSING

    def _file(self, text: str) -> Any:
        match = re.fullmatch(r"file\(([^)]*)\)(?::(.*))?", text)
        if match is None:
            raise self.error(f"Invalid variable reference syntax for variable {text}")
        path = (self.file.parent / match.group(1).strip().strip("'\"")).resolve()
        if not path.is_file():
            return MISSING
        if path.suffix in (".js", ".ts", ".mjs", ".cjs"):
            raise self.error(f"${{{text}}}: variables computed by JavaScript files are not run by Ember; write "
                             f"the values to a .yml or .json file")
        node: Any = self.resolve(load_file(path))
        for part in [p for p in (match.group(2) or "").split(".") if p]:
            if not isinstance(node, dict) or part not in node:
                return MISSING
            node = node[part]
        return node


def _split_top_level(body: str) -> list[str]:
    """`opt:stage, 'a,b', self:x` → three candidates (commas inside quotes or parentheses stay)."""
    parts, current, quote, depth = [], "", "", 0
    for char in body:
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(current)
            current = ""
            continue
        current += char
    return [*parts, current]


def _literal(text: str) -> Any:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    if re.fullmatch(r"-?\d+(\.\d+)?", text):
        return float(text) if "." in text else int(text)
    return {"null": None, "true": True, "false": False}.get(text, MISSING)


def _source_of(candidate: str) -> str:
    return candidate.strip().partition(":")[0].partition("(")[0]


def _instance_id(file: Path) -> str:
    return hashlib.sha256(str(file.resolve()).encode()).hexdigest()[:13]
