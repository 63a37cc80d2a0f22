"""The embedded SQLite database (WAL): functions, aliases, provisioned concurrency, invocations, events and
their configs, failed events, roles, resource policies, function URLs, API Gateway's APIs, rules,
schedules, the tags of rules and schedule groups, and layers."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path

_INVOCATIONS_TABLE = """
CREATE TABLE IF NOT EXISTS invocations (
    request_id TEXT NOT NULL,
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
"""
SCHEMA = _INVOCATIONS_TABLE + """
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
CREATE INDEX IF NOT EXISTS invocations_by_function ON invocations (function, started_at);
CREATE INDEX IF NOT EXISTS invocations_by_request ON invocations (request_id);
CREATE TABLE IF NOT EXISTS event_queue (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    request_id TEXT NOT NULL UNIQUE,
    function TEXT NOT NULL,
    qualifier TEXT,
    payload BLOB NOT NULL,
    state TEXT NOT NULL DEFAULT 'queued',
    enqueued_at REAL NOT NULL,
    not_before REAL NOT NULL DEFAULT 0,
    throttles INTEGER NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 0,
    waiting TEXT,
    error TEXT,
    response BLOB,
    executed_version TEXT,
    source TEXT NOT NULL DEFAULT 'event'
);
CREATE INDEX IF NOT EXISTS event_queue_due ON event_queue (state, not_before);
CREATE TABLE IF NOT EXISTS event_invoke_configs (
    name TEXT NOT NULL,
    qualifier TEXT NOT NULL,
    config TEXT NOT NULL,
    last_modified REAL NOT NULL,
    PRIMARY KEY (name, qualifier)
);
CREATE TABLE IF NOT EXISTS failed_events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    request_id TEXT NOT NULL,
    function TEXT NOT NULL,
    qualifier TEXT,
    payload BLOB NOT NULL,
    failed_at REAL NOT NULL,
    condition TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    error TEXT,
    targets TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS failed_events_by_function ON failed_events (function, seq);
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
CREATE TABLE IF NOT EXISTS function_urls (
    url_id TEXT PRIMARY KEY,
    function TEXT NOT NULL,
    qualifier TEXT NOT NULL,
    config TEXT NOT NULL,
    UNIQUE (function, qualifier)
);
CREATE TABLE IF NOT EXISTS function_policies (
    function TEXT NOT NULL,
    qualifier TEXT NOT NULL,
    document TEXT NOT NULL,
    revision TEXT NOT NULL,
    PRIMARY KEY (function, qualifier)
);
CREATE TABLE IF NOT EXISTS api_gateway (
    api_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    config TEXT NOT NULL,
    PRIMARY KEY (api_id, kind, id)
);
CREATE TABLE IF NOT EXISTS event_rules (
    name TEXT PRIMARY KEY,
    config TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS event_rule_targets (
    rule TEXT NOT NULL,
    id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    config TEXT NOT NULL,
    PRIMARY KEY (rule, id)
);
CREATE TABLE IF NOT EXISTS resource_tags (
    arn TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY (arn, key)
);
CREATE TABLE IF NOT EXISTS schedule_groups (
    name TEXT PRIMARY KEY,
    config TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS schedules (
    group_name TEXT NOT NULL,
    name TEXT NOT NULL,
    config TEXT NOT NULL,
    PRIMARY KEY (group_name, name)
);
CREATE TABLE IF NOT EXISTS timers (
    arn TEXT PRIMARY KEY,
    spec TEXT NOT NULL,
    next_slot REAL NOT NULL,
    next_due REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS scheduler_clock (
    speed REAL NOT NULL,
    anchor_wall REAL NOT NULL,
    anchor_time REAL NOT NULL
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
    _unkey_invocations(conn)
    _add_missing_columns(conn)
    conn.executescript(SCHEMA)
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
                 ("invocations", "price_model", "TEXT"), ("invocations", "arch", "TEXT"),
                 ("event_queue", "attempts", "INTEGER NOT NULL DEFAULT 0"), ("event_queue", "waiting", "TEXT"),
                 ("event_queue", "error", "TEXT"), ("event_queue", "response", "BLOB"),
                 ("event_queue", "executed_version", "TEXT"),
                 ("event_queue", "source", "TEXT NOT NULL DEFAULT 'event'"))


def _add_missing_columns(conn: sqlite3.Connection) -> None:
    """Before the schema script, whose indexes may name the new columns; a table not made yet is skipped."""
    for table, column, sql_type in ADDED_COLUMNS:
        present = {row["name"] for row in conn.execute(f"PRAGMA table_info({table})")}
        if present and column not in present:
            conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {sql_type}")


def _unkey_invocations(conn: sqlite3.Connection) -> None:
    """Invocation rows were once keyed by request id; an async event's retries share their request id (as
    on AWS) and each attempt is a call of its own, metered and billed, so the key goes (the table is rebuilt)."""
    keyed = [row for row in conn.execute("PRAGMA table_info(invocations)") if row["name"] == "request_id" and row["pk"]]
    if not keyed:
        return
    columns = ", ".join(row["name"] for row in conn.execute("PRAGMA table_info(invocations)"))
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute("ALTER TABLE invocations RENAME TO invocations_keyed")
        conn.execute("DROP INDEX IF EXISTS invocations_by_function")
        conn.execute(_INVOCATIONS_TABLE)
        conn.execute(f"INSERT INTO invocations ({columns}) SELECT {columns} FROM invocations_keyed")
        conn.execute("DROP TABLE invocations_keyed")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


@contextlib.contextmanager
def transaction(db: sqlite3.Connection) -> Iterator[None]:
    """Several statements as one commit (connections are in autocommit mode); rolled back on any error."""
    db.execute("BEGIN")
    try:
        yield
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
