"""Tags on EventBridge rules and Scheduler schedule groups, kept in SQLite by the resource's ARN.

Both services allow 50 tags on a resource and reserve keys beginning `aws:` (in any case) for AWS;
a request that breaks either is a ValidationException (the Scheduler models it; EventBridge models
no error for it and answers with the JSON protocol's common one). Lengths are the model's, checked
with the request body (ember.core.validation). Setting a key again replaces its value in place;
removing a key the resource does not have succeeds. The store that owns a resource drops its tags
in the same transaction that deletes it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

from ember.errors import ValidationException

MAX_TAGS = 50
RESERVED_PREFIX = "aws:"


class TagStore:
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def tags(self, arn: str) -> list[dict[str, str]]:
        """ListTagsForResource's `Tags`, in the order the keys were first set."""
        rows = self.db.execute("SELECT key, value FROM resource_tags WHERE arn = ? ORDER BY seq", (arn,))
        return [{"Key": row["key"], "Value": row["value"]} for row in rows]

    def tag(self, arn: str, tags: list[dict[str, str]]) -> None:
        """TagResource: checked whole before anything is written."""
        current = {tag["Key"] for tag in self.tags(arn)}
        check_tags(current, tags)
        row = self.db.execute("SELECT coalesce(max(seq), 0) FROM resource_tags WHERE arn = ?", (arn,)).fetchone()
        self.db.executemany("INSERT INTO resource_tags (arn, key, value, seq) VALUES (?, ?, ?, ?) "
                            "ON CONFLICT (arn, key) DO UPDATE SET value = excluded.value",
                            [(arn, tag["Key"], tag["Value"], seq) for seq, tag in enumerate(tags, start=row[0] + 1)])

    def untag(self, arn: str, keys: Iterable[str]) -> None:
        keys = list(keys)
        for key in keys:
            _check_key(key)
        self.db.executemany("DELETE FROM resource_tags WHERE arn = ? AND key = ?", [(arn, key) for key in keys])

    def drop(self, arn: str) -> None:
        """Every tag of a resource being deleted."""
        self.db.execute("DELETE FROM resource_tags WHERE arn = ?", (arn,))


def check_tags(current: set[str], tags: list[dict[str, str]]) -> None:
    """New tags for a resource holding the keys `current`: no reserved key, at most MAX_TAGS in all."""
    for tag in tags:
        _check_key(tag["Key"])
    count = len(current | {tag["Key"] for tag in tags})
    if count > MAX_TAGS:
        raise ValidationException(f"A resource can have at most {MAX_TAGS} tags; this request would give it "
                                  f"{count}.")


def _check_key(key: str) -> None:
    if key.lower().startswith(RESERVED_PREFIX):
        raise ValidationException(f"Tag keys beginning with '{RESERVED_PREFIX}' are reserved for AWS use: {key}")
