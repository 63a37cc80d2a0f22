"""Layers in the domain: merged /opt trees, the checks functions' Layers get, the 250 MB they share with code,
what the code collector keeps, and where each runtime looks for them."""

from __future__ import annotations

import asyncio
import base64
import io
import os
import sys
import zipfile
from pathlib import Path

import pytest

from ember.core.code_gc import CodeCollector
from ember.core.code_store import CodeStore
from ember.core.database import open_database
from ember.core.function_layers import FunctionLayers
from ember.core.functions import FunctionRegistry
from ember.core.layer_trees import merge_into
from ember.core.layers import LayerStore
from ember.errors import InvalidParameterValueException
from ember.execution.local.sandbox import layer_links
from ember.execution.model import EnvironmentSpec
from ember.execution.variables import OPT_VARIABLE, lambda_environment
from ember.runtimes.python import bootstrap

ROLE = "arn:aws:iam::000000000000:role/r"


def zipped(files: dict[str, str]) -> str:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return base64.b64encode(buffer.getvalue()).decode()


@pytest.fixture
def world(tmp_path):
    db = open_database(tmp_path / "ember.db")
    code = CodeStore(tmp_path / "code")
    store = LayerStore(db, code, "us-east-1")
    registry = FunctionRegistry(db, code, "us-east-1", FunctionLayers(store, "http://127.0.0.1:9000"))
    return store, registry


def publish(store: LayerStore, name: str, files: dict[str, str]) -> str:
    return asyncio.run(store.publish(name, {"Content": {"ZipFile": zipped(files)}})).arn


def create(registry: FunctionRegistry, name: str, layers: list[str]) -> None:
    asyncio.run(registry.create({"FunctionName": name, "Role": ROLE, "Runtime": "python3.11", "Handler": "a.h",
                                 "Code": {"ZipFile": zipped({"a.py": "x = 1\n"})}, "Layers": layers}))


def test_later_layers_replace_earlier_ones_and_no_symlink_is_followed(tmp_path):
    first, second, merged, outside = (tmp_path / n for n in ("first", "second", "merged", "outside"))
    for folder in (first / "lib", second, merged, outside):
        folder.mkdir(parents=True)
    (first / "lib" / "a.txt").write_text("first")
    (first / "same.txt").write_text("first")
    (first / "dir-then-file").mkdir()
    os.symlink(str(outside), first / "python")  # a link to a host folder, later replaced by a real folder
    (second / "same.txt").write_text("second")
    (second / "dir-then-file").write_text("now a file")
    (second / "python").mkdir()
    (second / "python" / "mod.py").write_text("X = 2\n")
    merge_into(first, merged)
    merge_into(second, merged)
    assert (merged / "lib" / "a.txt").read_text() == "first"
    assert (merged / "same.txt").read_text() == "second"
    assert (merged / "dir-then-file").read_text() == "now a file"
    assert (merged / "python").is_dir() and not (merged / "python").is_symlink()
    assert list(outside.iterdir()) == [], "nothing was written through the first layer's symlink"
    assert os.stat(merged / "same.txt").st_ino == os.stat(second / "same.txt").st_ino, "hard-linked, not copied"


def test_functions_take_at_most_five_existing_layers_of_this_account(world):
    store, registry = world
    arn = publish(store, "lib", {"python/a.py": "A = 1\n"})
    with pytest.raises(InvalidParameterValueException, match="more than 5"):
        create(registry, "f", [arn] * 6)
    with pytest.raises(InvalidParameterValueException, match="does not exist"):
        create(registry, "f", [arn[:-1] + "7"])
    with pytest.raises(InvalidParameterValueException, match="publish-layer-version --endpoint-url http://127.0.0.1:9000"):
        create(registry, "f", ["arn:aws:lambda:us-east-1:017000801446:layer:Powertools:7"])
    create(registry, "f", [arn])
    assert registry.get("f").config["Layers"] == [{"Arn": arn, "CodeSize": store.get("lib", 1).code_size}]


def test_code_and_layers_share_aws_s_250_mb(world, monkeypatch):
    store, registry = world
    arn = publish(store, "big", {"blob": "x" * 1000})
    monkeypatch.setattr("ember.core.function_layers.UNZIPPED_LIMIT", 1005)
    with pytest.raises(InvalidParameterValueException, match="combined with layers exceeds the maximum allowed "
                                                              "size of 1005 bytes. The actual size is 1006 bytes"):
        create(registry, "f", [arn])


