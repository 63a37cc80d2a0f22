"""ember.runtimes.jdks: each javaNN runtime runs on the oldest JDK here that is new enough, else the default."""

from __future__ import annotations

from pathlib import Path

import pytest

from ember.runtimes import jdks


def fake_jdk(root: Path, name: str, version: str) -> Path:
    home = root / name
    (home / "bin").mkdir(parents=True)
    (home / "bin" / "java").write_text("#!/bin/sh\n")
    (home / "bin" / "java").chmod(0o755)
    (home / "release").write_text(f'JAVA_VERSION="{version}"\nJAVA_RUNTIME_VERSION="{version}+1"\n')
    return home


@pytest.fixture
def machine(tmp_path, monkeypatch):
    """A /usr/lib/jvm of fake JDKs and a default java pointing into it; the cached choices forgotten."""
    def _machine(default: str, *others: str) -> None:
        homes = {version: fake_jdk(tmp_path, f"jdk-{version}", version) for version in (default, *others)}
        monkeypatch.setattr(jdks, "JVM_ROOT", tmp_path)
        monkeypatch.setattr(jdks, "JAVA", str(homes[default] / "bin" / "java"))
        jdks._jdk_for.cache_clear()
    yield _machine
    jdks._jdk_for.cache_clear()


def features(runtimes=("java17", "java21", "java25")) -> list[int]:
    return [jdks.jdk_for(runtime).feature for runtime in runtimes]


def test_newer_runtimes_run_on_the_newer_jdk_beside_the_default(machine):
    machine("17.0.15", "25.0.3")
    assert features() == [17, 25, 25]
    assert [jdk.feature for jdk in jdks.jdks_in_use(("java17", "java21", "java25"))] == [17, 25]


def test_each_runtime_takes_the_oldest_jdk_that_is_new_enough(machine):
    machine("17.0.15", "25.0.3", "21.0.7")
    assert features() == [17, 21, 25]


def test_without_a_new_enough_jdk_the_default_runs_it(machine):
    machine("17.0.15")
    assert features() == [17, 17, 17]


def test_the_default_jdk_wins_a_tie_and_an_older_one_never_runs_a_newer_runtime(machine):
    machine("21.0.7", "17.0.15")
    assert features() == [17, 21, 21]
    assert jdks.jdk_for("java21").home == jdks.default_jdk().home


def test_a_folder_that_is_no_jdk_is_ignored(machine, tmp_path):
    (tmp_path / "openjdk-17").mkdir()  # Debian leaves such folders beside the real homes
    machine("17.0.15", "25.0.3")
    assert features() == [17, 25, 25]
