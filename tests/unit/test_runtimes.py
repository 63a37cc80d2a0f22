"""ember.runtimes: AWS's newer runtimes are accepted where this machine runs them, and INIT_START names what
really runs, never the runtime a function asked for."""

from __future__ import annotations

import subprocess
import sys

import pytest

from ember.runtimes import NODE, RUNTIMES_DIR, SUPPORTED_RUNTIMES, runtime_command, runtime_version
from ember.runtimes.jdks import jdk_for


@pytest.mark.parametrize("runtime", ["python3.14", "nodejs24.x", "java25"])
def test_runtimes_aws_added_since_are_served(runtime):
    assert runtime in SUPPORTED_RUNTIMES
    assert runtime_command(runtime, "/var/task", "/var/runtime", 512)


@pytest.mark.parametrize("runtime", ["python3.10", "python3.12", "python3.13", "python3.14"])
def test_init_start_names_the_interpreter_that_runs_a_python_function(runtime):
    assert runtime_version(runtime) == f"python:3.{sys.version_info.minor}.v{sys.version_info.micro}"
    assert runtime_command(runtime, "/var/task", "/var/runtime", 128)[0] == sys.executable


@pytest.mark.parametrize("runtime", ["nodejs18.x", "nodejs24.x"])
def test_init_start_names_the_nodejs_that_runs(runtime):
    major, minor = subprocess.run([NODE, "--version"], capture_output=True, text=True).stdout[1:].split(".")[:2]
    assert runtime_version(runtime) == f"nodejs:{major}.v{minor}"


@pytest.mark.parametrize("runtime", ["java17", "java21", "java25"])
def test_init_start_names_the_jdk_that_runs(runtime):
    java = jdk_for(runtime).java
    shown = subprocess.run([java, "-version"], capture_output=True, text=True).stderr.split('"')[1]
    feature, *_, update = shown.split(".")
    assert runtime_version(runtime) == f"java:{feature}.v{update}"
    assert runtime_command(runtime, "/var/task", "/var/runtime", 128)[0] == java


def test_a_custom_runtime_names_its_generation():
    assert runtime_version("provided.al2023") == "provided:al2023.v1"


def test_no_module_of_the_runtimes_folder_shadows_the_standard_library():
    """The folder is /var/runtime, on an exec'd Python runtime's PYTHONPATH as on AWS: a `calendar.py` there
    would be what `import calendar` (botocore's email parsing) finds, and every boto3 import would fail."""
    shadowing = {path.stem for path in RUNTIMES_DIR.glob("*.py")} & set(sys.stdlib_module_names)
    assert not shadowing, shadowing
