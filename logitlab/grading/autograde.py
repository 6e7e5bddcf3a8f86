"""Autograding one student's notebooks: nbgrader's `autograde`, with the submission's code sandboxed.

`python -m logitlab.grading.autograde COURSE FD` (one student after another in one warm process: `serve`,
started by `warm.py`) runs in the grader's own (trusted) process tree and never runs a submission's code itself.
It is nbgrader's Autograde converter
(check cells restored from the source, scores into the gradebook; the feedback page is built
afterwards by `logitlab.grading.feedback`), with one step changed: nbgrader's `Execute` is replaced
by `SandboxedExecute`, which

1. creates a cgroup bounding the kernel's memory (tmpfs included) and processes (`limits`);
2. starts the collector `logitlab.grading.child` (trusted, outside the sandbox), which runs the
   notebook in a kernel inside bubblewrap (`bwrap`) and calls the learner's functions on the
   grader's inputs (each check cell's cases, plus cases drawn from a secret per-run seed);
3. accepts the collector's report only if the collector ended normally, validates it strictly
   (`wire.decode_result`), judges the returned values here with `judging.judge` and writes each
   verdict into its check cell: a tick line, or an error that nbgrader's SaveAutoGrades scores 0.

Each notebook's status file (WORK/STUDENT/NOTEBOOK/status.json, `read_status`) holds
{"problem": all problems in one sentence or None, "problems": [one sentence each],
"timeouts": cells stopped at the per-cell timeout, "unsandboxed": bool, "verdicts": [each check's
`verdicts.record`]}.
"""

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from pathlib import Path

import numpy as np
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Bool, Integer, List, Unicode

from logitlab.exercises import judging
from logitlab.exercises.cells import read_check_cell
from logitlab.exercises.format import CheckFailed
from logitlab.exercises.tasks import TASKS
from logitlab import i18n
from logitlab.grading import limits, verdicts, wire
from logitlab.i18n import _

ASSIGNMENT = "logits-lab"
COURSE_ID = "logits-lab"
SETTINGS = "logitlab-settings.json"  # in the course folder, out of the sandbox's sight
MAX_OUTPUT_CHARS, CUT = wire.MAX_OUTPUT_CHARS, wire.CUT
MAX_REPORT_BYTES = 64 * 2 ** 20
MAX_LOG_BYTES = 2 ** 20  # of the collector's and the kernel's own output, per notebook; the rest is dropped
MAX_PIDS = 512  # processes and threads of one kernel (TensorFlow starts a few dozen)
TMP_MB = 256  # size of each of the sandbox's tmpfs folders (/tmp, /dev/shm); they count as memory too


class LimitOutputSize(NbGraderPreprocessor):
    """Cut any output longer than MAX_OUTPUT_CHARS (megabytes of print)."""

    def preprocess_cell(self, cell, resources, index):
        for out in cell.get("outputs", []):
            if isinstance(out.get("text"), str) and len(out["text"]) > MAX_OUTPUT_CHARS:
                out["text"] = out["text"][:MAX_OUTPUT_CHARS] + "\n" + CUT
            for key, value in out.get("data", {}).items():
                if isinstance(value, str) and len(value) > MAX_OUTPUT_CHARS:
                    out["data"][key] = value[:MAX_OUTPUT_CHARS] + "\n" + CUT
        return cell, resources


# ---------------------------------------------------------------- running one notebook in the sandbox


