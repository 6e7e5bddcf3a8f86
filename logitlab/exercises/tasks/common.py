"""The table of graded tasks and the small helpers the exercises' tasks share."""

import numpy as np

from logitlab.exercises.format import Mistake, Opaque
from logitlab.i18n import N_

TASKS = {}


def register(task):
    """Add a task to the table (its key must be new) and return it."""
    if task.key in TASKS:
        raise ValueError(f"task {task.key!r} is registered twice")
    TASKS[task.key] = task
    return task


def references(task):
    """{function name: reference function} of the earlier tasks this task may call."""
    return {TASKS[key].function: TASKS[key].reference for key in task.uses}


def as_floats(z):
    return np.asarray(z, dtype=float)


def random_logits(rng, rows, classes, scale=2.0):
    """Random logits rounded to 2 decimals, so feedback messages stay readable."""
    return np.round(rng.normal(scale=scale, size=(rows, classes)), 2)


def random_one_hot(rng, rows, classes):
    return np.eye(classes)[rng.integers(0, classes, size=rows)]



def wrong_log_base(right):
    """The named mistakes of `right` (a function of the case's inputs) computed with log base 2 or 10."""
    return [Mistake(lambda *args: right(*args) / np.log(2), N_("you used log base 2: use the natural log, np.log.")),
            Mistake(lambda *args: right(*args) / np.log(10), N_("you used log base 10: use the natural log, np.log."))]


def describe(x):
    return Opaque(f"{type(x).__name__} {repr(x)[:120]}")


Y_HAT = np.array([[0.5, 1.5, 0.1], [2.2, 1.3, 1.7]])  # lesson 04's example logits
LABELS = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])  # and its one-hot labels
