"""Exercise 04's task 3, mean_negative_log_likelihood: the reference passes, each named mistake is named."""

import numpy as np
import pytest

from logitlab import checks
from logitlab.exercises import judging, running
from logitlab.exercises.tasks import TASKS
from logitlab.exercises.tasks.ex04_cross_entropy import _mean_nll

TASK = TASKS["mean_nll"]


def test_reference_passes_visible_hidden_and_fresh_cases(capsys):
    checks.check_mean_nll(_mean_nll)
    checks.check("mean_nll", _mean_nll, hard=True)
    assert capsys.readouterr().out.count("✓ mean_negative_log_likelihood") == 2
    for seed in range(10):
        for case in TASK.fresh(np.random.default_rng(seed)):
            judging.judge(TASK, case, running.run_case(TASK, _mean_nll, case))


def test_mean_nll_is_the_mean_cross_entropy_of_the_lesson():
    import logitlab  # noqa: F401  (before TensorFlow: silent import)
    import tensorflow as tf

    y_hat = np.array([[0.5, 1.5, 0.1], [2.2, 1.3, 1.7]])
    fused = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=[1, 2], logits=y_hat).numpy()
    (visible,) = TASK.selected(False)
    assert abs(TASK.reference(*visible.args) - fused.mean()) < 1e-12
    assert f"{fused.mean():.5f}" == "0.83934"


def product_then_log(ids, probs):
    probs = np.asarray(probs, dtype=float)
    return -np.log(np.prod(probs[np.arange(len(ids)), ids])) / len(ids)


def test_product_then_log_passes_small_cases_but_not_3000_instances():
    checks.check("mean_nll", product_then_log)
    with pytest.raises(checks.CheckFailed, match="underflows to 0 in float64"):
        checks.check("mean_nll", product_then_log, hard=True)


@pytest.mark.parametrize("words, wrong", [
    ("forgot the minus sign", lambda ids, q: np.mean(np.log(np.asarray(q)[np.arange(len(ids)), ids]))),
    ("the likelihood itself", lambda ids, q: np.prod(np.asarray(q)[np.arange(len(ids)), ids])),
    ("divided by the number of classes",
     lambda ids, q: -np.mean(np.eye(np.shape(q)[1])[ids] * np.log(np.asarray(q)))),
    ("the sum over the instances", lambda ids, q: -np.sum(np.log(np.asarray(q)[np.arange(len(ids)), ids]))),
    ("one loss per instance", lambda ids, q: -np.log(np.asarray(q)[np.arange(len(ids)), ids])),
])
def test_learner_style_mistakes_get_their_message(words, wrong):
    with pytest.raises(checks.CheckFailed, match=words):
        checks.check("mean_nll", wrong)
