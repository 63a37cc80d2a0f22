"""Versions: immutable snapshots, their own environments, qualifiers in every position, RevisionId."""

from __future__ import annotations

import json

import pytest
from conftest import make_zip

V1 = "import uuid\nSTAMP = 'one'\nME = uuid.uuid4().hex\ndef handler(e, c):\n    return [STAMP, ME]\n"
V2 = V1.replace("'one'", "'two'")


def result(response) -> list:
    return json.loads(response["Payload"].read())


def test_published_version_is_immutable_and_runs_in_its_own_environments(client, deploy):
    name = deploy(V1)
    published = client.publish_version(FunctionName=name, Description="first")
    assert published["Version"] == "1" and published["Description"] == "first"
    assert published["FunctionArn"].endswith(f"function:{name}:1")
    client.update_function_code(FunctionName=name, ZipFile=make_zip({"index.py": V2}))
    v1 = client.invoke(FunctionName=name, Qualifier="1")
    latest = client.invoke(FunctionName=name)
    assert v1["ExecutedVersion"] == "1" and latest["ExecutedVersion"] == "$LATEST"
    stamp1, pid1 = result(v1)
    stamp2, pid2 = result(latest)
    assert (stamp1, stamp2) == ("one", "two")
    assert pid1 != pid2, "each version has its own pool of environments"
    assert client.get_function_configuration(FunctionName=name, Qualifier="1")["CodeSha256"] != \
        client.get_function_configuration(FunctionName=name)["CodeSha256"]


def test_publishing_unchanged_latest_returns_the_newest_version(client, deploy):
    name = deploy(V1)
    assert client.publish_version(FunctionName=name)["Version"] == "1"
    assert client.publish_version(FunctionName=name)["Version"] == "1"
    client.update_function_configuration(FunctionName=name, MemorySize=256)
    assert client.publish_version(FunctionName=name)["Version"] == "2"
    versions = client.list_versions_by_function(FunctionName=name)["Versions"]
    assert [v["Version"] for v in versions] == ["$LATEST", "1", "2"]
    assert [v["MemorySize"] for v in versions] == [256, 128, 256]


def test_deleted_version_is_gone_and_its_number_never_reused(client, deploy):
    name = deploy(V1)
    client.publish_version(FunctionName=name)
    client.update_function_code(FunctionName=name, ZipFile=make_zip({"index.py": V2}), Publish=True)
    client.delete_function(FunctionName=name, Qualifier="2")
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.invoke(FunctionName=name, Qualifier="2")
    client.update_function_configuration(FunctionName=name, Timeout=9)
    assert client.publish_version(FunctionName=name)["Version"] == "3"
    assert result(client.invoke(FunctionName=name, Qualifier="1"))[0] == "one"


def test_publish_flag_on_update_returns_the_new_version(client, deploy):
    name = deploy(V1)
    updated = client.update_function_code(FunctionName=name, ZipFile=make_zip({"index.py": V2}), Publish=True)
    assert updated["Version"] == "1"
    assert result(client.invoke(FunctionName=name, Qualifier="1"))[0] == "two"


@pytest.mark.parametrize("form", ["name:1", "partial-arn:1", "arn:1", "arn+qualifier"])
def test_qualifier_in_every_position(client, deploy, form):
    name = deploy(V1)
    client.publish_version(FunctionName=name)
    client.update_function_code(FunctionName=name, ZipFile=make_zip({"index.py": V2}))
    arn = f"arn:aws:lambda:us-east-1:000000000000:function:{name}"
    args = {"name:1": {"FunctionName": f"{name}:1"},
            "partial-arn:1": {"FunctionName": f"000000000000:function:{name}:1"},
            "arn:1": {"FunctionName": f"{arn}:1"},
            "arn+qualifier": {"FunctionName": arn, "Qualifier": "1"}}[form]
    assert result(client.invoke(**args))[0] == "one"
    assert client.get_function(**args)["Configuration"]["Version"] == "1"


def test_mismatched_qualifiers_are_not_found(client, deploy):
    name = deploy(V1)
    client.publish_version(FunctionName=name)
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.invoke(FunctionName=f"{name}:1", Qualifier="$LATEST")
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.invoke(FunctionName=name, Qualifier="7")


def test_stale_revision_id_is_412(client, deploy):
    name = deploy(V1)
    revision = client.get_function_configuration(FunctionName=name)["RevisionId"]
    client.update_function_configuration(FunctionName=name, Timeout=5, RevisionId=revision)
    with pytest.raises(client.exceptions.PreconditionFailedException):
        client.update_function_configuration(FunctionName=name, Timeout=6, RevisionId=revision)
    with pytest.raises(client.exceptions.PreconditionFailedException):
        client.publish_version(FunctionName=name, RevisionId=revision)


def test_versions_survive_a_restart(tmp_path):
    from conftest import ROLE, EmberProcess, lambda_client

    data = tmp_path / "data"
    server = EmberProcess(data).start()
    client = lambda_client(server.url)
    client.create_function(FunctionName="kept", Runtime="python3.11", Role=ROLE, Handler="index.handler",
                           Code={"ZipFile": make_zip({"index.py": V1})}, Publish=True)
    server.stop()
    restarted = EmberProcess(data).start()
    try:
        client = lambda_client(restarted.url)
        assert result(client.invoke(FunctionName="kept", Qualifier="1"))[0] == "one"
        client.update_function_configuration(FunctionName="kept", Timeout=8)
        assert client.publish_version(FunctionName="kept")["Version"] == "2"
    finally:
        restarted.stop()


def test_unqualified_arns_work_wherever_a_function_name_goes(client, deploy):
    name = deploy(V1)
    arn = f"arn:aws:lambda:us-east-1:000000000000:function:{name}"
    partial = f"000000000000:function:{name}"
    assert client.get_function_configuration(FunctionName=arn)["FunctionName"] == name
    assert client.publish_version(FunctionName=partial)["Version"] == "1"
    assert [v["Version"] for v in client.list_versions_by_function(FunctionName=arn)["Versions"]] == ["$LATEST", "1"]
    client.create_alias(FunctionName=arn, Name="live", FunctionVersion="1")
    assert client.get_alias(FunctionName=partial, Name="live")["FunctionVersion"] == "1"
    client.put_function_concurrency(FunctionName=arn, ReservedConcurrentExecutions=3)
    assert client.get_function_concurrency(FunctionName=partial)["ReservedConcurrentExecutions"] == 3
    client.update_function_configuration(FunctionName=arn, Timeout=4)
    assert client.get_function_configuration(FunctionName=f"{arn}:$LATEST")["Timeout"] == 4
    client.delete_function(FunctionName=f"{arn}:1")
    client.delete_function(FunctionName=arn)
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.get_function(FunctionName=name)
