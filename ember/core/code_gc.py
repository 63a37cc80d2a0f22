"""Garbage collection of the code store: code no function or version references is removed.

Run after every change to the registry (a delete, a code update, a deleted version), at server
start for leftovers, and now and then for code a live environment still ran from when its
function changed (kept until that environment is gone).
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable
from pathlib import Path

from ember.core.code_store import CodeStore
from ember.core.functions import FunctionRecord

log = logging.getLogger("ember.code")
SWEEP_INTERVAL_S = 30.0


class CodeCollector:
    def __init__(self, db: sqlite3.Connection, store: CodeStore,
                 in_use: Callable[[], set[Path]] = set) -> None:
        self.db = db
        self.store = store
        self.in_use = in_use  # code trees live environments run from

    def referenced(self) -> set[str]:
        """Every digest `$LATEST` or a published version points at (aliases point at versions)."""
        rows = self.db.execute("SELECT config FROM functions")
        return {FunctionRecord.from_json(row["config"]).code_sha_hex for row in rows}

    def collect(self) -> list[str]:
        keep = self.referenced() | {path.name for path in self.in_use()}
        removed = self.store.collect(keep)
        if removed:
            log.info("removed %d unreferenced code packages", len(removed))
        return removed

    def on_change(self, name: str, version: str | None) -> None:
        """A registry listener: any change may have left code unreferenced."""
        self.collect()

    async def run(self, interval_s: float = SWEEP_INTERVAL_S) -> None:
        while True:
            await asyncio.sleep(interval_s)
            self.collect()
