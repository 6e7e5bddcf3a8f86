"""The bubblewrap command that runs a submission's kernel, and the environment it gets.

The kernel sees a file system built from nothing: the system's programs and libraries read-only,
a few files of /etc, Python and the course's virtual environment read-only, the `logitlab` package
read-only (not the repository: no .git, no solutions/, no tests/), its own notebook read-only in
`/tmp/work`, and size-bounded tmpfs folders for /tmp (home and scratch) and /dev/shm. It runs in
new user, PID, network, IPC, UTS and cgroup namespaces as uid/gid 65534 with no capabilities and
no_new_privs (bubblewrap always sets it), so whoever starts the grader, root included, the
submission's processes cannot remount, unmount, ptrace, see or signal anything outside.
"""

import os
import sys
from pathlib import Path

import logitlab

SANDBOX_UID = 65534  # "nobody" inside the sandbox
ETC = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "passwd", "group", "nsswitch.conf", "hosts",
       "alternatives", "ssl", "mime.types", "fonts")
WORK = "/tmp/work"
HOME = "/tmp/home"
SCRATCH = (Path("/tmp"), Path("/dev/shm"))  # the sandbox's own writable tmpfs


def system_binds():
    """bwrap arguments for the system's programs and libraries (merged-/usr symlinks kept as symlinks)."""
    args = ["--ro-bind", "/usr", "/usr"]
    for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        path = Path("/") / name
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            args += ["--ro-bind", str(path), str(path)]
    for name in ETC:
        if (Path("/etc") / name).exists():
            args += ["--ro-bind", f"/etc/{name}", f"/etc/{name}"]
    return args


def python_folders():
    """Folders Python and the course package need, each shown once (the outermost of nested ones)."""
    package = Path(logitlab.__file__).resolve().parent
    folders = {Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve(), package}
    return sorted(p for p in folders if not any(q != p and q in p.parents for q in folders))


def folder_binds(folders):
    """bwrap arguments that show `folders` read-only at their own paths, and the ones to give after every other bind.

    A folder inside the sandbox's own /tmp or /dev/shm (a course checked out in a temporary folder) needs the
    folders above it made in that tmpfs, where the submission could write beside the course; so the top one of
    them gets a tmpfs of its own, made read-only once everything is bound.
    """
    tops = sorted({scratch / folder.relative_to(scratch).parts[0] for folder in folders for scratch in SCRATCH
                   if scratch in folder.parents and folder.parent != scratch})
    binds = [arg for top in tops for arg in ("--tmpfs", str(top))]
    binds += [arg for folder in folders for arg in ("--ro-bind", str(folder), str(folder))]
    return binds, [arg for top in tops for arg in ("--remount-ro", str(top))]


def kernel_command(notebook, ipc, tmp_mb, python=None):
    """The bubblewrap argv that runs an IPython kernel on connection file "{connection_file}" (in `ipc`).

    `notebook` is shown read-only in /tmp/work; `ipc`, the folder of the kernel's sockets and
    connection file, is the only host folder it may write. /tmp and /dev/shm are tmpfs of at
    most `tmp_mb` MB each (and count towards the cgroup's memory).
    """
    args = ["bwrap", "--unshare-all", "--unshare-user", "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID),
            "--disable-userns", "--cap-drop", "ALL", "--die-with-parent", "--new-session",
            "--unsetenv", "JPY_PARENT_PID",  # its parent is outside its PID namespace: ipykernel must not poll for it
            *system_binds(), "--proc", "/proc", "--dev", "/dev",
            "--size", str(tmp_mb << 20), "--perms", "1777", "--tmpfs", "/tmp",
            "--size", str(tmp_mb << 20), "--perms", "1777", "--tmpfs", "/dev/shm"]
    binds, read_only = folder_binds(python_folders())
    args += binds
    args += ["--dir", HOME, "--dir", WORK, "--ro-bind", str(notebook), f"{WORK}/{Path(notebook).name}",
             "--bind", str(ipc), str(ipc), "--remount-ro", "/", *read_only, "--chdir", WORK, "--",
             python or sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    return args


def private_env(home):
    """Environment of the kernel: HOME and Jupyter's folders in `home`, TensorFlow quiet, nothing else of ours."""
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "LC_ALL", "TZ")}
    return {**keep, "HOME": str(home), "IPYTHONDIR": f"{home}/.ipython", "MPLCONFIGDIR": f"{home}/.matplotlib",
            "JUPYTER_RUNTIME_DIR": f"{home}/runtime", "JUPYTER_DATA_DIR": f"{home}/data",
            "PYTHONUNBUFFERED": "1", "PYTHONDONTWRITEBYTECODE": "1", **logitlab.TENSORFLOW_ENV}
