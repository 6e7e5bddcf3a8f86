"""Grading a class end to end with nbgrader: a bank of fake submissions, every kind of failure."""

import csv
import html
import re
import subprocess
import sys

import pytest

import submissions as bank
from conftest import ROOT

TIMEOUT = 60  # seconds per cell: plenty for a setup cell that imports TensorFlow on a busy machine


def build_bank(folder):
    """One student per kind of submission; the scores each must earn are in EXPECTED."""
    bank.write(folder, "alice", "01-math-logit", bank.correct("01-math-logit"))
    bank.write(folder, "alice", "03-softmax", bank.correct("03-softmax"))
    bank.write(folder, "alice", "06-fused-ops", bank.correct("06-fused-ops"))
    # Partly correct: a softmax without the max subtraction passes the visible check, not the hard cases.
    bank.write(folder, "bob", "03-softmax", bank.submission(
        "03-softmax", {"softmax-answer": bank.NAIVE_SOFTMAX, "temperature-answer": bank.SELF_CONTAINED_TEMPERATURE}))
    bank.write(folder, "carol", "03-softmax", bank.with_answer("03-softmax", "softmax-answer", bank.AXIS0_SOFTMAX))
    # Tampered: a wrong softmax, its check replaced by a print and its hidden check cell deleted.
    bank.write(folder, "dave", "03-softmax", bank.submission(
        "03-softmax", {"softmax-answer": bank.UNNORMALIZED_SOFTMAX, "temperature-answer": bank.SELF_CONTAINED_TEMPERATURE},
        edits={"softmax-check": "print('all good')"}, delete=["softmax-hard-cases"]))
    bank.write(folder, "erin", "01-math-logit", bank.submission("01-math-logit"))
    # Broken files: not JSON, a kernel that exits, megabytes of print (an endless loop has its own test).
    bank.write(folder, "frank", "02-logits-as-scores", '{"cells": [')
    bank.write(folder, "frank", "03-softmax", bank.with_answer("03-softmax", "softmax-answer", bank.EXITING_SOFTMAX))
    bank.write(folder, "frank", "04-cross-entropy", bank.submission("04-cross-entropy", {"cross-entropy-answer": bank.MEGABYTES}))
    (folder / "frank" / "notes.txt").write_text("not a notebook")
    # A notebook saved under another name: no grade, but a row and a reason, never a dropped student.
    bank.write(folder, "gus", "03-softmax (1)", bank.correct("03-softmax"))


EXPECTED = {
    ("alice", "01-math-logit"): (4, 4), ("alice", "03-softmax"): (4, 4), ("alice", "06-fused-ops"): (10, 10),
    ("bob", "03-softmax"): (3, 4), ("carol", "03-softmax"): (0, 4), ("dave", "03-softmax"): (2, 4),
    ("erin", "01-math-logit"): (0, 4), ("frank", "02-logits-as-scores"): (0, 6),
    ("frank", "03-softmax"): (0, 4), ("frank", "04-cross-entropy"): (0, 6),
    ("gus", "03-softmax (1)"): (0, 0),
}


