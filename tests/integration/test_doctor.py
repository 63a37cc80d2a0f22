"""`ember doctor` reports what a real probe sandbox got, read from the probe's /proc."""

from __future__ import annotations

import json
import subprocess

from conftest import BIN

from ember.execution.local.doctor import FEATURES


def doctor(*flags: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "ember"), "doctor", *flags], capture_output=True, text=True, timeout=60)


def test_doctor_reports_every_feature_from_a_probe():
    result = doctor("--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert list(report) == list(FEATURES)
    assert report["cgroups"]["active"], report["cgroups"]
    assert "memory limit 128 MB" in report["cgroups"]["detail"]
    assert report["runtimes"]["active"]
    assert report["network"]["active"] and "egress through NAT" in report["network"]["detail"], report["network"]


def test_doctor_lines_and_strict_exit():
    plain = doctor()
    lines = plain.stdout.splitlines()
    assert [line.split()[0] for line in lines] == list(FEATURES)
    assert all(line.split()[1] in ("active", "inactive") for line in lines)
    strict = doctor("--strict")
    inactive = any(line.split()[1] == "inactive" for line in lines)
    assert strict.returncode == (1 if inactive else 0)