def test_the_collector_keeps_layers_while_anything_names_them(world, tmp_path):
    store, registry = world
    kept = publish(store, "kept", {"a.txt": "kept"})
    named = publish(store, "named", {"b.txt": "named"})
    publish(store, "gone", {"c.txt": "gone"})
    create(registry, "f", [kept, named])
    store.delete("named", 1)  # deleted, but f still names it
    store.delete("gone", 1)
    gone = store.code.tree(store.get("kept", 1).digest).with_name(store.find("gone", 1).digest)
    collector = CodeCollector(store.db, store.code, layers=store)
    collector.collect()
    digests = {name: store.find(name, 1) for name in ("kept", "named")}
    assert store.find("gone", 1) is None and not gone.exists(), "a tombstone nothing names is forgotten, and its code"
    assert store.code.tree(digests["named"].digest).is_dir() and store.code.tree(digests["kept"].digest).is_dir()
    merged = store.trees.ensure([digests["kept"].digest, digests["named"].digest])
    assert merged is not None and sorted(p.name for p in merged.iterdir()) == ["a.txt", "b.txt"]
    registry.delete("f")
    collector.collect()
    assert store.find("named", 1) is None and not merged.exists()
    assert store.code.tree(digests["kept"].digest).is_dir()


def spec(runtime: str, opt: Path | None = None) -> EnvironmentSpec:
    return EnvironmentSpec("f", "$LATEST", runtime, "a.h", 128, 3, Path("/code"), {}, "us-east-1", "r", opt_dir=opt)


def test_node_path_bin_and_lib_are_aws_s_and_follow_layers_outside_a_mount_namespace():
    isolated = lambda_environment(spec("nodejs20.x"), "x", "s", "/var/task", "/var/runtime")
    assert isolated["NODE_PATH"].startswith("/opt/nodejs/node20/node_modules:/opt/nodejs/node_modules:")
    assert isolated["PATH"].endswith(":/opt/bin") and isolated["LD_LIBRARY_PATH"].endswith(":/opt/lib")
    assert OPT_VARIABLE not in isolated
    host = lambda_environment(spec("python3.11", Path("/data/opt")), "x", "s", "/code", "/rt", opt_dir="/data/opt")
    assert host["PATH"].endswith(":/data/opt/bin") and host[OPT_VARIABLE] == "/data/opt"


def test_python_looks_in_layers_after_the_code_and_before_its_own_packages(monkeypatch, tmp_path):
    monkeypatch.setattr(sys, "path", ["/usr/lib/python3.11", "/site-packages"])
    monkeypatch.setenv("AWS_EXECUTION_ENV", "AWS_Lambda_python3.12")
    monkeypatch.setenv("LAMBDA_RUNTIME_DIR", "/var/runtime")
    monkeypatch.setenv("PYTHONPATH", "/var/runtime")
    monkeypatch.setenv("_EMBER_OPT_DIR", str(tmp_path))
    (tmp_path / "python" / "named-by-pth").mkdir(parents=True)
    (tmp_path / "python" / "extra.pth").write_text(f"{tmp_path}/python/named-by-pth\n")  # a site directory's
    bootstrap.set_search_path("/var/task")
    assert sys.path[:3] == ["/var/task", f"{tmp_path}/python/lib/python3.12/site-packages", f"{tmp_path}/python"]
    assert f"{tmp_path}/python/named-by-pth" in sys.path and "_EMBER_OPT_DIR" not in os.environ


def test_a_pythonpath_of_the_function_s_own_leaves_layers_out_as_on_aws(monkeypatch):
    monkeypatch.setattr(sys, "path", ["/usr/lib/python3.11"])
    monkeypatch.setenv("LAMBDA_RUNTIME_DIR", "/var/runtime")
    monkeypatch.setenv("PYTHONPATH", "/mine")
    bootstrap.set_search_path("/var/task")
    assert sys.path == ["/var/task", "/usr/lib/python3.11"]


def test_a_node_function_with_layers_gets_the_links_es_modules_walk_up_to():
    assert layer_links(spec("nodejs22.x", Path("/data/opt"))) == {
        "/var/node_modules": "/opt/nodejs/node22/node_modules", "/node_modules": "/opt/nodejs/node_modules"}
    assert layer_links(spec("nodejs22.x")) == {} and layer_links(spec("python3.12", Path("/data/opt"))) == {}
