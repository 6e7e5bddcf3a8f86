"""Grading a class end to end with nbgrader: a bank of fake submissions, every kind of failure."""

import csv
import html
import re
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from types import SimpleNamespace

import psutil
import pytest

import submissions as bank
from helpers import ROOT, require
from logitlab.grading import autograde
from logitlab.grading import classroom as grading
from logitlab.grading.warm import WarmAutograde

TIMEOUT = 60  # seconds per cell: plenty for a setup cell that imports TensorFlow on a busy machine


def build_bank(folder, out, port, token, secret):
    """One student per kind of submission; the scores each must earn are in EXPECTED."""
    bank.write(folder, "alice", "01-math-logit", bank.correct("01-math-logit"))
    bank.write(folder, "alice", "03-softmax", bank.correct("03-softmax"))
    bank.write(folder, "alice", "06-fused-ops", bank.correct("06-fused-ops"))
    # Partly correct: a softmax without the max subtraction passes the visible check, not the hard cases.
    bank.write(folder, "bob", "03-softmax", bank.submission(
        "03-softmax", {"softmax-answer": bank.NAIVE_SOFTMAX, "temperature-answer": bank.SELF_CONTAINED_TEMPERATURE}))
    # A wrong softmax costs the softmax task only: the temperature task calls softmax and is judged with the reference.
    bank.write(folder, "carol", "03-softmax", bank.with_answer("03-softmax", "softmax-answer", bank.AXIS0_SOFTMAX))
    bank.write(folder, "lena", "05-numerical-stability",
               bank.with_answer("05-numerical-stability", "logsumexp-answer", bank.WRONG_LOGSUMEXP))
    # Tampered: a wrong softmax, its check replaced by a print and its hidden check cell deleted.
    bank.write(folder, "dave", "03-softmax", bank.submission(
        "03-softmax",
        {"softmax-answer": bank.UNNORMALIZED_SOFTMAX, "temperature-answer": bank.SELF_CONTAINED_TEMPERATURE},
        edits={"softmax-check": "print('all good')"}, delete=["softmax-hard-cases"]))
    bank.write(folder, "erin", "01-math-logit", bank.submission("01-math-logit"))
    # Broken files: not JSON, a kernel that exits, megabytes of print (an endless loop has its own test).
    bank.write(folder, "frank", "02-logits-as-scores", '{"cells": [')
    bank.write(folder, "frank", "03-softmax", bank.with_answer("03-softmax", "softmax-answer", bank.EXITING_SOFTMAX))
    bank.write(folder, "frank", "04-cross-entropy",
               bank.submission("04-cross-entropy", {"cross-entropy-answer": bank.MEGABYTES}))
    (folder / "frank" / "notes.txt").write_text("not a notebook")
    # Attacks on the grader (issue 9): each must change nothing but what its answers earn.
    bank.write(folder, "mallory", "03-softmax", bank.with_answer("03-softmax", "softmax-answer", bank.PATCHED_CHECKS))
    bank.write(folder, "mimi", "03-softmax", bank.with_answer("03-softmax", "softmax-answer", bank.IMITATED_CHANNEL))
    bank.write(folder, "sneaky", "03-softmax",
               bank.with_answer("03-softmax", "softmax-answer", bank.escaping(folder, out, token, secret)))
    for student, code in (("nettie", bank.networking(port)), ("linus", bank.lingering(token))):
        bank.write(folder, student, "01-math-logit", bank.with_answer("01-math-logit", "logit-answer", code))
    bank.write(folder, "greta", "01-math-logit",
               bank.with_answer("01-math-logit", "logit-answer", bank.GRADEBOOK_REWRITE))
    bank.write(folder, "hogan", "01-math-logit", bank.with_answer("01-math-logit", "logit-answer", bank.MEMORY_HOG))