def tree_rss(proc):
    """Resident memory in bytes of a process and all its descendants (psutil), and their Process objects."""
    import psutil

    try:
        root = psutil.Process(proc.pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0, []
    total = 0
    for p in procs:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            pass
    return total, procs


def kill_tree(procs, wait=2.0):
    """SIGKILL every process in `procs` (psutil Process objects) that still runs, and wait up to `wait` s for each
    to be gone or a zombie (a kill is delivered asynchronously: right after it a process may still show as running).

    Not `psutil.wait_procs`: it waits until a process is reaped, and these are the kernel's and the collector's
    descendants, which only their own parents reap (a zombie counts as gone here: it holds no memory)."""
    import psutil

    for p in procs:
        try:
            p.kill()
        except psutil.Error:
            pass
    deadline = time.monotonic() + wait
    for p in procs:
        while time.monotonic() < deadline:
            try:
                if p.status() == psutil.STATUS_ZOMBIE:
                    break
            except psutil.Error:
                break
            time.sleep(0.01)


def _drain(stream, path, limit):
    """Copy `stream` into the file `path`, at most `limit` bytes; read and drop the rest."""
    with open(path, "wb") as log:
        written = 0
        while chunk := stream.read(1 << 16):
            if written < limit:
                log.write(chunk[:limit - written])
                written += len(chunk)
        if written >= limit:
            log.write(b"\n... log cut ...\n")


def run_child(job, memory_mb, budget, use_sandbox=True):
    """Run the collector on `job` (a dict, written beside its log); return (report text or None, [problems]).

    The kernel runs in a new cgroup of `memory_mb` MB and MAX_PIDS processes; the collector itself is
    killed past `budget` seconds. A report counts only from a collector that exited with 0.
    """
    path = Path(job["notebook_file"]).parent.parent / "job.json"
    try:
        cgroup = limits.Cgroup(memory_mb, MAX_PIDS)
    except limits.NoLimits as err:
        if use_sandbox:
            return None, [f"not graded: {err}"]
        cgroup = None
    job = {**job, "cgroup": cgroup.procs_files() if cgroup else [], "tmp_mb": TMP_MB, "budget": budget,
           "ipc_parent": tempfile.gettempdir(), "sandbox": use_sandbox}
    path.write_text(json.dumps(job), encoding="utf-8")
    read_end, write_end = os.pipe()
    proc = subprocess.Popen([sys.executable, "-m", "logitlab.grading.child", str(path), str(write_end)],
                            pass_fds=(write_end,), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True)
    os.close(write_end)
    chunks, size = [], [0]

    def read():
        with os.fdopen(read_end, "rb") as pipe:
            while chunk := pipe.read(1 << 16):
                size[0] += len(chunk)
                if size[0] <= MAX_REPORT_BYTES:
                    chunks.append(chunk)

    threads = [threading.Thread(target=read, daemon=True),
               threading.Thread(target=_drain, args=(proc.stdout, path.with_suffix(".log"), MAX_LOG_BYTES),
                                daemon=True)]
    for thread in threads:
        thread.start()
    problems = []
    try:
        proc.wait(timeout=budget + 60)
    except subprocess.TimeoutExpired:
        problems.append(f"grading it took longer than {budget:.0f} s and was stopped")
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    if cgroup:
        hit = cgroup.hit()
        cgroup.remove()
        if hit["memory"]:
            problems.append(f"it used more than {memory_mb} MB of memory and was stopped (see --memory)")
        if hit["pids"]:
            problems.append(f"it tried to run more than {MAX_PIDS} processes or threads at once and was refused")
    for thread in threads:
        thread.join(timeout=10)
    if size[0] > MAX_REPORT_BYTES:
        problems.append(f"its report was larger than {MAX_REPORT_BYTES >> 20} MB")
        return None, problems
    if proc.returncode != 0:
        problems.append(f"the grading child failed (exit status {proc.returncode}); see {path.with_suffix('.log')}")
        return None, problems
    return b"".join(chunks).decode("utf-8", errors="replace"), problems


# ---------------------------------------------------------------- the verdicts


def check_cells(nb):
    """[(cell index, task key, function name, hidden)] for every code check cell of a (restored) notebook."""
    found = []
    for index, cell in enumerate(nb.cells):
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.cell_type == "code" and meta.get("grade"):
            found.append((index, *read_check_cell(cell.source)))
    return found


def grader_cases(task, hidden, rng):
    """The cases a check cell is judged on when grading: its fixed ones and fresh ones from `rng`."""
    fresh = [case for case in task.fresh(rng) if case.hidden == hidden] if task.fresh else []
    return task.selected(hidden) + fresh


def failure_output(err):
    """A check cell's output for a failed verdict: an error nbgrader scores 0, shown like the instant check."""
    return {"output_type": "error", "ename": type(err).__name__, "evalue": str(err),
            "traceback": err._render_traceback_()}


def verdict(task, cases, values, function, failed):
    """The output of one check cell: judge every value here, with the reference numerics."""
    if values is None or len(values) != len(cases):
        return failure_output(CheckFailed(
            _("the grader got no values back from {function} on its inputs: the call ran out of time, "
              "crashed the kernel, or its output imitated the grader's channel.").format(function=function)))
    differences = []
    try:
        for case, got in zip(cases, values, strict=True):
            differences.append(judging.judge(task, case, got, function))
    except CheckFailed as err:
        return failure_output(err)
    passed = task.passed[1] if cases and cases[0].hidden else task.passed[0]
    line = f"✓ {function}: {_(passed)}{judging.closeness(differences)}"
    blamed = sorted(TASKS[key].function for key in task.uses if key in failed)
    if blamed:
        line += "\n  " + _("(judged with the reference {functions}: yours is wrong, and only its own task loses "
                          "points)").format(functions=", ".join(blamed))
    return {"output_type": "stream", "name": "stdout", "text": f"{line}\n"}


class SandboxedExecute(NbGraderPreprocessor):
    """nbgrader's Execute step, replaced: run the notebook in the sandbox, judge its values here."""

    timeout = Integer(30, help="seconds each cell (and each check's calls) may run").tag(config=True)
    memory = Integer(2048, help="MB of memory (tmpfs included) a submission may use").tag(config=True)
    sandbox = Bool(True, help="run submissions in bubblewrap").tag(config=True)
    hidden = List(Unicode(), help="unused: the sandbox shows only what a notebook needs").tag(config=True)
    seed = Integer(0, help="secret seed of this grading run's fresh cases").tag(config=True)
    work = Unicode(help="folder for scratch copies, status files and logs").tag(config=True)

    def preprocess(self, nb, resources):
        import nbformat

        from logitlab.exercises.tasks import TASKS

        student, stem = resources["nbgrader"]["student"], resources["nbgrader"]["notebook"]
        rng = np.random.default_rng([self.seed, zlib.crc32(student.encode()), zlib.crc32(stem.encode())])
        cells = check_cells(nb)
        planned = [(index, TASKS[key], function, grader_cases(TASKS[key], hidden, rng))
                   for index, key, function, hidden in cells]
        run = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and i not in {p[0] for p in planned}]
        work = Path(self.work) / student / stem
        scratch = work / "scratch"
        scratch.mkdir(parents=True, exist_ok=True)
        notebook = scratch / f"{stem}.ipynb"
        notebook.write_text(json.dumps(nb), encoding="utf-8")  # its private copy, shown read-only in the sandbox
        job = {"notebook_file": str(notebook), "timeout": self.timeout, "startup": max(60, 2 * self.timeout),
               "cells": {str(i): nb.cells[i].source for i in run},
               "probes": [{"task": t.key, "function": function, "cases": [wire.encode(c.args)["list"] for c in cases]}
                          for _, t, function, cases in planned]}
        text, problems = run_child(job, self.memory, self.budget(stem, len(planned)), self.sandbox)
        outputs, timeouts, values, fatal = {}, [], [None] * len(planned), text is None
        if text is not None:
            try:
                outputs, timeouts, values, found = wire.decode_result(text, set(run), len(planned))
                problems = [self.describe(p, nb, planned) for p in found] + problems
            except wire.BadData as err:
                problems.append(f"the grading child's report was rejected ({err})")
                fatal = True
        for index, cell in outputs.items():
            nb.cells[index].outputs = nbformat.from_dict(cell.outputs)
            nb.cells[index].execution_count = cell.execution_count
        failed, records = set(), []
        # The verdicts speak the submission's language: a notebook of the Chinese edition says "zh-CN".
        with i18n.language(i18n.notebook_language(nb)):
            for (index, task, function, cases), got, (*_unused, hidden) in zip(planned, values, cells, strict=True):
                if fatal:
                    out = failure_output(CheckFailed(_("not graded: {problems}.").format(problems="; ".join(problems))))
                else:
                    out = verdict(task, cases, got, function, failed)
                if out["output_type"] == "error":
                    failed.add(task.key)
                nb.cells[index].outputs = [nbformat.from_dict(out)]
                grade_id = nb.cells[index].get("metadata", {}).get("nbgrader", {}).get("grade_id")
                records.append(verdicts.record(grade_id, task, function, hidden, cases, None if fatal else got,
                                               out["output_type"] != "error"))
        problems = list(dict.fromkeys(problems))
        status = {"problem": "; ".join(problems) or None, "problems": problems, "timeouts": len(timeouts),
                  "unsandboxed": not self.sandbox, "verdicts": records}
        (work / "status.json").write_text(json.dumps(status), encoding="utf-8")
        return nb, resources

    def budget(self, stem, checks):
        """Seconds one notebook may take in all, from the exercise as given (never from the student's cells)."""
        source = Path(self.work).parent / "source" / ASSIGNMENT / f"{stem}.ipynb"
        try:
            cells = sum(1 for c in json.loads(source.read_text(encoding="utf-8"))["cells"] if c["cell_type"] == "code")
        except (OSError, ValueError, KeyError):
            cells = checks
        return 60 + (cells + checks) * 2 * self.timeout

    def describe(self, problem, nb, planned):
        """One sentence for a problem the collector reported, naming the cell or the task."""
        if problem["probe"] is not None:
            _, task, function, _ = planned[problem["probe"]]
            if problem["kind"] == "probe_died":
                return (f"the kernel died during task {task.key} ({function}): "
                        "that task earns nothing, the next ones went on")
            return (f"the probe of task {task.key} timed out ({function} ran longer than {self.timeout} s): "
                    "that task earns nothing, the next ones went on")
        if problem["kind"] == "budget":
            return "the notebook ran out of its time budget: the remaining checks were not run"
        cell = problem["cell"]
        grade_id = nb.cells[cell].get("metadata", {}).get("nbgrader", {}).get("grade_id")
        where = f"cell {cell}" + (f" ({grade_id})" if grade_id else "")
        if problem["kind"] == "cell_died":
            return f"the kernel died while running {where} (exit(), os._exit() or too much memory?): it was restarted"
        return f"{where} ignored the interrupt at the time limit: its kernel was killed and restarted"


