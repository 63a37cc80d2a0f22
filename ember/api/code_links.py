"""GetFunction's `Code.Location` and a layer's `Content.Location`: presigned links, as AWS's are, so an unsigned
download needs this server's say-so.

The link names the code's digest, an expiry and an HMAC over both under a key that lives in this
server's memory only (so links die with the server). AWS's links last 10 minutes.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Mapping

from starlette.requests import Request

LIFETIME_S = 600
EXPIRES, SIGNATURE = "X-Ember-Expires", "X-Ember-Signature"


class CodeLinks:
    def __init__(self, key: bytes | None = None) -> None:
        self._key = key or secrets.token_bytes(32)

    def query(self, digest: str, now: float | None = None) -> str:
        """The query string that lets anyone holding it download `digest` for 10 minutes."""
        expires = int(now if now is not None else time.time()) + LIFETIME_S
        return f"{EXPIRES}={expires}&{SIGNATURE}={self._sign(digest, expires)}"

    def valid(self, digest: str, params: Mapping[str, str]) -> bool:
        """Whether the request's query presigns this digest and has not expired."""
        try:
            expires = int(params.get(EXPIRES, ""))
        except ValueError:
            return False
        if expires < time.time():
            return False
        return hmac.compare_digest(self._sign(digest, expires), params.get(SIGNATURE, ""))

    def _sign(self, digest: str, expires: int) -> str:
        return hmac.new(self._key, f"{digest}:{expires}".encode(), hashlib.sha256).hexdigest()


def code_location(request: Request, links: CodeLinks, digest: str) -> str:
    """GetFunction's `Code.Location` and GetLayerVersion's `Content.Location`: this server's presigned link."""
    return f"{request.base_url}ember/code/{digest}.zip?{links.query(digest)}"
