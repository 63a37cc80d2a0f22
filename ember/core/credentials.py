"""Temporary credentials per environment: what a function holds instead of the server's keys.

Each environment gets its own access key (ASIA…), secret and session token standing for its
function's execution role. They live in this server's memory only, so they die with the server as
the environments do (but for a cluster's environments a restarted server adopts: it `admit`s their
keys again), and `revoke` ends them at once when their environment ends. The SigV4
middleware accepts a session key only with its token and then acts as the role's assumed-role
principal, `arn:aws:sts::ACCOUNT:assumed-role/ROLE_NAME/FUNCTION_NAME`.
"""

from __future__ import annotations

import base64
import secrets
import string
import threading
from dataclasses import dataclass

from ember.config import ACCOUNT_ID

KEY_ALPHABET = string.ascii_uppercase + "234567"


@dataclass(frozen=True)
class Session:
    access_key: str
    secret: str
    token: str
    role_arn: str
    function_name: str

    @property
    def role_name(self) -> str:
        return self.role_arn.rsplit("/", 1)[-1]

    @property
    def principal(self) -> str:
        return f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/{self.role_name}/{self.function_name}"


class SessionCredentials:
    """Temporary keys per environment, verified at the front door."""

    def __init__(self) -> None:
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()  # issue/revoke may come from the pools' threads

    def issue(self, function_name: str, role_arn: str) -> dict[str, str]:
        """New keys for one environment of `function_name`, acting as `role_arn`."""
        session = Session("ASIA" + "".join(secrets.choice(KEY_ALPHABET) for _ in range(16)),
                          base64.b64encode(secrets.token_bytes(30)).decode(),
                          base64.b64encode(secrets.token_bytes(96)).decode(), role_arn, function_name)
        with self._lock:
            self._sessions[session.access_key] = session
        return {"AWS_ACCESS_KEY_ID": session.access_key, "AWS_SECRET_ACCESS_KEY": session.secret,
                "AWS_SESSION_TOKEN": session.token}

    def admit(self, function_name: str, role_arn: str, credentials: dict[str, str]) -> None:
        """Keys an earlier server issued, held by an environment this one adopted (a cluster's agents
        keep environments across a restart): the environment cannot be handed new ones."""
        session = Session(credentials["AWS_ACCESS_KEY_ID"], credentials["AWS_SECRET_ACCESS_KEY"],
                          credentials["AWS_SESSION_TOKEN"], role_arn, function_name)
        with self._lock:
            self._sessions[session.access_key] = session

    def revoke(self, credentials: dict[str, str]) -> None:
        """The keys stop working at once (a request already past the front door finishes)."""
        with self._lock:
            self._sessions.pop(credentials.get("AWS_ACCESS_KEY_ID", ""), None)

    def find(self, access_key: str) -> Session | None:
        """The live session of this key, if any."""
        return self._sessions.get(access_key)

    def __len__(self) -> int:
        return len(self._sessions)
