"""The state machines of environments and pools: every move is illegal unless it is listed here.

An environment, as its runtime sees it (AWS's emulator names the same places):

    STARTING ──first `next`──▶ IDLE ──invoke──▶ BUSY ──response/error──▶ IDLE …
        │ init error, exit, init timeout        │ timeout, exit
        ▼                                       ▼
       DEAD ◀──────────────── destroy ──────── DEAD

A pool member, as its pool sees it: a provisioned environment is STARTING until its Init
succeeded; an on-demand one is LEASED from birth (the call that made it waits for its Init).

    STARTING ──Init done──▶ IDLE ⇄ LEASED      any ──died/destroyed──▶ GONE

A pool is ACTIVE until its function version changes, then RETIRED for good.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import TypeVar

S = TypeVar("S", bound=enum.Enum)


class IllegalTransition(RuntimeError):
    """A move not in the table: a bug in Ember, never a user's mistake."""


class EnvState(enum.Enum):
    STARTING = "starting"
    IDLE = "idle"
    BUSY = "busy"
    DEAD = "dead"


class MemberState(enum.Enum):
    STARTING = "starting"
    IDLE = "idle"
    LEASED = "leased"
    GONE = "gone"


class PoolState(enum.Enum):
    ACTIVE = "active"
    RETIRED = "retired"


ENVIRONMENT_MOVES: Mapping[EnvState, frozenset[EnvState]] = {
    EnvState.STARTING: frozenset({EnvState.IDLE, EnvState.DEAD}),
    EnvState.IDLE: frozenset({EnvState.BUSY, EnvState.DEAD}),
    EnvState.BUSY: frozenset({EnvState.IDLE, EnvState.DEAD}),
    EnvState.DEAD: frozenset(),
}
MEMBER_MOVES: Mapping[MemberState, frozenset[MemberState]] = {
    MemberState.STARTING: frozenset({MemberState.IDLE, MemberState.GONE}),
    MemberState.IDLE: frozenset({MemberState.LEASED, MemberState.GONE}),
    MemberState.LEASED: frozenset({MemberState.IDLE, MemberState.GONE}),
    MemberState.GONE: frozenset(),
}
POOL_MOVES: Mapping[PoolState, frozenset[PoolState]] = {
    PoolState.ACTIVE: frozenset({PoolState.RETIRED}),
    PoolState.RETIRED: frozenset(),
}


def moved(table: Mapping[S, frozenset[S]], current: S, new: S, what: object) -> S:
    """`new`, if the table lists the move from `current`; an IllegalTransition naming `what` otherwise."""
    if new not in table[current]:
        raise IllegalTransition(f"{what}: {current.value} -> {new.value} is not a legal move")
    return new
