"""Logits Lab's helper package: what is not the lesson (numerics, widgets, checks, grading, tooling).

One job per module: numerics.py (reference softmax, cross-entropy, ...), explorer_numbers.py (what
each slider explorer shows, NumPy only), blitting.py (their matplotlib pictures), png.py (the PNG
bytes sent per move), widgets.py (the explorers), training.py (recording a Keras run), checks.py
(exercise feedback), grading.py (nbgrader), course.py (notebook tooling), bench.py (`make bench`).

Import it before TensorFlow (`import logitlab as ll`): it quietens TensorFlow's start-up log
and turns oneDNN off so that printed numbers are the same in every kernel.
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


def __getattr__(name):
    # `ll.widgets` and `ll.training` load on first use, so `import logitlab` stays light
    # (no matplotlib, ipywidgets or TensorFlow until a lesson asks for them).
    if name in ("widgets", "training"):
        import importlib

        return importlib.import_module(f"logitlab.{name}")
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
