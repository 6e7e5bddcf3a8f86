"""The execution side of grading against hostile submissions (issues 16 and 26), with real bubblewrap and kernels.

One class of attack submissions is graded once (module fixture); each test reads one outcome. CI runs
as root, so every move a root-started sandbox used to allow is tried here as root.
"""

import hashlib
import json
import re
import shutil
import subprocess
import sys
import uuid
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

import submissions as bank
from helpers import ROOT, require
from logitlab.exercises import running
from logitlab.exercises.tasks import TASKS
from logitlab.grading import autograde, bwrap, limits, probe, wire
from logitlab.grading import classroom as grading

TIMEOUT = 20  # seconds per cell: these notebooks import no TensorFlow

EXPECTED = {
    ("alice", "01-math-logit"): (4, 4),
    ("rooty", "01-math-logit"): (2, 4),  # wrong logit; every root move refused
    ("hunter", "01-math-logit"): (2, 4),  # wrong logit; looks for the collector, forges the probe's message
    ("tammy", "01-math-logit"): (4, 4),  # fills every tmpfs
    ("theo", "01-math-logit"): (4, 4),  # starts 3,000 threads
    ("deaf", "01-math-logit"): (2, 4),  # a logit cell that ignores interrupts: killed, logit undefined
    ("swallow", "01-math-logit"): (2, 4),  # logit swallows the probe's interrupt: its task only
    ("exiter", "01-math-logit"): (3, 4),  # logit calls os._exit on the hidden case only
    ("loud", "01-math-logit"): (4, 4),  # about 100 MB of printing
    ("dora", "03-softmax"): (2, 4),  # a wrong softmax reached through a default argument
    ("clio", "03-softmax"): (2, 4),  # ... through a closure
    ("alia", "03-softmax"): (2, 4),  # ... through an alias
}


def read_rows(path):
    import csv

    with open(path, newline="") as f:
        return list(csv.reader(f))


