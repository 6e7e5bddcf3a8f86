"""Every graded task of the exercises, as data: inputs, right answers, named mistakes.

One `Task` per function a learner writes (the format is in `logitlab/exercises/format.py`; how to add one is
in CONTRIBUTING.md). The instant checks (`ll.checks.check_softmax(softmax)`) and the grader
(`python -m logitlab grade`) both read this table, so a learner sees the same messages in
JupyterLab and on the feedback page. Right answers come from `logitlab.numerics`; only the Keras
tasks' probes, which run in the learner's process, import TensorFlow.
"""

from logitlab.exercises.tasks import (  # noqa: F401  each module registers its exercise's tasks, in lesson order
    ex01_math_logit,
    ex02_logits_as_scores,
    ex03_softmax,
    ex04_cross_entropy,
    ex05_numerical_stability,
    ex06_fused_ops,
    ex07_training_with_logits,
    ex08_pitfalls,
    ex09_next_token,
)
from logitlab.exercises.tasks.common import TASKS, references, register

__all__ = ["TASKS", "references", "register"]
