"""The embedded SQLite database (WAL): functions, aliases, provisioned concurrency, invocations, events, roles,
layers."""

from __future__ import annotations

import sqlite3
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS functions (
    name TEXT NOT NULL,
    version TEXT NOT NULL,
    config TEXT NOT NULL,
    PRIMARY KEY (name, version)
);
CREATE TABLE IF NOT EXISTS aliases (
    name TEXT NOT NULL,
    alias TEXT NOT NULL,
    config TEXT NOT NULL,
    PRIMARY KEY (name, alias)
);
CREATE TABLE IF NOT EXISTS provisioned_concurrency (
    name TEXT NOT NULL,
    qualifier TEXT NOT NULL,
    requested INTEGER NOT NULL,
    last_modified TEXT NOT NULL,
    PRIMARY KEY (name, qualifier)
);
CREATE TABLE IF NOT EXISTS version_counters (
    name TEXT PRIMARY KEY,
    last INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS invocations (
    request_id TEXT PRIMARY KEY,
    function TEXT NOT NULL,
    version TEXT NOT NULL,
    source TEXT NOT NULL,
    started_at REAL NOT NULL,
    duration_ms REAL NOT NULL,
    billed_ms INTEGER NOT NULL,
    memory_mb INTEGER NOT NULL,
    max_memory_mb INTEGER NOT NULL,
    init_ms REAL,
    cold INTEGER NOT NULL,
    status TEXT NOT NULL,
    error_type TEXT,
    cpu_ms REAL,
    cost_usd REAL,
    price_model TEXT,
    arch TEXT
);
CREATE INDEX IF NOT EXISTS invocations_by_function ON invocations (function, started_at);
CREATE TABLE IF NOT EXISTS event_queue (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    request_id TEXT NOT NULL UNIQUE,
    function TEXT NOT NULL,
    qualifier TEXT,
    payload BLOB NOT NULL,
    state TEXT NOT NULL DEFAULT 'queued',
    enqueued_at REAL NOT NULL,
    not_before REAL NOT NULL DEFAULT 0,
    throttles INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS roles (
    name TEXT PRIMARY KEY COLLATE NOCASE,
    config TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS role_policies (
    role TEXT NOT NULL COLLATE NOCASE,
    name TEXT NOT NULL,
    document TEXT NOT NULL,
    PRIMARY KEY (role, name)
);
CREATE TABLE IF NOT EXISTS role_attached_policies (
    role TEXT NOT NULL COLLATE NOCASE,
    arn TEXT NOT NULL,
    PRIMARY KEY (role, arn)
);
CREATE TABLE IF NOT EXISTS function_policies (
    function TEXT NOT NULL,
    qualifier TEXT NOT NULL,
    document TEXT NOT NULL,
    revision TEXT NOT NULL,
    PRIMARY KEY (function, qualifier)
);
CREATE TABLE IF NOT EXISTS layer_versions (
    name TEXT NOT NULL,
    version INTEGER NOT NULL,
    info TEXT NOT NULL,
    code TEXT NOT NULL,
    unzipped INTEGER NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0,
    policy TEXT,
    policy_revision TEXT,
    PRIMARY KEY (name, version)
);
CREATE TABLE IF NOT EXISTS layer_counters (
    name TEXT PRIMARY KEY,
    last INTEGER NOT NULL
);
"""


def open_database(path: Path) -> sqlite3.Connection:
    """Open (creating if needed) the database; WAL so a crash of the server never loses a commit."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA busy_timeout=5000")
    conn.executescript(SCHEMA)
    _add_missing_columns(conn)
    _make_private(path)
    return conn


def _make_private(path: Path) -> None:
    """The database and its WAL files hold every function's configuration: the server's user's alone."""
    for suffix in ("", "-wal", "-shm"):
        file = path.with_name(path.name + suffix)
        if file.exists():
            file.chmod(0o600)


# Columns added after a table was first created: (table, column, SQL type). A data dir made by an
# older Ember gets them on open; CREATE TABLE IF NOT EXISTS would leave its tables as they were.
ADDED_COLUMNS = (("invocations", "cpu_ms", "REAL"), ("invocations", "cost_usd", "REAL"),
                 ("invocations", "price_model", "TEXT"), ("invocations", "arch", "TEXT"))


def _add_missing_columns(conn: sqlite3.Connection) -> None:
    for table, column, sql_type in ADDED_COLUMNS:
        present = {row["name"] for row in conn.execute(f"PRAGMA table_info({table})")}
        if column not in present:
            conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {sql_type}")
