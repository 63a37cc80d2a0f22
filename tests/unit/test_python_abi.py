"""ember.runtimes.python_abi: extensions built for another Python are found at deploy."""

from __future__ import annotations

import sys
from importlib.machinery import EXTENSION_SUFFIXES

from ember.runtimes.python_abi import abi_warning, foreign_extensions

OTHER = f"cpython-3{sys.version_info.minor + 1}-x86_64-linux-gnu"


def package(tmp_path, *names: str):
    for name in names:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"\x7fELF")
    return tmp_path


def test_only_extensions_this_interpreter_would_not_import_are_foreign(tmp_path):
    tree = package(tmp_path, f"pydantic_core/_core.{OTHER}.so", f"ok/_here{EXTENSION_SUFFIXES[0]}",
                   "ok/_stable.abi3.so", "ok/libplain.so", "index.py")
    assert foreign_extensions(tree) == [f"pydantic_core/_core.{OTHER}.so"]


def test_the_warning_names_the_files_the_interpreter_and_what_to_build_for(tmp_path):
    tree = package(tmp_path, *(f"lib{i}/_x.{OTHER}.so" for i in range(5)))
    warning = abi_warning("fn", "python3.12", tree)
    assert warning is not None and f"lib0/_x.{OTHER}.so" in warning and "and 2 more" in warning
    assert f"Python {sys.version.split()[0]}" in warning and sys.implementation.cache_tag in warning
    assert abi_warning("fn", "nodejs20.x", tree) is None
    assert abi_warning("fn", "python3.12", package(tmp_path / "clean", "index.py")) is None
