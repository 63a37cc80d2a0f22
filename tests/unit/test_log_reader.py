"""ember.observe.log_stream + log_reader: events written per stream, read back merged, filtered, captured."""

from __future__ import annotations

import types

import pytest

from ember.observe import log_stream
from ember.observe.log_reader import read_events
from ember.observe.log_stream import TAIL_BYTES, LogStream, TailBuffer

STREAM_A = "2024/01/01/[$LATEST]aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
STREAM_B = "2024/01/01/[$LATEST]bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"


@pytest.fixture
def clock(monkeypatch):
    """Set the time LogStream stamps events with, in epoch milliseconds."""
    now = {"ms": 1_700_000_000_000}
    monkeypatch.setattr(log_stream, "time", types.SimpleNamespace(time=lambda: now["ms"] / 1000))

    def set_ms(ms: int) -> None:
        now["ms"] = ms

    return set_ms


def write_at(stream: LogStream, clock, ms: int, message: str) -> None:
    clock(ms)
    stream.write(message)


@pytest.fixture
def two_streams(tmp_path, clock):
    a = LogStream(tmp_path, STREAM_A)
    b = LogStream(tmp_path, STREAM_B)
    write_at(a, clock, 1000, "a1\n")
    write_at(b, clock, 1500, "b1\n")
    write_at(a, clock, 2000, "a2\n")
    write_at(b, clock, 2500, "b2\n")
    write_at(a, clock, 3000, "a3\n")
    a.close()
    b.close()
    return tmp_path


def test_events_of_two_streams_are_merged_in_time_order(two_streams):
    events = read_events(two_streams)
    assert [e.message for e in events] == ["a1\n", "b1\n", "a2\n", "b2\n", "a3\n"]
    assert [e.timestamp for e in events] == [1000, 1500, 2000, 2500, 3000]


def test_events_carry_their_stream_name(two_streams):
    streams = {e.message: e.stream for e in read_events(two_streams)}
    assert streams["a1\n"] == STREAM_A
    assert streams["b1\n"] == STREAM_B


def test_event_ids_are_unique(two_streams):
    ids = [e.event_id for e in read_events(two_streams)]
    assert len(set(ids)) == len(ids)


def test_start_filter_is_inclusive(two_streams):
    assert [e.message for e in read_events(two_streams, start_ms=2000)] == ["a2\n", "b2\n", "a3\n"]


def test_end_filter_is_inclusive(two_streams):
    assert [e.message for e in read_events(two_streams, end_ms=1500)] == ["a1\n", "b1\n"]


def test_start_and_end_together(two_streams):
    assert [e.message for e in read_events(two_streams, start_ms=1200, end_ms=2600)] == ["b1\n", "a2\n", "b2\n"]


def test_pattern_is_a_plain_substring(two_streams):
    assert [e.message for e in read_events(two_streams, pattern="2")] == ["a2\n", "b2\n"]


def test_quoted_pattern_matches_the_unquoted_text(two_streams):
    assert [e.message for e in read_events(two_streams, pattern='"b"')] == ["b1\n", "b2\n"]


def test_missing_function_dir_reads_as_no_events(tmp_path):
    assert read_events(tmp_path / "nope") == []


def test_line_cut_short_is_skipped(tmp_path, clock):
    stream = LogStream(tmp_path, STREAM_A)
    write_at(stream, clock, 1000, "whole\n")
    stream.close()
    with stream.path.open("a", encoding="utf-8") as raw:
        raw.write('{"t": 1001, "s": "x", "m": "cut sh')
    assert [e.message for e in read_events(tmp_path)] == ["whole\n"]


def test_lines_written_in_the_same_millisecond_keep_their_order(tmp_path, clock):
    stream = LogStream(tmp_path, STREAM_A)
    clock(5000)
    for number in range(12):
        stream.write(f"line {number}\n")
    stream.close()
    assert [e.message for e in read_events(tmp_path)] == [f"line {n}\n" for n in range(12)]


def test_the_tail_keeps_only_the_last_4096_bytes():
    tail = TailBuffer()
    tail.append("x" * 5000 + "\n")
    tail.append("the end\n")
    assert TAIL_BYTES == 4096
    assert len(tail.text().encode()) == 4096
    assert tail.text().endswith("x\nthe end\n")


def test_the_tail_holds_bounded_memory_whatever_a_call_prints():
    tail = TailBuffer()
    for number in range(100_000):
        tail.append(f"line {number}\n")
    assert sum(map(len, tail._lines)) <= 5 * TAIL_BYTES
    assert tail.text().endswith("line 99999\n")


def test_unflushed_lines_reach_the_stream_in_order(tmp_path, clock):
    stream = LogStream(tmp_path, STREAM_A)
    write_at(stream, clock, 1234, "kept\n")
    stream.write("later\n", flush=False)
    stream.close()
    assert [(e.timestamp, e.message) for e in read_events(tmp_path)] == [(1234, "kept\n"), (1234, "later\n")]


def test_a_read_from_a_start_time_skips_streams_not_written_since(two_streams):
    """A follower's poll reads only the streams written lately: a file last written well before startTime is not
    opened (proved by stamping its mtime far back while it holds an event after the start)."""
    import os

    from ember.observe.log_reader import MTIME_SLACK_MS

    stale = next(two_streams.glob("*aaaa*.jsonl"))
    os.utime(stale, ns=(0, (2500 - MTIME_SLACK_MS - 1) * 1_000_000))
    assert [e.message for e in read_events(two_streams, start_ms=2500)] == ["b2\n"]
    os.utime(stale, ns=(0, (2500 - MTIME_SLACK_MS) * 1_000_000))  # within the slack: still read
    assert [e.message for e in read_events(two_streams, start_ms=2500)] == ["b2\n", "a3\n"]
    assert len(read_events(two_streams)) == 5  # without a start, every stream whatever its mtime