EXPECTED = {
    ("alice", "01-math-logit"): (4, 4), ("alice", "03-softmax"): (4, 4), ("alice", "06-fused-ops"): (10, 10),
    ("bob", "03-softmax"): (3, 4), ("carol", "03-softmax"): (2, 4), ("lena", "05-numerical-stability"): (4, 6),
    ("dave", "03-softmax"): (2, 4), ("erin", "01-math-logit"): (0, 4), ("frank", "02-logits-as-scores"): (0, 6),
    ("frank", "03-softmax"): (2, 4), ("frank", "04-cross-entropy"): (0, 6),
    ("mallory", "03-softmax"): (2, 4), ("mimi", "03-softmax"): (2, 4), ("sneaky", "03-softmax"): (4, 4),
    ("nettie", "01-math-logit"): (4, 4), ("linus", "01-math-logit"): (4, 4), ("greta", "01-math-logit"): (2, 4),
    ("hogan", "01-math-logit"): (2, 4),
}
PROBLEMS = {"frank", "hogan"}  # the students whose handed-in notebooks have a row in problems.csv


def grade(folder, out, *options, timeout=TIMEOUT):
    result = subprocess.run([sys.executable, "-m", "logitlab", "grade", str(folder), "--out", str(out),
                             "--timeout", str(timeout), *options], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stderr


def read_rows(path):
    with open(path, newline="") as f:
        return list(csv.reader(f))


def scores(feedback):
    """{grade id: points} of a feedback page's check cells, as nbgrader wrote them."""
    return {m[1]: float(m[2]) for m in re.finditer(r"Grade cell: (\S+)\s+Score: ([\d.]+) /", feedback)}


def feedback_text(out, student, stem):
    page = (out / "feedback" / student / f"{stem}.html").read_text(encoding="utf-8")
    return html.unescape(re.sub(r"<[^>]+>", "", page))


class Listener:
    """A TCP server on the grader's loopback that counts the connections it gets."""

    def __init__(self):
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.connections = 0
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                self.server.accept()[0].close()
            except OSError:
                return
            self.connections += 1


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """One grading run shared by most tests (grading is the slow part of the suite)."""
    require(grading.sandbox_problem() is None, "bubblewrap (apt-get install bubblewrap)")
    folder = tmp_path_factory.mktemp("submissions")
    out = tmp_path_factory.mktemp("grades")
    listener = Listener()
    token = f"logitlab-test-{uuid.uuid4().hex}"
    secret = Path.home() / f".{token}-secret"  # a file of the grader's own, which no submission may read
    secret.write_text("the grader's private key")
    try:
        build_bank(folder, out, listener.port, token, secret)
        log = grade(folder, out)
    finally:
        secret.unlink()
        listener.server.close()
    return SimpleNamespace(folder=folder, out=out, log=log, listener=listener, token=token)


def test_grades_csv_has_a_row_per_student_and_exercise(graded):
    rows = read_rows(graded.out / "grades.csv")
    assert rows[0] == ["student", "exercise", "score", "max_score"]
    scores = {(r[0], r[1]): (float(r[2]), float(r[3])) for r in rows[1:]}
    assert {key: scores[key] for key in EXPECTED} == {key: (float(a), float(b)) for key, (a, b) in EXPECTED.items()}
    # Every student also has a row, 0 points, for each exercise of the class not handed in (test_grading_class.py).
    students, exercises = {s for s, _ in EXPECTED}, {e for _, e in EXPECTED}
    assert set(scores) == {(s, e) for s in students for e in exercises}
    assert all(scores[key][0] == 0 for key in set(scores) - set(EXPECTED))
    run = len(EXPECTED)
    assert f"[ {run}/{run}]" in graded.log and "skipped" in graded.log and "notes.txt" in graded.log


def test_feedback_names_the_mistake(graded):
    out = graded.out
    assert "subtract the row max before exp" in feedback_text(out, "bob", "03-softmax")
    dave = feedback_text(out, "dave", "03-softmax")
    assert "divide by their sum" in dave and "all good" not in dave
    assert "ll.checks.check_softmax(softmax)" in dave and "ll.checks.check_softmax(softmax, hard=True)" in dave
    erin = feedback_text(out, "erin", "01-math-logit")
    assert erin.count("not answered yet. Replace") == 4 and "Traceback (most recent call last)" not in erin
    alice = feedback_text(out, "alice", "06-fused-ops")
    assert len(re.findall(r"✓ \w+: ", alice)) == 8 and "✗" not in alice


def test_a_wrong_earlier_task_costs_only_its_own_points(graded):
    """Guarantee 3: carol's softmax and lena's logsumexp are wrong; the tasks that call them still earn theirs."""
    carol = feedback_text(graded.out, "carol", "03-softmax")
    assert carol.count("wrong axis: rows should sum to 1") == 2
    assert carol.count("judged with the reference softmax: yours is wrong, and only its own task loses points") == 2
    lena = feedback_text(graded.out, "lena", "05-numerical-stability")
    assert lena.count("did not add it back") == 2 and lena.count("✓ log_softmax:") == 2
    assert lena.count("✓ softmax_cross_entropy_grad:") == 2 and "judged with the reference logsumexp" in lena


def test_patching_checks_numpy_and_builtins_earns_nothing(graded):
    """Guarantee 1: mallory's softmax returns ones and her answer cell replaces ll.checks, np.allclose and print."""
    mallory = feedback_text(graded.out, "mallory", "03-softmax")
    assert mallory.count("softmax([[0.1, 0.3, 0.5, 0.9]]) returned [[1, 1, 1, 1]]") == 1
    assert scores(mallory) == {"softmax-check": 0, "softmax-hard-cases": 0, "temperature-check": 1,
                               "temperature-hard-cases": 1}


def test_imitating_the_result_channel_earns_nothing(graded):
    """Guarantees 1 and 4: fake tick lines and fake probe messages (printed, displayed, sent while called) count
    for nothing."""
    mimi = feedback_text(graded.out, "mimi", "03-softmax")
    assert mimi.count("the grader got no values back from softmax on its inputs") == 2
    assert scores(mimi) == {"softmax-check": 0, "softmax-hard-cases": 0, "temperature-check": 1,
                            "temperature-hard-cases": 1}


def test_a_submission_cannot_write_outside_its_scratch_or_see_other_students(graded):
    """Guarantee 2: writes land in the sandbox's throwaway folders; only its own notebook, no solutions, are visible."""
    for place in (Path("/tmp"), graded.folder, graded.out, Path.home(), ROOT):
        assert not (place / f"escape-{graded.token}.txt").exists(), place
    sneaky = feedback_text(graded.out, "sneaky", "03-softmax")
    assert "notebooks seen: ['/tmp/work/03-softmax.ipynb']" in sneaky
    assert "solutions seen: []" in sneaky and "gradebooks seen: []" in sneaky
    assert "grader's home secret seen: False" in sneaky
    # Refused: the submissions and output folders do not exist in the sandbox, and the course is read-only.
    assert sneaky.count("write refused: FileNotFoundError") == 2 and sneaky.count("write refused: OSError") == 1
    assert "alice" not in sneaky and "bob" not in sneaky


def test_a_submission_has_no_network(graded):
    nettie = feedback_text(graded.out, "nettie", "01-math-logit")
    assert "no network to 127.0.0.1" in nettie and "no network to 1.1.1.1" in nettie
    assert "reached 127.0.0.1" not in nettie and "reached 1.1.1.1" not in nettie
    assert graded.listener.connections == 0


def test_nothing_a_submission_starts_outlives_it(graded):
    lingering = [p for p in psutil.process_iter(["cmdline"]) if graded.token in " ".join(p.info["cmdline"] or [])]
    assert lingering == []
    assert read_rows(graded.out / "grades.csv")[1:] and ("linus", "01-math-logit") in EXPECTED


def test_the_gradebook_is_out_of_reach(graded):
    """greta looks for the run's gradebook.db to rewrite her scores: she finds none and keeps her 2 / 4."""
    greta = feedback_text(graded.out, "greta", "01-math-logit")
    assert "gradebooks rewritten: 0" in greta
    assert ["greta", "01-math-logit", "2", "4"] in read_rows(graded.out / "grades.csv")


def test_a_memory_hog_is_stopped_with_a_clear_reason(graded):
    reasons = {(r[0], r[1]): r[2] for r in read_rows(graded.out / "problems.csv")[1:]}
    assert reasons["hogan", "01-math-logit"] == (
        "the kernel died while running cell 4 (logit-answer) (exit(), os._exit() or too much memory?): "
        "it was restarted; "
        "it used more than 2048 MB of memory and was stopped (see --memory)")
    assert "used more than 2048 MB" in feedback_text(graded.out, "hogan", "01-math-logit")


def test_broken_submissions_earn_zero_with_a_reason(graded):
    out = graded.out
    reasons = {(r[0], r[1]): r[2] for r in read_rows(out / "problems.csv")[1:]}
    assert "not a valid notebook file" in reasons["frank", "02-logits-as-scores"]
    assert "kernel died" in reasons["frank", "03-softmax"]
    assert "were cut" in reasons["frank", "04-cross-entropy"]
    assert {k for k in reasons if k in EXPECTED} == {k for k in EXPECTED if k[0] in PROBLEMS}
    assert "not a valid notebook file" in feedback_text(out, "frank", "02-logits-as-scores")
    assert (out / "feedback" / "frank" / "04-cross-entropy.html").stat().st_size < 1_000_000


def test_an_endless_loop_is_stopped_and_a_slow_cell_is_not(tmp_path):
    """The looping cell is interrupted after the per-cell timeout; a 6 s cell under it runs; other tasks still count."""
    require(grading.sandbox_problem() is None, "bubblewrap (apt-get install bubblewrap)")
    folder = tmp_path / "submissions"
    endless = bank.with_answer("01-math-logit", "logit-answer", "while True:\n    pass")
    bank.write(folder, "gina", "01-math-logit", endless)
    bank.write(folder, "sam", "01-math-logit", bank.with_answer("01-math-logit", "logit-answer", bank.SLOW_LOGIT))
    grade(folder, tmp_path / "out", timeout=10)
    assert read_rows(tmp_path / "out" / "grades.csv")[1:] == [["gina", "01-math-logit", "2", "4"],
                                                             ["sam", "01-math-logit", "4", "4"]]
    reasons = read_rows(tmp_path / "out" / "problems.csv")[1:]
    # On a loaded machine the kernel may answer the interrupt after the grace period and be killed
    # instead: either way the cell was stopped, said so, and the other tasks counted.
    assert [row[:2] for row in reasons] == [["gina", "01-math-logit"]]
    assert reasons[0][2].endswith("1 cell(s) ran longer than 10 s and were stopped (an infinite loop?)")
    assert reasons[0][2].startswith(("1 cell(s)", "cell 4 (logit-answer) ignored the interrupt"))


def test_grading_twice_gives_the_same_grades(graded, tmp_path):
    """Fresh cases come from a new secret seed each run; right and wrong answers keep their scores."""
    again = tmp_path / "again"
    for student in ("bob", "dave"):
        (again / student).mkdir(parents=True)
        for path in (graded.folder / student).glob("*.ipynb"):
            (again / student / path.name).write_bytes(path.read_bytes())
    grade(again, tmp_path / "out")
    # The first class had more exercises, so bob and dave also have 0-point rows there for those they did not hand in.
    first = [r for r in read_rows(graded.out / "grades.csv") if r[0] in ("bob", "dave") and r[1] == "03-softmax"]
    assert read_rows(tmp_path / "out" / "grades.csv")[1:] == first


def test_without_a_sandbox_grading_refuses_unless_told(tmp_path):
    """No bubblewrap on PATH: a sentence and exit 2; with --no-sandbox the run goes on and problems.csv says so."""
    folder = tmp_path / "submissions"
    bank.write(folder, "una", "01-math-logit", bank.correct("01-math-logit"))
    env = {"PATH": str(Path(sys.executable).parent), "HOME": str(tmp_path)}
    command = [sys.executable, "-m", "logitlab", "grade", str(folder), "--out", str(tmp_path / "out")]
    refused = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=env)
    assert refused.returncode == 2
    assert "bubblewrap (`bwrap`) is not installed" in refused.stderr and "pass --no-sandbox" in refused.stderr
    assert not (tmp_path / "out" / "grades.csv").exists()
    ran = subprocess.run(command + ["--no-sandbox", "--timeout", str(TIMEOUT)], capture_output=True, text=True,
                         cwd=ROOT, env=env)
    assert ran.returncode == 0, ran.stderr[-3000:]
    assert "WARNING: --no-sandbox" in ran.stderr
    assert read_rows(tmp_path / "out" / "grades.csv")[1:] == [["una", "01-math-logit", "4", "4"]]
    assert read_rows(tmp_path / "out" / "problems.csv")[1:] == [["una", "01-math-logit", grading.UNSANDBOXED]]


