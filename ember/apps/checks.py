"""Refuse a stack before anything is deployed: each problem is one line naming the file and the function.

The same checks the API makes (ember.core.validation, in AWS's words: runtime by AWS's calendar, memory,
timeout, environment), plus one AWS makes only at the first call: the handler's module and function exist
(Python and Node.js code in a folder). A runtime is checked as for creating a function, the stricter case.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from ember.apps.model import Function, Stack
from ember.core import validation
from ember.errors import AwsError, TemplateError

NODE_EXTENSIONS = (".js", ".mjs", ".cjs")


def check_functions(stack: Stack, file: str) -> None:
    for function in stack.functions:
        if not function.config.get("Runtime") or not function.config.get("Handler"):
            raise TemplateError(f"{function.logical_id}: Runtime and Handler are required for code in a zip or "
                                f"a folder", file)
        try:
            _check(function)
        except AwsError as exc:
            raise TemplateError(f"{function.logical_id}: {exc.message}", file) from exc
        problem = handler_problem(function)
        if problem:
            raise TemplateError(f"{function.logical_id}: {problem}", file)
        warning = validation.runtime_warning(str(function.config.get("Runtime")))
        if warning:
            stack.warnings.append(f"{function.logical_id}: {warning}")


def _check(function: Function) -> None:
    config = function.config
    validation.check_function_name(function.name)
    validation.check_runtime(str(config["Runtime"]), "create")
    validation.check_handler(str(config["Handler"]))
    validation.check_limits(int(config["MemorySize"]), int(config["Timeout"]))
    validation.check_environment(config["Environment"]["Variables"])
    validation.check_ephemeral_storage(int(config["EphemeralStorage"]["Size"]))
    validation.check_architectures(list(config["Architectures"]))


def handler_problem(function: Function) -> str | None:
    """Why the handler can't load from the function's folder (Python, Node.js), or None."""
    folder, runtime = function.code.path, str(function.config["Runtime"])
    if folder is None or not folder.is_dir():
        return None
    module, _, name = str(function.config["Handler"]).rpartition(".")
    if runtime.startswith("python"):
        return _python_problem(folder, module, name)
    if runtime.startswith("nodejs"):
        return _node_problem(folder, module, name)
    return None


def _python_problem(folder: Path, module: str, name: str) -> str | None:
    base = folder / module.replace(".", "/")
    source = next((path for path in (base.with_suffix(".py"), base / "__init__.py") if path.is_file()), None)
    if source is None:
        return f"handler module {module!r} not found: no {base.relative_to(folder)}.py in {folder}"
    try:
        tree = ast.parse(source.read_bytes(), str(source))
    except SyntaxError as exc:
        return f"{source}:{exc.lineno}:{exc.offset}: {exc.msg}"
    defined = {node.name for node in tree.body if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)}
    defined |= {target.id for node in tree.body if isinstance(node, ast.Assign)
                for target in node.targets if isinstance(target, ast.Name)}
    defined |= {alias.asname or alias.name for node in tree.body if isinstance(node, ast.ImportFrom)
                for alias in node.names}
    if name not in defined:
        return f"handler {name!r} is not defined in {source.relative_to(folder)}"
    return None


def _node_problem(folder: Path, module: str, name: str) -> str | None:
    source = next((folder / f"{module}{ext}" for ext in NODE_EXTENSIONS if (folder / f"{module}{ext}").is_file()),
                  None)
    if source is None:
        return f"handler module {module!r} not found: no {module}.js, .mjs or .cjs in {folder}"
    text = source.read_text(errors="replace")
    if not re.search(rf"\b{re.escape(name)}\b", text):
        return f"handler {name!r} is not exported by {source.relative_to(folder)}"
    return None
