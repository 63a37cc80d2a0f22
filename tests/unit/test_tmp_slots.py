"""/tmp slots: the replacement of a dead environment gets its slot back; a retired revision's go away."""

from __future__ import annotations

from ember.execution.local.sandbox import TmpSlots


def test_a_released_slot_is_the_next_one_handed_out():
    slots = TmpSlots()
    first, second = slots.acquire("f:$LATEST:r1"), slots.acquire("f:$LATEST:r1")
    assert first != second
    assert slots.release("f:$LATEST:r1", first) == []
    assert slots.acquire("f:$LATEST:r1") == first
    assert slots.acquire("g:$LATEST:r1") not in (first, second), "another function never shares a slot"


def test_forgetting_a_version_retires_its_slots_but_not_other_functions():
    slots = TmpSlots()
    idle, busy = slots.acquire("f:1:r1"), slots.acquire("f:1:r1")
    other = slots.acquire("fg:1:r1")
    slots.release("f:1:r1", idle)
    assert slots.forget("f:1:") == [idle], "free slots are unmounted at once"
    assert slots.release("f:1:r1", busy) == [busy], "a busy one is unmounted when its environment goes"
    assert slots.release("fg:1:r1", other) == [], "'f' is not a prefix of the function 'fg'"
    assert slots.acquire("f:1:r2") not in (idle, busy), "a new revision starts with an empty /tmp"


def test_a_free_slot_waits_at_most_the_keep_alive_and_a_revision_keeps_at_most_two():
    slots = TmpSlots()
    names = [slots.acquire("f:1:r1") for _ in range(4)]
    assert [slots.release("f:1:r1", name, now=100.0 + n) for n, name in enumerate(names)] == \
        [[], [], [names[0]], [names[1]]], "three functions' worth of idle /tmp is not held"
    assert slots.expire(idle_s=10, now=112.5) == [names[2]]
    assert slots.acquire("f:1:r1") == names[3], "the one still waiting is handed out"
    assert slots.expire(idle_s=10, now=1000.0) == []