def grade(folder, out, timeout=TIMEOUT):
    result = subprocess.run([sys.executable, "-m", "logitlab", "grade", str(folder), "--out", str(out),
                             "--timeout", str(timeout)], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stderr


def read_rows(path):
    with open(path, newline="") as f:
        return list(csv.reader(f))


def feedback_text(out, student, stem):
    page = (out / "feedback" / student / f"{stem}.html").read_text(encoding="utf-8")
    return html.unescape(re.sub(r"<[^>]+>", "", page))


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    folder = tmp_path_factory.mktemp("submissions")
    out = tmp_path_factory.mktemp("grades")
    build_bank(folder)
    log = grade(folder, out)
    return folder, out, log


def test_grades_csv_has_a_row_per_student_and_exercise(graded):
    _, out, log = graded
    rows = read_rows(out / "grades.csv")
    assert rows[0] == ["student", "exercise", "score", "max_score"]
    scores = {(r[0], r[1]): (float(r[2]), float(r[3])) for r in rows[1:]}
    assert scores == {key: (float(a), float(b)) for key, (a, b) in EXPECTED.items()}
    assert len(rows) - 1 == len(EXPECTED)
    graded_by_nbgrader = len(EXPECTED) - 1  # gus's misnamed notebook is not run
    assert f"[ {graded_by_nbgrader}/{graded_by_nbgrader}]" in log and "skipped" in log and "notes.txt" in log


def test_feedback_names_the_mistake(graded):
    _, out, _ = graded
    assert "subtract the row max before exp" in feedback_text(out, "bob", "03-softmax")
    assert "wrong axis: rows should sum to 1" in feedback_text(out, "carol", "03-softmax")
    dave = feedback_text(out, "dave", "03-softmax")
    assert "divide by their sum" in dave and "all good" not in dave
    assert "ll.checks.check_softmax(softmax)" in dave and "ll.checks.check_softmax(softmax, hard=True)" in dave
    erin = feedback_text(out, "erin", "01-math-logit")
    assert erin.count("not answered yet. Replace") == 4 and "Traceback (most recent call last)" not in erin
    alice = feedback_text(out, "alice", "06-fused-ops")
    assert len(re.findall(r"✓ \w+: ", alice)) == 8 and "✗" not in alice


def test_broken_submissions_earn_zero_with_a_reason(graded):
    _, out, _ = graded
    reasons = {(r[0], r[1]): r[2] for r in read_rows(out / "problems.csv")[1:]}
    assert "not a valid notebook file" in reasons["frank", "02-logits-as-scores"]
    assert "kernel died" in reasons["frank", "03-softmax"]
    assert "were cut" in reasons["frank", "04-cross-entropy"]
    assert "rename it to one of 01-math-logit.ipynb" in reasons["gus", "03-softmax (1)"]
    assert "rename it" in feedback_text(out, "gus", "03-softmax (1)")
    assert set(reasons) == {k for k in EXPECTED if k[0] in ("frank", "gus")}
    assert "not a valid notebook file" in feedback_text(out, "frank", "02-logits-as-scores")
    assert (out / "feedback" / "frank" / "04-cross-entropy.html").stat().st_size < 1_000_000


def test_an_endless_loop_is_stopped_and_the_rest_still_graded(tmp_path):
    """The looping cell is interrupted after the per-cell timeout; the other task still earns its points."""
    folder = tmp_path / "submissions"
    bank.write(folder, "gina", "01-math-logit", bank.with_answer("01-math-logit", "logit-answer", "while True:\n    pass"))
    grade(folder, tmp_path / "out", timeout=10)
    assert read_rows(tmp_path / "out" / "grades.csv")[1:] == [["gina", "01-math-logit", "2", "4"]]
    reasons = read_rows(tmp_path / "out" / "problems.csv")[1:]
    assert reasons == [["gina", "01-math-logit", "1 cell(s) ran longer than 10 s and were stopped (an infinite loop?)"]]


def test_grading_twice_gives_the_same_grades(graded, tmp_path):
    folder, out, _ = graded
    again = tmp_path / "again"
    for student in ("bob", "dave"):
        (again / student).mkdir(parents=True)
        for path in (folder / student).glob("*.ipynb"):
            (again / student / path.name).write_bytes(path.read_bytes())
    grade(again, tmp_path / "out")
    first = [r for r in read_rows(out / "grades.csv") if r[0] in ("bob", "dave")]
    assert read_rows(tmp_path / "out" / "grades.csv")[1:] == first


def test_grade_command_explains_a_missing_folder(tmp_path):
    result = subprocess.run([sys.executable, "-m", "logitlab", "grade", str(tmp_path / "nope"), "--out", str(tmp_path)],
                            capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 2 and "is not a folder: expected SUBMISSIONS/<student>/<NN-slug>.ipynb" in result.stderr


def test_a_grading_child_past_its_budget_is_killed_with_its_kernels(tmp_path):
    """The last line of defence: a run that outlives its budget is killed, and so is any kernel it started."""
    from logitlab import grading

    runtime = tmp_path / "runtime"
    runtime.mkdir()
    # A stand-in "kernel": a process in its own session whose command line names the runtime folder.
    kernel = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", "ipykernel", str(runtime)],
                              start_new_session=True)
    code, _ = grading._run_child(["-c", "import time; time.sleep(60)"], tmp_path, 1, runtime, command=())
    assert code is None
    assert kernel.wait(timeout=10) == -9
