"""Grading a class: `python -m logitlab grade SUBMISSIONS --out OUT`.

For each SUBMISSIONS/<student>/<NN-slug>.ipynb this runs nbgrader's autograde and feedback steps
in a temporary nbgrader course built from `solutions/` (see `logitlab/grading/autograde.py`): check cells
are restored, the submission's code runs in a sandbox (`logitlab/grading/sandbox.py`), and every check is
judged by the grader from the values the student's functions returned on the grader's inputs.
Writes OUT/grades.csv, OUT/problems.csv and OUT/feedback/<student>/<NN-slug>.html.
"""

import csv
import html
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from logitlab.grading import autograde
from logitlab.authoring import course
from logitlab.grading.autograde import ASSIGNMENT, COURSE_ID, CUT, MAX_OUTPUT_CHARS

UNSANDBOXED = "ran WITHOUT a sandbox (--no-sandbox): its code could read and write anything this user can"
CONFIG = """\
# nbgrader configuration of one grading run's course, written by logitlab.grading.
c = get_config()
c.CourseDirectory.root = {root!r}
c.CourseDirectory.course_id = {course_id!r}
"""


class NoSandbox(RuntimeError):
    """Grading was asked for with a sandbox, and none can be had on this machine."""


def sandbox_problem():
    """Why bubblewrap cannot sandbox submissions here, or None when it works."""
    if sys.platform != "linux":
        return f"submissions are sandboxed with bubblewrap, which exists only on Linux (this is {sys.platform})"
    if shutil.which("bwrap") is None:
        return ("bubblewrap (`bwrap`) is not installed: install it (Debian/Ubuntu: `apt-get install bubblewrap`, "
                "Fedora: `dnf install bubblewrap`)")
    try:
        result = subprocess.run(["bwrap", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--unshare-all",
                                 "--die-with-parent", "true"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as err:
        return f"bubblewrap does not start here ({err})"
    if result.returncode != 0:
        return f"bubblewrap cannot create a sandbox here ({result.stderr.strip()[:300]})"
    return None


@dataclass
class Grade:
    """One row of grades.csv, and why a submission earned nothing when it could not be graded."""

    student: str
    exercise: str
    score: float
    max_score: float
    reason: str = ""


def _put_venv_on_path():
    """nbgrader's gradebook runs the `alembic` command: find it beside this Python even outside an activated venv."""
    bin_dir = str(Path(sys.executable).parent)
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")


def _run_child(args, cwd, timeout):
    """Run a trusted `python ARGS` in `cwd`; return (exit code, output). Past `timeout` s its whole tree is killed."""
    env = dict(os.environ, PYTHONUNBUFFERED="1", TF_CPP_MIN_LOG_LEVEL="2", TF_ENABLE_ONEDNN_OPTS="0")
    proc = subprocess.Popen([sys.executable, *args], cwd=cwd, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        output, _ = proc.communicate(timeout=timeout)
        return proc.returncode, output
    except subprocess.TimeoutExpired:
        autograde.kill_tree(autograde.tree_rss(proc)[1])
        output, _ = proc.communicate()
        return None, output


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

    def __init__(self, folder, solutions, settings, template=None):
        """Set up the course with `nbgrader generate_assignment`, or copy a `template` Course."""
        self.root = Path(folder)
        self.settings = dict(settings, work=str(self.root / "work"))
        if template is not None:
            shutil.copytree(template.root, self.root, ignore=shutil.ignore_patterns("work"))
        else:
            source = self.root / "source" / ASSIGNMENT
            source.mkdir(parents=True)
            for solution in solutions:
                shutil.copy(solution, source / solution.name)
        (self.root / "nbgrader_config.py").write_text(
            CONFIG.format(root=str(self.root), course_id=COURSE_ID), encoding="utf-8")
        (self.root / autograde.SETTINGS).write_text(json.dumps(self.settings), encoding="utf-8")
        if template is None:
            code, output = _run_child(["-m", "nbgrader", "generate_assignment", ASSIGNMENT, "--force"], self.root, 600)
            if code != 0:
                raise RuntimeError(f"nbgrader generate_assignment failed on the solutions:\n{output[-3000:]}")

    def max_score(self, stem):
        """The points an exercise is worth, from the gradebook."""
        from nbgrader.api import Gradebook

        with Gradebook(f"sqlite:///{self.root / 'gradebook.db'}", COURSE_ID) as gb:
            return float(gb.find_notebook(stem, ASSIGNMENT).max_score)

    def budget(self, notebooks):
        """Seconds one student's autograde run may take in all: each notebook's sandbox budget, and more."""
        return 120 + notebooks * (60 + 40 * 2 * self.settings["timeout"])

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
        output = ""
        if valid:
            code, output = _run_child(["-m", "logitlab.grading.autograde", str(self.root), student, *valid], self.root,
                                      self.budget(len(valid)))
        graded_dir = self.root / "autograded" / student / ASSIGNMENT
        pages = {}
        with Gradebook(f"sqlite:///{self.root / 'gradebook.db'}", COURSE_ID) as gb:
            for stem in valid:
                graded = graded_dir / f"{stem}.ipynb"
                status = autograde.read_status(self.settings["work"], student, stem) or {}
                if not graded.exists():
                    reason = status.get("problem") or "nbgrader could not grade it: " + _last_error(output)
                    results[stem] = Grade(student, stem, 0.0, self.max_score(stem), reason)
                    continue
                score = float(gb.find_submission_notebook(stem, ASSIGNMENT, student).score)
                notes = _notes(graded, status, self.settings["timeout"])
                results[stem] = Grade(student, stem, score, self.max_score(stem), notes)
                page = self.root / "feedback" / student / ASSIGNMENT / f"{stem}.html"
                if page.exists():
                    pages[stem] = page.read_text(encoding="utf-8")
        return [(results[stem], pages.get(stem)) for stem in sorted(results)]


def _notes(graded_path, status, timeout):
    """What went wrong while grading a notebook that was still scored: a stopped child, stopped cells, cut output."""
    nb = json.loads(Path(graded_path).read_text(encoding="utf-8"))
    cut = sum(1 for cell in nb["cells"] if CUT in json.dumps(cell.get("outputs", []), ensure_ascii=False)
              or "... Output truncated ..." in json.dumps(cell.get("outputs", [])))
    notes = [status["problem"]] if status.get("problem") else []
    if status.get("timeouts"):
        notes.append(f"{status['timeouts']} cell(s) ran longer than {timeout} s and were stopped (an infinite loop?)")
    if cut:
        notes.append(f"{cut} output(s) longer than {MAX_OUTPUT_CHARS} characters or 200 lines were cut")
    if status.get("unsandboxed"):
        notes.append(UNSANDBOXED)
    return "; ".join(notes)


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


def grade_class(submissions, out, root=course.ROOT, timeout=30, workers=2, memory=2048, sandbox=True, log=print):
    """Grade every SUBMISSIONS/<student>/<NN-slug>.ipynb; write OUT/grades.csv and OUT/feedback/. Return the grades.

    Each submission runs in bubblewrap unless `sandbox` is False; without a working bubblewrap this
    raises NoSandbox rather than run students' code unsandboxed.
    """
    submissions, out = Path(submissions), Path(out)
    _put_venv_on_path()
    if not submissions.is_dir():
        raise ValueError(f"{submissions} is not a folder: expected SUBMISSIONS/<student>/<NN-slug>.ipynb")
    if sandbox and (problem := sandbox_problem()):
        raise NoSandbox(f"{problem}. Refusing to run students' code without a sandbox; pass --no-sandbox to grade "
                        "anyway (problems.csv then says so for every submission).")
    if not sandbox:
        log(f"WARNING: --no-sandbox: every submission {UNSANDBOXED}")
    out.mkdir(parents=True, exist_ok=True)
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
        settings = {"timeout": timeout, "memory": memory, "sandbox": sandbox, "seed": secrets.randbits(62),
                    "hidden": [str(p.resolve()) for p in
                               (Path.home(), submissions, out, Path(root) / "solutions", Path(tmp))]}
        workers = max(1, min(workers, len({student for student, _ in jobs})))
        courses = []
        for i in range(workers if jobs else 0):
            template = courses[0] if courses else None
            courses.append(Course(Path(tmp) / f"course-{i}", solutions, settings, template=template))
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
            feedback = re.sub(r"(<body[^>]*>)", lambda m, note=banner: m.group(1) + note, feedback, count=1)
        page.write_text(feedback, encoding="utf-8")
