"""ember.observe.platform_lines: Lambda's platform log lines, byte for byte."""

from __future__ import annotations

import re

from ember.observe.platform_lines import (
    Report,
    end_line,
    init_start_line,
    report_line,
    start_line,
)


def test_report_line_for_a_cold_call_has_init_duration_and_trailing_tab():
    report = Report("X", duration_ms=1.234, billed_ms=2, memory_mb=128, max_memory_mb=20, init_ms=74.1)
    assert report_line(report) == (
        "REPORT RequestId: X\tDuration: 1.23 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB\t"
        "Max Memory Used: 20 MB\tInit Duration: 74.10 ms\t\n"
    )


def test_report_line_for_a_warm_call_has_no_init_duration_but_keeps_trailing_tab():
    report = Report("X", duration_ms=1.23, billed_ms=2, memory_mb=128, max_memory_mb=20)
    assert report_line(report) == (
        "REPORT RequestId: X\tDuration: 1.23 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB\t"
        "Max Memory Used: 20 MB\t\n"
    )


def test_report_line_for_a_timeout_ends_with_status_and_no_trailing_tab():
    report = Report("X", duration_ms=3000.0, billed_ms=3000, memory_mb=128, max_memory_mb=20, status="timeout")
    assert report_line(report) == (
        "REPORT RequestId: X\tDuration: 3000.00 ms\tBilled Duration: 3000 ms\tMemory Size: 128 MB\t"
        "Max Memory Used: 20 MB\tStatus: timeout\n"
    )


def test_start_line():
    assert start_line("abc-123", "$LATEST") == "START RequestId: abc-123 Version: $LATEST\n"


def test_end_line():
    assert end_line("abc-123") == "END RequestId: abc-123\n"


def test_init_start_line_format():
    line = init_start_line("python:3.11.v7", "us-east-1")
    version = r"python:3\.11\.v7"
    assert re.fullmatch(
        rf"INIT_START Runtime Version: {version}\t"
        r"Runtime Version ARN: arn:aws:lambda:us-east-1::runtime:[0-9a-f]{64}\n",
        line,
    ), line


def test_init_start_line_uses_the_given_region():
    assert "arn:aws:lambda:eu-west-1::runtime:" in init_start_line("python:3.11.v7", "eu-west-1")


def test_init_start_line_is_stable_for_the_same_runtime():
    assert init_start_line("python:3.11.v7", "us-east-1") == init_start_line("python:3.11.v7", "us-east-1")
