"""Limits the operating system enforces on a submission's kernel: one cgroup per notebook (v2, or v1).

The cgroup bounds the memory of every process of the kernel, tmpfs pages included (the kernel
charges shared memory to the cgroup of the process that wrote it), and the number of processes and
threads. The grader creates it (`Cgroup`), the kernel's launcher joins it before it starts
bubblewrap (`launcher`), and afterwards the grader reads whether a limit was hit, kills whatever is
left in it and removes it. Where neither a usable cgroup v2 (memory and pids controllers) nor cgroup
v1 hierarchies for memory and pids exist, `Cgroup` raises NoLimits with what a grading server needs.
"""

import os
import secrets
import signal
import time
from pathlib import Path

NEEDS = ("grading needs cgroups to bound memory and processes: cgroup v2 with the memory and pids controllers "
         "delegated to the grading user (as root, nothing to do on a systemd machine; as another user, start the "
         "grader with `systemd-run --user --scope -p Delegate=yes -p DelegateSubgroup=grader ...`), or cgroup v1 "
         "hierarchies for memory and pids writable by the grading user")


class NoLimits(RuntimeError):
    """No cgroup can be created here: grading would be unbounded."""


def mounts():
    """{"cgroup2": [(mount point, mounted root)], "memory": [...], "pids": [...]} from /proc/self/mountinfo."""
    found = {"cgroup2": [], "memory": [], "pids": []}
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        left, _, right = line.partition(" - ")
        fields, tail = left.split(), right.split()
        if len(fields) < 5 or len(tail) < 3:
            continue
        entry = (fields[4], fields[3])
        if tail[0] == "cgroup2":
            found["cgroup2"].append(entry)
        elif tail[0] == "cgroup":
            for controller in ("memory", "pids"):
                if controller in tail[2].split(","):
                    found[controller].append(entry)
    return found


def own_paths():
    """{controller or "": this process's cgroup path} from /proc/self/cgroup ("" is the v2 hierarchy)."""
    paths = {}
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        for controller in controllers.split(",") if controllers else [""]:
            paths[controller] = path
    return paths


def _under(mount, own):
    point, root = mount
    relative = os.path.relpath(own, root) if own.startswith(root) else "."
    return Path(point) / ("" if relative == "." else relative)


def _v2_parent():
    """A cgroup v2 folder whose children get memory and pids controllers, or None.

    Tried in order: this process's cgroup, its parent (a delegated cgroup whose processes live in a
    subgroup, as systemd's DelegateSubgroup= does), and the hierarchy's root (root only).
    """
    own = own_paths().get("")
    for mount in mounts()["cgroup2"]:
        mine = [_under(mount, own), _under(mount, own).parent] if own and own != "/" else []
        for parent in mine + [Path(mount[0])]:
            control = parent / "cgroup.subtree_control"
            try:
                enabled = control.read_text().split()
                if not {"memory", "pids"} <= set(enabled):
                    control.write_text("+memory +pids")
                return parent
            except OSError:
                continue
    return None


class Cgroup:
    """A new cgroup bounding `memory_mb` MB (tmpfs included, no swap) and `pids` processes and threads."""

    def __init__(self, memory_mb, pids):
        name = f"logitlab-grade-{secrets.token_hex(6)}"
        self.memory_mb, self.pids, self.folders = memory_mb, pids, []
        parent = _v2_parent()
        try:
            if parent is not None:
                self.version = 2
                folder = parent / name
                folder.mkdir()
                self.folders = [folder]
                (folder / "memory.max").write_text(str(memory_mb << 20))
                if (folder / "memory.swap.max").exists():
                    (folder / "memory.swap.max").write_text("0")
                (folder / "pids.max").write_text(str(pids))
                return
            self.version = 1
            own, found = own_paths(), mounts()
            if not found["memory"] or not found["pids"]:
                raise NoLimits(f"{NEEDS}; this machine has neither")
            memory = _under(found["memory"][0], own.get("memory", "/")) / name
            tasks = _under(found["pids"][0], own.get("pids", "/")) / name
            for folder in (memory, tasks):
                folder.mkdir()
                self.folders.append(folder)
            (memory / "memory.limit_in_bytes").write_text(str(memory_mb << 20))
            if (memory / "memory.memsw.limit_in_bytes").exists():
                (memory / "memory.memsw.limit_in_bytes").write_text(str(memory_mb << 20))
            (tasks / "pids.max").write_text(str(pids))
        except OSError as err:
            self.remove()
            raise NoLimits(f"{NEEDS} ({err.strerror}: {err.filename})") from None

    def procs_files(self):
        """The cgroup.procs files a process writes its pid into to join this cgroup."""
        return [str(folder / "cgroup.procs") for folder in self.folders]

    def pids_in(self):
        found = set()
        for folder in self.folders:
            try:
                found |= {int(p) for p in (folder / "cgroup.procs").read_text().split()}
            except OSError:
                pass
        return found

    def hit(self):
        """{"memory": bool, "pids": bool}: whether the kernel ran into either limit."""
        def count(path, key):
            try:
                for line in Path(path).read_text().splitlines():
                    name, _, value = line.partition(" ")
                    if name == key:
                        return int(value)
            except (OSError, ValueError):
                pass
            return 0

        memory_folder, pids_folder = self.folders[0], self.folders[-1]
        if self.version == 2:
            memory = count(memory_folder / "memory.events", "oom_kill")
        else:  # the oom_kill line exists from Linux 4.13
            memory = count(memory_folder / "memory.oom_control", "oom_kill")
        return {"memory": memory > 0, "pids": count(pids_folder / "pids.events", "max") > 0}

    def kill(self, wait=5.0):
        """SIGKILL every process left in the cgroup, until it is empty (or `wait` seconds passed)."""
        deadline = time.monotonic() + wait
        while (pids := self.pids_in()) and time.monotonic() < deadline:
            if self.version == 2 and (self.folders[0] / "cgroup.kill").exists():
                try:
                    (self.folders[0] / "cgroup.kill").write_text("1")
                except OSError:
                    pass
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            time.sleep(0.05)

    def remove(self):
        """Kill what is left and delete the cgroup's folders."""
        self.kill()
        for folder in self.folders:
            for _ in range(50):
                try:
                    folder.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.1)


def launcher(procs_files, command):
    """`command`, started by a shell that first moves itself into the cgroup (so everything it starts is bounded)."""
    script = 'while [ "$1" != -- ]; do echo $$ > "$1" || exit 97; shift; done; shift; exec "$@"'
    return ["/bin/sh", "-c", script, "logitlab-launcher", *procs_files, "--", *command]
