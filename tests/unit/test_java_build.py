"""ember.cli.java_build: `ember deploy` compiles a Java folder's sources into Lambda's zip layout."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from ember.cli.java_build import JavaBuildError, has_java_sources, java_zip

EXAMPLES = Path(__file__).parents[2] / "examples"


def test_only_a_java_runtime_with_sources_is_built(tmp_path):
    assert has_java_sources(EXAMPLES / "hello-java", "java21")
    assert not has_java_sources(EXAMPLES / "hello-java", "python3.11")
    assert not has_java_sources(tmp_path, "java17"), "a folder of classes is zipped as it is"


def test_the_zip_has_classes_at_its_root_and_no_sources():
    archive = zipfile.ZipFile(io.BytesIO(java_zip(EXAMPLES / "hello-java")))
    names = archive.namelist()
    assert "example/Hello.class" in names and "ember.json" in names
    assert not any(name.endswith(".java") for name in names)
    assert archive.getinfo("example/Hello.class").external_attr >> 16 & 0o777 == 0o644


def test_a_compile_error_is_javacs_first_error_in_one_line(tmp_path):
    (tmp_path / "Broken.java").write_text("public class Broken { int x = ; }\n")
    with pytest.raises(JavaBuildError) as caught:
        java_zip(tmp_path)
    assert str(caught.value).startswith("javac: ") and "Broken.java:1: error:" in str(caught.value)
    assert "\n" not in str(caught.value)
