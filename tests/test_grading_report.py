"""The class report (issue 19): what a real grading run records for every check, the report built from it (its
numbers, its named mistakes and who made them, its hidden cases), rebuilt by `python -m logitlab report OUT`, and
opened in Chromium: inert, and saying what grades.csv says.

One real grading run (`graded`, five notebooks of 03-softmax through nbgrader and bubblewrap) is shared by every
test; tests/test_grading_dask.py grades the same class on a Dask cluster and must get these rows.
"""

import csv
import html
import json
import re
import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import pytest

import submissions as bank
from helpers import ROOT, new_page, require
from logitlab.exercises.tasks import TASKS
from logitlab.grading import classroom, verdicts

WRONG_AXIS = "wrong axis: rows should sum to 1. Take the max and the sum over axis=-1 with keepdims=True."
DOUBLE = "this is softmax applied twice (double softmax): apply it once, to the logits."
NO_MAX = "your softmax returns nan for logits [1000, 0]: subtract the row max before exp."


def read_rows(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def run(*args):
    return subprocess.run([sys.executable, "-m", "logitlab", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=900)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """One grading run of the report's class, shared by this module's tests."""
    require(classroom.sandbox_problem() is None, "bubblewrap (apt-get install bubblewrap)")
    tmp = tmp_path_factory.mktemp("report")
    folder, out = tmp / "submissions", tmp / "out"
    bank.report_class(folder)
    result = run("grade", str(folder), "--out", str(out), "--timeout", "60")
    assert result.returncode == 0, result.stderr[-3000:]
    return SimpleNamespace(out=out, log=result.stderr, results=json.loads((out / "results.json").read_text()))


def test_the_class_gets_its_grades(graded):
    assert sorted(read_rows(graded.out / "grades.csv")[1:]) == sorted(bank.REPORT_CLASS_GRADES)
    assert read_rows(graded.out / "problems.csv")[1:] == bank.REPORT_CLASS_PROBLEMS


def test_every_check_is_recorded_with_its_points_and_mistake(graded):
    rows = {(r["student"], r["exercise"]): r for r in graded.results["rows"]}
    assert len(rows) == len(graded.results["rows"]) == 6
    for row in rows.values():
        assert sum(check["points"] for check in row["checks"]) == row["score"]
    assert rows["emma", "03-softmax"]["checks"] == []
    bob = {check["check"]: check for check in rows["bob", "03-softmax"]["checks"]}
    assert [bob[c]["outcome"] for c in ("softmax-check", "softmax-hard-cases", "temperature-check",
                                        "temperature-hard-cases")] == ["passed", "wrong", "passed", "passed"]
    hard = bob["softmax-hard-cases"]
    assert (hard["task"], hard["hidden"], hard["points"], hard["max_points"]) == ("softmax", True, 0, 1)
    assert hard["mistake"] == NO_MAX
    assert hard["failed_cases"][:2] == ["softmax([[1000, 0], [-1000, 1000]])", "softmax([[20, 0, -5]])"]
    carol = {check["check"]: check for check in rows["carol", "03-softmax"]["checks"]}
    assert carol["softmax-check"]["mistake"] == WRONG_AXIS
    assert carol["softmax-check"]["failed_cases"][:2] == ["softmax([[0.1, 0.3, 0.5, 0.9]])",
                                                          "softmax([[0.5, 1.5, 0.1], [2.2, 1.3, 1.7]])"]
    assert {check["mistake"] for check in rows["dora", "03-softmax"]["checks"]} == {DOUBLE, None}


def test_the_report_counts_what_grades_csv_holds(graded):
    scores = [float(r[2]) for r in read_rows(graded.out / "grades.csv")[1:]]
    table = read_rows(graded.out / "report" / "scores.csv")
    assert table[0] == ["exercise", "score", "students"]
    assert {float(s): int(n) for _, s, n in table[1:]} == {s: scores.count(s) for s in (0, 1, 2, 3, 4)}
    assert read_rows(graded.out / "report" / "exercises.csv")[1] == ["03-softmax", "6", "5", "2.17", "2.0", "4.0",
                                                                      "1"]
    tasks = {r[1]: r[4:8] for r in read_rows(graded.out / "report" / "tasks.csv")[1:]}
    assert tasks == {"softmax": ["5", "1", "1", "3"], "softmax_with_temperature": ["5", "5", "0", "0"]}


def test_the_report_names_each_mistake_and_who_made_it(graded):
    mistakes = [r[1:] for r in read_rows(graded.out / "report" / "mistakes.csv")[1:]]
    assert mistakes == [["softmax", WRONG_AXIS, "2", f"{bank.HTML_NAME}, carol"],
                        ["softmax", DOUBLE, "1", "dora"], ["softmax", NO_MAX, "1", "bob"]]
    cases = {(r[2], r[3]): (r[4], r[6]) for r in read_rows(graded.out / "report" / "failed-cases.csv")[1:]}
    assert cases["hidden", "softmax([[1000, 0], [-1000, 1000]])"] == ("2", "bob, dora")
    assert cases["hidden", "softmax([[20, 0, -5]])"] == ("4", f"{bank.HTML_NAME}, bob, carol, dora")
    assert read_rows(graded.out / "report" / "problems.csv")[1:] == [["nothing handed in (empty folder)", "1", "emma"]]


def test_the_page_is_inert_and_escapes_every_name(graded):
    page = (graded.out / "report.html").read_text(encoding="utf-8")
    assert "script-src &#x27;none&#x27;" in page and page.count("<style>") == 1
    assert html.escape(bank.HTML_NAME) in page and bank.HTML_NAME not in page
    tags = re.findall(r"<[^>]*>", page)
    assert not [t for t in tags if re.match(r"<(script|iframe|object|embed|link|base|form|svg)\b", t, re.I)]
    assert not [t for t in tags if re.search(r"\s(on[a-z]+|style)\s*=", t, re.I)]
    images = re.findall(r'<img src="([^"]+)"', page)
    assert len(images) == 1 and images[0].startswith("data:image/png;base64,")


def test_report_rebuilds_from_a_run_and_refuses_anything_else(graded, tmp_path):
    first = (graded.out / "report.html").read_bytes()
    (graded.out / "report.html").unlink()
    rebuilt = run("report", str(graded.out))
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert (graded.out / "report.html").read_bytes() == first
    for folder, words in ((tmp_path, "is not a grading run (no results.json)"), (tmp_path / "nope", "is not a folder")):
        refused = run("report", str(folder))
        assert refused.returncode == 2 and words in refused.stderr and "Traceback" not in refused.stderr
    (tmp_path / "results.json").write_text('{"format": "logitlab grading run", "rows": [{"student": 1}]}')
    refused = run("report", str(tmp_path))
    assert refused.returncode == 2 and "has a malformed row" in refused.stderr


def test_a_verdict_keeps_only_course_written_text():
    """What the student's function returned never reaches the record: only the course's names for cases and
    mistakes do."""
    task = TASKS["softmax"]
    cases = task.selected(False)
    axis0 = [np.exp(c.args[0] - c.args[0].max(axis=0)) / np.exp(c.args[0] - c.args[0].max(axis=0)).sum(axis=0)
             for c in cases]
    record = verdicts.record("softmax-check", task, "softmax", False, cases, axis0, False)
    assert record["mistake"] == WRONG_AXIS and record["outcome"] == "wrong"
    assert verdicts.record("c", task, "softmax", False, cases, None, False)["outcome"] == "no values"
    weird = [np.full((1, 4), 0.25), "<script>x</script>"]
    assert "<script>" not in json.dumps(verdicts.record("c", task, "softmax", False, cases, weird, False))


def test_the_report_in_chromium_says_what_grades_csv_says(chromium, graded):
    url = (graded.out / "report.html").as_uri()
    page = new_page(chromium, {"width": 1150, "height": 900})
    seen = []
    page.on("console", lambda message: seen.append(message.text))
    page.on("pageerror", lambda error: seen.append(str(error)))
    page.goto(url)
    page.wait_for_timeout(500)
    assert seen == [] and page.evaluate("window.pwned") is None
    section = page.locator("#exercise-03-softmax")
    shown = section.locator("table").first.locator("tbody tr").all_inner_texts()
    counts = {float(cells.split("\t")[0]): int(cells.split("\t")[1]) for cells in shown}
    scores = [float(r[2]) for r in read_rows(graded.out / "grades.csv")[1:]]
    assert counts == {s: scores.count(s) for s in (0, 1, 2, 3, 4)} and sum(counts.values()) == 6
    mistakes = [row.split("\t") for row in page.locator("#reteach table").first.locator("tbody tr").all_inner_texts()]
    assert [(m[2], m[3], m[4]) for m in mistakes] == [(WRONG_AXIS, "2", f"{bank.HTML_NAME}, carol"),
                                                      (DOUBLE, "1", "dora"), (NO_MAX, "1", "bob")]
    image = page.locator("#exercise-03-softmax img")
    assert image.evaluate("img => img.complete && img.naturalWidth > 300")
    (ROOT / "artifacts").mkdir(exist_ok=True)
    page.screenshot(path=str(ROOT / "artifacts" / "class-report.png"), full_page=True)
    page.close()
