"""Imports point down the package list of ARCHITECTURE.md, never up."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2] / "ember"
LAYERS = ["cli", "apps", "api", "triggers", "events", "core", "execution", "runtimes", "billing", "observe"]
FOUNDATION = {"errors", "config", "arns", "paths"}


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


HTTP_MODULES = {"http", "starlette", "uvicorn", "httptools", "h11", "httpx", "urllib"}


def imported_top_level_modules(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module.split(".")[0])
    return found


def test_nothing_under_execution_knows_http():
    """The seam carries plain data; status codes are the API layer's (ember.api.runtime_api)."""
    for path in (ROOT / "execution").rglob("*.py"):
        text = path.read_text()
        assert not imported_top_level_modules(path) & HTTP_MODULES, path.relative_to(ROOT)
        assert "RuntimeApiError" not in text and "status_code" not in text, path.relative_to(ROOT)


def test_only_the_local_backend_knows_the_os_sandbox():
    """Pools, environments and the invoker reach a sandbox only through ember.execution.backend."""
    for path in [*(ROOT / "execution").glob("*.py"), *(ROOT / "core").glob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                assert not node.module.startswith("ember.execution.local"), path.relative_to(ROOT)
