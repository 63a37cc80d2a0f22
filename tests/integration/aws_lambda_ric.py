"""AWS's Node.js Runtime Interface Client (npm aws-lambda-ric 3.3.0) as a `provided.al2023` function's
bootstrap, bundled as AWS users do: node_modules inside the zip. Shared by the behaviour suite and
bench/runtimes.py; `make test` installs and builds it (runtimes/aws-lambda-ric/install.sh)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

INSTALL = Path(__file__).parent / "runtimes" / "aws-lambda-ric"
PACKAGE = INSTALL / "node_modules" / "aws-lambda-ric"
ADDON = PACKAGE / "dist" / "rapid-client.node"
# What it needs at run time: bin/index.mjs imports dist/index.mjs, which loads dist/rapid-client.node;
# not its build-only dependencies (node-gyp, node-addon-api) nor its sources.
RUN_TIME = ("package.json", "bin", "dist")
BOOTSTRAP = b'#!/bin/sh\nexec /usr/bin/node /var/task/node_modules/aws-lambda-ric/bin/index.mjs "$_HANDLER"\n'


@cache
def ric_files() -> dict[str, bytes]:
    """The bootstrap and the ric's run-time files by zip path (read once: the tests zip them many times)."""
    assert ADDON.is_file(), f"{ADDON} is missing: `make test` builds it ({INSTALL / 'install.sh'})"
    files = {"bootstrap": BOOTSTRAP}
    for part in RUN_TIME:
        top = PACKAGE / part
        for path in sorted([top] if top.is_file() else top.rglob("*")):
            if path.is_file():
                files[str(path.relative_to(INSTALL))] = path.read_bytes()
    return files
