"""One execution environment's log stream, stored as CloudWatch-style events (JSON lines).

Every line an environment prints, and every platform line (INIT_START, START, END, REPORT), is one
event `{"t": epoch_ms, "m": message}` appended to `<logs>/<function>/<stream id>.jsonl`. While a
request runs its lines are also captured, so `X-Amz-Log-Type: Tail` can return them.
"""

from __future__ import annotations

import json
import secrets
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import IO

TAIL_BYTES = 4096


def new_stream_name(version: str) -> str:
    """Lambda's stream name: YYYY/MM/DD/[<version>]<32 hex>."""
    day = datetime.now(timezone.utc).strftime("%Y/%m/%d")
    return f"{day}/[{version}]{secrets.token_hex(16)}"


def stream_file_name(stream_name: str) -> str:
    return stream_name.replace("/", "-") + ".jsonl"


class LogStream:
    """Append-only; one writer (the environment that owns it)."""

    def __init__(self, directory: Path, stream_name: str) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.name = stream_name
        self.path = directory / stream_file_name(stream_name)
        self._file: IO[str] | None = None
        self._capture: list[str] | None = None

    def write(self, message: str) -> None:
        """Record one event; `message` keeps its trailing newline, as CloudWatch does for Lambda."""
        if self._file is None:
            self._file = self.path.open("a", encoding="utf-8")
        self._file.write(json.dumps({"t": int(time.time() * 1000), "s": self.name, "m": message}) + "\n")
        if self._capture is not None:
            self._capture.append(message)
        else:  # during a request, lines are flushed together when it ends
            self._file.flush()

    def start_capture(self) -> None:
        self._capture = []

    def stop_capture(self) -> str:
        """End the capture and return the last 4 KB of what it saw (the Tail of an invocation)."""
        text = "".join(self._capture or [])
        self._capture = None
        if self._file is not None:
            self._file.flush()
        raw = text.encode("utf-8")[-TAIL_BYTES:]
        return raw.decode("utf-8", errors="ignore")

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
