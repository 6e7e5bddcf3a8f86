"""Every graded task in logitlab/exercises/tasks/, from one table: the reference passes every case, every named
mistake is the one named for its own wrong answer on some case, cases drawn from several seeds pass with the
reference, and the task's solution has its visible and its hidden check cell.

A task failing here because of its content (cases, mistakes, notebooks) is listed in CONTENT_GAPS with the
content helper whose job it is; the lead removes the entry when that work is merged."""

import numpy as np
import pytest

from helpers import ROOT
from logitlab.authoring import course
from logitlab.exercises import judging, running
from logitlab.exercises.cells import read_check_cell
from logitlab.exercises.format import CheckFailed
from logitlab.exercises.tasks import TASKS, references

SEEDS = range(5)
# (test, task key[, mistake index]) -> why it fails today and whose job the content fix is.
CONTENT_GAPS = {}
# Tasks graded on one case by design, and why a hidden case would add nothing but cost.
ONE_CASE = {"trained_model": "a second case would train a second Keras model, doubling this task's grading time; "
                             "the probe trains the learner's model itself and judges its loss and accuracy"}


def params(kind, rows):
    """pytest params for `rows` of (key, ...); a known content gap is an expected failure, strict."""
    out = []
    for row in rows:
        row = row if isinstance(row, tuple) else (row,)
        reason = CONTENT_GAPS.get((kind, *row))
        marks = [pytest.mark.xfail(reason=reason, strict=True)] if reason else []
        if kind != "cells" and TASKS[row[0]].probe is not None:
            marks.append(pytest.mark.tensorflow)  # the probe builds or trains a Keras model
        out.append(pytest.param(*row, marks=marks, id="-".join(str(part) for part in row)))
    return out


def run(task, fn, case):
    """The learner's side (with the earlier tasks' references bound, as the grader does), then the judgement."""
    env = references(task) if task.probe is None else {"build_model": TASKS["logits_model"].reference}
    return judging.judge(task, case, running.run_case(task, fn, case, env))


WITH_REFERENCE = [key for key, task in TASKS.items() if task.reference is not None]


@pytest.mark.parametrize("key", params("reference", WITH_REFERENCE))
def test_reference_passes_every_case(key):
    task = TASKS[key]
    for case in task.cases:
        run(task, task.reference, case)


@pytest.mark.parametrize("key, index", params("mistake", [(key, index) for key, task in TASKS.items()
                                                          for index in range(len(task.mistakes))]))
def test_every_named_mistake_is_named_for_its_own_wrong_answer(key, index):
    """On some case, the answer `mistake.wrong` gives fails and its feedback is that mistake's (the first match)."""
    task = TASKS[key]
    mistake = task.mistakes[index]
    if task.probe is not None:
        # A probed task's mistake predicts the data its judge sees (a loss value, ...), not a learner's function:
        # on some case, the first mistake matching that prediction must be this one.
        named = [judging.matching_mistake(task.mistakes, case, mistake.wrong(*case.args)) for case in task.cases]
        assert mistake.message in named, f"{key}: mistake {index} is never the first match: {named}"
        return
    feedback = []
    for case in task.cases:
        try:
            run(task, mistake.wrong, case)
        except CheckFailed as failed:
            feedback.append(str(failed))
            if mistake.message in str(failed):
                return
    pytest.fail(f"{key}: mistake {index} ({mistake.message[:60]}...) is never named; its answers got: {feedback}")


@pytest.mark.parametrize("key", params("fresh", [key for key, task in TASKS.items() if task.fresh is not None]))
def test_fresh_cases_from_several_seeds_pass_with_the_reference(key):
    task = TASKS[key]
    for seed in SEEDS:
        cases = task.fresh(np.random.default_rng(seed))
        assert cases, f"{key}: fresh(rng) drew no case"
        for case in cases:
            run(task, task.reference, case)


def check_cells():
    """{(task key, hidden): solution notebook} for every check cell of every solution."""
    found = {}
    for path in sorted((ROOT / "solutions").glob("*.ipynb")):
        for cell in course.read_notebook(path)["cells"]:
            meta = cell["metadata"].get("nbgrader", {})
            if meta.get("grade") and cell["cell_type"] == "code":
                key, _function, hidden = read_check_cell(course.cell_source(cell))
                found[(key, hidden)] = path.name
    return found


@pytest.fixture(scope="module")
def cells():
    return check_cells()


@pytest.mark.parametrize("key", params("cells", list(TASKS)))
def test_every_task_has_its_visible_and_hidden_check_cell(key, cells):
    task = TASKS[key]
    assert (key, False) in cells, f"no solution has a visible check cell for {key}"
    if key in ONE_CASE:
        assert not task.selected(True) and (key, True) not in cells, f"{key} has hidden cases: drop it from ONE_CASE"
    elif task.selected(True):
        assert (key, True) in cells, f"{key} has hidden cases but no solution has its hidden check cell"
    else:
        pytest.fail(f"{key} has no hidden cases, so its solution cannot have a hidden check cell")
