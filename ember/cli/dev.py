"""`ember dev`: deploy the project as `ember deploy` does, print every URL it answers on, then follow every
function's logs in one stream and redeploy what changes on disk as it is saved, until Ctrl-C, which leaves the
stack deployed."""

from __future__ import annotations

import queue
import signal
import threading
from pathlib import Path

from rich.console import Console

from ember.cli.client import aws_client
from ember.cli.dev_reload import Live, Reloader
from ember.cli.dev_stream import DevStream
from ember.cli.dev_watch import Change, ProjectWatcher, WatchTargets
from ember.cli.log_tail import LogTail
from ember.cli.stack_deploy import deploy_stack
from ember.cli.stack_session import StackSession
from ember.cli.stack_urls import url_lines


def run_dev(session: StackSession, out: Console, err: Console) -> None:
    """Until SIGINT; the first deploy's errors are raised as `ember deploy` raises them, later ones reported."""
    first = deploy_stack(session, out, err)
    live = Live(first.stack, session.read(first.stack) if first.plan.changed else first.deployed)
    urls = _print_urls(out, session, live, [])
    stream = DevStream(out)
    tail = LogTail(aws_client("logs", session.endpoint), stream)
    tail.follow(f.name for f in live.stack.functions)
    reloader = Reloader(session, live, stream)
    changes: queue.Queue[Change] = queue.Queue()
    watcher = _watch(WatchTargets.of(live.stack), changes, stream, session.file)
    tail.start()
    stopping = threading.Event()
    previous = signal.signal(signal.SIGINT, lambda *_: stopping.set())  # a reload under way finishes first
    try:
        while not stopping.is_set():
            try:
                change = _merged(changes, changes.get(timeout=0.1))
            except queue.Empty:
                continue
            if reloader.reload(change):
                targets = WatchTargets.of(reloader.live.stack)
                if targets != watcher.targets:
                    watcher.stop()
                    watcher = _watch(targets, changes, stream, session.file)
                tail.follow(f.name for f in reloader.live.stack.functions)
                urls = _print_urls(out, session, reloader.live, urls)
    finally:
        signal.signal(signal.SIGINT, previous)
        watcher.stop()
        tail.stop()
    name = reloader.live.stack.name
    stream.info(f"stopped; {name} stays deployed and serving (`ember rm --stack {name}` removes it)")


def _watch(targets: WatchTargets, changes: queue.Queue[Change], stream: DevStream, project: Path) -> ProjectWatcher:
    watcher = ProjectWatcher(targets, changes)
    watcher.start()
    base = project.resolve().parent
    shown = [_relative(path, base) for path in [targets.project, *sorted(targets.folders), *sorted(targets.files)]]
    stream.info(f"watching {', '.join(shown)}: each save redeploys what it changed; Ctrl-C stops "
                "(the stack stays deployed)")
    return watcher


def _merged(changes: queue.Queue[Change], first: Change) -> Change:
    """`first` and every batch queued behind it (saves that came while the last reload ran), as one."""
    while True:
        try:
            more = changes.get_nowait()
        except queue.Empty:
            return first
        first.project |= more.project
        first.sources |= more.sources
        first.paths |= more.paths


def _print_urls(out: Console, session: StackSession, live: Live, before: list[str]) -> list[str]:
    """The stack's URLs, printed when they differ from `before` (the first time, and after a template edit)."""
    lines = url_lines(session.clients, live.stack, session.endpoint)
    if lines and lines != before:
        out.print("URLs:", markup=False)
        for line in lines:
            out.print(line, markup=False, soft_wrap=True, highlight=False)
    return lines


def _relative(path: Path, base: Path) -> str:
    try:
        text = path.relative_to(base).as_posix()
    except ValueError:
        return str(path)
    return text + "/" if path.is_dir() else text
