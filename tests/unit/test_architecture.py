"""Imports point down the package list of ARCHITECTURE.md, never up."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2] / "ember"
LAYERS = ["cli", "api", "events", "core", "execution", "runtimes", "billing", "observe"]
FOUNDATION = {"errors", "config", "arns"}


def imported_ember_packages(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else \
            [node.module or ""] if isinstance(node, ast.ImportFrom) else []
        for name in names:
            parts = name.split(".")
            if parts[0] == "ember" and len(parts) > 1:
                found.add(parts[1])
    return found


@pytest.mark.parametrize("layer", LAYERS)
def test_layer_imports_only_layers_below_it(layer):
    allowed = set(LAYERS[LAYERS.index(layer):]) | FOUNDATION
    for path in (ROOT / layer).rglob("*.py"):
        upward = imported_ember_packages(path) - allowed
        assert not upward, f"{path.relative_to(ROOT)} imports {sorted(upward)}, which sit above {layer}"


def test_foundation_imports_no_layer():
    for name in FOUNDATION:
        assert not imported_ember_packages(ROOT / f"{name}.py") & set(LAYERS), name


def test_the_python_runtime_is_standalone():
    """It runs inside the environment: no `ember` import, so it costs nothing but the stdlib."""
    assert imported_ember_packages(ROOT / "runtimes" / "python" / "bootstrap.py") == set()
