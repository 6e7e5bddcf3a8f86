"""Logits Lab's helper package: what is not the lesson. Its folders say whom each part serves.

For the learner (`import logitlab as ll`):
    numerics.py          the reference softmax, cross-entropy, logsumexp, ... (`ll.softmax`)
    checks.py            the instant exercise checks (`ll.checks.check_softmax(softmax)`)
    ll.widgets           the explorers (explorers/widgets.py), loaded on first use
    training.py          recording a Keras run for lesson 07's explorer (`ll.training`)
    environment.py       lesson 00's check of the installed versions (`import logitlab.environment`)
    sampling.py          lesson 09's next token: temperature, top-k, top-p, perplexity, the course text
explorers/             the slider explorers behind `ll.widgets`
    numbers.py           what each explorer shows, NumPy only
    blitting.py          their matplotlib pictures, redrawn in place
    png.py               the PNG bytes sent per slider move
    widgets.py           the explorers themselves: sliders, picture, numbers
    next_token.py        lesson 09's next-token explorer (numbers and picture), exported by widgets.py
exercises/             the graded exercises: content and judging
    format.py            a task's format: Task, Case, Mistake, and the failures a check raises
    running.py           calling the learner's function on a case (where the learner's code runs)
    judging.py           comparing returned data with the reference, naming the mistake
    cells.py             reading which task a check cell checks (for the grader)
    tasks/               every task, one module per exercise (ex03_softmax.py, ...)
    generate.py          `make exercises`: exercises/ from solutions/ with nbgrader
grading/               `python -m logitlab grade`: grading a class safely
    classroom.py         the class: a row for every student and exercise, grades, problems and feedback
    submissions.py       finding and reading submitted files as untrusted input (no links, pipes, devices)
    feedback.py          a feedback page: the grader's score and verdicts, the notebook as inert HTML
    pages.py             the one sanitizer (nh3) and page policy (CSP without script) of every HTML page
    csvsafe.py           CSV cells a spreadsheet cannot evaluate (OWASP's CSV-injection guidance)
    autograde.py         one student's nbgrader autograde, with the sandboxed execution
    sandbox.py           the sandbox, the probe in the kernel and the result format
authoring/             course tooling for the people who write it
    course.py            lessons, navigation, normalizing and executing notebooks
    lecture.py           lecture plans, speaker notes, `make slides`
    bench.py             `make bench`: how fast the explorers answer
    workspace.py         the learner's own copy, my-work/ (`make lab` makes it, `make update` updates it)

Import it before TensorFlow: it quietens TensorFlow's start-up log and turns oneDNN off so that
printed numbers are the same in every kernel.
"""

import os

# Both are needed for a silent import, and oneDNN on/off changes printed digits (CONTRIBUTING.md,
# "Quirks already found"); they only take effect if set before TensorFlow is first imported.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

from logitlab.numerics import (  # noqa: E402
    binary_cross_entropy_with_logits,
    cross_entropy,
    log_softmax,
    logit,
    logsumexp,
    sigmoid,
    softmax,
    softmax_cross_entropy_grad,
    sparse_cross_entropy,
)

from logitlab import checks  # noqa: E402  exercise feedback: ll.checks.check_softmax(...)

__version__ = "0.1.0"


LAZY = {"widgets": "logitlab.explorers.widgets", "training": "logitlab.training"}


def __getattr__(name):
    # `ll.widgets` and `ll.training` load on first use, so `import logitlab` stays light
    # (no matplotlib, ipywidgets or TensorFlow until a lesson asks for them).
    if name in LAZY:
        import importlib

        return importlib.import_module(LAZY[name])
    raise AttributeError(f"module 'logitlab' has no attribute {name!r}")


__all__ = [
    "checks",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "log_softmax",
    "logit",
    "logsumexp",
    "sigmoid",
    "softmax",
    "softmax_cross_entropy_grad",
    "sparse_cross_entropy",
]
