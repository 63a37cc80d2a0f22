"""Names that become paths stay inside their root: ember.paths, the log reader, the code store's digests."""

from __future__ import annotations

import json

import pytest

from ember.arns import NAME_RE
from ember.observe.log_reader import function_log_dir, read_events
from ember.paths import PathEscape, child

TRAVERSALS = ["..", ".", "../etc", "a/../..", "/etc", "a/b", "", "x\0y", "..%2F..", "f" * 65]


def plant_events(directory, stream: str = "s", message: str = "secret\n") -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "stolen.jsonl").write_text(json.dumps({"t": 1, "s": stream, "m": message}) + "\n")


@pytest.mark.parametrize("name", TRAVERSALS)
def test_a_name_off_its_pattern_or_leaving_the_root_is_refused(tmp_path, name):
    with pytest.raises(PathEscape):
        child(tmp_path, name, NAME_RE)


def test_a_symlink_planted_in_the_root_is_refused(tmp_path):
    (tmp_path / "root").mkdir()
    (tmp_path / "root" / "fn").symlink_to(tmp_path)
    with pytest.raises(PathEscape):
        child(tmp_path / "root", "fn", NAME_RE)


def test_a_plain_name_is_its_child(tmp_path):
    assert child(tmp_path, "my-function_1", NAME_RE) == tmp_path / "my-function_1"


@pytest.mark.parametrize("name", TRAVERSALS + ["../outside", "../../tmp"])
def test_no_function_name_gives_a_log_dir_outside_the_logs(tmp_path, name):
    plant_events(tmp_path / "outside")
    assert function_log_dir(tmp_path / "logs", name) is None


def test_the_reader_skips_symlinked_stream_files(tmp_path):
    plant_events(tmp_path / "elsewhere")
    logs = tmp_path / "logs" / "fn"
    logs.mkdir(parents=True)
    (logs / "link.jsonl").symlink_to(tmp_path / "elsewhere" / "stolen.jsonl")
    assert read_events(logs) == []


def test_the_reader_reads_nothing_through_a_symlinked_function_dir(tmp_path):
    plant_events(tmp_path / "elsewhere")
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "fn").symlink_to(tmp_path / "elsewhere")
    assert read_events(tmp_path / "logs" / "fn") == []
    assert function_log_dir(tmp_path / "logs", "fn") is None


def test_the_reader_still_reads_real_stream_files(tmp_path):
    plant_events(tmp_path / "logs" / "fn", message="mine\n")
    assert [e.message for e in read_events(tmp_path / "logs" / "fn")] == ["mine\n"]
