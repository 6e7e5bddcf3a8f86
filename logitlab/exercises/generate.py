"""Generating `exercises/` from `solutions/` with nbgrader (`make exercises`).

`solutions/NN-slug.ipynb` is the only source. Each exercise is what `nbgrader generate_assignment`
makes of its solution (solutions cleared, hidden tests removed, cells locked, checksums), with a
notice cell on top and the check cells tagged so that Run All goes on past a failing check.
"""

import json
from pathlib import Path

from logitlab.authoring import course

RAISES = "raises-exception"


def notice(stem):
    """The first cell of a generated exercise: where it comes from, and how to change it."""
    return (
        f"*Generated from `solutions/{stem}.ipynb` by `make exercises` — edit the solution, not this file.*\n\n"
        "*Learners: this notebook is yours. Write your answers in it and run the checks.*"
    )


def release_steps():
    """nbgrader's own `generate_assignment` preprocessors, in its order, except SaveCells (it needs a gradebook)."""
    from nbgrader.converters import GenerateAssignment
    from nbgrader.preprocessors import SaveCells

    steps = GenerateAssignment.class_traits()["preprocessors"].make_dynamic_default()
    return [step for step in steps if step is not SaveCells]


def exercise_notebook(solution_path):
    """The exercise for a solution notebook, as normalized JSON text.

    Check cells are tagged `raises-exception` so that Run All (JupyterLab and nbclient) goes on
    past a check that reports an unanswered or wrong task.
    """
    import nbformat

    path = Path(solution_path)
    nb = nbformat.reads(path.read_text(encoding="utf-8"), as_version=4)
    resources = {}
    for step in release_steps():
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
