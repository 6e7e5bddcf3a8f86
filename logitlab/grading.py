"""Exercises and grading with nbgrader: generate `exercises/` from `solutions/`, grade a class.

`solutions/NN-slug.ipynb` is the only source. `make exercises` runs nbgrader's own
preprocessors on it (the steps of `nbgrader generate_assignment`) to write
`exercises/NN-slug.ipynb`. `python -m logitlab grade SUBMISSIONS --out OUT` builds a temporary
nbgrader course from the solutions, runs `nbgrader autograde` and `nbgrader generate_feedback`
on each submission in its own kernel, and writes `OUT/grades.csv` and
`OUT/feedback/<student>/<NN-slug>.html`.
"""

import csv
import html
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from nbgrader.preprocessors import NbGraderPreprocessor

from logitlab import course

ASSIGNMENT = "logits-lab"
COURSE_ID = "logits-lab"
RESULT = "LOGITLAB-GRADED"  # the grading child's status line after each notebook
TOO_LONG = "grading took longer than"
RAISES = "raises-exception"
MAX_OUTPUT_CHARS = 20_000
CUT = f"... output cut at {MAX_OUTPUT_CHARS} characters ..."


def notice(stem):
    """The first cell of a generated exercise: where it comes from, and how to change it."""
    return (
        f"*Generated from `solutions/{stem}.ipynb` by `make exercises` — edit the solution, not this file.*\n\n"
        "*Learners: this notebook is yours. Write your answers in it and run the checks.*"
    )


# ---------------------------------------------------------------- generating exercises


def exercise_notebook(solution_path):
    """The exercise for a solution notebook, as normalized JSON text.

    Runs the preprocessors of `nbgrader generate_assignment` in its order (without the
    gradebook): lock cells, clear solutions and outputs, checksum, clear hidden tests.
    Check cells are tagged `raises-exception` so that Run All (JupyterLab and nbclient) goes on
    past a check that reports an unanswered or wrong task.
    """
    import nbformat
    from nbgrader.preprocessors import (
        CheckCellMetadata, ClearHiddenTests, ClearMarkScheme, ClearOutput, ClearSolutions, ComputeChecksums, LockCells)

    path = Path(solution_path)
    nb = nbformat.reads(path.read_text(encoding="utf-8"), as_version=4)
    resources = {}
    steps = [LockCells, ClearSolutions, ClearOutput, CheckCellMetadata, ComputeChecksums,
             ClearHiddenTests, ClearMarkScheme, ComputeChecksums, CheckCellMetadata]
    for step in steps:
        nb, resources = step().preprocess(nb, resources)
    plain = json.loads(nbformat.writes(nb))
    for cell in plain["cells"]:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade") and cell["cell_type"] == "code":
            tags = cell["metadata"].setdefault("tags", [])
            if RAISES not in tags:
                tags.append(RAISES)
    plain["cells"].insert(0, {"cell_type": "markdown", "id": "generated-notice", "metadata": {},
                              "source": notice(path.stem)})
    return course.dumps(course.normalized(plain))


def generate_exercises(root=course.ROOT, check=False):
    """Write `exercises/NN-slug.ipynb` for every solution; return the exercises that changed.

    With `check=True` nothing is written: the result lists the exercises that are out of date.
    """
    root = Path(root)
    changed = []
    for solution in sorted((root / "solutions").glob("*.ipynb")):
        target = root / "exercises" / solution.name
        text = exercise_notebook(solution)
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            changed.append(target)
            if not check:
                target.parent.mkdir(exist_ok=True)
                target.write_text(text, encoding="utf-8")
    return changed


# ---------------------------------------------------------------- grading


@dataclass
class Grade:
    """One row of grades.csv, and why a submission earned nothing when it could not be graded."""

    student: str
    exercise: str
    score: float
    max_score: float
    reason: str = ""


