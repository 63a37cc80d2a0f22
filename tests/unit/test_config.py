"""ember.config: where the data dir is, and which credentials the server accepts."""

from __future__ import annotations

import pytest

from ember.config import load_credentials, resolve_data_dir


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("EMBER_HOME", raising=False)
    return tmp_path


def test_flag_beats_ember_home(workdir, monkeypatch):
    monkeypatch.setenv("EMBER_HOME", str(workdir / "from-env"))
    assert resolve_data_dir(str(workdir / "from-flag")) == (workdir / "from-flag").resolve()


def test_ember_home_beats_the_default(workdir, monkeypatch):
    monkeypatch.setenv("EMBER_HOME", str(workdir / "from-env"))
    assert resolve_data_dir(None) == (workdir / "from-env").resolve()


def test_default_is_dot_ember_in_the_current_directory(workdir):
    assert resolve_data_dir(None) == (workdir / ".ember").resolve()


def test_relative_flag_is_resolved_against_the_current_directory(workdir):
    assert resolve_data_dir("data") == (workdir / "data").resolve()


def test_resolved_data_dir_is_created(workdir):
    path = resolve_data_dir(str(workdir / "a" / "b"))
    assert path.is_dir()


def test_no_credentials_file_gives_test_test(tmp_path):
    assert load_credentials(tmp_path, {}) == {"test": "test"}


def test_credentials_file_with_key_secret_lines(tmp_path):
    (tmp_path / "credentials").write_text("AKIAONE secretone\n# a comment\n\nAKIATWO secrettwo  # trailing\n")
    assert load_credentials(tmp_path, {}) == {"AKIAONE": "secretone", "AKIATWO": "secrettwo"}


def test_credentials_file_in_ini_style(tmp_path):
    (tmp_path / "credentials").write_text(
        "[default]\n"
        "aws_access_key_id = AKIAINI\n"
        "aws_secret_access_key = inisecret\n"
        "\n"
        "[other]\n"
        "aws_secret_access_key=othersecret\n"
        "aws_access_key_id=AKIAOTHER\n"
    )
    assert load_credentials(tmp_path, {}) == {"AKIAINI": "inisecret", "AKIAOTHER": "othersecret"}


def test_test_test_is_dropped_once_the_file_holds_a_key(tmp_path):
    (tmp_path / "credentials").write_text("AKIAONE secretone\n")
    assert "test" not in load_credentials(tmp_path, {})


def test_ember_credentials_holds_keys_too_and_drops_test_test(tmp_path):
    keys = load_credentials(tmp_path, {"EMBER_CREDENTIALS": "AKIAENV:envsecret,AKIAENV2:other"})
    assert keys == {"AKIAENV": "envsecret", "AKIAENV2": "other"}


def test_the_file_and_ember_credentials_add_up(tmp_path):
    (tmp_path / "credentials").write_text("AKIAONE secretone\n")
    assert load_credentials(tmp_path, {"EMBER_CREDENTIALS": "AKIAENV:envsecret"}) == {
        "AKIAONE": "secretone", "AKIAENV": "envsecret"}


def test_an_empty_ember_credentials_leaves_test_test(tmp_path):
    assert load_credentials(tmp_path, {"EMBER_CREDENTIALS": ""}) == {"test": "test"}


def test_malformed_lines_are_ignored(tmp_path):
    (tmp_path / "credentials").write_text("just-one-word\nthree words here\n")
    assert load_credentials(tmp_path, {}) == {"test": "test"}


def build_with(tmp_path, cluster):
    from ember.cli.serve import build_config

    return build_config("127.0.0.1", 0, str(tmp_path), "us-east-1", 60, "sigv4", cluster=cluster)


def test_cluster_mode_is_off_unless_asked_for(tmp_path):
    from ember.config import ClusterSettings

    assert not build_with(tmp_path, ClusterSettings()).cluster.enabled
    assert build_with(tmp_path, ClusterSettings("ray", "10.0.0.1:6379")).cluster.ray_address == "10.0.0.1:6379"


@pytest.mark.parametrize("fields, message", [
    ({"mode": "k8s"}, "--cluster must be none or ray"),
    ({"ray_address": "10.0.0.1:6379"}, "--ray-address needs --cluster ray"),
    ({"mode": "ray", "grace_s": -1}, "--cluster-grace"),
    ({"mode": "ray", "data_path": "pigeon"}, "--cluster-data-path"),
])
def test_cluster_flags_are_checked_before_anything_starts(tmp_path, fields, message):
    from ember.cli.serve import StartupError
    from ember.config import ClusterSettings

    with pytest.raises(StartupError, match=message):
        build_with(tmp_path, ClusterSettings(**fields))


@pytest.mark.parametrize("head_s, body_s", [(0, 30), (20, -1)])
def test_read_timeouts_must_be_positive(tmp_path, head_s, body_s):
    from ember.cli.serve import StartupError, build_config
    from ember.config import ReadTimeouts

    with pytest.raises(StartupError, match="--header-timeout and --body-timeout"):
        build_config("127.0.0.1", 0, str(tmp_path), "us-east-1", 60, "sigv4",
                     read_timeouts=ReadTimeouts(head_s, body_s))
