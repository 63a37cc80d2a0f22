"""ember.core.code_store.CodeStore: content-addressed zips, unpacked once, modes kept, escapes refused."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import os
import time
import zipfile

import pytest

from ember.core.code_store import CodeStore
from ember.errors import InvalidParameterValueException, ResourceNotFoundException

HANDLER = b"def handler(event, context):\n    return event\n"


def make_zip(entries: dict[str, bytes], modes: dict[str, int] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries.items():
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            mode = (modes or {}).get(name)
            if mode is not None:
                info.external_attr = (0o100000 | mode) << 16
            archive.writestr(info, data)
    return buffer.getvalue()


def test_put_returns_sha256_hex_and_size(tmp_path):
    data = make_zip({"app.py": HANDLER})
    stored = CodeStore(tmp_path).put(data)
    assert stored.sha256_hex == hashlib.sha256(data).hexdigest()
    assert stored.size == len(data)


def test_code_sha256_is_base64_of_the_raw_digest(tmp_path):
    data = make_zip({"app.py": HANDLER})
    stored = CodeStore(tmp_path).put(data)
    assert stored.code_sha256 == base64.b64encode(hashlib.sha256(data).digest()).decode()
    assert len(stored.code_sha256) == 44


def test_put_unpacks_the_tree_with_file_contents(tmp_path):
    store = CodeStore(tmp_path)
    stored = store.put(make_zip({"app.py": HANDLER, "pkg/util.py": b"X = 1\n"}))
    tree = store.tree(stored.sha256_hex)
    assert (tree / "app.py").read_bytes() == HANDLER
    assert (tree / "pkg" / "util.py").read_bytes() == b"X = 1\n"


def test_put_keeps_the_zip_bytes(tmp_path):
    store = CodeStore(tmp_path)
    data = make_zip({"app.py": HANDLER})
    stored = store.put(data)
    assert store.zip_path(stored.sha256_hex).read_bytes() == data


def test_executable_mode_in_the_zip_survives_unpacking(tmp_path):
    store = CodeStore(tmp_path)
    stored = store.put(make_zip({"bootstrap": b"#!/bin/sh\necho hi\n", "app.py": HANDLER},
                                modes={"bootstrap": 0o755, "app.py": 0o644}))
    tree = store.tree(stored.sha256_hex)
    assert os.access(tree / "bootstrap", os.X_OK)
    assert (tree / "bootstrap").stat().st_mode & 0o777 == 0o755
    assert (tree / "app.py").stat().st_mode & 0o111 == 0


def test_same_bytes_twice_give_the_same_digest_without_error(tmp_path):
    store = CodeStore(tmp_path)
    data = make_zip({"app.py": HANDLER})
    first = store.put(data)
    second = store.put(data)
    assert first == second
    assert (store.tree(second.sha256_hex) / "app.py").read_bytes() == HANDLER


def test_different_bytes_get_different_trees(tmp_path):
    store = CodeStore(tmp_path)
    one = store.put(make_zip({"app.py": b"A = 1\n"}))
    two = store.put(make_zip({"app.py": b"A = 2\n"}))
    assert one.sha256_hex != two.sha256_hex
    assert (store.tree(one.sha256_hex) / "app.py").read_bytes() == b"A = 1\n"
    assert (store.tree(two.sha256_hex) / "app.py").read_bytes() == b"A = 2\n"


def test_garbage_bytes_are_an_invalid_parameter_value(tmp_path):
    with pytest.raises(InvalidParameterValueException) as caught:
        CodeStore(tmp_path).put(b"this is not a zip file at all")
    assert caught.value.message.startswith("Could not unzip uploaded file")


def test_entry_escaping_the_tree_is_refused(tmp_path):
    store = CodeStore(tmp_path / "code")
    with pytest.raises(InvalidParameterValueException) as caught:
        store.put(make_zip({"app.py": HANDLER, "../evil.py": b"import os\n"}))
    assert caught.value.message.startswith("Could not unzip uploaded file")
    assert not (tmp_path / "evil.py").exists()
    assert not (tmp_path / "code" / "evil.py").exists()


def test_refused_zip_leaves_no_tree_behind(tmp_path):
    store = CodeStore(tmp_path)
    data = make_zip({"../evil.py": b"import os\n"})
    with pytest.raises(InvalidParameterValueException):
        store.put(data)
    assert not store.tree(hashlib.sha256(data).hexdigest()).exists()
    assert list(tmp_path.iterdir()) == []


def wait_for_trash(root) -> None:
    """Collection removes files in a background thread; wait until it has."""
    deadline = time.monotonic() + 10
    while any(p.name.startswith(".trash-") for p in root.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.01)


def test_collect_removes_the_zip_and_the_tree_of_what_is_not_kept(tmp_path):
    store = CodeStore(tmp_path)
    kept = store.put(make_zip({"app.py": b"A = 1\n"})).sha256_hex
    gone = store.put(make_zip({"app.py": b"A = 2\n"})).sha256_hex
    assert store.collect({kept}) == [gone]
    wait_for_trash(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [kept, f"{kept}.zip"]


def test_collect_never_follows_a_symlink_in_a_tree(tmp_path):
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "keep.txt").write_bytes(b"mine")
    store = CodeStore(tmp_path / "code")
    info = zipfile.ZipInfo("link")
    info.external_attr = (0o120777) << 16
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(info, str(victim))
    store.put(buffer.getvalue())
    store.collect(set())
    wait_for_trash(tmp_path / "code")
    assert list((tmp_path / "code").iterdir()) == []
    assert (victim / "keep.txt").read_bytes() == b"mine"


def test_code_being_stored_is_held_from_collection(tmp_path):
    store = CodeStore(tmp_path)

    async def scenario() -> None:
        async with store.storing(make_zip({"app.py": HANDLER})) as stored:
            assert store.collect(set()) == []
            assert store.tree(stored.sha256_hex).is_dir()
        assert store.collect(set()) == [stored.sha256_hex]
    asyncio.run(scenario())


def test_leftovers_of_a_crash_are_removed_at_start(tmp_path):
    (tmp_path / ".staging-abc").mkdir()
    (tmp_path / ".staging-abc.zip").write_bytes(b"half")
    (tmp_path / ".trash-xyz").mkdir()
    CodeStore(tmp_path)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("digest", ["../../etc/passwd", "a" * 63, "A" * 64, "a" * 64 + "/../x", ""])
def test_zip_path_takes_only_a_digest(tmp_path, digest):
    with pytest.raises(ResourceNotFoundException):
        CodeStore(tmp_path).zip_path(digest)


def test_zip_path_refuses_a_symlink_planted_in_the_store(tmp_path):
    store = CodeStore(tmp_path / "code")
    (tmp_path / "secret").write_bytes(b"s")
    (tmp_path / "code" / f"{'a' * 64}.zip").symlink_to(tmp_path / "secret")
    with pytest.raises(ResourceNotFoundException):
        store.zip_path("a" * 64)


def test_a_bomb_leaves_nothing_in_the_store(tmp_path):
    store = CodeStore(tmp_path, unzipped_limit=1 << 20)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("zeros", bytes(4 << 20))
    with pytest.raises(InvalidParameterValueException, match="Unzipped size must be smaller than 1048576 bytes"):
        store.put(buffer.getvalue())
    assert list(tmp_path.iterdir()) == []
