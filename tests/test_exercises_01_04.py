"""Exercises 01-04: checks that accept no broken answer and feedback that names the right mistake (issue 17)."""

import re

import numpy as np
import pytest

from logitlab import checks
from logitlab import numerics as ref
from logitlab.exercises import judging, running
from logitlab.exercises.tasks import TASKS
from logitlab.exercises.tasks import ex02_logits_as_scores as ex02

KEYS = ["logit", "sigmoid", "dense_logits", "predict_class", "binary_probability", "softmax",
        "softmax_with_temperature", "cross_entropy", "sparse_cross_entropy"]


@pytest.fixture(scope="module")
def tf():
    import logitlab  # noqa: F401  (before TensorFlow: silent import)
    import tensorflow

    return tensorflow


def naive_softmax(z):
    e = np.exp(np.asarray(z, dtype=float))
    return e / e.sum(axis=-1, keepdims=True)


def test_textbook_sigmoid_passes_because_its_overflow_is_harmless(capsys):
    # The task asks for no nan: exp(1000) = inf in 1 / (1 + exp(-z)) gives 1 / inf = 0.0, the right answer.
    with np.errstate(over="ignore"):
        assert 1 / (1 + np.exp(1000.0)) == 0.0
    checks.check_sigmoid(lambda z: 1 / (1 + np.exp(-np.asarray(z))), hard=True)
    assert "(no nan)" in capsys.readouterr().out
    with pytest.raises(checks.CheckFailed, match="inf / inf is nan"):
        checks.check_sigmoid(lambda z: np.exp(np.asarray(z)) / (1 + np.exp(np.asarray(z))), hard=True)


def test_binary_probability_through_a_textbook_sigmoid_passes_and_dividing_exponentials_does_not():
    checks.check_binary_probability(lambda z: 1 / (1 + np.exp(-(np.asarray(z)[:, 1] - np.asarray(z)[:, 0]))),
                                    hard=True)
    with pytest.raises(checks.CheckFailed, match="inf / inf is nan"):
        checks.check_binary_probability(lambda z: naive_softmax(z)[:, 1], hard=True)


def test_sigmoid_mistakes_are_different_functions():
    z = np.array([-2.0, 0.0, 2.0, 4.0])
    answers = [m.wrong(z) for m in TASKS["sigmoid"].mistakes] + [ref.sigmoid(z)]
    for i, a in enumerate(answers):
        for b in answers[i + 1:]:
            assert not np.allclose(a, b)


def test_argmax_of_an_overflowing_softmax_fails_predict_class():
    def argmax_of_softmax(z):
        return np.argmax(naive_softmax(z), axis=-1)

    with pytest.raises(checks.CheckFailed, match="expected"):
        checks.check_predict_class(argmax_of_softmax, hard=True)
    task = TASKS["predict_class"]
    for seed in range(200):  # every graded run catches it, not 195 in 200
        (case,) = [c for c in task.fresh(np.random.default_rng(seed)) if c.hidden]
        with pytest.raises(checks.CheckFailed):
            judging.judge(task, case, running.run_case(task, argmax_of_softmax, case))


@pytest.mark.parametrize("wrong", [lambda p: np.log(p) / np.log(1 - np.asarray(p)), lambda p: 2 * np.asarray(p)])
def test_logit_answers_that_give_1_at_one_half_are_not_told_they_returned_the_odds(wrong):
    with pytest.raises(checks.CheckFailed) as failed:
        checks.check_logit(wrong)
    assert "odds p / (1 - p)" not in str(failed.value)


