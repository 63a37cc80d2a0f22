"""The filesystem an isolated environment sees, built inside its own mount namespace.

    /                 a 1 MB tmpfs, read-only once built
    /usr /etc         the host's, read-only; /bin /lib /lib64 /sbin as on the host (links or read-only)
    /etc/passwd,group the host's plus the sandbox user's entry (users.py), read-only
    <interpreter>     the interpreter's installation and the packages it provides, read-only, same path
    <java build>      Ember's Java runtime jar and class-data archive, read-only, same path
    /var/task         the function's code, read-only (LAMBDA_TASK_ROOT)
    /opt              the function's layers merged in order, read-only (empty without layers)
    /var/node_modules, /node_modules   for Node.js with layers: links to the layers' node_modules folders
    /var/runtime      Ember's runtimes, read-only (LAMBDA_RUNTIME_DIR)
    /tmp              the environment's /tmp slot: a tmpfs of EphemeralStorage MB, kept by the zygote
    /dev /proc        a few device nodes; a fresh proc of the environment's own pid namespace

Nothing else of the host (/root, /home, the repo, the data dir) exists inside.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from ember.execution.local.linux import (
    MS_BIND,
    MS_NODEV,
    MS_NOEXEC,
    MS_NOSUID,
    MS_PRIVATE,
    MS_RDONLY,
    MS_REC,
    MS_REMOUNT,
    mount,
    pivot_root,
    umount,
)
from ember.execution.local.users import prepare_files
from ember.runtimes import RUNTIMES_DIR, runtime_host_paths

TASK_ROOT = "/var/task"
OPT_DIR = "/opt"
RUNTIME_DIR = "/var/runtime"
HOST_DIRS = ("/usr", "/etc")
HOST_LINKS = ("/bin", "/lib", "/lib64", "/sbin")
DEVICES = ("null", "zero", "full", "random", "urandom", "tty")
_READ_ONLY = MS_NOSUID | MS_RDONLY


def prepare_root(new_root: str) -> None:
    """Everything that is the same for every function, built before a function is chosen (in a
    zygote's spare child, off the cold-start path): the host's directories, /dev and /proc."""
    mount("tmpfs", new_root, "tmpfs", MS_NOSUID, "size=1m,mode=755")
    for path in [*HOST_DIRS, *host_read_only(under_tmp=False)]:
        _bind(path, new_root + path, _READ_ONLY)
    prepare_files(new_root)
    for path in HOST_LINKS:
        _mirror(path, new_root)
    _bind(str(RUNTIMES_DIR), new_root + RUNTIME_DIR, _READ_ONLY)
    os.makedirs(new_root + OPT_DIR)  # AWS's /opt exists without layers too
    _make_dev(new_root + "/dev")
    os.makedirs(new_root + "/proc")
    mount("proc", new_root + "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)


def enter_root(new_root: str, code_dir: str, tmp_dir: str | None, opt_dir: str = "",
               links: dict[str, str] | None = None) -> None:
    """Add the function's code, its layers, any links the plan asks for and /tmp, switch to the new root and
    detach the old one."""
    _bind(code_dir, new_root + TASK_ROOT, _READ_ONLY)
    if opt_dir:
        _bind(opt_dir, new_root + OPT_DIR, _READ_ONLY)
    for path, target in (links or {}).items():
        os.symlink(target, new_root + path)
    if tmp_dir is not None:
        _bind(tmp_dir, new_root + "/tmp", MS_NOSUID | MS_NODEV)
        mount(None, new_root + "/tmp", None, MS_PRIVATE)  # no longer a slave of the zygote's slot mounts
    else:
        os.makedirs(new_root + "/tmp", mode=0o1777)
    for path in host_read_only(under_tmp=True):  # an interpreter in /tmp (a CI checkout) shows through /tmp
        _bind(path, new_root + path, _READ_ONLY)
    os.chdir(new_root)
    pivot_root(".", ".")  # the old root is now stacked under the new one; detach it
    umount(".")
    os.chdir("/")
    mount(None, "/", None, MS_REMOUNT | MS_BIND | MS_RDONLY)


def host_read_only(under_tmp: bool) -> list[str]:
    """The interpreter's installation and its environment's packages (boto3 …), shown read-only at
    their own paths (a forked runtime has already imported from there), and the Java runtime's build;
    those under /tmp, or not."""
    paths = sorted({str(Path(path).resolve()) for path in (sys.base_prefix, sys.prefix)} | set(runtime_host_paths()))
    return [path for path in paths if path.startswith("/tmp/") == under_tmp]


def _bind(source: str, target: str, flags: int) -> None:
    if os.path.isdir(source):
        os.makedirs(target, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(target), exist_ok=True)
        Path(target).touch()
    mount(source, target, None, MS_BIND | MS_REC)
    mount(None, target, None, MS_REMOUNT | MS_BIND | flags)


def _mirror(path: str, new_root: str) -> None:
    """Merged-/usr hosts have /bin -> usr/bin: copy the link; otherwise bind the directory read-only."""
    if os.path.islink(path):
        os.symlink(os.readlink(path), new_root + path)
    elif os.path.isdir(path):
        _bind(path, new_root + path, _READ_ONLY)


def _make_dev(dev: str) -> None:
    os.makedirs(dev)
    for name in DEVICES:
        if os.path.exists(f"/dev/{name}"):
            _bind(f"/dev/{name}", f"{dev}/{name}", MS_NOSUID)
    for name, target in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"),
                         ("stdout", "/proc/self/fd/1"), ("stderr", "/proc/self/fd/2")):
        os.symlink(target, f"{dev}/{name}")
    os.makedirs(f"{dev}/shm")
    mount("tmpfs", f"{dev}/shm", "tmpfs", MS_NOSUID | MS_NODEV, "size=64m,mode=1777")
