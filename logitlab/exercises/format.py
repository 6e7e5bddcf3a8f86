"""The format of a graded task: `Task`, its `Case`s and named `Mistake`s, and the failures a check raises."""

import textwrap
from dataclasses import dataclass, field
from typing import Callable

import numpy as np


class CheckFailed(AssertionError):
    """A check that failed. The message is the feedback; IPython shows only the message."""

    def _render_traceback_(self):
        first, *rest = str(self).splitlines() or [""]
        wrapped = [piece for line in rest for piece in textwrap.wrap(line, 96) or [""]]
        return [f"\x1b[0;31m✗ {first}\x1b[0m"] + [f"  {line}" for line in wrapped]


class NotAnswered(CheckFailed):
    """The task still holds `raise NotImplementedError()`."""


# ---------------------------------------------------------------- the format of a task


@dataclass(frozen=True)
class Mistake:
    """A named mistake: if the answer equals `wrong(*case.args)`, the feedback is `message`."""

    wrong: Callable
    message: str


@dataclass(frozen=True)
class Case:
    """One set of inputs to a task and how its answer is judged.

    `args` are passed to the learner's function. `expected` is the right answer; when it is None
    the task's `reference(*args)` gives it. `hidden` cases run only when the notebook is graded
    (the `hard=True` check cell). `nonfinite` is the message for inf or nan where the right answer
    is finite (or a function of the returned values giving it);
    `hint` is added when the answer is wrong and no named mistake matches; `about`
    describes the input in messages ("logits above 1"); `shown`, when not None, is how the call's
    arguments are written in messages ("model"). `dtype`, when given, is the dtype the answer must
    have. `raises` lists exception names one of which the call must raise.
    """

    args: tuple
    hidden: bool = False
    expected: object = None
    rtol: float = 1e-5
    atol: float = 1e-7
    nonfinite: str = ""
    hint: str = ""
    about: str = ""
    dtype: str = ""
    raises: tuple = ()
    shown: str = None


@dataclass
class Task:
    """A graded task: a function the learner writes, judged on `cases`.

    `key` names the task (`ll.checks.check(key, fn)`, and `check_<key>` for the lessons' checks).
    `function` is the name the exercise asks for. `kind` is "array" (compared with tolerances),
    "value" (compared exactly: a bool, a class id, a chosen letter or word) or "custom" (`judge_data`
    decides). `reference` computes right answers with NumPy and stands in for this task's function
    when a later task calls it. `uses` are keys of earlier tasks whose functions this one may call:
    they are bound to their references while this task is judged, so one mistake costs one task.
    `probe(fn, case, env)` turns the learner's function into data when calling it on `case.args`
    is not enough (a Keras loss or model); `env` maps each used task's function name to the function
    to use. `fresh(rng)` draws extra cases at grading time from a secret seed. `passed` is the text of
    the tick line for the visible and the hidden cases.
    """

    key: str
    function: str
    cases: list
    passed: tuple
    reference: Callable = None
    mistakes: list = field(default_factory=list)
    kind: str = "array"
    uses: tuple = ()
    probe: Callable = None
    judge_data: Callable = None
    fresh: Callable = None

    def selected(self, hidden):
        """The cases of the visible check (hidden=False) or of the graded hidden check (hidden=True)."""
        return [case for case in self.cases if case.hidden == hidden]


@dataclass(frozen=True)
class Raised:
    """The learner's function raised: the exception's class names (class first) and its message."""

    types: tuple
    message: str

    @property
    def not_answered(self):
        return "NotImplementedError" in self.types


@dataclass(frozen=True)
class Opaque:
    """A returned object that is not data (a function, a model): its type and a short repr."""

    text: str


def show(x):
    """A short, readable repr of a number or array for feedback messages."""
    if isinstance(x, Opaque):
        return x.text
    if isinstance(x, (str, bool)) or x is None:
        return repr(x)
    try:
        arr = np.asarray(x)
    except Exception:  # noqa: BLE001 - anything the learner returned
        return repr(x)[:120]
    if arr.dtype == object:
        return repr(x)[:120]
    text = np.array2string(arr, separator=", ", threshold=12, formatter={"float_kind": lambda v: f"{v:.7g}"})
    return " ".join(text.split())