def feedback_text(out, student, stem):
    import html

    page = (out / "feedback" / student / f"{stem}.html").read_text(encoding="utf-8")
    return html.unescape(re.sub(r"<[^>]+>", "", page))


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Grade the attack class once, as the user running the tests (root in CI)."""
    require(grading.sandbox_problem() is None, "bubblewrap (apt-get install bubblewrap)")
    folder, out = tmp_path_factory.mktemp("submissions"), tmp_path_factory.mktemp("grades")
    token = f"logitlab-test-{uuid.uuid4().hex}"
    classmate = bank.write(folder, "alice", "01-math-logit", bank.correct("01-math-logit"))
    before = hashlib.sha256(classmate.read_bytes()).hexdigest()
    attacks = {"rooty": bank.as_root(token, classmate, autograde.SETTINGS), "hunter": bank.COLLECTOR_HUNT,
               "tammy": bank.TMPFS_HOG, "theo": bank.THREADS, "deaf": bank.DEAF_CELL, "swallow": bank.DEAF_PROBE,
               "exiter": bank.EXIT_IN_PROBE, "loud": bank.HUNDRED_MEGABYTES}
    for student, code in attacks.items():
        bank.write(folder, student, "01-math-logit", bank.with_answer("01-math-logit", "logit-answer", code))
    for student, code in (("dora", bank.REACHED_BY_DEFAULT), ("clio", bank.REACHED_BY_CLOSURE),
                          ("alia", bank.REACHED_BY_ALIAS)):
        bank.write(folder, student, "03-softmax", bank.submission(
            "03-softmax", {"softmax-answer": bank.AXIS0_SOFTMAX, "temperature-answer": code}))
    result = subprocess.run([sys.executable, "-m", "logitlab", "grade", str(folder), "--out", str(out),
                             "--timeout", str(TIMEOUT)], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-3000:]
    reasons = {(r[0], r[1]): r[2] for r in read_rows(out / "problems.csv")[1:]}
    handed_in = {(nb.parent.name, nb.stem) for nb in folder.glob("*/*.ipynb")}
    return SimpleNamespace(folder=folder, out=out, token=token, classmate=classmate, before=before, reasons=reasons,
                           handed_in=handed_in)


def test_every_attack_earns_only_what_its_answers_earn(graded):
    """What each handed-in notebook earns (an exercise a student did not hand in is a 0 row, the class tests')."""
    rows = read_rows(graded.out / "grades.csv")[1:]
    assert {(r[0], r[1]): (float(r[2]), float(r[3])) for r in rows if (r[0], r[1]) in graded.handed_in} == {
        key: (float(a), float(b)) for key, (a, b) in EXPECTED.items()}
    assert all(float(r[2]) == 0 for r in rows if (r[0], r[1]) not in graded.handed_in)


def test_root_inside_the_sandbox_has_no_power(graded):
    """Issue 26.1: uid 65534, no capabilities, no_new_privs; umount, remount, mount, chroot, setuid all refused."""
    rooty = feedback_text(graded.out, "rooty", "01-math-logit")
    assert "identity: 65534 65534 ['0000000000000000', '1']" in rooty
    for move in ("umount /tmp", "umount /proc", "remount / rw", "mount a new /", "chroot", "setuid 0"):
        assert f"{move}: refused" in rooty, move
    assert ": DONE" not in rooty
    # Only its own /tmp (a tmpfs of the sandbox) takes the write; the host, the course, a classmate and /root do not.
    assert f"wrote /tmp/escape-{graded.token}" in rooty and rooty.count("wrote /") == 1
    assert rooty.count("write refused: ") == 4


def test_nothing_outside_changed(graded):
    """No file on the host, the classmate's submission unchanged and still 4 / 4, no seed or gradebook visible."""
    for place in (Path("/tmp"), Path("/work"), ROOT, Path("/root")):
        assert not (place / f"escape-{graded.token}").exists(), place
    assert hashlib.sha256(graded.classmate.read_bytes()).hexdigest() == graded.before
    assert "seed or gradebook found: []" in feedback_text(graded.out, "rooty", "01-math-logit")


def test_hidden_means_absent(graded):
    """Issue 16.2: only the logitlab package of the course, no .git, solutions/ or tests/, nothing of the run."""
    rooty = feedback_text(graded.out, "rooty", "01-math-logit")
    assert "course folder: ['.venv', 'logitlab']" in rooty or "course folder: ['logitlab']" in rooty
    assert "hidden present: []" in rooty and f"course's parent folder: ['{ROOT.name}']" in rooty
    shown = set(json.loads(re.search(r"root folder: (\[.*?\])", rooty)[1].replace("'", '"')))
    system = {"bin", "dev", "etc", "lib", "lib32", "lib64", "libx32", "proc", "sbin", "tmp", "usr"}
    assert shown - system <= {Path(p).parts[1] for p in bwrap.python_folders()}, shown - system


def test_the_collector_is_out_of_the_kernels_sight(graded):
    """Issue 16.1: no collector in /proc, nothing to write to or trace; forged probe messages and ticks earn nothing."""
    hunter = feedback_text(graded.out, "hunter", "01-math-logit")
    assert "collectors seen: []" in hunter
    processes = int(re.search(r"processes seen: (\d+)", hunter)[1])
    assert processes == 2  # bubblewrap's init and the kernel itself
    assert hunter.count("the grader got no values back from logit on its inputs") == 2
    assert ("hunter", "01-math-logit") not in graded.reasons  # writing into or tracing bwrap's init: no effect


def test_tmpfs_folders_are_bounded(graded):
    """Issue 16.4: /tmp (home and scratch) and /dev/shm fill up at their size, long before memory or disk runs out."""
    tammy = feedback_text(graded.out, "tammy", "01-math-logit")
    written = json.loads(re.search(r"MB written: (\{.*?\})", tammy)[1].replace("'", '"'))
    assert set(written) == {"/tmp", "/dev/shm", "/tmp/work", "/tmp/home"}
    assert all(0 < mb <= autograde.TMP_MB for mb in written.values()), written
    assert tammy.count("full: OSError") == 4


def test_threads_are_bounded_with_a_reason(graded):
    """Issue 26.5: 3,000 threads meet the cgroup's pids limit; the row says so, the answers still count."""
    theo = feedback_text(graded.out, "theo", "01-math-logit")
    started = int(re.search(r"threads started: (\d+)", theo)[1])
    assert 0 < started < autograde.MAX_PIDS and "threads refused: can't start new thread" in theo
    assert graded.reasons["theo", "01-math-logit"] == (
        f"it tried to run more than {autograde.MAX_PIDS} processes or threads at once and was refused")


def test_a_cell_that_ignores_interrupts_is_killed_and_the_kernel_restarted(graded):
    reason = graded.reasons["deaf", "01-math-logit"]
    assert reason.startswith("cell 4 (logit-answer) ignored the interrupt at the time limit: its kernel was killed")
    assert f"1 cell(s) ran longer than {TIMEOUT} s" in reason
    assert "✓ sigmoid:" in feedback_text(graded.out, "deaf", "01-math-logit")


def test_a_probe_that_swallows_its_interrupt_costs_its_task_only(graded):
    timed_out = (f"the probe of task logit timed out (logit ran longer than {TIMEOUT} s): "
                 "that task earns nothing, the next ones went on")
    assert graded.reasons["swallow", "01-math-logit"] == timed_out  # both logit checks, said once


def test_a_kernel_that_dies_in_one_task_costs_that_task_only(graded):
    assert graded.reasons["exiter", "01-math-logit"] == (
        "the kernel died during task logit (logit): that task earns nothing, the next ones went on")


def test_long_output_is_cut_not_fatal(graded):
    loud = feedback_text(graded.out, "loud", "01-math-logit")
    assert wire.CUT in loud and (graded.out / "feedback" / "loud" / "01-math-logit.html").stat().st_size < 500_000
    assert "were cut" in graded.reasons["loud", "01-math-logit"]


@pytest.mark.parametrize("student", ["dora", "clio", "alia"])
def test_a_wrong_function_reached_indirectly_costs_only_its_task(graded, student):
    page = feedback_text(graded.out, student, "03-softmax")
    assert page.count("judged with the reference softmax: yours is wrong, and only its own task loses points") == 2


def test_only_the_listed_students_have_problems(graded):
    students = ("theo", "deaf", "swallow", "exiter", "loud")
    assert {key for key in graded.reasons if key in graded.handed_in} == {(s, "01-math-logit") for s in students}


# ---------------------------------------------------------------- the pieces, without a grading run


def test_rebinding_reaches_defaults_closures_and_aliases_and_is_undone():
    def wrong(x):
        return -x

    alias = wrong

    def by_default(x, f=wrong):
        return f(x)

    def by_closure(x):
        return alias(x)

    def reference(x):
        return x

    with probe.rebound({"wrong": wrong}, {"wrong": reference}, by_default):
        assert (by_default(2), by_closure(3), alias(4)) == (2, 3, 4)
    assert (by_default(2), by_closure(3), wrong.__code__.co_name) == (-2, -3, "wrong")


def test_the_sandbox_command_shows_no_repository():
    args = bwrap.kernel_command("/x/03-softmax.ipynb", "/tmp/ipc", 64)
    shown = {args[i + 2] for i, a in enumerate(args) if a in ("--ro-bind", "--bind")}
    assert str(ROOT) not in shown and str(ROOT / "logitlab") in shown
    assert not any(p.startswith(str(ROOT / "solutions")) or ".git" in p for p in shown)
    assert {"--unshare-all", "--unshare-user", "--disable-userns", "--die-with-parent"} <= set(args)
    assert args[args.index("--uid") + 1] == "65534" and args[args.index("--cap-drop") + 1] == "ALL"


def test_a_course_under_tmp_leaves_nothing_writable_beside_it(tmp_path):
    """A course checked out in a temporary folder is bound inside the sandbox's own /tmp: the folders above its
    package, which bwrap has to make there, are read-only; /tmp itself stays the submission's scratch."""
    require(shutil.which("bwrap"), "bubblewrap (apt-get install bubblewrap)")
    package = tmp_path / "course" / "logitlab"
    package.mkdir(parents=True)
    binds, read_only = bwrap.folder_binds([package])
    assert str(tmp_path).startswith("/tmp/") and read_only, read_only
    tries = " ".join(str(p) for p in (package, package.parent, tmp_path, Path("/tmp")))
    script = f"for p in {tries}; do if touch $p/escape 2>/dev/null; then echo wrote $p; else echo refused $p; fi; done"
    sandbox = ["bwrap", "--unshare-all", "--unshare-user", "--uid", "65534", "--gid", "65534", "--die-with-parent",
               *bwrap.system_binds(), "--dev", "/dev", "--perms", "1777", "--tmpfs", "/tmp", *binds,
               "--remount-ro", "/", *read_only, "sh", "-c", script]
    result = subprocess.run(sandbox, capture_output=True, text=True, timeout=60)
    assert result.stdout.split("\n")[:4] == [f"refused {package}", f"refused {package.parent}", f"refused {tmp_path}",
                                              "wrote /tmp"], result.stdout + result.stderr
    assert not list(tmp_path.rglob("escape")), "nothing is written on the host"


def test_a_cgroup_bounds_memory_and_processes():
    """This machine's cgroups (v1 here, v2 on Debian/Ubuntu servers) accept both limits; they go away after use."""
    group = limits.Cgroup(256, 32)
    try:
        assert group.procs_files() and all(Path(p).exists() for p in group.procs_files())
        proc = subprocess.run(limits.launcher(group.procs_files(), [
            sys.executable, "-c", "import threading, time\nn = 0\ntry:\n    for _ in range(100):\n"
            "        threading.Thread(target=time.sleep, args=(5,), daemon=True).start(); n += 1\n"
            "except RuntimeError:\n    pass\nprint(n)"]), capture_output=True, text=True, timeout=120)
        assert 0 < int(proc.stdout) < 32
        assert group.hit() == {"memory": False, "pids": True}
    finally:
        group.remove()
    assert not any(Path(p).parent.exists() for p in group.procs_files())


def test_no_cgroup_is_a_clear_refusal(monkeypatch):
    monkeypatch.setattr(limits, "mounts", lambda: {"cgroup2": [], "memory": [], "pids": []})
    with pytest.raises(limits.NoLimits, match="grading needs cgroups to bound memory and processes"):
        limits.Cgroup(256, 32)


GOOD = {"version": 2, "cells": {"1": {"outputs": [], "execution_count": 1}}, "timeouts": [],
        "problems": [{"kind": "probe_timeout", "cell": None, "probe": 0}],
        "probes": [[wire.encode(np.array([[0.5, 0.5]]))]]}


def report(**changes):
    return json.dumps({**GOOD, **changes})


def test_a_well_formed_report_is_read_back():
    outputs, timeouts, values, problems = wire.decode_result(report(), {1}, 1)
    assert list(outputs) == [1] and timeouts == [] and problems == GOOD["problems"]
    assert np.array_equal(values[0][0], [[0.5, 0.5]]) and values[0][0].dtype == np.float64


@pytest.mark.parametrize("changes, words", [
    ({"probes": [[{"array": {"dtype": "object", "shape": [1], "data": ""}}]]}, "expected numbers"),
    ({"probes": [[{"array": {"dtype": "float64", "shape": [2000, 2000], "data": ""}}]]}, "at most"),
    ({"probes": [[{"array": {"dtype": "float64", "shape": [3], "data": "AAAAAAAA8D8="}}]]}, "does not match"),
    # 8 sizes of 2**19 multiply to 2**152, which int64 arithmetic wraps to 0: the empty data must not pass.
    ({"probes": [[{"array": {"dtype": "float64", "shape": [2 ** 19] * 8, "data": ""}}]]}, "at most"),
    ({"probes": [[{"array": {"dtype": ["float64"], "shape": [1], "data": "AAAAAAAA8D8="}}]]}, "expected numbers"),
    ({"probes": [[{"verdict": "pass"}]]}, "not in the expected format"),
    ({"probes": [[{"float": "nan"}], [{"float": "1.0"}]]}, "one entry per check"),
    ({"cells": {"5": {"outputs": [], "execution_count": 1}}}, "not run"),
    ({"cells": {"1": {"outputs": [{"output_type": "bogus"}], "execution_count": 1}}}, "not valid notebook outputs"),
    ({"problems": [{"kind": "score=4", "cell": None, "probe": None}]}, "unknown problem"),
    ({"problems": [{"kind": "probe_died", "cell": None, "probe": 7}]}, "unknown problem"),
    ({"score": 4}, "expected fields"),
])
def test_a_malformed_report_is_rejected(changes, words):
    with pytest.raises(wire.BadData, match=words):
        wire.decode_result(report(**changes), {1}, 1)
    with pytest.raises(wire.BadData, match="not allowed"):
        wire.decode_result(report().replace("[]", "[NaN]", 1), {1}, 1)


def test_verdicts_are_judged_by_the_grader():
    """The grader turns returned values into verdicts itself: right values pass, a forged verdict is a wrong value."""
    task = TASKS["softmax"]
    cases = task.selected(False)
    right = [running.to_data(task.reference(*case.args)) for case in cases]
    assert autograde.verdict(task, cases, right, "softmax", set())["output_type"] == "stream"
    forged = [{"str": "✓ softmax"}, "pass"]
    assert autograde.verdict(task, cases, forged, "softmax", set())["ename"] == "CheckFailed"
    assert autograde.verdict(task, cases, None, "softmax", set())["ename"] == "CheckFailed"


def test_the_collector_is_not_dumpable():
    """PR_GET_DUMPABLE (3) asked in a process after child.not_dumpable(): 0, so no same-uid ptrace, no core dump."""
    code = ("import ctypes; from logitlab.grading import child; child.not_dumpable(); "
            "print(ctypes.CDLL(None).prctl(3, 0, 0, 0, 0))")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT).stdout == "0\n"


def test_a_cgroup_counts_what_is_written_to_a_tmpfs():
    """Issue 16.4: 400 MB written into a tmpfs (unbounded by size) under a 128 MB cgroup: killed, reported as memory."""
    group = limits.Cgroup(128, 32)
    try:
        fill = ["bwrap", "--ro-bind", "/", "/", "--dev", "/dev", "--tmpfs", "/tmp", "--unshare-all",
                "--die-with-parent", "sh", "-c", "head -c 400000000 /dev/zero > /tmp/fill"]
        proc = subprocess.run(limits.launcher(group.procs_files(), fill), capture_output=True, timeout=120)
        assert proc.returncode != 0 and group.hit()["memory"]
    finally:
        group.remove()
