"""Generating `exercises/` from `solutions/` with nbgrader (`make exercises`).

`solutions/NN-slug.ipynb` is the only source. Each exercise is what `nbgrader generate_assignment`
makes of its solution (solutions cleared, hidden tests removed, cells locked, checksums), with a
notice cell on top and the check cells tagged so that Run All goes on past a failing check.
"""

import json
import re
from pathlib import Path

from logitlab.authoring import course
from logitlab.i18n import N_, _

RAISES = "raises-exception"
HIDDEN_BLOCK = re.compile(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", re.S)
# A hidden-check cell opens with this comment, then what it tries; the intro's list of hard cases is rewritten
# from those comments. Both are written in the edition's language (the Chinese solutions' catalogs translate them).
GRADED_WHEN = N_("Hidden checks run when your notebook is graded:")
HARD_CASES = N_("more checks run on the hard cases ({listed})")
# Lines of a wrapped Chinese comment join without a space.
CJK_SPACE = re.compile(r"(?<=[\u3000-\u9fff\uff00-\uffef]) (?=[\u3000-\u9fff\uff00-\uffef])")


def notice(stem, source=None, command="make exercises"):
    """The first cell of a generated exercise: where it comes from (`source`, made by `command`), how to change it."""
    return (
        _("*Generated from `{source}` by `{command}` — edit the solution, not this file.*").format(
            source=source or f"solutions/{stem}.ipynb", command=command) + "\n\n"
        + _("*Learners: this notebook is yours. Write your answers in it and run the checks.*")
    )


def is_done_cell(cell):
    """The closing "Done?" cell of an English solution."""
    return cell["cell_type"] == "markdown" and course.cell_source(cell).startswith("## Done?")


def hard_checks(nb):
    """[(grade id, the hidden check's call, what it tries)] of a solution's hidden-check cells, in order.

    What it tries is the cell's opening comment ("# Hidden checks run when your notebook is graded: p = 0 and 1."),
    which may wrap over several lines.
    """
    found = []
    for cell in nb.cells:
        block = HIDDEN_BLOCK.search(cell.source) if cell.cell_type == "code" else None
        if block:
            found.append((cell.metadata["nbgrader"]["grade_id"], block.group(1).strip(),
                          what_it_tries(cell.source[:block.start()])))
    return found


def what_it_tries(comment):
    """What a hidden check tries, from the comment above its hidden block (it may wrap over lines); "" if none."""
    text = CJK_SPACE.sub("", " ".join(line.removeprefix("#").strip() for line in comment.splitlines()))
    lead = _(GRADED_WHEN)
    return text.removeprefix(lead).strip().rstrip(".。") if text.startswith(lead) else ""


def try_it_yourself(call):
    """The cell after a hidden check in an exercise: a learner alone runs the same hard cases."""
    return _("*Studying alone?* Run the hard cases yourself: in a new cell, `{call}`. They are the graded check's "
             "fixed inputs; grading also draws fresh random ones, so a ✓ here is a good sign, not a guarantee."
             ).format(call=call)


def done_yourself(calls):
    """What the exercise's closing "Done?" cell adds: every hard check of the notebook, to run alone."""
    lines = "\n".join(calls)
    return ("\n\n" + _("**Studying alone?** Run every task's hard cases yourself, in a new cell:")
            + f"\n\n```python\n{lines}\n```\n\n" + _("Grading runs the same checks and adds fresh random inputs."))


def with_hard_cases_listed(intro, checks):
    """The exercise's intro with its own hard cases listed, task by task, from its hidden-check cells."""
    from logitlab.exercises.cells import read_check_cell

    listed = _("; ").join(_("`{function}`: {tries}").format(function=read_check_cell(call)[1], tries=tries)
                          for _grade_id, call, tries in checks if tries)
    head, tail = _(HARD_CASES).split("{listed}")
    pattern = re.escape(head) + f"[^{re.escape(tail[0])}]*" + re.escape(tail)
    return re.sub(pattern, lambda _match: head + listed + tail, intro) if listed else intro


def for_learners_alone(plain, checks, done_ids=()):
    """Offer each hidden check's hard cases to a learner alone: after each hidden-check cell, in the closing
    "Done?" cell (or the cell whose id is in `done_ids`: a translated one), and listed in the intro. The graded
    cells themselves stay as nbgrader made them."""
    calls = {grade_id: call for grade_id, call, _ in checks}
    cells = []
    for cell in plain["cells"]:
        if isinstance(cell["source"], list):
            cell["source"] = "".join(cell["source"])
        cells.append(cell)
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if cell["cell_type"] == "code" and grade_id in calls:
            cells.append({"cell_type": "markdown", "id": f"{grade_id}-yourself", "metadata": {},
                          "source": try_it_yourself(calls[grade_id])})
    markdown = [cell for cell in cells if cell["cell_type"] == "markdown"]
    if markdown:
        markdown[0]["source"] = with_hard_cases_listed(markdown[0]["source"], checks)
    if checks and markdown and (is_done_cell(markdown[-1]) or markdown[-1].get("id") in done_ids):
        markdown[-1]["source"] += done_yourself([call for _, call, _ in checks])
    plain["cells"] = cells


def release_steps():
    """nbgrader's own `generate_assignment` preprocessors, in its order, except SaveCells (it needs a gradebook)."""
    from nbgrader.converters import GenerateAssignment
    from nbgrader.preprocessors import SaveCells

    steps = GenerateAssignment.class_traits()["preprocessors"].make_dynamic_default()
    return [step for step in steps if step is not SaveCells]


def exercise_notebook(solution_path):
    """The exercise for a solution notebook, as normalized JSON text.

    Check cells are tagged `raises-exception` so that Run All (JupyterLab and nbclient) goes on
    past a check that reports an unanswered or wrong task. A learner alone is offered the hidden
    checks' calls (`for_learners_alone`).
    """
    path = Path(solution_path)
    return exercise_text(path.read_text(encoding="utf-8"), path.stem)


def exercise_text(solution_text, stem, source=None, command="make exercises", done_ids=()):
    """The exercise for a solution notebook's JSON text (see `exercise_notebook`); the Chinese edition passes its
    own `source` and `command` for the notice, and the ids of its translated "Done?" cells."""
    import nbformat

    nb = nbformat.reads(solution_text, as_version=4)
    checks = hard_checks(nb)
    resources = {}
    for step in release_steps():
        nb, resources = step().preprocess(nb, resources)
    plain = json.loads(nbformat.writes(nb))
    for cell in plain["cells"]:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade") and cell["cell_type"] == "code":
            tags = cell["metadata"].setdefault("tags", [])
            if RAISES not in tags:
                tags.append(RAISES)
    for_learners_alone(plain, checks, done_ids)
    plain["cells"].insert(0, {"cell_type": "markdown", "id": "generated-notice", "metadata": {},
                              "source": notice(stem, source, command)})
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
