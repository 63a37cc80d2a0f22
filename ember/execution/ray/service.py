"""A node agent's end of the data channel: the front door's requests run on this node's LocalBackend.

The agent listens on its node; the front door connects and proves itself with the token it gave
the agent through Ray. Requests (`create`, `init`, `invoke`, `destroy`, `forget`, `reap`, `survivors`,
`collect`) run as tasks and are answered by id; every line an environment prints is forwarded (`log` frames, in
order, before the reply of the call that printed it), and every death is pushed (`dead`).

Losing the front door: idle environments stay frozen (as they are between calls anyway) for
`grace_s`, waiting for a front door to attach again. A new front door's hello ends those that were
not idle; the idle ones are its to adopt: `survivors` lists them with the spec each was started
with (its keys included) and its log stream, and the front door claims or destroys each. The end
of the grace period ends them all, and `on_expired` runs (the agent exits; ARCHITECTURE.md,
cluster failures).
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import socket
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ember.execution.environment import Environment
from ember.execution.model import RUNTIME_EXIT_ERROR, EnvironmentSpec
from ember.execution.outcomes import failure
from ember.execution.ray.wire import ChannelClosed, Frame, encode, invocation_in, read_frame, record_out, spec_in
from ember.execution.states import EnvState

if TYPE_CHECKING:
    from ember.execution.local.backend import LocalBackend

log = logging.getLogger("ember.agent")
MAX_PENDING_LINES = 10_000  # lines kept while no front door listens; past that they are dropped
FLUSH_S = 0.05  # the longest a line waits for a reply to travel with
KEPT_DEAD = 256
CodeCollector = Callable[[set[str], list[list[str]]], list[str]]  # (keep, layer sets) → digests removed


class ForwardedLog:
    """An environment's log stream as seen on its node: every line goes to the front door's stream."""

    def __init__(self, service: AgentService, env_id: str, name: str) -> None:
        self.name = name
        self._service = service
        self._env_id = env_id

    def write(self, message: str, flush: bool = True, platform: bool = False) -> None:
        self._service.forward_line(self._env_id, message, platform, flush)

    def close(self) -> None:
        pass


class AgentService:
    def __init__(self, backend: LocalBackend, code_root: Path, token: str, grace_s: float,
                 on_expired: Callable[[], None], node_id: str = "",
                 merge_layers: Callable[[list[str]], Path | None] = lambda layers: None,
                 collect_code: CodeCollector = lambda keep, layer_sets: []) -> None:
        """`merge_layers`: several layers (installed under `code_root`) as the one tree /opt shows;
        `collect_code`: remove every code tree but `keep` and every merged tree but those of `layer_sets`."""
        self.merge_layers = merge_layers
        self.collect_code = collect_code
        self.backend = backend
        self.node_id = node_id
        self.code_root = code_root
        self.token = token
        self.grace_s = grace_s
        self._on_expired = on_expired
        self._envs: dict[str, Environment] = {}
        self._origins: dict[str, list[Any]] = {}  # env id → [spec values as sent, log stream name]
        self._starting: dict[str, list[Any]] = {}  # env id → spec values, while `create` runs
        self._died_early: set[str] = set()
        # The last environments to die, for a call already on its way: it fails as the environment did
        # (a bootstrap that can't start is Runtime.InvalidEntrypoint), not as a vanished one.
        self._dead: OrderedDict[str, Environment] = OrderedDict()
        self._writer: asyncio.StreamWriter | None = None
        self._lines: list[list[Any]] = []
        self._flushing: asyncio.TimerHandle | None = None  # lines waiting for a reply to travel with
        self._orphaned: asyncio.TimerHandle | None = None
        self._server: asyncio.AbstractServer | None = None
        self._closing = False

    async def listen(self, host: str) -> int:
        """Start listening on this node; the port the front door dials."""
        self._server = await asyncio.start_server(self._serve, host, 0)
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    @property
    def environments(self) -> int:
        return len(self._envs)

    def close(self) -> None:
        """Stop listening; every environment dies (the backend is closed by its owner)."""
        self._closing = True
        if self._server is not None:
            self._server.close()
        if self._writer is not None:
            self._writer.close()
        if self._orphaned is not None:
            self._orphaned.cancel()
        for env in list(self._envs.values()):
            env.destroy("node agent stopped")

    def forward_line(self, env_id: str, message: str, platform: bool, flush: bool) -> None:
        """Lines travel with the next reply (a call's START…END with its record, in one write), or within
        FLUSH_S when no reply comes (Init's lines, a long call's, a background thread's)."""
        if len(self._lines) < MAX_PENDING_LINES or platform:
            self._lines.append([env_id, int(time.time() * 1000), message, platform])
        if len(self._lines) > 256:
            self._flush_lines()
        elif flush and self._flushing is None:
            self._flushing = asyncio.get_running_loop().call_later(FLUSH_S, self._flush_lines)

    def _flush_lines(self) -> None:
        self._send(None)

    def _send(self, frame: Frame | None) -> None:
        """Lines first: a reply never overtakes what the call printed."""
        if self._flushing is not None:
            self._flushing.cancel()
            self._flushing = None
        data = b""
        if self._lines and self._writer is not None:
            lines, self._lines = self._lines, []
            data = encode(["log", lines])
        if frame is not None:
            data += encode(frame)
        if data and self._writer is not None:
            self._writer.write(data)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            hello = await read_frame(reader)
        except ChannelClosed:
            writer.close()
            return
        if hello[0] != "hello" or not hmac.compare_digest(str(hello[1]), self.token):
            writer.close()
            return
        self._adopt(writer)
        try:
            while True:
                self._dispatch(await read_frame(reader))
        except ChannelClosed:
            if self._writer is writer and not self._closing:
                self._front_door_lost()
        except asyncio.CancelledError:  # the agent's loop is ending: nothing is left to answer
            pass
        finally:
            writer.close()

    def _adopt(self, writer: asyncio.StreamWriter) -> None:
        """A front door (re)attached: idle environments an earlier one left wait for it to claim them
        (`survivors`); any other was the old front door's business and ends."""
        if self._writer is not None:
            self._writer.close()
        if self._orphaned is not None:
            self._orphaned.cancel()
            self._orphaned = None
        for env in list(self._envs.values()):
            if env.state is not EnvState.IDLE:
                env.destroy("a new front door attached")
        self._lines.clear()
        self._writer = writer

    async def _survivors(self, request_id: int) -> list[Any]:
        """Idle environments and how each was started: `[env id, spec values, stream name, idle s]`."""
        now = time.monotonic()
        return [[[env_id, *self._origins[env_id], now - env.last_used] for env_id, env in self._envs.items()
                 if env.state is EnvState.IDLE and env_id in self._origins]]

    def _front_door_lost(self) -> None:
        self._writer = None
        log.warning("the front door is gone: %d environments wait frozen for %.0f s", len(self._envs), self.grace_s)
        for env in list(self._envs.values()):
            # a call running, or waiting for its Init: its caller is gone with the front door
            if env.state is not EnvState.IDLE:
                env.destroy("the front door was lost")
        self._orphaned = asyncio.get_running_loop().call_later(self.grace_s, self._expire)

    def _expire(self) -> None:
        log.warning("no front door came back within %.0f s: ending every environment", self.grace_s)
        for env in list(self._envs.values()):
            env.destroy("front door grace period over")
        self._on_expired()

    def _dispatch(self, frame: Frame) -> None:
        kind = frame[0]
        if kind == "destroy":
            env = self._envs.get(frame[1])
            if env is not None:
                env.destroy(frame[2])
        elif kind == "forget":
            self.backend.forget(frame[1], frame[2])
        elif kind == "reap":
            self.backend.reap(frame[1])
        else:
            handlers: dict[str, Callable[..., Coroutine[Any, Any, list[Any]]]] = {
                "create": self._create, "init": self._init, "invoke": self._invoke, "survivors": self._survivors,
                "collect": self._collect}
            handler = handlers[kind]
            asyncio.get_running_loop().create_task(self._answer(frame[1], handler(frame[1], *frame[2:])))

    async def _answer(self, request_id: int, work: Any) -> None:
        try:
            fields = await work
        except Exception as exc:  # the request failed, not the node: the front door hears why
            log.warning("request %s failed: %s", request_id, exc)
            self._send(["fail", request_id, f"{type(exc).__name__}: {exc}"])
        else:
            self._send(["reply", request_id, *fields])

    async def _create(self, request_id: int, env_id: str, spec_values: list[Any], digest: str,
                      stream_name: str) -> list[Any]:
        self._starting[env_id] = spec_values
        try:
            spec = spec_in(spec_values, self._installed(digest), await self._opt_dir(spec_values))
            sink = ForwardedLog(self, env_id, stream_name)
            env = await self.backend.create(spec, lambda dead: self._died(env_id, dead), log=sink)
        finally:
            del self._starting[env_id]
        if env_id in self._died_early:  # it exited while it started
            self._died_early.discard(env_id)
        else:
            self._envs[env_id] = env
            self._origins[env_id] = [spec_values, stream_name]
        return []

    async def _collect(self, request_id: int, keep: list[str]) -> list[Any]:
        """Remove the code the front door no longer needs on this node (`keep` is what it still does),
        but never what an environment here runs or starts with; the digests removed."""
        specs = [EnvironmentSpec(*values) for values in (*self._starting.values(),
                                                         *(origin[0] for origin in self._origins.values()))]
        digests = set(keep) | {Path(spec.code_dir).name for spec in specs} | {d for s in specs for d in s.layers}
        removed = await asyncio.to_thread(self.collect_code, digests, [list(spec.layers) for spec in specs])
        return [removed]

    def _installed(self, digest: str) -> Path:
        code_dir = self.code_root / digest
        if not code_dir.is_dir():
            raise FileNotFoundError(f"code {digest} is not on this node")
        return code_dir

    async def _opt_dir(self, spec_values: list[Any]) -> Path | None:
        """The function's layers at /opt: one layer's own tree, or several merged once on this node."""
        layers = list(EnvironmentSpec(*spec_values).layers)
        trees = [self._installed(digest) for digest in layers]
        if len(trees) <= 1:
            return trees[0] if trees else None
        return await asyncio.to_thread(self.merge_layers, layers)

    def _died(self, env_id: str, env: Environment) -> None:
        self._origins.pop(env_id, None)
        if self._envs.pop(env_id, None) is None:
            self._died_early.add(env_id)
        self._dead[env_id] = env
        if len(self._dead) > KEPT_DEAD:
            self._dead.popitem(last=False)
        self._send(["dead", env_id, env.dead_reason or "exited"])

    async def _init(self, request_id: int, env_id: str) -> list[Any]:
        env = self._envs.get(env_id) or self._dead.get(env_id)
        if env is None:
            return [record_out(failure(RUNTIME_EXIT_ERROR, "Error: the environment is gone", "crash")), "dead",
                    "gone"]
        record = await env.wait_initialised()
        return [record_out(record) if record is not None else None, env.state.value, env.dead_reason]

    async def _invoke(self, request_id: int, env_id: str, values: list[Any]) -> list[Any]:
        env = self._envs.get(env_id) or self._dead.get(env_id)
        if env is None:  # it died while the call was on its way: as a crash, which it was
            message = f"RequestId: {values[0]} Error: the environment exited"
            return [record_out(failure(RUNTIME_EXIT_ERROR, message, "crash")), "dead", "exited"]
        if self._writer is None:  # its front door was lost after sending it: no one would hear the answer,
            return [record_out(failure(RUNTIME_EXIT_ERROR, "Error: the front door was lost", "crash")),
                    env.state.value, env.dead_reason]  # and an event it carried runs again from its queue
        stream: asyncio.Queue[bytes] | None = asyncio.Queue() if values[7] else None
        pump = asyncio.get_running_loop().create_task(self._pump(request_id, stream)) if stream else None
        try:
            record = await env.invoke(invocation_in(values, stream))
            record.node_id = self.node_id
        finally:
            if pump is not None:
                pump.cancel()
        while stream is not None and not stream.empty():
            self._send(["chunk", request_id, stream.get_nowait()])
        return [record_out(record), env.state.value, env.dead_reason]

    async def invoke_direct(self, env_id: str, values: list[Any]) -> list[Any]:
        """A call that came as a Ray actor call rather than on the channel (bench/cluster.py)."""
        self._flush_lines()
        return await self._invoke(0, env_id, values)

    async def _pump(self, request_id: int, stream: asyncio.Queue[bytes]) -> None:
        while True:
            chunk = await stream.get()
            self._send(["chunk", request_id, chunk])


def new_env_id() -> str:
    return uuid.uuid4().hex
