"""The data channel's frames: a 4-byte length, then one msgpack array `[kind, *fields]`.

Both ends are Ember (the front door and a node agent), so the frames carry Ember's plain data as
it is: an EnvironmentSpec, an Invocation, a CallRecord, each as the list of its fields.
"""

from __future__ import annotations

import asyncio
import dataclasses
import struct
from pathlib import Path
from typing import Any

import msgpack

from ember.execution.model import CallRecord, EnvironmentSpec, Invocation

HEADER = struct.Struct("!I")
MAX_FRAME = 512 * 1024 * 1024  # a 200 MB streamed response travels in chunks; nothing legitimate is near this
Frame = list[Any]


class ChannelClosed(ConnectionError):
    """The other end went away (a node agent died, its node left, or the front door stopped)."""


def encode(frame: Frame) -> bytes:
    body: bytes = msgpack.packb(frame, use_bin_type=True)
    return HEADER.pack(len(body)) + body


async def read_frame(reader: asyncio.StreamReader) -> Frame:
    try:
        (size,) = HEADER.unpack(await reader.readexactly(HEADER.size))
        if size > MAX_FRAME:
            raise ChannelClosed(f"a frame of {size} bytes")
        frame: Frame = msgpack.unpackb(await reader.readexactly(size), raw=False, use_list=True)
        return frame
    except (asyncio.IncompleteReadError, ConnectionError, OSError) as exc:
        raise ChannelClosed(str(exc) or type(exc).__name__) from exc


def spec_out(spec: EnvironmentSpec) -> list[Any]:
    fields = [getattr(spec, f.name) for f in dataclasses.fields(spec)]
    return [str(value) if isinstance(value, Path) else value for value in fields]


def spec_back(values: list[Any]) -> EnvironmentSpec:
    """A spec as the front door sent it, back from the agent (an environment an earlier front door left)."""
    spec = EnvironmentSpec(*values)
    opt_dir = Path(spec.opt_dir) if spec.opt_dir is not None else None
    return dataclasses.replace(spec, code_dir=Path(spec.code_dir), opt_dir=opt_dir, layers=tuple(spec.layers))


def spec_in(values: list[Any], code_dir: Path, opt_dir: Path | None) -> EnvironmentSpec:
    """The spec as the agent runs it: code and layers from its own cache, not the front door's paths."""
    spec = EnvironmentSpec(*values)
    return dataclasses.replace(spec, code_dir=code_dir, opt_dir=opt_dir, layers=tuple(spec.layers))


def invocation_out(invocation: Invocation) -> list[Any]:
    return [invocation.request_id, invocation.payload, invocation.deadline_ms, invocation.invoked_arn,
            invocation.trace_id, invocation.client_context, invocation.cognito_identity,
            invocation.stream is not None]


def invocation_in(values: list[Any], stream: asyncio.Queue[bytes] | None) -> Invocation:
    request_id, payload, deadline_ms, arn, trace_id, client_context, cognito_identity = values[:7]
    return Invocation(request_id, payload, deadline_ms, arn, trace_id, client_context, cognito_identity, stream)


def record_out(record: CallRecord) -> list[Any]:
    return list(dataclasses.astuple(record))


def record_in(values: list[Any]) -> CallRecord:
    return CallRecord(*values)