def test_a_nan_loss_is_blamed_on_overflow_and_an_infinite_one_on_underflow():
    def without_max(labels, logits):
        return -(np.asarray(labels) * np.log(naive_softmax(logits))).sum(axis=-1)

    def log_of_stable_softmax(labels, logits):
        with np.errstate(divide="ignore", invalid="ignore"):
            return -(np.asarray(labels) * np.log(ref.softmax(logits))).sum(axis=-1)

    with pytest.raises(checks.CheckFailed) as nan:
        checks.check_cross_entropy(without_max, hard=True)
    assert "your loss is nan" in str(nan.value) and "exp overflowed" in str(nan.value)
    with pytest.raises(checks.CheckFailed) as inf:
        checks.check_cross_entropy(log_of_stable_softmax, hard=True)
    assert "your loss is infinite" in str(inf.value) and "underflows" in str(inf.value)


@pytest.mark.parametrize("hard", [False, True])
def test_keras_loss_without_from_logits_is_named(tf, hard):
    keras = tf.keras
    for fn in (lambda y, z: keras.losses.categorical_crossentropy(y, z).numpy(),
               lambda y, z: keras.losses.CategoricalCrossentropy()(y, z).numpy()):
        with pytest.raises(checks.CheckFailed, match="from_logits was left False"):
            checks.check_cross_entropy(fn, hard=hard)
    for fn in (lambda i, z: keras.losses.sparse_categorical_crossentropy(i, z).numpy(),
               lambda i, z: keras.losses.SparseCategoricalCrossentropy()(i, z).numpy()):
        with pytest.raises(checks.CheckFailed, match="from_logits was left False"):
            checks.check_sparse_cross_entropy(fn)


def test_swapped_positional_call_is_named(tf):
    def swapped(labels, logits):
        return tf.nn.softmax_cross_entropy_with_logits(logits, labels).numpy()  # the pre-1.0 order

    with pytest.raises(checks.CheckFailed) as failed:
        checks.check_cross_entropy(swapped)
    assert "[1.758034, 6.367513]" in str(failed.value) and "labels and logits are swapped" in str(failed.value)


def test_mean_over_classes_is_named():
    with pytest.raises(checks.CheckFailed, match="averaged over the classes"):
        checks.check_cross_entropy(lambda y, z: np.mean(-np.asarray(y) * ref.log_softmax(z), axis=-1))
    with pytest.raises(checks.CheckFailed, match="averaged over the classes"):
        checks.check_sparse_cross_entropy(lambda ids, z: ref.sparse_cross_entropy(ids, z) / np.shape(z)[-1])



@pytest.mark.parametrize("lower_bound", [0.01, 0.005])
def test_a_temperature_clamped_from_below_fails_on_close_logits(lower_bound):
    """softmax(z / max(T, bound)) passes every case of well-separated logits; 1.0 and 1.002 at T = 0.002 do not."""
    def clamped(z, t):
        return ref.softmax(np.asarray(z, dtype=float) / max(t, lower_bound))

    checks.check_softmax_with_temperature(clamped)
    with pytest.raises(checks.CheckFailed, match="no lower bound on T"):
        checks.check_softmax_with_temperature(clamped, hard=True)


def test_probabilities_clipped_like_keras_are_named(tf, capsys):
    """Keras clips probabilities at 1e-7: a true class given 1e-8 scores 16.1 instead of 18.4."""
    def clipped(ids, probs):
        true_probs = np.asarray(probs, dtype=float)[np.arange(len(ids)), ids]
        return -np.mean(np.log(np.clip(true_probs, 1e-7, 1.0)))

    def keras(ids, probs):
        return float(tf.keras.losses.SparseCategoricalCrossentropy()(ids, probs))

    for wrong in (clipped, keras):
        checks.check_mean_nll(wrong)
        with pytest.raises(checks.CheckFailed, match="clipped the probabilities at 1e-7"):
            checks.check_mean_nll(wrong, hard=True)

    def tiny_epsilon(ids, probs):  # log(p + 1e-12) is off by 1e-4 at p = 1e-8: well within the tolerance
        return -np.mean(np.log(np.asarray(probs, dtype=float)[np.arange(len(ids)), ids] + 1e-12))

    checks.check_mean_nll(tiny_epsilon, hard=True)
    assert "a true class given 1e-8" in capsys.readouterr().out