def test_grade_command_explains_a_missing_folder(tmp_path):
    result = subprocess.run([sys.executable, "-m", "logitlab", "grade", str(tmp_path / "nope"), "--out", str(tmp_path)],
                            capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 2 and "is not a folder: expected SUBMISSIONS/<student>/<NN-slug>.ipynb" in result.stderr


def test_a_warm_grader_keeps_each_students_log_apart_and_is_replaced_past_its_budget(tmp_path):
    """One autograde process serves a worker's students: each job's log is that job's alone. The last line of
    defence: a job past its budget kills the process and every process it started (the collector, the sandboxed
    kernel), and the next job gets a new process."""
    settings = {"timeout": 10, "memory": 1024, "sandbox": True, "seed": 1, "hidden": []}
    course = grading.Course(tmp_path / "course", [ROOT / "solutions" / "01-math-logit.ipynb"], settings)
    warm = WarmAutograde(course.root)
    try:
        # Nothing was handed in: nbgrader's log of each job names that job's student, and only that one.
        code, first = warm.grade("student-first", ["01-math-logit"], 120)
        assert code == 0 and "student-first" in first
        code, second = warm.grade("student-second", ["01-math-logit"], 120)
        assert code == 0 and "student-second" in second and "student-first" not in second
        process = warm.proc
        slow = course.root / "submitted" / "student-slow" / autograde.ASSIGNMENT  # a 6 s cell in its kernel
        slow.mkdir(parents=True)
        (slow / "01-math-logit.ipynb").write_text(bank.with_answer("01-math-logit", "logit-answer", bank.SLOW_LOGIT),
                                                  encoding="utf-8")
        started, watching = set(), threading.Event()

        def watch():
            while not watching.is_set():
                try:
                    started.update(child.pid for child in psutil.Process(process.pid).children(recursive=True))
                except psutil.Error:
                    return
                time.sleep(0.05)

        watcher = threading.Thread(target=watch)
        watcher.start()
        try:
            assert warm.grade("student-slow", ["01-math-logit"], 4)[0] is None
        finally:
            watching.set()
            watcher.join()
        assert len(started) >= 2, started  # the job was cut while its collector and kernel ran
        for pid in {process.pid, *started}:
            assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE, pid
        code, after = warm.grade("student-after", ["01-math-logit"], 120)
        assert code == 0 and "student-after" in after and "student-slow" not in after and warm.proc is not process
    finally:
        warm.close()


def test_a_grader_failure_on_one_student_costs_only_that_students_rows(tmp_path, monkeypatch):
    """Whatever goes wrong after autograde (here building a feedback page), the run goes on: a 0 with the reason."""
    require(grading.sandbox_problem() is None, "bubblewrap (apt-get install bubblewrap)")
    folder = tmp_path / "submissions"
    bank.write(folder, "ada", "01-math-logit", bank.correct("01-math-logit"))
    bank.write(folder, "bob", "01-math-logit", bank.correct("01-math-logit"))
    notebook_page = grading.feedback.notebook_page

    def fails_for_ada(student, *args, **kwargs):
        if student == "ada":
            raise KeyError("a metadata key the page builder did not expect")
        return notebook_page(student, *args, **kwargs)

    monkeypatch.setattr(grading.feedback, "notebook_page", fails_for_ada)
    grading.grade_class(folder, tmp_path / "out", timeout=30, workers=1)  # in this process: the patch applies
    assert read_rows(tmp_path / "out" / "grades.csv")[1:] == [["ada", "01-math-logit", "0", "4"],
                                                             ["bob", "01-math-logit", "4", "4"]]
    [problem] = read_rows(tmp_path / "out" / "problems.csv")[1:]
    assert problem[:2] == ["ada", "01-math-logit"] and "the grader failed on this submission (KeyError)" in problem[2]
    assert (tmp_path / "out" / "feedback" / "ada" / "01-math-logit.html").exists()
