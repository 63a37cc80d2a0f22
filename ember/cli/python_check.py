"""A Python function's syntax error caught before its code is uploaded, so the code that works keeps serving.

Files are compiled as they change, and a file found broken is compiled again on every later change until it is
fixed or gone: a function is held back while any file of its code folder is broken, whichever file changed.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from ember.apps.model import CodeSource, Stack


class SyntaxCheck:
    def __init__(self) -> None:
        self.broken: dict[Path, str] = {}  # a .py file -> its error, one line

    def check(self, paths: Iterable[Path]) -> None:
        """Compile the changed `.py` files and every file known broken; remember what fails."""
        for path in {*(p for p in paths if p.suffix == ".py"), *self.broken}:
            error = syntax_error(path)
            if error is None:
                self.broken.pop(path, None)
            else:
                self.broken[path] = error

    def held_back(self, stack: Stack) -> dict[CodeSource, list[str]]:
        """The Python functions' code sources holding a broken file, with the errors."""
        found: dict[CodeSource, list[str]] = {}
        for function in stack.functions:
            folder = function.code.path
            if folder is None or not str(function.config.get("Runtime", "")).startswith("python"):
                continue
            folder = folder.resolve()
            errors = [error for path, error in sorted(self.broken.items()) if folder in path.parents]
            if errors:
                found[function.code] = errors
        return found


def syntax_error(path: Path) -> str | None:
    """`file:line:col: SyntaxError: message`, or None when it compiles (or is gone: nothing to upload)."""
    try:
        source = path.read_bytes()
    except OSError:
        return None
    try:
        compile(source, str(path), "exec", dont_inherit=True)
    except SyntaxError as exc:
        where = f"{path}:{exc.lineno or 0}:{exc.offset or 0}"
        return f"{where}: {type(exc).__name__}: {exc.msg}"
    except ValueError as exc:  # null bytes
        return f"{path}: {type(exc).__name__}: {exc}"
    return None