class LimitOutputSize(NbGraderPreprocessor):
    """nbgrader autograde step: cut any output longer than MAX_OUTPUT_CHARS (megabytes of print)."""

    def preprocess_cell(self, cell, resources, index):
        for out in cell.get("outputs", []):
            if isinstance(out.get("text"), str) and len(out["text"]) > MAX_OUTPUT_CHARS:
                out["text"] = out["text"][:MAX_OUTPUT_CHARS] + "\n" + CUT
            for key, value in out.get("data", {}).items():
                if isinstance(value, str) and len(value) > MAX_OUTPUT_CHARS:
                    out["data"][key] = value[:MAX_OUTPUT_CHARS] + "\n" + CUT
        return cell, resources


CONFIG = """\
# nbgrader configuration of one grading run, written by logitlab.grading.
from nbconvert.preprocessors import ClearMetadataPreprocessor
from nbgrader.preprocessors import (
    AssignLatePenalties, CheckCellMetadata, Execute, IgnorePattern, LimitOutput, SaveAutoGrades)
from logitlab.grading import LimitOutputSize

c = get_config()
c.CourseDirectory.root = {root!r}
c.CourseDirectory.course_id = {course_id!r}
c.Execute.timeout = {timeout}
c.Execute.interrupt_on_timeout = True
c.LimitOutput.max_lines = 200
# A deleted check cell is put back from the source (and so are edited ones, by checksum).
c.OverwriteCells.add_missing_cells = True
c.Autograde.autograde_preprocessors = [
    Execute, IgnorePattern, ClearMetadataPreprocessor, LimitOutput, LimitOutputSize,
    SaveAutoGrades, AssignLatePenalties, CheckCellMetadata,
]
"""


