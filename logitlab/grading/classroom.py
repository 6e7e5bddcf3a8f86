"""Grading a class: `python -m logitlab grade SUBMISSIONS --out OUT`.

Submissions are found and read as untrusted files (`submissions.py`). Each notebook goes through
nbgrader's autograde step in a temporary nbgrader course built from `solutions/` (see
`logitlab/grading/autograde.py`): check cells are restored, the submission's code runs in a sandbox
(`logitlab/grading/child.py` and `bwrap.py`), and every check is judged by the grader from the values the student's
functions returned on the grader's inputs. Writes OUT/grades.csv and OUT/problems.csv (`csvsafe.py`)
and OUT/feedback/<student>/<NN-slug>.html (`feedback.py`), with a row and a page for every student and
exercise, then OUT/results.json (each check's verdict) and the class report OUT/report.html (`report.py`).
"""

import json
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from logitlab.grading import autograde, csvsafe, feedback, report, submissions
from logitlab.grading.warm import WarmAutograde
from logitlab.authoring import course
from logitlab.grading.autograde import ASSIGNMENT, COURSE_ID, CUT, MAX_OUTPUT_CHARS

UNSANDBOXED = "ran WITHOUT a sandbox (--no-sandbox): its code could read and write anything this user can"


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
    """One row of grades.csv, why a submission earned nothing when it could not be graded, and each check's
    verdict (`verdicts.record` with the points it earned: "points" and "max_points") for the class report."""

    student: str
    exercise: str
    score: float
    max_score: float
    reason: str = ""
    checks: list = field(default_factory=list)


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
        (self.root / autograde.SETTINGS).write_text(json.dumps(self.settings), encoding="utf-8")
        if template is None:
            autograde.generate_assignment(self.root)  # the solutions are the course's own, trusted

    def max_score(self, stem):
        """The points an exercise is worth, from the gradebook."""
        from nbgrader.api import Gradebook

        with Gradebook(f"sqlite:///{self.root / 'gradebook.db'}", COURSE_ID) as gb:
            return float(gb.find_notebook(stem, ASSIGNMENT).max_score)

    def budget(self, notebooks):
        """Seconds one student's autograde run may take in all: each notebook's sandbox budget, and more."""
        return 120 + notebooks * (60 + 40 * 2 * self.settings["timeout"])

    def grade_student(self, student, notebooks, grader):
        """Autograde one student's notebooks and build their feedback pages.

        `student` is the Student found in SUBMISSIONS (with `sid`, its id in nbgrader, and `shown`), `notebooks`
        are [(stem, bytes, note)] already read and checked, `grader` is this course's `warm.WarmAutograde` (one
        process for all the students of a local worker or a Dask worker). Returns [(Grade, feedback page)]: a row
        for every notebook, also when the grader itself fails on one (a 0 with the reason, for a human to look at).
        """
        try:
            return self.autograded(student, notebooks, grader)
        except Exception as err:  # noqa: BLE001 - one student's failure must not end the run for the others
            reason = (f"the grader failed on this submission ({type(err).__name__}): not a score, a problem to "
                      "look at; grade this notebook by hand")
            top = {stem: self.max_score(stem) for stem, _, _ in notebooks}
            return [(Grade(student.shown, stem, 0.0, top[stem], _join(reason, note)),
                     feedback.plain_page(student.shown, stem, 0, top[stem], _join(reason, note)))
                    for stem, _, note in notebooks]

    def autograded(self, student, notebooks, grader):
        """`grade_student`'s work: nbgrader's autograde of the notebooks, then their grades and feedback pages."""
        from nbgrader.api import Gradebook

        submitted = self.root / "submitted" / student.sid / ASSIGNMENT
        shutil.rmtree(submitted, ignore_errors=True)
        submitted.mkdir(parents=True)
        for stem, data, _ in notebooks:
            (submitted / f"{stem}.ipynb").write_bytes(data)
        stems = [stem for stem, _, _ in notebooks]
        code, output = grader.grade(student.sid, stems, self.budget(len(stems)))
        graded_dir = self.root / "autograded" / student.sid / ASSIGNMENT
        results = []
        with Gradebook(f"sqlite:///{self.root / 'gradebook.db'}", COURSE_ID) as gb:
            for stem, _, note in notebooks:
                graded = graded_dir / f"{stem}.ipynb"
                status = autograde.read_status(self.settings["work"], student.sid, stem) or {}
                top = self.max_score(stem)
                if not graded.exists():
                    reason = status.get("problem") or "nbgrader could not grade it: " + _last_error(output)
                    grade = Grade(student.shown, stem, 0.0, top, _join(reason, note))
                    results.append((grade, feedback.plain_page(grade.student, stem, 0, top, grade.reason)))
                    continue
                submission = gb.find_submission_notebook(stem, ASSIGNMENT, student.sid)
                cells = {g.name: (float(g.score), float(g.max_score)) for g in submission.grades}
                checks = []
                for check in status.get("verdicts", []):
                    points, max_points = cells.get(check["check"], (0.0, 0.0))
                    checks.append(dict(check, points=points, max_points=max_points))
                grade = Grade(student.shown, stem, float(submission.score), top,
                              _join(_notes(graded, status, self.settings["timeout"]), note), checks)
                nb = json.loads(graded.read_text(encoding="utf-8"))
                page = feedback.notebook_page(grade.student, stem, grade.score, top, grade.reason, nb, cells)
                results.append((grade, page))
        return results


