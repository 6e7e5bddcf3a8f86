"""The engine of `ll.checks`: checks that read like a tutor (what was tried, what came back, what to do next).

A graded task is data (see `logitlab/exercises/tasks/` and CONTRIBUTING.md, "How to add a graded task"):
the function the learner defines, its cases (inputs, the reference answer, tolerances), the
named mistakes, and the earlier tasks it may call. Two steps judge it, and they can run in
different processes:

- `run_case` calls the learner's function on one case's inputs and returns plain data (arrays,
  numbers, strings, or `Raised` when it raised). This runs where the learner's code lives.
- `judge` compares that data with the reference and, when it is wrong, names the first mistake
  that matches (a missing max subtraction, a wrong axis, probabilities where logits were
  expected, ...). It returns how close the answer was, or raises `CheckFailed`.

The instant checks (`ll.checks.check_softmax(softmax)`) do both in the learner's kernel and print
one line starting with a tick. The grader runs `run_case` in a sandbox and `judge` in its own
process, so no code in a submission decides a score. A failed check raises `CheckFailed`, an
AssertionError that IPython shows as its message alone.
"""

from logitlab.exercises.format import CheckFailed, NotAnswered
from logitlab.exercises.judging import closeness, judge
from logitlab.exercises.running import run_case
from logitlab.exercises.tasks import TASKS, references
from logitlab.i18n import _


def _judge_with_blame(task, fn, case, name, env):
    """Judge one case; if it fails only because an earlier task is wrong, say which task is at fault."""
    got = run_case(task, fn, case, env)
    try:
        return judge(task, case, got, name)
    except NotAnswered:
        raise
    except CheckFailed:
        refs = references(task)
        if not refs or task.probe is not None:
            raise
        try:
            judge(task, case, run_case(task, fn, case, refs), name)
        except CheckFailed:
            raise
        at_fault = ", ".join(sorted(refs))
        raise CheckFailed(
            _("{name} calls your {at_fault}, which is wrong (its own check says why): with the reference "
              "{at_fault} it passes.").format(name=name, at_fault=at_fault) + "\n"
            + _("Fix {at_fault} first, run its cell, then this one again.").format(at_fault=at_fault)) from None


def check(key, fn, hard=False, env=None, name=None):
    """Check the learner's `fn` on task `key`'s visible cases (or, with `hard=True`, its hidden ones).

    Prints a tick line saying how close the answers were, or raises CheckFailed naming the mistake.
    `env` gives the functions of earlier tasks the probe should use (a learner's build_model).
    """
    task = TASKS[key]
    name = name or task.function
    differences = [_judge_with_blame(task, fn, case, name, env) for case in task.selected(hard)]
    print(f"✓ {name}: {_(task.passed[1 if hard else 0])}{closeness(differences)}")
