"""Logits Lab's helper package: what is not the lesson. Its folders say whom each part serves.

For the learner (`import logitlab as ll`):
    numerics.py          the reference softmax, cross-entropy, logsumexp, ... (`ll.softmax`)
    checks.py            the exercise checks a learner calls (`ll.checks.check_softmax(softmax)`), nothing else
    ll.widgets           the explorers (explorers/widgets.py), loaded on first use
    training.py          recording a Keras run for lesson 07's explorer (`ll.training`)
    environment.py       lesson 00's check of the installed versions (`import logitlab.environment`)
    sampling.py          lesson 09's next token: temperature, top-k, top-p, perplexity, the course text
explorers/             the slider explorers behind `ll.widgets`
    numbers.py           what each explorer shows, NumPy only
    blitting.py          their matplotlib pictures, redrawn in place
    png.py               the PNG bytes sent per slider move
    explorer.py          the Explorer object: sliders, numbers and picture laid out, redrawn on a move
    widgets.py           the explorers themselves (`ll.widgets.softmax_explorer`, `ll.widgets.set_size`)
    next_token.py        lesson 09's next-token explorer (numbers and picture), exported by widgets.py
exercises/             the graded exercises: content and judging
    format.py            a task's format: Task, Case, Mistake, and the failures a check raises
    running.py           calling the learner's function on a case (where the learner's code runs)
    judging.py           comparing returned data with the reference, naming the mistake
    instant.py           the instant checks behind `ll.checks`: run, judge, blame an earlier task, print a tick
    cells.py             reading which task a check cell checks (for the grader)
    tasks/               every task, one module per exercise (ex03_softmax.py, ...)
    generate.py          `make exercises`: exercises/ from solutions/ with nbgrader
grading/               `python -m logitlab grade`: grading a class safely
    classroom.py         the class: a row for every student and exercise, grades, problems and feedback
    submissions.py       finding and reading submitted files as untrusted input (no links, pipes, devices)
    autograde.py         one student's nbgrader autograde: limits, the collector, the verdicts
    warm.py              one autograde process kept warm for a worker's students (nbgrader imported once)
    child.py             the collector: runs the notebook in a sandboxed kernel, outside its reach
    probe.py             what runs in the learner's kernel: calling its functions on the grader's inputs
    bwrap.py             the bubblewrap command of a kernel (uid 65534, no capabilities, nothing hidden)
    limits.py            cgroups (v2 or v1): memory with tmpfs, processes and threads
    wire.py              the data format between the processes, validated strictly
    feedback.py          a feedback page: the grader's score and verdicts, the notebook as inert HTML
    pages.py             the one sanitizer (nh3) and page policy (CSP without script) of every HTML page
    csvsafe.py           CSV cells a spreadsheet cannot evaluate (OWASP's CSV-injection guidance)
    verdicts.py          each check's verdict as results.json records it
    report.py            the class report: report.html and report/*.csv (`python -m logitlab report OUT`)
    charts.py            the report's charts, drawn with matplotlib
    cluster.py           grading on a Dask cluster (`grade --scheduler tcp://HOST:PORT`)
authoring/             course tooling for the people who write it
    course.py            lessons, navigation, normalizing and executing notebooks
    lecture.py           lecture plans, slide types, speaker notes (`python -m logitlab lecture`)
    guide.py             the teaching guide's lecture pages, generated from the plans
    handouts.py          `make slides`: reveal.js handouts that work offline
    bench.py             `make bench`: how fast the explorers answer
    workspace.py         the learner's own copy, my-work/ (`make lab` makes it, `make update` updates it)
    contents.py          the course's JupyterLab file manager: notebooks read without dead widget views

Import it before TensorFlow: it quietens TensorFlow's start-up log and turns oneDNN off so that
printed numbers are the same in every kernel.
"""

import os
import sys

# The one place TensorFlow's settings are made. Both are needed for a silent import, and oneDNN on/off changes
# printed digits (CONTRIBUTING.md, "Quirks already found"); they only take effect if set before TensorFlow is
# first imported. Every lesson, `python -m logitlab ...` and the tests import logitlab first, and the kernels and
# children they start inherit os.environ; a process started with an environment of its own (the grading
# sandbox) passes TENSORFLOW_ENV on.
TENSORFLOW_ENV = {"TF_CPP_MIN_LOG_LEVEL": "2", "TF_ENABLE_ONEDNN_OPTS": "0"}
for _name, _value in TENSORFLOW_ENV.items():
    os.environ.setdefault(_name, _value)
del _name, _value

# nbformat, nbclient, nbconvert and nbgrader import jsonschema, which imports its optional IRI format checker
# rfc3987_syntax if installed (Jupyter's jsonschema[format-nongpl] installs it); that module builds 38 Lark
# grammars at import: about 1.4 s of CPU in every grading process, per notebook graded
# (python-jsonschema/jsonschema#1428). No notebook schema uses the "iri" formats; without the module jsonschema
# leaves those two formats unchecked, as it does whenever the module is missing.
sys.modules.setdefault("rfc3987_syntax", None)

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
