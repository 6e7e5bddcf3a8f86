"""Autograding one student's notebooks: nbgrader's `autograde`, with the submission's code sandboxed.

`python -m logitlab.grading.autograde COURSE STUDENT NOTEBOOK...` runs in the grader's own (trusted)
process tree and never runs a submission's code itself. It is nbgrader's Autograde converter
(check cells restored from the source, scores into the gradebook; the feedback page is built
afterwards by `logitlab.grading.feedback`), with one step changed: nbgrader's `Execute` is replaced
by `SandboxedExecute`, which

1. sends the notebook and the grader's inputs (each check cell's cases, plus cases drawn from a
   secret per-run seed) to `logitlab.grading.sandbox` inside bubblewrap, bounded in CPU time per cell and
   in memory;
2. validates the report that comes back on a private pipe (`sandbox.decode_result`);
3. judges the returned values here with `judging.judge` and writes each verdict into its check cell
   as the cell's output: a tick line, or an error that nbgrader's SaveAutoGrades scores 0.
"""

import json
import os
import signal
import subprocess
import sys
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
from logitlab.grading import sandbox

ASSIGNMENT = "logits-lab"
COURSE_ID = "logits-lab"
SETTINGS = "logitlab-settings.json"  # in the course folder, out of the sandbox's sight
MAX_OUTPUT_CHARS = 20_000
CUT = f"... output cut at {MAX_OUTPUT_CHARS} characters ..."
MAX_REPORT_BYTES = 64 * 2 ** 20


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
    to be gone or a zombie (a kill is delivered asynchronously: right after it a process may still show as running)."""
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


def run_child(job, scratch, hidden, use_sandbox, memory_mb, budget):
    """Run the grading child on `job` (a path); return (report text or None, problem or None).

    The child's report arrives on a pipe it alone was given. Its process tree is polled every
    0.1 s: over `memory_mb` MB of resident memory in all, or past `budget` seconds, it is killed
    and the problem says so. Whatever is left of the tree afterwards is killed too.
    """
    read_end, write_end = os.pipe()
    if use_sandbox:
        cmd, home = sandbox.command(job, scratch, hidden, write_end), "/tmp/home"
    else:
        cmd, home = [sys.executable, "-m", "logitlab.grading.sandbox", str(job), str(write_end)], scratch / ".home"
        home.mkdir(exist_ok=True)
    log = open(Path(job).with_suffix(".log"), "wb")
    proc = subprocess.Popen(cmd, pass_fds=(write_end,), cwd=scratch, env=sandbox.private_env(home),
                            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    os.close(write_end)
    chunks, size = [], [0]

    def read():
        with os.fdopen(read_end, "rb") as pipe:
            while chunk := pipe.read(1 << 16):
                size[0] += len(chunk)
                if size[0] <= MAX_REPORT_BYTES:
                    chunks.append(chunk)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    problem, seen, start = None, {}, time.monotonic()
    while proc.poll() is None:
        rss, procs = tree_rss(proc)
        seen.update({p.pid: p for p in procs})
        if rss > memory_mb * 2 ** 20:
            problem = f"it used more than {memory_mb} MB of memory and was stopped (see --memory)"
        elif time.monotonic() - start > budget:
            problem = f"grading it took longer than {budget:.0f} s and was stopped (a loop that ignores interrupts?)"
        if problem:
            kill_tree(procs)
            break
        time.sleep(0.1)
    kill_tree(list(seen.values()))
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except OSError:
        pass
    proc.wait()
    log.close()
    reader.join(timeout=10)
    if size[0] > MAX_REPORT_BYTES:
        problem = problem or f"its report was larger than {MAX_REPORT_BYTES >> 20} MB"
    return b"".join(chunks).decode("utf-8", errors="replace"), problem


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
            f"the grader got no values back from {function} on its inputs: the call ran out of time, "
            "crashed the kernel, or its output imitated the grader's channel."))
    differences = []
    try:
        for case, got in zip(cases, values, strict=True):
            differences.append(judging.judge(task, case, got, function))
    except CheckFailed as err:
        return failure_output(err)
    passed = task.passed[1] if cases and cases[0].hidden else task.passed[0]
    line = f"✓ {function}: {passed}{judging.closeness(differences)}"
    blamed = sorted(TASKS[key].function for key in task.uses if key in failed)
    if blamed:
        line += (f"\n  (judged with the reference {', '.join(blamed)}: "
                 "yours is wrong, and only its own task loses points)")
    return {"output_type": "stream", "name": "stdout", "text": f"{line}\n"}


class SandboxedExecute(NbGraderPreprocessor):
    """nbgrader's Execute step, replaced: run the notebook in the sandbox, judge its values here."""

    timeout = Integer(30, help="seconds each cell (and each check's calls) may run").tag(config=True)
    memory = Integer(2048, help="MB of resident memory a submission's processes may use in all").tag(config=True)
    sandbox = Bool(True, help="run submissions in bubblewrap").tag(config=True)
    hidden = List(Unicode(), help="folders the sandbox must not see").tag(config=True)
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
        (scratch / f"{stem}.ipynb").write_text(json.dumps(nb), encoding="utf-8")  # its private copy
        job = work / "job.json"
        job.write_text(json.dumps({
            "notebook": nb, "run": run, "timeout": self.timeout, "cwd": "/tmp/work" if self.sandbox else str(scratch),
            "probes": [{"task": t.key, "function": function, "cases": [sandbox.encode(c.args)["list"] for c in cases]}
                       for _, t, function, cases in planned],
        }), encoding="utf-8")
        budget = 60 + (len(run) + len(planned)) * 2 * self.timeout
        text, problem = run_child(job, scratch, self.hidden, self.sandbox, self.memory, budget)
        outputs, timeouts, values = {}, [], [None] * len(planned)
        if problem is None:
            try:
                outputs, timeouts, values, died = sandbox.decode_result(text, set(run), len(planned))
                if died:
                    problem = ("the kernel died while running the notebook "
                               "(does it call exit(), os._exit() or use too much memory?)")
            except sandbox.BadData as err:
                problem = f"the grading child's report was rejected ({err})"
        for index, cell in outputs.items():
            nb.cells[index].outputs = nbformat.from_dict(cell.outputs)
            nb.cells[index].execution_count = cell.execution_count
        failed = set()
        for (index, task, function, cases), got in zip(planned, values, strict=True):
            if problem:
                out = failure_output(CheckFailed(f"not graded: {problem}."))
            else:
                out = verdict(task, cases, got, function, failed)
            if out["output_type"] == "error":
                failed.add(task.key)
            nb.cells[index].outputs = [nbformat.from_dict(out)]
        status = {"problem": problem, "timeouts": len(timeouts), "unsandboxed": not self.sandbox}
        (work / "status.json").write_text(json.dumps(status), encoding="utf-8")
        return nb, resources


def read_status(work, student, stem):
    """What SandboxedExecute recorded about one notebook, or None if it never got that far."""
    path = Path(work) / student / stem / "status.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


# ---------------------------------------------------------------- the per-student process


def config(root):
    """nbgrader configuration of a grading run: the course folder's settings, nbgrader's own steps with ours."""
    from nbgrader.converters import Autograde
    from nbgrader.preprocessors import Execute, LimitOutput
    from traitlets.config import Config

    settings = json.loads((Path(root) / SETTINGS).read_text(encoding="utf-8"))
    c = Config()
    c.CourseDirectory.root = str(root)
    c.CourseDirectory.course_id = COURSE_ID
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


if __name__ == "__main__":
    sys.exit(autograde_student(*sys.argv[1:]))