def _join(*notes):
    return "; ".join(n for n in notes if n)


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


def max_score(solution):
    """The points an exercise is worth: its check cells' points, as nbgrader's gradebook counts them."""
    nb = json.loads(Path(solution).read_text(encoding="utf-8"))
    return float(sum(c["metadata"].get("nbgrader", {}).get("points", 0) for c in nb["cells"]
                     if c["metadata"].get("nbgrader", {}).get("grade")))


def class_exercises(names, stems):
    """The exercises named with --exercises ("03-softmax" or just "03"), checked against the course's `stems`."""
    chosen = []
    for name in names or []:
        matches = [s for s in stems if s == name or s.split("-")[0] == name]
        if len(matches) != 1:
            raise ValueError(f"--exercises: {name!r} is not an exercise of this course; expected one of "
                             f"{', '.join(stems)} (or its number, e.g. {stems[0].split('-')[0]})")
        chosen += [m for m in matches if m not in chosen]
    return chosen


def _missing(student, stem):
    """Why a student has no notebook for `stem`, from what the folder holds."""
    similar = [n for n in student.others if n.lower().endswith(".ipynb")
               and n.rsplit("/", 1)[-1].startswith(stem.split("-")[0] + "-")]
    if similar:
        return (f"no {stem}.ipynb handed in, but {similar[0]}: a notebook must keep its exercise's name; "
                f"rename it to {stem}.ipynb")
    if student.others:
        shown = ", ".join(student.others[:5]) + (" …" if len(student.others) > 5 else "")
        return f"no {stem}.ipynb handed in (the folder holds {shown})"
    if student.handed:
        return f"no {stem}.ipynb handed in"
    return "nothing handed in: the folder is empty"


def _read(student, stems, folder):
    """Read and check a student's notebooks: ([(stem, bytes, note)] to grade, [(Grade-less reason by stem)])."""
    ready, failed = [], {}
    for stem in stems:
        handed = student.handed.get(stem)
        if handed is None:
            continue
        try:
            data = submissions.read_notebook(folder, handed.parts)
        except submissions.Unreadable as err:
            failed[stem] = _join(str(err), handed.note)
            continue
        problem = submissions.notebook_problem(data)
        if problem:
            failed[stem] = _join(f"{handed.shown}: {problem}", handed.note)
        else:
            ready.append((stem, data, handed.note))
    return ready, failed


