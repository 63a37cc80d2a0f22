"""Async invocation: how fast Event invokes are accepted (each committed to SQLite before its 202) and how
fast the queue runs them, next to direct RequestResponse invokes of the same no-op function, same run.

  async_enqueue_rps  Event invokes answered 202 per second: EVENTS sent over CLIENTS keep-alive raw HTTP
                     connections (one thread each, `--auth none`); the queue runs them meanwhile, as it
                     would for any client, so the server accepts and runs at once;
  async_drain_rps    events completed per second from a full queue: EVENTS rows written into the data dir's
                     `event_queue` (the same INSERT the Invoke API makes) due at one moment a little ahead,
                     the queue woken by one Event invoke; EVENTS / (queue empty - that moment), the queue
                     polled every 5 ms;
  sync_invoke_rps    RequestResponse invokes answered 200 per second, sent as the Event invokes are (baseline).
An unrecorded round of each first makes the environments a full in-flight window needs (up to 64).
REPEATS rounds, the order of the three alternating.
"""

from __future__ import annotations

import sqlite3
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing

import harness

EVENTS = 1000
CLIENTS = 4
REPEATS = 3
FUNCTION = "bench-async-noop"
EXPECTED = {"Event": 202, "RequestResponse": 200}
LEAD_S = 0.5  # how far ahead a pre-filled batch falls due


def blast(url: str, path: str, kind: str, count: int) -> tuple[float, float]:
    """`count` invokes of `kind`, CLIENTS connections at once; (start, end) on the perf_counter clock."""

    def worker(share: int) -> None:
        connection = harness.connect(url)
        try:
            for _ in range(share):
                connection.request("POST", path, body=b"{}", headers={
                    "Content-Type": "application/json", "X-Amz-Invocation-Type": kind})
                response = connection.getresponse()
                body = response.read()
                if response.status != EXPECTED[kind] or response.getheader("X-Amz-Function-Error"):
                    raise RuntimeError(f"{kind} invoke: {response.status} {body[:300]!r}")
        finally:
            connection.close()

    start = time.perf_counter()
    with ThreadPoolExecutor(CLIENTS) as pool:
        list(pool.map(worker, [count // CLIENTS] * CLIENTS))
    return start, time.perf_counter()


def queued(db: sqlite3.Connection) -> int:
    return int(db.execute("SELECT count(*) FROM event_queue").fetchone()[0])


def wait_empty(db: sqlite3.Connection) -> float:
    """perf_counter when no event is left in the queue."""
    deadline = time.monotonic() + 300
    while queued(db) and time.monotonic() < deadline:
        time.sleep(0.005)
    if queued(db):
        raise RuntimeError(f"{queued(db)} events still queued after 300 s")
    return time.perf_counter()


def enqueue_round(server: harness.EmberServer, db: sqlite3.Connection) -> float:
    """Event invokes accepted per second; returns once they all ran, so rounds never overlap."""
    start, end = blast(server.url, server.invoke_path(FUNCTION), "Event", EVENTS)
    wait_empty(db)
    return EVENTS / (end - start)


def drain_round(server: harness.EmberServer, db: sqlite3.Connection) -> float:
    """Events completed per second, from EVENTS rows that fall due together."""
    due = time.time() + LEAD_S
    with db:
        db.executemany("INSERT INTO event_queue (request_id, function, payload, enqueued_at, not_before) "
                       "VALUES (?, ?, ?, ?, ?)", [(str(uuid.uuid4()), FUNCTION, b"{}", time.time(), due)
                                                  for _ in range(EVENTS)])
    blast(server.url, server.invoke_path(FUNCTION), "Event", CLIENTS)  # wakes the queue; it sleeps until `due`
    start = time.perf_counter() + (due - time.time())
    return EVENTS / (wait_empty(db) - start)


def sync_round(server: harness.EmberServer) -> float:
    start, end = blast(server.url, server.invoke_path(FUNCTION), "RequestResponse", EVENTS)
    return EVENTS / (end - start)


def run() -> list[dict]:
    samples: dict[str, list[float]] = {"enqueue": [], "drain": [], "sync": []}
    rounds = {"enqueue": enqueue_round, "drain": drain_round, "sync": lambda server, db: sync_round(server)}
    with harness.EmberServer() as server, closing(sqlite3.connect(server.data_dir / "ember.db")) as db:
        harness.create_function(server.client(), FUNCTION)
        for measure in rounds.values():  # warm-up: environments for a full in-flight window
            measure(server, db)
        for repeat in range(REPEATS):
            order = list(rounds)[repeat % 3:] + list(rounds)[:repeat % 3]
            for name in order:
                samples[name].append(rounds[name](server, db))
        environments = server.environments()
    common = {"benchmark": "async_events", "events_per_sample": EVENTS, "client_connections": CLIENTS,
              "repeats": REPEATS, "function": f"{FUNCTION} (hello, {harness.BENCH_MEMORY_MB} MB)",
              "client": "raw http.client keep-alive POST {}, one thread per connection",
              "environments_at_end": environments}
    return [
        harness.record("async_enqueue_rps", "invokes/s", samples["enqueue"], **common, role="candidate",
                       baseline="sync_invoke_rps", invocation_type="Event"),
        harness.record("async_drain_rps", "events/s", samples["drain"], **common, role="candidate",
                       baseline="sync_invoke_rps", measured="pre-filled queue: EVENTS / (queue empty - due time)"),
        harness.record("sync_invoke_rps", "invokes/s", samples["sync"], **common, role="baseline",
                       invocation_type="RequestResponse"),
    ]


if __name__ == "__main__":
    import run as runner

    sys.exit(runner.main(["async_events"]))
