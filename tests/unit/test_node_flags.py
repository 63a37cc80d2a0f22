"""ember.runtimes' Node flags: V8's whole heap, young generation included, fits well inside MemorySize."""

from __future__ import annotations

import subprocess

import pytest

from ember.runtimes import NODE, node_heap_flags, runtime_command

HEAP_LIMIT = "console.log(require('v8').getHeapStatistics().heap_size_limit)"


@pytest.mark.parametrize(("memory", "old", "semi"), [(128, 96, 2), (1024, 768, 16), (10240, 7680, 16)])
def test_old_space_is_three_quarters_of_memorysize_and_semi_spaces_a_64th(memory, old, semi):
    assert node_heap_flags(memory) == [f"--max-old-space-size={old}", f"--max-semi-space-size={semi}"]


@pytest.mark.parametrize("memory", [128, 512])
def test_v8s_own_heap_limit_stays_below_memorysize(memory):
    """Without a semi-space limit V8 sizes the young generation from the host's RAM (156 MB at 128)."""
    argv = runtime_command("nodejs20.x", "/var/task", "/var/runtime", memory)
    done = subprocess.run([NODE, *argv[1:-1], "-e", HEAP_LIMIT], capture_output=True, text=True, timeout=30)
    assert int(done.stdout) <= memory * 1024 * 1024 * 0.85, done.stderr