def _run_child(args, cwd, timeout, runtime_dir, command=("-m", "nbgrader")):
    """Run `python -m nbgrader ARGS` (or another `command`) in `cwd`; return (exit code, output).

    A child that takes longer than `timeout` seconds is killed, with the kernels it started,
    and the exit code is None.
    """
    env = dict(os.environ, JUPYTER_RUNTIME_DIR=str(runtime_dir), PYTHONUNBUFFERED="1",
               TF_CPP_MIN_LOG_LEVEL="2", TF_ENABLE_ONEDNN_OPTS="0")
    proc = subprocess.Popen([sys.executable, *command, *args], cwd=cwd, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        log, _ = proc.communicate(timeout=timeout)
        return proc.returncode, log
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        log, _ = proc.communicate()
        _kill_kernels(runtime_dir)
        return None, log


def _kill_kernels(runtime_dir):
    """Kill the kernels a killed nbgrader left behind: those whose connection file is in runtime_dir."""
    for proc_dir in Path("/proc").glob("[0-9]*"):
        try:
            cmdline = (proc_dir / "cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        if str(runtime_dir) in cmdline and "ipykernel" in cmdline:
            try:
                os.kill(int(proc_dir.name), signal.SIGKILL)
            except OSError:
                pass


def _put_venv_on_path():
    """nbgrader's gradebook runs the `alembic` command: find it beside this Python even outside an activated venv."""
    bin_dir = str(Path(sys.executable).parent)
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")


def _submission_problem(path):
    """Why a submitted file cannot be graded as a notebook, or None."""
    import nbformat

    try:
        nb = nbformat.reads(path.read_text(encoding="utf-8", errors="replace"), as_version=4)
        nbformat.validate(nb)
    except Exception as err:  # noqa: BLE001 - any unreadable file is the student's to fix
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        return f"not a valid notebook file ({first[:200]})"
    return None


class Course:
    """A temporary nbgrader course for one worker: sources from solutions/, its own gradebook."""

    def __init__(self, folder, solutions, timeout, template=None):
        """Set up the course with `nbgrader generate_assignment`, or copy a `template` Course."""
        self.root = Path(folder)
        self.timeout = timeout
        self.runtime = self.root / "runtime"
        if template is not None:
            shutil.copytree(template.root, self.root, ignore=shutil.ignore_patterns("runtime"))
        else:
            source = self.root / "source" / ASSIGNMENT
            source.mkdir(parents=True)
            for solution in solutions:
                shutil.copy(solution, source / solution.name)
        self.runtime.mkdir(parents=True)
        (self.root / "nbgrader_config.py").write_text(
            CONFIG.format(root=str(self.root), course_id=COURSE_ID, timeout=timeout), encoding="utf-8")
        if template is None:
            code, log = _run_child(["generate_assignment", ASSIGNMENT, "--force"], self.root, 600, self.runtime)
            if code != 0:
                raise RuntimeError(f"nbgrader generate_assignment failed on the solutions:\n{log[-3000:]}")

    def max_score(self, stem):
        """The points an exercise is worth, from the gradebook."""
        from nbgrader.api import Gradebook

        with Gradebook(f"sqlite:///{self.root / 'gradebook.db'}", COURSE_ID) as gb:
            return float(gb.find_notebook(stem, ASSIGNMENT).max_score)

    def _autograde(self, student, stems):
        """Autograde and render feedback for some of a student's notebooks in one child process.

        Returns {stem: None if graded, else the reason it was not}. The child (see
        `_autograde_and_feedback`) grades each notebook on its own, so a broken one cannot spoil
        the others; it is killed, with its kernels, if it runs past its budget.
        """
        code, log = _run_child([str(self.root), student, *stems], self.root, self.budget(len(stems)),
                              self.runtime, command=("-m", "logitlab.grading"))
        reasons = {}
        for stem in stems:
            status = re.search(rf"^{RESULT} {re.escape(stem)} (ok|failed)$", log, re.M)
            if status is None:
                reasons[stem] = (f"{TOO_LONG} {self.budget(len(stems))} s and was stopped "
                                 "(an infinite loop that ignores interrupts?)") if code is None else _failure_reason(log)
            elif status.group(1) == "failed":
                section = log[:status.start()].rsplit(f"{RESULT} ", 1)[-1]
                reasons[stem] = _failure_reason(section)
            else:
                reasons[stem] = None
        return reasons

    def budget(self, notebooks):
        """Seconds an autograde run may take in all before it is killed: generous, every cell may time out."""
        return 60 + notebooks * 10 * self.timeout

    def grade_student(self, student, paths):
        """Autograde one student's submissions and render feedback; return [(Grade, feedback html or None)]."""
        from nbgrader.api import Gradebook

        results, valid = {}, []
        submitted = self.root / "submitted" / student / ASSIGNMENT
        shutil.rmtree(submitted, ignore_errors=True)
        submitted.mkdir(parents=True)
        for path in paths:
            problem = _submission_problem(path)
            if problem:
                results[path.stem] = Grade(student, path.stem, 0.0, self.max_score(path.stem), problem)
            else:
                shutil.copy(path, submitted / path.name)
                valid.append(path.stem)
        notes = self._autograde(student, valid) if valid else {}
        if len(valid) > 1:
            # A child killed at its budget left later notebooks ungraded: give each of those its own run.
            for stem in [stem for stem, reason in notes.items() if reason and reason.startswith(TOO_LONG)]:
                notes.update(self._autograde(student, [stem]))
        notes = {stem: reason for stem, reason in notes.items() if reason}
        graded_dir = self.root / "autograded" / student / ASSIGNMENT
        with Gradebook(f"sqlite:///{self.root / 'gradebook.db'}", COURSE_ID) as gb:
            for stem in valid:
                graded = graded_dir / f"{stem}.ipynb"
                if stem in notes or not graded.exists():
                    reason = notes.get(stem, "nbgrader could not grade it")
                    results[stem] = Grade(student, stem, 0.0, self.max_score(stem), reason)
                    continue
                score = float(gb.find_submission_notebook(stem, ASSIGNMENT, student).score)
                results[stem] = Grade(student, stem, score, self.max_score(stem), _output_notes(graded, self.timeout))
        pages = {}
        if valid:
            for stem in valid:
                page = self.root / "feedback" / student / ASSIGNMENT / f"{stem}.html"
                if page.exists() and stem not in notes:
                    pages[stem] = page.read_text(encoding="utf-8")
        return [(results[stem], pages.get(stem)) for stem in sorted(results)]


def _output_notes(graded_path, timeout):
    """What went wrong while running an autograded notebook that nbgrader still scored: stopped cells, cut output."""
    nb = json.loads(Path(graded_path).read_text(encoding="utf-8"))
    cells = [json.dumps(cell.get("outputs", [])) for cell in nb["cells"]]
    stopped = sum(1 for text in cells if '"ename": "CellTimeoutError"' in text)
    cut = sum(1 for text in cells if CUT in text or "... Output truncated ..." in text)
    notes = []
    if stopped:
        notes.append(f"{stopped} cell(s) ran longer than {timeout} s and were stopped (an infinite loop?)")
    if cut:
        notes.append(f"{cut} output(s) longer than {MAX_OUTPUT_CHARS} characters or 200 lines were cut")
    return "; ".join(notes)


def _failure_reason(log):
    if "DeadKernelError" in log or "Kernel died" in log or "UnresponsiveKernelError" in log or "became unresponsive" in log:
        return "the kernel died while running the notebook (does it call exit(), os._exit() or use too much memory?)"
    return "nbgrader could not grade it: " + _last_error(log)


def _last_error(log):
    lines = [line for line in log.splitlines() if "ERROR" in line or "Error" in line]
    return (lines[-1] if lines else log.strip().splitlines()[-1] if log.strip() else "no output")[:300]


def find_submissions(folder, stems):
    """(student, path) for every SUBMISSIONS/<student>/<NN-slug>.ipynb; other files are reported and skipped."""
    found, skipped = [], []
    for student_dir in sorted(p for p in Path(folder).iterdir() if p.is_dir() and not p.name.startswith(".")):
        for path in sorted(student_dir.iterdir()):
            if path.suffix == ".ipynb" and path.stem in stems:
                found.append((student_dir.name, path))
            elif not path.name.startswith("."):
                skipped.append(path)
    return found, skipped


def _fallback_feedback(grade):
    """A feedback page for a submission nbgrader could not grade."""
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(grade.exercise)}</title></head>"
            f"<body><h1>{html.escape(grade.exercise)}: {grade.score:g} / {grade.max_score:g}</h1>"
            f"<p>Your submission could not be graded: {html.escape(grade.reason)}.</p>"
            "<p>Open it in JupyterLab, run every cell from the top, save, and hand it in again.</p></body></html>\n")