def read_status(work, student, stem):
    """What SandboxedExecute recorded about one notebook, or None if it never got that far."""
    path = Path(work) / student / stem / "status.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


# ---------------------------------------------------------------- the per-student process


def course_config(root):
    """The nbgrader settings every step of a grading course shares (generate_assignment, autograde): its folder and
    course id. Passed to nbgrader's converters in this process; no nbgrader_config.py is read."""
    from traitlets.config import Config

    c = Config()
    c.CourseDirectory.root = str(root)
    c.CourseDirectory.course_id = COURSE_ID
    return c


def config(root):
    """nbgrader configuration of a grading run: the course folder's settings, nbgrader's own steps with ours."""
    from nbgrader.converters import Autograde
    from nbgrader.preprocessors import Execute, LimitOutput

    settings = json.loads((Path(root) / SETTINGS).read_text(encoding="utf-8"))
    c = course_config(root)
    c.LimitOutput.max_lines = 200
    # A deleted check cell is put back from the source (and so are edited ones, by checksum).
    c.OverwriteCells.add_missing_cells = True
    steps = Autograde.class_traits()["autograde_preprocessors"].make_dynamic_default()
    steps = [SandboxedExecute if step is Execute else step for step in steps]
    steps.insert(steps.index(LimitOutput) + 1, LimitOutputSize)
    c.Autograde.autograde_preprocessors = steps
    for name, value in settings.items():
        setattr(c.SandboxedExecute, name, value)
    return c


