"""Garbage collection of the code store: code no function, version or layer references is removed.

A layer version's content is referenced while the version exists, and after it is deleted for as long as a
function or version still names it; a merged /opt tree while a function or version names its list of layers.

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
from ember.core.layers import LayerStore

log = logging.getLogger("ember.code")
SWEEP_INTERVAL_S = 30.0


class CodeCollector:
    def __init__(self, db: sqlite3.Connection, store: CodeStore,
                 in_use: Callable[[], set[Path]] = set, layers: LayerStore | None = None) -> None:
        self.db = db
        self.store = store
        self.in_use = in_use  # code and /opt trees live environments run from
        self.layers = layers

    def referenced(self) -> set[str]:
        """Every digest `$LATEST` or a published version points at (aliases point at versions), every
        layer's that one names or that is not deleted, and the merged /opt trees they name."""
        records = [FunctionRecord.from_json(row["config"]) for row in self.db.execute("SELECT config FROM functions")]
        keep = {record.code_sha_hex for record in records}
        if self.layers is not None:
            keep |= self.layers.collect(record.config for record in records)
        return keep

    def collect(self) -> list[str]:
        keep = self.referenced() | {path.name for path in self.in_use()}
        removed = self.store.collect(keep)
        if self.layers is not None:
            removed += self.layers.trees.collect(keep)
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
