"""AWS's published event samples (aws-lambda-go's events/testdata), fetched as a Go module at test time.

The version is the one tests/integration/runtimes/go-aws/go.mod pins; the Go module cache keeps it
after the first download. The JSON is read from there and never copied into this repository.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

MODULE = "github.com/aws/aws-lambda-go"
GO_MOD = Path(__file__).resolve().parents[1] / "integration" / "runtimes" / "go-aws" / "go.mod"


def version() -> str:
    match = re.search(rf"^\s*{re.escape(MODULE)} (v\S+)", GO_MOD.read_text(), re.MULTILINE)
    assert match, f"{MODULE} is not pinned in {GO_MOD}"
    return match.group(1)


@functools.cache
def testdata() -> Path:
    go = shutil.which("go") or "/usr/local/go/bin/go"
    if not Path(go).exists():
        pytest.skip("go is missing (make install installs it): AWS's event samples come as a Go module")
    done = subprocess.run([go, "mod", "download", "-json", f"{MODULE}@{version()}"], capture_output=True, text=True,
                          env={**os.environ, "GOFLAGS": "-mod=mod"}, cwd=GO_MOD.parent, timeout=120)
    assert done.returncode == 0, done.stderr or done.stdout
    return Path(json.loads(done.stdout)["Dir"]) / "events" / "testdata"


def sample(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((testdata() / name).read_text())
    return loaded
