"""ember.execution.outcomes: a runtime's death in Lambda's words (its Go init's os/exec wording)."""

from __future__ import annotations

import pytest

from ember.execution.outcomes import exit_reason


@pytest.mark.parametrize(("returncode", "reason"), [
    (0, "Runtime exited without providing a reason"),
    (3, "Runtime exited with error: exit status 3"),
    (-9, "Runtime exited with error: signal: killed"),
    (-6, "Runtime exited with error: signal: aborted"),
    (-11, "Runtime exited with error: signal: segmentation fault"),
    (-31, "Runtime exited with error: signal: signal 31"),
])
def test_exit_reasons(returncode, reason):
    assert exit_reason(returncode) == reason
