"""The sandbox user's passwd and group entries, as AWS's `sbx_user1051` has them.

AWS sets no HOME; `os.homedir()` (Node), `os.path.expanduser("~")` and `getpwuid` work there because
the sandbox uid has a passwd entry. Each sandbox gets its own /etc/passwd and /etc/group: copies of the
host's, made in the spare (off the cold path) on the root's tmpfs and bound over the read-only /etc;
the function's uid is appended once it is known, then the files are made read-only.
"""

from __future__ import annotations

import os

from ember.execution.local.linux import MS_BIND, MS_NOSUID, MS_RDONLY, MS_REMOUNT, mount

USER = "sbx_user1051"  # AWS's name for the sandbox user, whatever its uid
HOME = f"/home/{USER}"  # named in passwd, as on AWS; not created (AWS has none either)
FILES = ("passwd", "group")


def prepare_files(new_root: str) -> None:
    """Stage writable copies of the host's passwd and group over `new_root`/etc (a read-only bind)."""
    for name in FILES:
        staged = f"{new_root}/.{name}"
        with open(f"/etc/{name}", "rb") as host:
            text = host.read()
        with open(staged, "wb") as copy:
            copy.write(text if text.endswith(b"\n") or not text else text + b"\n")
        os.chmod(staged, 0o644)
        mount(staged, f"{new_root}/etc/{name}", None, MS_BIND)
        os.unlink(staged)  # the bind keeps the file; nothing else names it


def add_user(new_root: str, uid: int) -> None:
    """Append the sandbox user's entries for `uid` and make both files read-only."""
    lines = {"passwd": f"{USER}:x:{uid}:{uid}::{HOME}:/sbin/nologin\n", "group": f"{USER}:x:{uid}:\n"}
    for name, line in lines.items():
        path = f"{new_root}/etc/{name}"
        fd = os.open(path, os.O_WRONLY | os.O_APPEND)
        try:
            os.write(fd, line.encode())
        finally:
            os.close(fd)
        mount(None, path, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID)
