"""ember.observe.log_retention: old streams go, and a function's streams past its cap oldest first."""

from __future__ import annotations

import os

from ember.observe.log_retention import sweep


def stream(directory, name: str, size: int, modified: float) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.jsonl"
    path.write_bytes(b"x" * size)
    os.utime(path, (modified, modified))


def test_streams_older_than_the_retention_go(tmp_path):
    stream(tmp_path / "f", "old", 10, 1000.0)
    stream(tmp_path / "f", "new", 10, 9000.0)
    assert sweep(tmp_path, max_age_s=5000, max_function_bytes=1 << 30, now=10000.0) == 1
    assert sorted(p.name for p in (tmp_path / "f").iterdir()) == ["new.jsonl"]


def test_a_function_past_its_cap_loses_its_oldest_streams_first(tmp_path):
    for number in range(5):
        stream(tmp_path / "flood", f"s{number}", 100, 9000.0 + number)
    stream(tmp_path / "quiet", "q", 100, 9000.0)
    assert sweep(tmp_path, max_age_s=1e9, max_function_bytes=250, now=10000.0) == 3
    assert sorted(p.name for p in (tmp_path / "flood").iterdir()) == ["s3.jsonl", "s4.jsonl"]
    assert [p.name for p in (tmp_path / "quiet").iterdir()] == ["q.jsonl"]


def test_nothing_outside_the_logs_dir_is_touched(tmp_path):
    outside = tmp_path / "outside"
    stream(outside, "keep", 10, 1.0)
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "link").symlink_to(outside)
    assert sweep(tmp_path / "logs", max_age_s=1, max_function_bytes=0, now=10000.0) == 0
    assert (outside / "keep.jsonl").exists()