def grade_class(submissions_folder, out, root=course.ROOT, timeout=30, workers=2, memory=2048, sandbox=True,
                exercises=None, log=print, scheduler=None):
    """Grade a class; write OUT/grades.csv, OUT/problems.csv, OUT/feedback/, OUT/results.json and the class report
    (OUT/report.html, `report.py`). Return the grades.

    Every entry of SUBMISSIONS gets a row for every exercise in `exercises` (names or numbers), or for
    every exercise someone handed in when none are named: score 0 and a reason where nothing could
    be graded. Each submission runs in bubblewrap unless `sandbox` is False; without a working
    bubblewrap this raises NoSandbox rather than run students' code unsandboxed. With `scheduler` (a
    `cluster.Cluster`: a Dask scheduler's address, or a connected distributed.Client such as Dask Gateway's
    `cluster.get_client()`) each notebook is graded on that cluster's workers instead (`cluster.py`; its
    problems raise cluster.ClusterProblem); only this process writes OUT.
    """
    folder, out = Path(submissions_folder), Path(out)
    if not folder.is_dir():
        raise ValueError(f"{folder} is not a folder: expected {submissions.LAYOUT}")
    solutions = {p.stem: p for p in sorted((Path(root) / "solutions").glob("*.ipynb"))}
    given = class_exercises(exercises, sorted(solutions))
    if scheduler is not None:
        log(f"grading on the Dask cluster at {scheduler.address}: {scheduler.check(sandbox)} worker(s)")
    elif sandbox and (problem := sandbox_problem()):
        raise NoSandbox(f"{problem}. Refusing to run students' code without a sandbox; pass --no-sandbox to grade "
                        "anyway (problems.csv then says so for every submission).")
    if not sandbox:
        log(f"WARNING: --no-sandbox: every submission {UNSANDBOXED}")
    out.mkdir(parents=True, exist_ok=True)
    students, clutter = submissions.scan(folder, set(solutions))
    if any(not s.problem and (folder / s.name).resolve() == out.resolve() for s in students):
        log(f"skipped {out}: the output folder, not a student's")  # OUT inside SUBMISSIONS
        students = [s for s in students if s.problem or (folder / s.name).resolve() != out.resolve()]
    stems = given or sorted({stem for s in students for stem in s.handed})
    tops = {stem: max_score(solutions[stem]) for stem in stems}
    results, todo = [], []
    for number, student in enumerate(students, 1):
        student.sid = f"student-{number:04d}"  # nbgrader never sees a student's own folder name
        for other in student.others + [h.shown for s, h in student.handed.items() if s not in stems]:
            log(f"skipped {student.shown}/{other}: not a notebook of an exercise graded here ({submissions.LAYOUT})")
        if not stems:
            reason = student.problem or f"no notebook named after an exercise of this course ({submissions.LAYOUT})"
            results.append((student, Grade(student.shown, "", 0.0, 0.0, reason), None))
        for stem in stems:
            if student.problem or stem not in student.handed:
                reason = student.problem or _missing(student, stem)
                grade = Grade(student.shown, stem, 0.0, tops[stem], reason)
                advice = "" if student.problem else f"Hand in {stem}.ipynb in your folder, under exactly that name."
                results.append((student, grade, feedback.plain_page(student.shown, stem, 0, tops[stem], reason,
                                                                    advice)))
        if not student.problem and any(stem in student.handed for stem in stems):
            todo.append(student)
    jobs = sum(1 for s in todo for stem in stems if stem in s.handed)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="logitlab-grade-") as tmp:
        settings = {"timeout": timeout, "memory": memory, "sandbox": sandbox, "seed": secrets.randbits(62),
                    "hidden": [str(p.resolve()) for p in
                               (Path.home(), folder, out, Path(root) / "solutions", Path(tmp))]}
        needed = [solutions[stem] for stem in stems if any(stem in s.handed for s in todo)]
        finished = []

        def finish(student, grade, page):
            finished.append(grade)
            note = f"  ({grade.reason})" if grade.reason else ""
            log(f"[{len(finished):>3}/{jobs}] {student.shown}/{grade.exercise}: "
                f"{grade.score:g} / {grade.max_score:g}{note}")
            results.append((student, grade, page))

        def read(student):
            ready, failed = _read(student, stems, folder)
            for stem, reason in failed.items():
                finish(student, Grade(student.shown, stem, 0.0, tops[stem], reason),
                       feedback.plain_page(student.shown, stem, 0, tops[stem], reason))
            return ready

        if scheduler is not None:
            try:
                scheduler.grade([(student, read(student)) for student in todo], settings,
                                [path.stem for path in needed], tops, finish)
            finally:
                scheduler.close()
            todo = []
        workers = max(1, min(workers, len(todo)))
        courses = []
        for i in range(workers if todo else 0):
            template = courses[0] if courses else None
            courses.append(Course(Path(tmp) / f"course-{i}", needed, settings, template=template))
        queues = [todo[i::workers] for i in range(workers)]

        def run(index):
            warm = WarmAutograde(courses[index].root)  # nbgrader imported once per worker, not per student
            try:
                for student in queues[index]:
                    ready = read(student)
                    for grade, page in courses[index].grade_student(student, ready, warm) if ready else []:
                        finish(student, grade, page)
            finally:
                warm.close()

        with ThreadPoolExecutor(max_workers=workers) as pool:
            list(pool.map(run, range(len(courses))))
    results.sort(key=lambda r: (r[1].student, r[1].exercise))
    _write_results(out, results, clutter)
    log(f"graded {jobs} notebook(s) of {len(students)} student(s) in {time.perf_counter() - start:.1f} s; "
        f"grades in {out / 'grades.csv'}")
    return [grade for _, grade, _ in results]


def _write_results(out, results, clutter=()):
    """grades.csv (a row per student and exercise), problems.csv (every reason) and one feedback page per row."""
    out.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(out / "feedback", ignore_errors=True)
    csvsafe.write_csv(out / "grades.csv", ["student", "exercise", "score", "max_score"],
                      [[g.student, g.exercise, f"{g.score:g}", f"{g.max_score:g}"] for _, g, _ in results])
    problems = [[g.student, g.exercise, g.reason] for _, g, _ in results if g.reason]
    problems += [[name, "", "not a student's folder (made by a file manager or an archiver): skipped"]
                 for name in clutter]
    csvsafe.write_csv(out / "problems.csv", ["student", "exercise", "reason"], problems)
    for student, grade, page in results:
        if page is None:
            continue
        path = out / "feedback" / student.name / f"{grade.exercise}.html"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(page, encoding="utf-8")
    report.write_results(out, [grade for _, grade, _ in results], clutter)
    report.write_report(out)
