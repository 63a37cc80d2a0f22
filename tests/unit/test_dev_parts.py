"""`ember dev`'s parts that need no server: which file events matter and to which code, the syntax check that
holds a function back, the plan without held-back code, the log cursor handing each event out once, the
session keeping the zip it replaced, and routes written as URLs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ember.apps.model import CodeSource, Function, Stack
from ember.apps.plan import UNCHANGED, UPDATE_BOTH, UPDATE_CODE, UPDATE_CONFIG, Step
from ember.cli.dev_reload import _without_code
from ember.cli.dev_watch import WatchTargets
from ember.cli.log_follow import LOOKBACK_MS, LogCursor
from ember.cli.python_check import SyntaxCheck
from ember.cli.stack_session import StackOptions, StackSession
from ember.cli.stack_urls import _route_line


def stack_of(root: Path, *functions: tuple[str, CodeSource, str]) -> Stack:
    stack = Stack("s", "us-east-1", "000000000000", root / "template.yaml")
    stack.functions = [Function(logical_id, f"s-{logical_id}", code, {"Runtime": runtime})
                       for logical_id, code, runtime in functions]
    return stack


def project(tmp_path: Path) -> Path:
    for folder in ("greet", "count", "svc/handlers", "svc/.serverless"):
        (tmp_path / folder).mkdir(parents=True)
    (tmp_path / "template.yaml").write_text("")
    (tmp_path / "layer.zip").write_bytes(b"")
    return tmp_path


def test_code_folders_are_watched_deep_and_the_template_and_zips_flat(tmp_path):
    root = project(tmp_path)
    greet = CodeSource(root / "greet")
    stack = stack_of(root, ("Greet", greet, "python3.12"), ("Count", CodeSource(root / "count"), "python3.12"),
                     ("Zipped", CodeSource(root / "layer.zip"), "python3.12"))
    deep, flat = WatchTargets.of(stack).roots()
    assert deep == [root / "count", root / "greet"] and flat == [root]
    whole = stack_of(root, ("All", CodeSource(root), "python3.12"), ("Greet", greet, "python3.12"))
    assert WatchTargets.of(whole).roots() == ([root], [])  # CodeUri: . covers the template's folder and greet/


def test_a_change_is_traced_to_the_sources_it_touches_and_noise_to_none(tmp_path):
    root = project(tmp_path)
    greet, zipped = CodeSource(root / "greet"), CodeSource(root / "layer.zip")
    targets = WatchTargets.of(stack_of(root, ("Greet", greet, "python3.12"), ("Zipped", zipped, "python3.12")))
    assert targets.classify(root / "template.yaml").project
    assert targets.classify(root / "greet" / "app.py").sources == {greet}
    assert targets.classify(root / "greet" / "app.py").paths == {root / "greet" / "app.py"}
    assert targets.classify(root / "layer.zip").sources == {zipped}
    for noise in ("greet/__pycache__/app.cpython-311.pyc", "greet/.app.py.swp", "greet/app.py~", "greet/4913",
                  "greet/.aws-sam/build/x", "greet/node_modules/.cache/babel/x.json", "greet/.git/index",
                  "README.md", "count/app.py"):
        assert not targets.relevant(root / noise), noise
    assert targets.relevant(root / "greet" / "node_modules" / "lib" / "index.js")  # node_modules is code


def test_package_patterns_decide_which_files_are_code(tmp_path):
    root = project(tmp_path)
    service = CodeSource(root / "svc", patterns=("!**", "handlers/**"))
    targets = WatchTargets.of(stack_of(root, ("Items", service, "python3.12")))
    assert targets.classify(root / "svc" / "handlers" / "items.py").sources == {service}
    assert not targets.relevant(root / "svc" / "notes.txt")
    assert not targets.relevant(root / "svc" / ".serverless" / "state.json")


def test_a_broken_python_file_holds_its_function_back_until_fixed(tmp_path):
    root = project(tmp_path)
    greet, count = CodeSource(root / "greet"), CodeSource(root / "count")
    stack = stack_of(root, ("Greet", greet, "python3.12"), ("Count", count, "nodejs20.x"))
    broken, other = root / "greet" / "app.py", root / "greet" / "util.py"
    broken.write_text("def handler(event, context:\n    return 1\n")
    other.write_text("X = 1\n")
    checks = SyntaxCheck()
    checks.check([broken, other])
    held = checks.held_back(stack)
    assert list(held) == [greet]
    assert held[greet][0].startswith(f"{broken}:1:") and "SyntaxError" in held[greet][0]
    checks.check([other])  # another file changes: the broken one is checked again, and still holds greet back
    assert list(checks.held_back(stack)) == [greet]
    broken.write_text("def handler(event, context):\n    return 1\n")
    checks.check([])
    assert checks.held_back(stack) == {}
    (root / "count" / "app.py").write_text("def handler(:\n")  # not a Python function: nothing to hold back
    checks.check([root / "count" / "app.py"])
    assert checks.held_back(stack) == {}


def test_held_back_code_leaves_the_plan_but_a_configuration_change_stays(tmp_path):
    root = project(tmp_path)
    greet = CodeSource(root / "greet")
    function = stack_of(root, ("Greet", greet, "python3.12")).functions[0]
    held = {greet: ["greet/app.py:1:1: SyntaxError: x"]}
    code_only = Step("function", "s-Greet", "Greet", UPDATE_CODE, ("Code",), function)
    both = Step("function", "s-Greet", "Greet", UPDATE_BOTH, ("Code", "Environment"), function)
    assert _without_code(code_only, held).action == UNCHANGED
    assert (_without_code(both, held).action, _without_code(both, held).changes) == (UPDATE_CONFIG, ("Environment",))
    assert _without_code(code_only, {}) == code_only


class Logs:
    """A CloudWatch Logs client answering FilterLogEvents from a list as the server does: oldest first, startTime
    inclusive."""

    class exceptions:  # noqa: N801 (boto3's shape)
        class ResourceNotFoundException(Exception):
            pass

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.asked: list[int | None] = []

    def get_paginator(self, operation: str) -> Logs:
        return self

    def paginate(self, logGroupName: str, startTime: int | None = None) -> list[dict[str, Any]]:  # noqa: N803
        self.asked.append(startTime)
        events = [e for e in self.events if startTime is None or e["timestamp"] >= startTime]
        return [{"events": sorted(events, key=lambda e: e["timestamp"])}]

    def add(self, event_id: str, timestamp: int) -> None:
        self.events.append({"eventId": event_id, "timestamp": timestamp, "message": f"{event_id}\n"})


def test_the_log_cursor_hands_each_event_out_once_and_catches_late_ones():
    logs, cursor = Logs(), LogCursor("fn", start_ms=1000)
    logs.add("old", 500)
    logs.add("a", 2000)
    assert [e["eventId"] for e in cursor.new_events(logs)] == ["a"] and logs.asked == [1000]
    logs.add("b", 50_000)
    logs.add("late", 45_000)  # another environment's call, written at its END, stamped when printed
    assert [e["eventId"] for e in cursor.new_events(logs)] == ["late", "b"]
    assert cursor.new_events(logs) == []
    logs.add("later", 48_000)  # older than the newest seen, within the look-back: still handed out, once
    assert [e["eventId"] for e in cursor.new_events(logs)] == ["later"]
    assert logs.asked[-1] == 50_000 - LOOKBACK_MS
    logs.add("c", 50_000 + 2 * LOOKBACK_MS)
    assert [e["eventId"] for e in cursor.new_events(logs)] == ["c"]
    assert set(cursor._seen) == {"c"}  # ids older than the look-back window are let go


def test_the_session_keeps_the_zip_it_replaced_for_a_rollback(tmp_path):
    root = project(tmp_path)
    (root / "greet" / "app.py").write_text("v = 1\n")
    session = StackSession(root / "template.yaml", StackOptions(), "http://127.0.0.1:1")
    greet = CodeSource(root / "greet")
    first, first_zip = session.digest(greet), session.zip_of(greet)
    (root / "greet" / "app.py").write_text("v = 2\n")
    assert session.digest(greet) == first  # cached until told the folder changed
    session.forget([greet])
    assert session.digest(greet) != first
    assert session._previous[greet] == (first, first_zip)


def test_routes_are_written_as_the_urls_they_answer_on():
    stage = "http://abc.execute-api.us-east-1.localhost:9000/Prod/"
    assert _route_line("GET /items/{id}", stage, "shop, stage Prod") == \
        "  GET    http://abc.execute-api.us-east-1.localhost:9000/Prod/items/{id}  (shop, stage Prod)"
    assert _route_line("$default", "http://x.localhost:9000/", "api").startswith("  ANY    http://x.localhost:9000/")
