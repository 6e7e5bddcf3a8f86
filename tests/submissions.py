"""Fake submissions for grading tests and the grading benchmark, built from the generated exercises."""

import json
import re

from conftest import ROOT
from logitlab import course

MARKERS = re.compile(r"^\s*### (BEGIN|END) SOLUTION\n", re.M)


def solution_answers(stem):
    """The worked answer of every task of a solution notebook: grade_id -> source without markers."""
    nb = course.read_notebook(ROOT / "solutions" / f"{stem}.ipynb")
    return {c["metadata"]["nbgrader"]["grade_id"]: MARKERS.sub("", course.cell_source(c))
            for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("solution")}


def submission(stem, answers=None, edits=None, delete=()):
    """An exercise as a student would hand it in: `answers` fill answer cells (grade_id -> code),
    `edits` overwrite other cells (a tampered check), `delete` removes cells by grade_id."""
    nb = course.read_notebook(ROOT / "exercises" / f"{stem}.ipynb")
    changes = {**(answers or {}), **(edits or {})}
    cells = []
    for cell in nb["cells"]:
        grade_id = cell["metadata"].get("nbgrader", {}).get("grade_id")
        if grade_id in delete:
            continue
        if grade_id in changes:
            cell["source"] = changes[grade_id]
        cells.append(cell)
    nb["cells"] = cells
    return course.dumps(nb)


def correct(stem):
    return submission(stem, solution_answers(stem))


def write(folder, student, stem, text):
    path = folder / student / f"{stem}.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def with_answer(stem, grade_id, code):
    """A correct submission except for one task."""
    answers = solution_answers(stem)
    answers[grade_id] = code
    return submission(stem, answers)


NAIVE_SOFTMAX = '''def softmax(logits):
    e = np.exp(np.asarray(logits))
    return e / e.sum(axis=-1, keepdims=True)'''

AXIS0_SOFTMAX = '''def softmax(logits):
    z = np.asarray(logits)
    e = np.exp(z - z.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)'''

UNNORMALIZED_SOFTMAX = '''def softmax(logits):
    return np.exp(np.asarray(logits))'''

SELF_CONTAINED_TEMPERATURE = '''def softmax_with_temperature(logits, temperature):
    z = np.asarray(logits, dtype=float) / temperature
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)'''

EXITING_SOFTMAX = '''import os
os._exit(1)'''

MEGABYTES = '''print("logits " * 1_000_000)'''
