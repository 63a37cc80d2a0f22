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
    DevLoop(session, live, out).run()


class DevLoop:
    """The log tail and the watcher in their threads; the main thread applies each batch of changes."""

    def __init__(self, session: StackSession, live: Live, out: Console) -> None:
        self.session = session
        self.out = out
        self.urls = _print_urls(out, session, live, [])
        self.stream = DevStream(out)
        self.tail = LogTail(aws_client("logs", session.endpoint), self.stream)
        self.tail.follow(f.name for f in live.stack.functions)
        self.reloader = Reloader(session, live, self.stream)
        self.changes: queue.Queue[Change] = queue.Queue()
        self.watcher = _watch(WatchTargets.of(live.stack), self.changes, self.stream, session.file)
        self.stopping = threading.Event()

    def run(self) -> None:
        self.tail.start()
        previous = signal.signal(signal.SIGINT, lambda *_: self.stopping.set())  # a reload under way finishes first
        try:
            while not self.stopping.is_set():
                try:
                    change = _merged(self.changes, self.changes.get(timeout=0.1))
                except queue.Empty:
                    continue
                if self.reloader.reload(change):
                    self._reshaped()
        finally:
            signal.signal(signal.SIGINT, previous)
            self.watcher.stop()
            self.tail.stop()
        name = self.reloader.live.stack.name
        self.stream.info(f"stopped; {name} stays deployed and serving (`ember rm --stack {name}` removes it)")

    def _reshaped(self) -> None:
        """After a template edit: watch the code folders it names now, follow its functions, show new URLs."""
        live = self.reloader.live
        targets = WatchTargets.of(live.stack)
        if targets != self.watcher.targets:
            self.watcher.stop()
            self.watcher = _watch(targets, self.changes, self.stream, self.session.file)
        self.tail.follow(f.name for f in live.stack.functions)
        try:
            self.urls = _print_urls(self.out, self.session, live, self.urls)
        except Exception as exc:  # the URLs are news, not the loop's reason to live
            self.stream.error(f"reading the stack's URLs: {type(exc).__name__}: {exc}")


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
