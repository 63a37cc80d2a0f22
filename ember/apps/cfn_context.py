"""What every CloudFormation-to-model mapper shares: the resolver, the stack being built, local code paths."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ember.apps import sam
from ember.apps.intrinsics import Resolver
from ember.apps.model import STACK_TAG, CodeSource, Stack, Unsupported
from ember.apps.triggers import FunctionTarget


@dataclass
class Build:
    resolver: Resolver
    stack: Stack
    local: dict[str, Path] = field(default_factory=dict)  # sam's placeholder key -> local path
    folder: Path = Path(".")

    def props(self, logical_id: str) -> dict[str, Any]:
        """A resource's properties, every intrinsic resolved."""
        resolved = self.resolver.resolve(self.resolver.properties(logical_id))
        return resolved if isinstance(resolved, dict) else {}

    def unsupported(self, logical_id: str, what: str) -> None:
        self.stack.unsupported.append(Unsupported(logical_id, what))

    def tags(self, logical_id: str) -> dict[str, str]:
        return {STACK_TAG: self.stack.name, "ember:logical-id": logical_id}

    def code(self, logical_id: str, code: Any, runtime: str = "") -> CodeSource | None:
        """A translated `Code`/`Content`: a local path (by placeholder), inline source, or None (S3: not here)."""
        path = sam.local_code(code, self.local)
        if path is None and isinstance(code, dict) and isinstance(code.get("S3Bucket"), str):
            self.unsupported(logical_id, f"code in S3 (s3://{code['S3Bucket']}/{code.get('S3Key', '')})")
            return None
        if path is not None:
            built = self.folder / ".aws-sam" / "build" / logical_id
            return CodeSource(path=built if built.is_dir() else path)
        if isinstance(code, dict) and isinstance(code.get("ZipFile"), str):
            name = "index.js" if runtime.startswith("nodejs") else "index.py"
            return CodeSource(inline=code["ZipFile"], inline_name=name)
        if isinstance(code, dict) and "ImageUri" in code:
            self.unsupported(logical_id, "container image code (ImageUri)")
            return None
        self.unsupported(logical_id, "code Ember cannot find")
        return None

    def target(self, value: Any) -> FunctionTarget | None:
        """A function name or ARN (with a qualifier) as a target, if it names a Lambda function."""
        text = str(value or "")
        if text.startswith("arn:"):
            parts = text.split(":")
            if len(parts) < 7 or parts[2] != "lambda" or parts[5] != "function":
                return None
            return FunctionTarget(parts[6], parts[7] if len(parts) > 7 else None)
        if not text:
            return None
        name, _, qualifier = text.partition(":")
        return FunctionTarget(name, qualifier or None)


def tag_dict(tags: Any) -> dict[str, str]:
    """CloudFormation's tags, as a list of {Key, Value} or a mapping."""
    if isinstance(tags, dict):
        return {str(k): str(v) for k, v in tags.items()}
    return {str(tag["Key"]): str(tag["Value"]) for tag in tags or [] if isinstance(tag, dict) and "Key" in tag}
