"""Lambda's platform log lines, byte for byte (reference §4.6)."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass


def init_start_line(label: str, region: str) -> str:
    """`label` names what really runs (ember.runtimes.runtime_version), e.g. `python:3.11.v7`."""
    digest = hashlib.sha256(label.encode()).hexdigest()
    return f"INIT_START Runtime Version: {label}\tRuntime Version ARN: arn:aws:lambda:{region}::runtime:{digest}\n"


def start_line(request_id: str, version: str) -> str:
    return f"START RequestId: {request_id} Version: {version}\n"


def timeout_line(request_id: str, duration_ms: float) -> str:
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
    return f"{stamp}Z {request_id} Task timed out after {duration_ms / 1000:.2f} seconds\n"


def end_line(request_id: str) -> str:
    return f"END RequestId: {request_id}\n"


@dataclass(frozen=True)
class Report:
    request_id: str
    duration_ms: float
    billed_ms: int
    memory_mb: int
    max_memory_mb: int
    init_ms: float | None = None
    status: str | None = None


def report_line(report: Report) -> str:
    """REPORT … with tab separators; Init Duration only on a cold start, Status only when not a success."""
    fields = [
        f"REPORT RequestId: {report.request_id}",
        f"Duration: {report.duration_ms:.2f} ms",
        f"Billed Duration: {report.billed_ms} ms",
        f"Memory Size: {report.memory_mb} MB",
        f"Max Memory Used: {report.max_memory_mb} MB",
    ]
    if report.init_ms is not None:
        fields.append(f"Init Duration: {report.init_ms:.2f} ms")
    if report.status:
        fields.append(f"Status: {report.status}")
        return "\t".join(fields) + "\n"
    return "\t".join(fields) + "\t\n"
