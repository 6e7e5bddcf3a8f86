"""Each check's verdict as data, for the class report: which task, whether it passed, the named mistake, which
cases failed.

The grader (`autograde.py`) stops judging a check at its first failing case, since one message is what the
student reads. The report wants more: every case that failed, and the course's own name for what went wrong.
`record` judges every case once more, here in the trusted grader, and keeps only course-written text: a
named mistake's message, a case's `nonfinite` or `hint` sentence, a case's description. Nothing the student's
code returned or printed is kept, so nothing from a submission can reach the report through a verdict.
"""

import numpy as np

from logitlab.exercises import judging
from logitlab.exercises.format import CheckFailed, NotAnswered, show

PASSED, WRONG, UNANSWERED, NO_VALUES = "passed", "wrong", "not answered", "no values"
FRESH = "a fresh case drawn for this student"


def case_label(task, case, number, hidden):
    """How the report names a case: its description, or its inputs as the course wrote them."""
    if number >= len(task.selected(hidden)):
        return FRESH
    if case.about:
        return case.about
    if case.shown is not None:
        return f"{task.function}({case.shown})"
    shown = f"{task.function}({', '.join(show(arg) for arg in case.args)})"
    return shown if len(shown) <= 100 else shown[:99] + "…"


def diagnoses(task, cases):
    """Every course-written sentence that can name what went wrong in this task, longest first."""
    found = {mistake.message for mistake in task.mistakes}
    for case in cases:
        found.add(case.hint)
        if callable(case.nonfinite):
            for probe in (np.array([np.nan]), np.array([np.inf])):
                try:
                    found.add(case.nonfinite(probe))
                except Exception:  # noqa: BLE001 - a message function that needs other values: not listed
                    pass
        else:
            found.add(case.nonfinite)
    return sorted((text for text in found if isinstance(text, str) and text), key=len, reverse=True)


def named_mistake(message, known):
    """The first of the course's `known` sentences that the failure message contains, or None."""
    return next((text for text in known if text in message), None)


def record(check, task, function, hidden, cases, values, passed):
    """The verdict of one check cell as plain data (JSON-ready).

    `check` is the cell's grade id, `cases` the cases it was judged on and `values` what came back (None
    when nothing did); `passed` is the grader's verdict. Failing cases are listed by `case_label`, and the
    mistake is the first course-written diagnosis (`diagnoses`) found in a failure.
    """
    outcome, failed, mistake = PASSED if passed else WRONG, [], None
    if values is None or len(values) != len(cases):
        outcome = NO_VALUES if not passed else PASSED
    else:
        known = diagnoses(task, cases)
        for number, (case, got) in enumerate(zip(cases, values)):
            try:
                judging.judge(task, case, got, function)
            except NotAnswered:
                outcome = UNANSWERED
                break
            except CheckFailed as err:
                failed.append(case_label(task, case, number, hidden))
                mistake = mistake or named_mistake(str(err), known)
    if not passed and outcome == PASSED:
        outcome = WRONG  # the grader's verdict decides; this record only describes it
    return {"check": check, "task": task.key, "function": function, "hidden": bool(hidden), "outcome": outcome,
            "mistake": mistake, "failed_cases": list(dict.fromkeys(failed))}
