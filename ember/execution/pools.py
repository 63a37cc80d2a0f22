"""All pools of the server: one per function version, a keep-alive reaper, and ordered shutdown."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from ember.execution.backend import Adopting, Backend, CredentialIssuer
from ember.execution.model import EnvironmentSpec
from ember.execution.pool import Pool

log = logging.getLogger("ember.pools")


class PoolManager:
    def __init__(self, backend: Backend, keep_alive_s: float, credentials: CredentialIssuer | None = None) -> None:
        self.backend = backend
        self.credentials = credentials  # each environment's own keys (None: environments get none)
        self.keep_alive_s = keep_alive_s
        self._current: dict[tuple[str, str], Pool] = {}
        self._all: set[Pool] = set()

    def pool_for(self, spec: EnvironmentSpec) -> Pool:
        """The pool for this exact revision; a newer revision retires the old pool."""
        key = (spec.function_name, spec.version)
        pool = self._current.get(key)
        if pool is None or pool.spec.revision != spec.revision or pool.retired:
            if pool is not None:
                pool.retire("function updated")
                self.backend.forget(*key)
            pool = self._current[key] = Pool(spec, self.backend, self.credentials)
            self._all.add(pool)
            if isinstance(self.backend, Adopting) and pool.adopt(self.backend):
                log.info("%s:%s adopted %d warm environments", *key, pool.size)
        return pool

    def retire(self, name: str, version: str | None) -> None:
        """A version changed (or, with None, the function is gone): none of its environments is reused."""
        for key in [key for key in self._current if key[0] == name and version in (None, key[1])]:
            self._current.pop(key).retire("function updated")
        self.backend.forget(name, version)

    def code_in_use(self) -> set[Path]:
        """Code and /opt trees a live environment may still run from: the code store keeps them until it ends."""
        live = [pool.spec for pool in self._all if pool.size or not pool.retired]
        return {spec.code_dir for spec in live} | {spec.opt_dir for spec in live if spec.opt_dir is not None}

    def reap_once(self) -> int:
        reaped = sum(pool.reap_idle(self.keep_alive_s) for pool in self._all)
        self.backend.reap(self.keep_alive_s)
        self._all = {pool for pool in self._all if not (pool.retired and pool.size == 0)}
        return reaped

    async def run_reaper(self) -> None:
        """Reap idle environments past the keep-alive, checking a few times per keep-alive period."""
        interval = min(10.0, max(0.1, self.keep_alive_s / 4))
        while True:
            await asyncio.sleep(interval)
            reaped = self.reap_once()
            if reaped:
                log.debug("reaped %d idle environments", reaped)

    def destroy_all(self, reason: str) -> None:
        for pool in self._all:
            pool.destroy_all(reason)
