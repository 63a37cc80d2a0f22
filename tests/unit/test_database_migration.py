"""A data dir made by an older Ember opens with the columns added since."""

from __future__ import annotations

import sqlite3
from contextlib import closing

from ember.core.database import open_database


def test_old_invocations_table_gains_cpu_ms(tmp_path):
    path = tmp_path / "ember.db"
    with closing(sqlite3.connect(path)) as old, old:  # committed, then closed
        old.execute("CREATE TABLE invocations (request_id TEXT PRIMARY KEY, function TEXT NOT NULL, "
                    "version TEXT NOT NULL, source TEXT NOT NULL, started_at REAL NOT NULL, duration_ms REAL NOT NULL, "
                    "billed_ms INTEGER NOT NULL, memory_mb INTEGER NOT NULL, max_memory_mb INTEGER NOT NULL, "
                    "init_ms REAL, cold INTEGER NOT NULL, status TEXT NOT NULL, error_type TEXT)")  # before cpu_ms
        old.execute("INSERT INTO invocations VALUES ('r1', 'f', '$LATEST', 'invoke', 0, 1, 1, 128, 5, NULL, 0, "
                    "'success', NULL)")
    db = open_database(path)
    try:
        columns = {row["name"] for row in db.execute("PRAGMA table_info(invocations)")}
        assert "cpu_ms" in columns
        assert db.execute("SELECT function, cpu_ms FROM invocations").fetchone()[:] == ("f", None)
    finally:
        db.close()
    open_database(path).close()  # a second open finds the column there and adds nothing


def test_an_old_data_dir_gains_the_iam_tables_and_private_files(tmp_path):
    path = tmp_path / "ember.db"
    with closing(sqlite3.connect(path)) as old, old:  # committed, then closed
        old.execute("CREATE TABLE functions (name TEXT NOT NULL, version TEXT NOT NULL, config TEXT NOT NULL, "
                    "PRIMARY KEY (name, version))")  # before roles existed
    path.chmod(0o644)
    db = open_database(path)
    try:
        tables = {row["name"] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert {"roles", "role_policies", "role_attached_policies"} <= tables
        for name in ("ember.db", "ember.db-wal", "ember.db-shm"):
            if (tmp_path / name).exists():
                assert (tmp_path / name).stat().st_mode & 0o777 == 0o600, name
    finally:
        db.close()
