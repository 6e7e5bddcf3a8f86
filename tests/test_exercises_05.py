"""Exercise 05: the feedback tells which step of a log-softmax broke (overflow or underflow), and names the
overflow and the underflow of logsumexp."""

import numpy as np
import pytest

from logitlab import checks, numerics
from logitlab.exercises import judging, running
from logitlab.exercises.tasks import TASKS


def naive_log_softmax(z):
    """logits - log(sum(exp(logits))): no row max, so exp(1000) overflows and every entry becomes -inf."""
    z = np.asarray(z, dtype=float)
    return z - np.log(np.sum(np.exp(z), axis=-1, keepdims=True))


def log_of_naive_softmax(z):
    z = np.asarray(z, dtype=float)
    return np.log(np.exp(z) / np.exp(z).sum(axis=-1, keepdims=True))


def log_of_stable_softmax(z):
    return np.log(numerics.softmax(z))


def fails_with(key, fn, hard):
    with np.errstate(all="ignore"), pytest.raises(checks.CheckFailed) as caught:
        checks.check(key, fn, hard=hard)
    return str(caught.value)


@pytest.mark.parametrize("wrong, came_back, named, not_named", [
    (naive_log_softmax, "[[-inf, -inf, -inf]]", ["exp(1000) overflowed", "row max"], ["underflows to 0"]),
    (log_of_naive_softmax, "[[nan, -inf, -inf]]", ["inf / inf = nan", "underflows to 0"], []),
    (log_of_stable_softmax, "[[0, -inf, -inf]]", ["underflows to 0"], ["overflow"]),
])
def test_log_softmax_feedback_names_what_broke(wrong, came_back, named, not_named):
    assert checks.check_log_softmax(wrong) is None  # everyday logits: every one of them passes the visible check
    message = fails_with("log_softmax", wrong, hard=True)
    assert came_back in message, message
    assert all(words in message for words in named), message
    assert not any(words in message for words in not_named), message


def test_log_softmax_finite_but_wrong_answer_gets_the_recipe():
    message = fails_with("log_softmax", lambda z: np.asarray(z) / 2, hard=True)
    assert "logits - logsumexp(logits)" in message and "at most 0" in message


def test_logsumexp_feedback_names_overflow_and_underflow():
    message = fails_with("logsumexp", lambda z: np.log(np.exp(np.asarray(z)).sum(axis=-1)), hard=True)
    assert "[inf, -inf]" in message and "overflows" in message and "underflows" in message, message


def test_references_pass_fixed_and_fresh_cases(capsys):
    for key in ("logsumexp", "log_softmax", "softmax_cross_entropy_grad"):
        task = TASKS[key]
        checks.check(key, task.reference)
        checks.check(key, task.reference, hard=True)
        for seed in range(10):
            for case in task.fresh(np.random.default_rng(seed)):
                judging.judge(task, case, running.run_case(task, task.reference, case))
    assert capsys.readouterr().out.count("✓") == 6
