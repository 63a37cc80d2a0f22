"""ember.apps.plan: create everything on an empty server, nothing on a second deploy of the same files, only
what an edit touches, and delete what left the template; deterministic and printable."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

from rich.console import Console

from ember.apps.cloudformation import load_stack
from ember.apps.model import Stack
from ember.apps.plan import (
    CREATE,
    DELETE,
    UNCHANGED,
    UPDATE_CODE,
    UPDATE_CONFIG,
    Deployed,
    DeployedResource,
    desired_spec,
    kind_of,
    plan,
    resource_key,
)
from ember.apps.plan_view import plan_table
from ember.cli.packaging import code_sha256, package

DATA = Path(__file__).parent / "data" / "apps"


def digest(source) -> str:
    return code_sha256(package(source))


def shop(tmp_path: Path) -> Path:
    folder = tmp_path / "sam-shop"
    if not folder.exists():
        shutil.copytree(DATA / "sam-shop", folder)
    return folder / "template.yaml"


def load(path: Path) -> Stack:
    return load_stack(path, "shop", "us-east-1", "000000000000")


def applied(stack: Stack) -> Deployed:
    """What a server that applied `stack` faithfully reports (the reader's side is tested against a real server in
    tests/integration/test_apps_deployed.py)."""
    deployed = Deployed()
    for resource in stack.resources():
        code = digest(resource.code) if hasattr(resource, "code") else None
        deployed.resources[(kind_of(resource), resource_key(resource))] = DeployedResource(
            desired_spec(resource, stack), code, resource.logical_id)
    return deployed


def actions(result) -> dict[str, str]:
    return {step.logical_id: step.action for step in result.steps}


def test_an_empty_server_creates_everything(tmp_path: Path):
    stack = load(shop(tmp_path))
    result = plan(stack, Deployed(), digest)
    assert set(actions(result).values()) == {CREATE}
    assert len(result.steps) == len(list(stack.resources()))
    assert [step.kind for step in result.steps][:5] == ["role"] * 4 + ["layer"]  # the order applying goes in
    assert result.summary() == f"shop: {len(result.steps)} to create, 0 to update, 0 to delete, 0 unchanged"


def test_the_same_files_twice_change_nothing(tmp_path: Path):
    path = shop(tmp_path)
    result = plan(load(path), applied(load(path)), digest)
    assert set(actions(result).values()) == {UNCHANGED} and not result.changed


def test_an_edited_file_updates_only_the_function_built_from_it(tmp_path: Path):
    path = shop(tmp_path)
    before = applied(load(path))
    (path.parent / "src" / "reports" / "nightly.py").write_text("def handler(event, context):\n    return 2\n")
    result = plan(load(path), before, digest)
    changed = {lid: action for lid, action in actions(result).items() if action != UNCHANGED}
    assert changed == {"NightlyReportFunction": UPDATE_CODE}
    assert next(s for s in result.steps if s.logical_id == "NightlyReportFunction").changes == ("Code",)


def test_a_layer_edit_publishes_it_and_moves_its_functions_to_the_new_version(tmp_path: Path):
    path = shop(tmp_path)
    before = applied(load(path))
    (path.parent / "layers" / "common" / "python" / "common.py").write_text('VERSION = "2"\n')
    changed = {lid: action for lid, action in actions(plan(load(path), before, digest)).items()
               if action != UNCHANGED}
    assert changed == {"CommonLayerd4ee0e84aa": UPDATE_CODE, "ListOrdersFunction": UPDATE_CONFIG,
                       "CreateOrderFunction": UPDATE_CONFIG, "NightlyReportFunction": UPDATE_CONFIG}


def test_a_setting_changes_the_configuration_only(tmp_path: Path):
    path = shop(tmp_path)
    before = applied(load(path))
    path.write_text(path.read_text().replace("Timeout: 60", "Timeout: 90"))
    result = plan(load(path), before, digest)
    (step,) = [step for step in result.steps if step.action != UNCHANGED]
    assert (step.logical_id, step.action, step.changes) == ("NightlyReportFunction", UPDATE_CONFIG, ("Timeout",))


def test_a_function_removed_from_the_template_is_deleted_with_what_was_its_own(tmp_path: Path):
    path = shop(tmp_path)
    before = applied(load(path))
    text = path.read_text()
    start, end = text.index("  NightlyReportFunction:"), text.index("  OrdersTable:")
    path.write_text(text[:start] + text[end:])
    result = plan(load(path), before, digest)
    deleted = sorted(step.logical_id for step in result.steps if step.action == DELETE)
    assert deleted == ["NightlyReportFunction", "NightlyReportFunctionHourly", "NightlyReportFunctionHourlyRole",
                       "NightlyReportFunctionNightly", "NightlyReportFunctionNightlyPermission",
                       "NightlyReportFunctionRole"]
    assert [s.kind for s in result.steps if s.action == DELETE] == [
        "schedule", "rule", "permission", "function", "role", "role"]  # what depends goes first
    assert {s.action for s in result.steps if s.action != DELETE} == {UNCHANGED}


def test_the_plan_prints_as_a_table(tmp_path: Path):
    path = shop(tmp_path)
    before = applied(load(path))
    path.write_text(path.read_text().replace("Timeout: 60", "Timeout: 90"))
    console = Console(file=io.StringIO(), width=120, color_system=None)
    console.print(plan_table(plan(load(path), before, digest)))
    text = console.file.getvalue()
    assert "shop: 0 to create, 1 to update, 0 to delete, 16 unchanged" in text
    assert any("NightlyReportFunction " in line and "update configuration" in line and "Timeout" in line
               for line in text.splitlines())
