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


def test_invocation_rows_keyed_by_request_id_are_unkeyed_and_kept(tmp_path):
    """Each retry of an async event is a call of its own with the event's request id."""
    path = tmp_path / "ember.db"
    with closing(sqlite3.connect(path)) as old, old:
        old.execute("CREATE TABLE invocations (request_id TEXT PRIMARY KEY, function TEXT NOT NULL, "
                    "version TEXT NOT NULL, source TEXT NOT NULL, started_at REAL NOT NULL, duration_ms REAL NOT NULL, "
                    "billed_ms INTEGER NOT NULL, memory_mb INTEGER NOT NULL, max_memory_mb INTEGER NOT NULL, "
                    "init_ms REAL, cold INTEGER NOT NULL, status TEXT NOT NULL, error_type TEXT, cpu_ms REAL)")
        old.execute("CREATE INDEX invocations_by_function ON invocations (function, started_at)")
        old.execute("INSERT INTO invocations VALUES ('r1', 'f', '$LATEST', 'event', 0, 1, 1, 128, 5, NULL, 0, "
                    "'error', 'ValueError', 0.5)")
    db = open_database(path)
    try:
        db.execute("INSERT INTO invocations (request_id, function, version, source, started_at, duration_ms, "
                   "billed_ms, memory_mb, max_memory_mb, cold, status) "
                   "VALUES ('r1', 'f', '$LATEST', 'event', 1, 1, 1, 128, 5, 0, 'success')")
        rows = db.execute("SELECT status, cpu_ms, arch FROM invocations WHERE request_id = 'r1' ORDER BY started_at")
        assert [tuple(row) for row in rows] == [("error", 0.5, None), ("success", None, None)]
        indexes = {row["name"] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
        assert {"invocations_by_function", "invocations_by_request"} <= indexes
    finally:
        db.close()
    open_database(path).close()


def test_an_old_event_queue_gains_the_retry_columns(tmp_path):
    path = tmp_path / "ember.db"
    with closing(sqlite3.connect(path)) as old, old:
        old.execute("CREATE TABLE event_queue (seq INTEGER PRIMARY KEY AUTOINCREMENT, request_id TEXT NOT NULL UNIQUE, "
                    "function TEXT NOT NULL, qualifier TEXT, payload BLOB NOT NULL, state TEXT NOT NULL DEFAULT "
                    "'queued', enqueued_at REAL NOT NULL, not_before REAL NOT NULL DEFAULT 0, "
                    "throttles INTEGER NOT NULL DEFAULT 0)")
        old.execute("INSERT INTO event_queue (request_id, function, payload, enqueued_at) VALUES ('e', 'f', '{}', 1)")
    db = open_database(path)
    try:
        assert tuple(db.execute("SELECT attempts, waiting, response FROM event_queue").fetchone()) == (0, None, None)
    finally:
        db.close()
