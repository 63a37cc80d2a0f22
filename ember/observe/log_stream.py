"""One execution environment's log stream, stored as CloudWatch-style events (JSON lines).

Every line an environment prints, and every platform line (INIT_START, START, END, REPORT), is one
event `{"t": epoch_ms, "m": message}` appended to `<logs>/<function>/<stream id>.jsonl`. While a
request runs its lines are also kept in a TailBuffer, so `X-Amz-Log-Type: Tail` can return them.
"""

from __future__ import annotations

import json
import secrets
import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

TAIL_BYTES = 4096
DEFAULT_MAX_BYTES = 256 * 1024 * 1024  # one stream's events (`ember serve --log-stream-mb`)
CAPPED = "Ember: this log stream reached its cap of {} MB; the function's later lines are dropped\n"


# What json.dumps writes for a string (ASCII, escaped), without building a dict and an encoder per
# line: an event is rendered as json.dumps({"t": …, "s": …, "m": …}) would, three times per call.
_quoted: Callable[[str], str] = json.encoder.encode_basestring_ascii


def new_stream_name(version: str) -> str:
    """Lambda's stream name: YYYY/MM/DD/[<version>]<32 hex>."""
    day = datetime.now(UTC).strftime("%Y/%m/%d")
    return f"{day}/[{version}]{secrets.token_hex(16)}"


def stream_file_name(stream_name: str) -> str:
    return stream_name.replace("/", "-") + ".jsonl"


class LogStream:
    """Append-only; one writer (the environment that owns it). Past `max_bytes` of events the
    function's own lines are dropped (said once, in the stream); platform lines still go in."""

    def __init__(self, directory: Path, stream_name: str, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.name = stream_name
        self.path = directory / stream_file_name(stream_name)
        self.max_bytes = max_bytes
        self.size = 0
        self._file: IO[str] | None = None
        self._quoted_name = _quoted(stream_name)

    def write(self, message: str, flush: bool = True, platform: bool = False, at_ms: int | None = None) -> None:
        """Record one event; `message` keeps its trailing newline, as CloudWatch does for Lambda.
        A call's lines are written unflushed and flushed together at its END. `at_ms`: when it was
        printed, if not now (a line a node agent forwarded)."""
        if self.size > self.max_bytes and not platform:
            return
        at_ms = int(time.time() * 1000) if at_ms is None else at_ms
        event = f'{{"t": {at_ms}, "s": {self._quoted_name}, "m": {_quoted(message)}}}\n'
        if self._file is None:
            self._file = self.path.open("a", encoding="utf-8")
        self._file.write(event)
        self.size += len(event)
        if self.size > self.max_bytes and not platform:
            self._file.write(json.dumps({"t": int(time.time() * 1000), "s": self.name, "m": CAPPED.format(
                self.max_bytes // (1024 * 1024))}) + "\n")
        if flush:
            self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


class TailBuffer:
    """The last TAIL_BYTES of a call's lines: what Tail returns, in bounded memory whatever it prints."""

    def __init__(self) -> None:
        self._lines: deque[str] = deque()
        self._size = 0

    def append(self, message: str) -> None:
        self._lines.append(message)
        self._size += len(message)
        while self._size > 4 * TAIL_BYTES and len(self._lines) > 1:
            self._size -= len(self._lines.popleft())

    def text(self) -> str:
        raw = "".join(self._lines).encode("utf-8")[-TAIL_BYTES:]
        return raw.decode("utf-8", errors="ignore")