def grade_class(submissions, out, root=course.ROOT, timeout=30, workers=2, log=print):
    """Grade every SUBMISSIONS/<student>/<NN-slug>.ipynb; write OUT/grades.csv and OUT/feedback/. Return the grades."""
    submissions, out = Path(submissions), Path(out)
    _put_venv_on_path()
    if not submissions.is_dir():
        raise ValueError(f"{submissions} is not a folder: expected SUBMISSIONS/<student>/<NN-slug>.ipynb")
    solutions = sorted((Path(root) / "solutions").glob("*.ipynb"))
    stems = sorted(p.stem for p in solutions)
    jobs, skipped = find_submissions(submissions, set(stems))
    # A notebook under a name the course does not know still gets its row, so no student is dropped.
    misnamed = [Grade(path.parent.name, path.stem, 0, 0,
                      f"not named after an exercise: rename it to one of {', '.join(s + '.ipynb' for s in stems)}")
                for path in skipped if path.suffix == ".ipynb"]
    for path in skipped:
        log(f"skipped {path}: not an exercise of this course (expected <student>/<NN-slug>.ipynb)")
    needed = sorted({path.stem for _, path in jobs})
    solutions = [p for p in solutions if p.stem in needed]
    start = time.perf_counter()
    results = []
    with tempfile.TemporaryDirectory(prefix="logitlab-grade-") as tmp:
        workers = max(1, min(workers, len({student for student, _ in jobs})))
        courses = []
        for i in range(workers if jobs else 0):
            courses.append(Course(Path(tmp) / f"course-{i}", solutions, timeout, template=courses[0] if courses else None))
        by_student = {}
        for student, path in jobs:
            by_student.setdefault(student, []).append(path)
        students = sorted(by_student)
        queues = [students[i::workers] for i in range(workers)]
        finished = []

        def run(index):
            done = []
            for student in queues[index]:
                for grade, feedback in courses[index].grade_student(student, by_student[student]):
                    done.append((grade, feedback))
                    finished.append(grade)
                    note = f"  ({grade.reason})" if grade.reason else ""
                    log(f"[{len(finished):>3}/{len(jobs)}] {student}/{grade.exercise}: "
                        f"{grade.score:g} / {grade.max_score:g}{note}")
            return done

        with ThreadPoolExecutor(max_workers=workers) as pool:
            for done in pool.map(run, range(workers)):
                results.extend(done)
    results.extend((grade, None) for grade in misnamed)
    results.sort(key=lambda r: (r[0].student, r[0].exercise))
    _write_results(out, results)
    log(f"graded {len(results)} submission(s) in {time.perf_counter() - start:.1f} s; grades in {out / 'grades.csv'}")
    return [grade for grade, _ in results]


