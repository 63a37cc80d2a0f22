"""`ember dev`'s one stream: every function's log lines, each prefixed with its name in a colour of its own, and
what the loop does (reloads, errors) under the name `ember`; written from several threads, a line at a time."""

from __future__ import annotations

import threading
from collections.abc import Iterable

from rich.console import Console
from rich.text import Text

PALETTE = ("cyan", "magenta", "green", "yellow", "blue", "bright_red", "bright_cyan", "bright_magenta",
           "bright_green", "bright_yellow")
PLATFORM_LINES = ("INIT_START ", "START ", "END ", "REPORT ", "INIT_REPORT ")
SELF = "ember"


class DevStream:
    def __init__(self, console: Console) -> None:
        self.console = console
        self._lock = threading.Lock()
        self._styles: dict[str, str] = {}
        self._width = len(SELF)

    def name(self, functions: Iterable[str]) -> None:
        """Give each function its colour (kept across reloads) and pad every prefix to the longest name."""
        with self._lock:
            for function in sorted(functions):
                if function not in self._styles:
                    self._styles[function] = PALETTE[len(self._styles) % len(PALETTE)]
                self._width = max(self._width, len(function))

    def log(self, function: str, message: str) -> None:
        """One log event (it may hold several lines: each gets the prefix)."""
        style = self._styles.get(function, "white")
        for line in message.rstrip("\n").split("\n"):
            body_style = "dim" if line.startswith(PLATFORM_LINES) else ""
            self._print(Text.assemble((function.ljust(self._width), style), " | ", (line, body_style)))

    def info(self, text: str) -> None:
        self._print(Text.assemble((SELF.ljust(self._width), "bold"), " | ", text))

    def error(self, text: str) -> None:
        self._print(Text.assemble((SELF.ljust(self._width), "bold"), " | ", (text, "bold red")))

    def _print(self, text: Text) -> None:
        with self._lock:
            self.console.print(text, soft_wrap=True, highlight=False)