def test_exercise_02_inputs_each_have_their_own_generator():
    # Inserting or changing one fixed input changes no other one.
    assert np.array_equal(ex02._X1, np.round(np.random.default_rng(23).normal(size=(1, 4)), 2))
    assert np.array_equal(ex02._W, np.round(np.random.default_rng(22).normal(size=(4, 5)), 2))


# ---------------------------------------------------------------- a learner alone runs the hard cases


def exercise_cells(stem):
    import json

    from helpers import ROOT

    return json.loads((ROOT / "exercises" / f"{stem}.ipynb").read_text(encoding="utf-8"))["cells"]


@pytest.mark.parametrize("stem", ["01-math-logit", "02-logits-as-scores", "03-softmax", "04-cross-entropy",
                                  "05-numerical-stability", "06-fused-ops", "07-training-with-logits",
                                  "08-pitfalls"])
def test_each_exercise_offers_its_own_hard_cases_to_a_learner_alone(stem):
    from logitlab.exercises.cells import read_check_cell
    from logitlab.exercises.generate import HIDDEN_BLOCK, hard_checks
    from helpers import ROOT
    import nbformat

    solution = nbformat.reads((ROOT / "solutions" / f"{stem}.ipynb").read_text(encoding="utf-8"), as_version=4)
    hidden = hard_checks(solution)
    assert hidden and all(read_check_cell(call)[2] for _, call, _ in hidden)  # each is a hard=True check
    cells = exercise_cells(stem)
    sources = [c["source"] if isinstance(c["source"], str) else "".join(c["source"]) for c in cells]
    assert not any(HIDDEN_BLOCK.search(s) for s in sources)
    for grade_id, call, tries in hidden:
        # The whole comment, also when it wraps over lines: no phrase cut at a comma, no "#" carried along.
        assert tries and "#" not in tries and tries[-1].isalnum(), tries
        index = next(i for i, c in enumerate(cells) if c["metadata"].get("nbgrader", {}).get("grade_id") == grade_id)
        assert f"`{call}`" in sources[index + 1]  # offered right below the graded cell
        assert tries in sources[1]  # and listed, task by task, in the intro
    assert "huge logits, float16, batches, equal logits, shapes, bad labels" not in sources[1]
    assert sources[-1].startswith("## Done?") and all(call in sources[-1] for _, call, _ in hidden)


@pytest.mark.parametrize("stem", ["03-softmax", "07-training-with-logits", "09-next-token"])
def test_the_chinese_exercise_lists_its_hard_cases_task_by_task_in_chinese(stem):
    from logitlab import i18n
    from logitlab.exercises.cells import read_check_cell
    from logitlab.exercises.generate import hard_checks
    from helpers import ROOT
    import nbformat

    solution = nbformat.reads((ROOT / "zh-CN" / "solutions" / f"{stem}.ipynb").read_text(encoding="utf-8"),
                              as_version=4)
    with i18n.language(i18n.CHINESE):
        hidden = hard_checks(solution)
    intro = "".join(nbformat.reads((ROOT / "zh-CN" / "exercises" / f"{stem}.ipynb").read_text(encoding="utf-8"),
                                   as_version=4).cells[1].source)
    assert len(hidden) >= 2
    for _grade_id, call, tries in hidden:
        assert tries and "#" not in tries and not tries.endswith("。"), tries  # the whole comment, in Chinese
        assert f"`{read_check_cell(call)[1]}`：{tries}" in intro


def test_the_offered_hard_checks_pass_with_the_solutions(capsys):
    # What a learner alone runs is a real check: with the worked solutions it prints a tick.
    checks.check_softmax(ref.softmax, hard=True)
    checks.check_sigmoid(ref.sigmoid, hard=True)
    assert capsys.readouterr().out.count("✓") == 2


