"""API Gateway's resources as rows: each API and its routes, integrations, stages and deployments.

Held in memory for the data plane and written through to SQLite, so a restart keeps every API. A
revision per API counts its changes: whatever is built from an API (a route table) is rebuilt when
the revision it was built at is no longer the API's.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import string
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

Record = dict[str, Any]
ALPHABET = string.ascii_lowercase + string.digits


def new_id(length: int = 10) -> str:
    """AWS's identifiers: lower-case letters and digits (10 for an API, 7 for its parts)."""
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def now() -> str:
    """A record's timestamp, as apigatewayv2 writes them (ISO 8601, seconds, UTC)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class ApiStore:
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self._rows: dict[str, dict[str, dict[str, Record]]] = defaultdict(lambda: defaultdict(dict))
        self.revisions: dict[str, int] = defaultdict(int)
        for row in db.execute("SELECT api_id, kind, id, config FROM api_gateway"):
            self._rows[row["api_id"]][row["kind"]][row["id"]] = json.loads(row["config"])

    def get(self, api_id: str, kind: str, item_id: str) -> Record | None:
        return self._rows.get(api_id, {}).get(kind, {}).get(item_id)

    def all(self, api_id: str, kind: str) -> list[Record]:
        """Every `kind` of one API, in id order."""
        items = self._rows.get(api_id, {}).get(kind, {})
        return [items[key] for key in sorted(items)]

    def ids(self, kind: str) -> list[str]:
        """The APIs that have a `kind` record (each API has one `api` or `restapi` record of itself)."""
        return sorted(api_id for api_id, kinds in self._rows.items() if kinds.get(kind))

    def ids_in_use(self, api_id: str) -> bool:
        """Whether an API of either type already has this id."""
        return bool(self._rows.get(api_id))

    def put(self, api_id: str, kind: str, item_id: str, record: Record) -> Record:
        self.db.execute("INSERT OR REPLACE INTO api_gateway (api_id, kind, id, config) VALUES (?, ?, ?, ?)",
                        (api_id, kind, item_id, json.dumps(record)))
        self._rows[api_id][kind][item_id] = record
        self.revisions[api_id] += 1
        return record

    def delete(self, api_id: str, kind: str, item_id: str) -> None:
        self.db.execute("DELETE FROM api_gateway WHERE api_id = ? AND kind = ? AND id = ?", (api_id, kind, item_id))
        self._rows.get(api_id, {}).get(kind, {}).pop(item_id, None)
        self.revisions[api_id] += 1

    def delete_api(self, api_id: str) -> None:
        """The API and everything it holds."""
        self.db.execute("DELETE FROM api_gateway WHERE api_id = ?", (api_id,))
        self._rows.pop(api_id, None)
        self.revisions[api_id] += 1