def ask_alembic_in_process():
    """nbgrader learns the version of a new gradebook by running the `alembic heads` command, 3.2 s of CPU for a
    constant of the installed nbgrader, once per course of every grading run: ask alembic's Python API (0.3 s)."""
    from alembic.config import Config as AlembicConfig
    from alembic.script import ScriptDirectory
    from nbgrader import api

    def alembic_version():
        with api._temp_alembic_ini("sqlite:////tmp/gradebook.db") as ini:  # what nbgrader's own version passes
            return ScriptDirectory.from_config(AlembicConfig(ini)).get_current_head()

    api.get_alembic_version = alembic_version


def generate_assignment(root):
    """nbgrader's generate_assignment over the course's sources (the solutions), in this process: its gradebook,
    release/ and the check cells' checksums. Raises RuntimeError with nbgrader's log when it fails."""
    from nbgrader.converters import GenerateAssignment
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.utils import capture_log

    ask_alembic_in_process()
    c = course_config(root)
    coursedir = CourseDirectory(config=c, root=str(root), assignment_id=ASSIGNMENT)
    generate = GenerateAssignment(coursedir=coursedir, config=c)
    generate.force = True
    result = capture_log(generate)
    if not result["success"]:
        raise RuntimeError("nbgrader generate_assignment failed on the solutions:\n"
                           + (result.get("log", "") + result.get("error", ""))[-3000:])


def autograde_student(root, student, *notebooks):
    """Autograde each notebook of one student (each on its own)."""
    from nbgrader.converters import Autograde
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.utils import capture_log

    cfg = config(root)
    for notebook in notebooks:
        coursedir = CourseDirectory(config=cfg, root=root, assignment_id=ASSIGNMENT, student_id=student,
                                    notebook_id=notebook)
        autograde = Autograde(coursedir=coursedir, config=cfg)
        autograde.force, autograde.create_student = True, True
        result = capture_log(autograde)
        print(result.get("log", ""), result.get("error", ""), flush=True)
        # Feedback pages are built by the grader from the autograded notebook (logitlab/grading/feedback.py),
        # not by nbgrader's GenerateFeedback, whose template copies a submission's HTML and script into the page.
    return 0


def serve(root, reply_fd):
    """Autograde job after job in this one process (nbgrader imported once per grading worker).

    Each line on stdin is a JSON job {"student": id, "notebooks": [stem, ...], "end": marker}, graded by
    `autograde_student`; after each, the marker ends the job's log on stdout (nbgrader's log) and a line "done"
    goes to the file descriptor `reply_fd` (`warm.WarmAutograde` is the other end).
    """
    with os.fdopen(int(reply_fd), "w") as replies:
        for line in sys.stdin:
            job = json.loads(line)
            autograde_student(root, job["student"], *job["notebooks"])
            print(job["end"], flush=True)
            replies.write("done\n")
            replies.flush()
    return 0


if __name__ == "__main__":
    sys.exit(serve(*sys.argv[1:]))