def test_an_array_where_one_number_is_expected_is_told_so():
    def in_a_list(ids, probs):
        return np.array([ref.sparse_cross_entropy(ids, np.log(probs)).mean()])

    with pytest.raises(checks.CheckFailed, match=r"returned shape \[1\]; expected one number \(shape \[\]\)"):
        checks.check_mean_nll(in_a_list)


def test_a_function_that_changes_its_input_in_place_is_judged_on_what_it_returns(capsys):
    """`logits /= temperature` returns the right values; the check's cases must not change under it."""
    task = TASKS["softmax_with_temperature"]
    before = [np.array(case.args[0], copy=True) for case in task.cases]

    def in_place(logits, temperature):
        logits /= temperature
        return ref.softmax(logits)

    checks.check_softmax_with_temperature(in_place)
    checks.check_softmax_with_temperature(in_place, hard=True)
    assert "✓ softmax_with_temperature" in capsys.readouterr().out
    for case, logits in zip(task.cases, before):
        np.testing.assert_array_equal(case.args[0], logits)


def test_softmax_over_axis_1_fails_on_a_3d_array_with_its_mistake_named():
    def over_axis_1(z):
        z = np.asarray(z, dtype=float)
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    checks.check_softmax(over_axis_1)  # right for every [batch, classes] case
    task = TASKS["softmax"]
    three_d = next(case for case in task.cases if np.ndim(case.args[0]) == 3)
    with pytest.raises(checks.CheckFailed, match="softmax over axis 1"):
        judging.judge(task, three_d, running.run_case(task, over_axis_1, three_d))
    with pytest.raises(checks.CheckFailed, match="AxisError"):  # the one-row case comes first
        checks.check_softmax(over_axis_1, hard=True)


@pytest.mark.parametrize("wrong, named", [
    (lambda z: (np.asarray(z)[:, 1] > np.asarray(z)[:, 0]).astype(float), "predicted class"),
    (lambda z: np.asarray(z, dtype=float)[:, 1] - np.asarray(z, dtype=float)[:, 0], "log-odds"),
])
def test_binary_probability_names_a_class_prediction_and_the_log_odds(wrong, named):
    with pytest.raises(checks.CheckFailed, match=named):
        checks.check_binary_probability(wrong)
    with pytest.raises(checks.CheckFailed, match=named):
        checks.check_binary_probability(wrong, hard=True)


def _log2_logit(p):
    p = np.asarray(p, dtype=float)
    return np.log2(p / (1 - p))


@pytest.mark.parametrize("check, wrong, named", [
    (checks.check_logit, _log2_logit, "log base 2"),
    (checks.check_softmax, ref.log_softmax, "log-probabilities (log_softmax)"),
    (checks.check_cross_entropy, lambda y, z: -(np.asarray(y) * np.log10(ref.softmax(z))).sum(axis=-1), "log base 10"),
    (checks.check_sparse_cross_entropy, lambda ids, z: ref.sparse_cross_entropy(ids, z) / np.log(2), "log base 2"),
    (checks.check_mean_nll, lambda ids, q: -np.log(np.mean(np.asarray(q)[np.arange(len(ids)), ids])),
     "log of the mean probability"),
], ids=["logit-log2", "softmax-log-probs", "cross-entropy-log10", "sparse-log2", "nll-log-of-mean"])
def test_more_wrong_answers_are_named(check, wrong, named):
    with pytest.raises(checks.CheckFailed, match=re.escape(named)):
        check(wrong)


def test_clipping_before_the_log_is_named_on_the_logit_1000_below():
    def clipped(labels, logits):
        return -(np.asarray(labels) * np.log(np.clip(ref.softmax(logits), 1e-7, 1.0))).sum(axis=-1)

    checks.check_cross_entropy(clipped)
    with pytest.raises(checks.CheckFailed, match="clipped the probabilities at 1e-7 before the log"):
        checks.check_cross_entropy(clipped, hard=True)