def _write_results(out, results):
    out.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(out / "feedback", ignore_errors=True)
    with open(out / "grades.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["student", "exercise", "score", "max_score"])
        for grade, _ in results:
            writer.writerow([grade.student, grade.exercise, f"{grade.score:g}", f"{grade.max_score:g}"])
    with open(out / "problems.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["student", "exercise", "reason"])
        for grade, _ in results:
            if grade.reason:
                writer.writerow([grade.student, grade.exercise, grade.reason])
    for grade, feedback in results:
        page = out / "feedback" / grade.student / f"{grade.exercise}.html"
        page.parent.mkdir(parents=True, exist_ok=True)
        if feedback is None:
            feedback = _fallback_feedback(grade)
        elif grade.reason:
            banner = f"<div style='border:2px solid #c00;padding:8px'><b>Note:</b> {html.escape(grade.reason)}</div>"
            feedback = re.sub(r"(<body[^>]*>)", lambda m: m.group(1) + banner, feedback, count=1)
        page.write_text(feedback, encoding="utf-8")


def _autograde_and_feedback(root, student, *notebooks):
    """In a child process: nbgrader autograde, then generate_feedback, for each notebook of one student.

    Prints `RESULT <notebook> ok|failed` after each notebook, following nbgrader's log for it.
    """
    from nbgrader.converters import Autograde, GenerateFeedback
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.utils import capture_log
    from traitlets.config.loader import PyFileConfigLoader

    _put_venv_on_path()
    config = PyFileConfigLoader("nbgrader_config.py", path=root).load_config()
    for notebook in notebooks:
        coursedir = CourseDirectory(config=config, root=root, assignment_id=ASSIGNMENT, student_id=student,
                                    notebook_id=notebook)
        autograde = Autograde(coursedir=coursedir, config=config)
        autograde.force, autograde.create_student = True, True
        result = capture_log(autograde)
        print(result.get("log", ""), result.get("error", ""), flush=True)
        graded = Path(root) / "autograded" / student / ASSIGNMENT / f"{notebook}.ipynb"
        if result["success"] and graded.exists():
            feedback = GenerateFeedback(coursedir=coursedir, config=config)
            feedback.force = True
            result = capture_log(feedback)
            print(result.get("log", ""), result.get("error", ""), flush=True)
        print(f"{RESULT} {notebook} {'ok' if graded.exists() else 'failed'}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(_autograde_and_feedback(*sys.argv[1:]))
