"""Exercises 06 and 08: the judgement tasks (pick the loss, the 0.5514 stall, a loss that grows with the batch)
pass with the worked answers, name each mistake, and draw grading-time scenarios that have one right answer."""

import numpy as np
import pytest

from logitlab import checks, numerics
from logitlab.exercises import judging, running
from logitlab.exercises.cells import read_check_cell
from logitlab.exercises.tasks import TASKS
from logitlab.exercises.tasks.ex06_fused_ops import KERAS_LOSSES

tf = pytest.importorskip("tensorflow")  # pinned in requirements.txt; the losses being picked are Keras's

Y_HAT = np.array([[0.5, 1.5, 0.1], [2.2, 1.3, 1.7]])
LABELS = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])


def fails_with(key, fn, words, hard=False):
    with pytest.raises(checks.CheckFailed) as caught:
        checks.check(key, fn, hard=hard)
    assert words in str(caught.value), str(caught.value)
    return str(caught.value)


def always(loss_class, from_logits):
    return lambda outputs, labels: getattr(tf.keras.losses, loss_class)(from_logits=from_logits)


# ---------------------------------------------------------------- exercise 06: pick_loss


def test_pick_loss_reference_passes_fixed_and_fresh_scenarios(capsys):
    task = TASKS["pick_loss"]
    checks.check("pick_loss", task.reference)
    checks.check("pick_loss", task.reference, hard=True)
    assert capsys.readouterr().out.count("✓ pick_loss") == 2
    families = set()
    for seed in range(40):
        for case in task.fresh(np.random.default_rng(seed)):
            assert judging.judge(task, case, running.run_case(task, task.reference, case)) is None
            families.add((case.expected["loss"], case.expected["from_logits"]))
    assert len(families) == 6, "fresh scenarios cover every family with logits and with probabilities"


def test_pick_loss_scenarios_have_one_right_answer():
    """Logits never pass for probabilities; multi-label rows never pass for one-hot rows."""
    task = TASKS["pick_loss"]
    cases = list(task.cases) + [c for seed in range(100) for c in task.fresh(np.random.default_rng(seed))]
    for case in cases:
        outputs, labels = case.args
        family, from_logits = case.expected["loss"], case.expected["from_logits"]
        in_unit = bool(((outputs >= 0) & (outputs <= 1)).all())
        rows_sum_to_1 = bool(np.allclose(outputs.sum(axis=-1), 1.0, atol=1e-3))
        if family == "BinaryCrossentropy":
            assert in_unit != from_logits
        else:  # a softmax output lies in [0, 1] and its rows sum to 1; small positive logits do not sum to 1
            assert (in_unit and rows_sum_to_1) != from_logits
            assert from_logits or rows_sum_to_1
        if family == "SparseCategoricalCrossentropy":
            assert labels.ndim == 1 and labels.dtype.kind == "i" and labels.max() < outputs.shape[-1]
        else:
            assert labels.shape == outputs.shape
            assert np.allclose(labels.sum(axis=-1), 1.0) == (family == "CategoricalCrossentropy")
        if not from_logits and family != "BinaryCrossentropy":
            assert np.allclose(outputs.sum(axis=-1), 1.0, atol=1e-5)
        # The loss really is computable with the picked Keras loss: a finite number.
        value = float(getattr(tf.keras.losses, family)(from_logits=from_logits)(labels, outputs))
        assert np.isfinite(value)


@pytest.mark.parametrize("hard", [False, True])
def test_pick_loss_names_the_wrong_family_and_the_wrong_from_logits(hard):
    fails_with("pick_loss", always("CategoricalCrossentropy", True), "integer class ids go to Sparse", hard=hard)
    fails_with("pick_loss", always("SparseCategoricalCrossentropy", True),
               "one-hot rows go to CategoricalCrossentropy", hard=hard)


def test_pick_loss_explains_from_logits_from_the_outputs():
    def family_right_logits_wrong(outputs, labels):
        right = TASKS["pick_loss"].reference(outputs, labels)
        return type(right)(from_logits=not right.get_config()["from_logits"])

    message = fails_with("pick_loss", family_right_logits_wrong, "from_logits")
    assert "outputs run from" in message
    assert ("raw logits" in message) or ("applied already" in message) or ("sigmoid probabilities" in message)
    def binary_as_categorical(outputs, labels):
        right = TASKS["pick_loss"].reference(outputs, labels)
        if isinstance(right, tf.keras.losses.BinaryCrossentropy):
            return tf.keras.losses.CategoricalCrossentropy(from_logits=right.get_config()["from_logits"])
        return right

    binary_as_categorical = fails_with("pick_loss", binary_as_categorical, "BinaryCrossentropy")
    assert "yes/no" in binary_as_categorical


def by_rule(logits_when):
    """A pick_loss that gets the family right and decides from_logits by `logits_when(outputs)`."""
    def pick(outputs, labels):
        right = TASKS["pick_loss"].reference(outputs, labels)
        return type(right)(from_logits=bool(logits_when(np.asarray(outputs, dtype=float))))

    return pick


def test_pick_loss_rejects_shortcut_rules_for_from_logits():
    """"Logits iff some output is negative" fails the visible check (all-positive logits); "logits iff some output
    is outside [0, 1]" (the old worked solution) fails the hidden one, on small positive logits."""
    negative_rule = fails_with("pick_loss", by_rule(lambda out: (out < 0).any()), "outside [0, 1], so they are raw")
    assert "BinaryCrossentropy(from_logits=True)" in negative_rule
    outside_rule = by_rule(lambda out: not ((out >= 0) & (out <= 1)).all())
    checks.check("pick_loss", outside_rule)  # the visible cases do not tell the two rules apart
    message = fails_with("pick_loss", outside_rule, "but the rows sum to", hard=True)
    assert "CategoricalCrossentropy(from_logits=True)" in message and "happen to be small" in message
    # The example: small positive logits whose rows sum to 0.6 and 0.8 are logits.
    small = np.array([[0.2, 0.3, 0.1], [0.4, 0.1, 0.3]])
    assert TASKS["pick_loss"].reference(small, np.eye(3)[[0, 2]]).get_config()["from_logits"] is True
    assert TASKS["pick_loss"].reference(numerics.softmax(small), np.eye(3)[[0, 2]]).get_config()["from_logits"] is False


def test_pick_loss_fresh_scenarios_include_all_positive_and_small_logits():
    kinds = set()
    for seed in range(60):
        for case in TASKS["pick_loss"].fresh(np.random.default_rng(seed)):
            outputs = case.args[0]
            if case.expected["from_logits"]:
                kinds.add("negative" if (outputs < 0).any() else "small" if (outputs <= 1).all() else "positive")
    assert kinds == {"negative", "positive", "small"}


def test_pick_loss_asks_for_a_loss_object():
    fails_with("pick_loss", lambda outputs, labels: "CategoricalCrossentropy", "return a Keras loss object")
    fails_with("pick_loss", lambda outputs, labels: tf.keras.losses.categorical_crossentropy,
               "return a Keras loss object")


# ---------------------------------------------------------------- exercise 08: the 0.5514 stall


def test_double_softmax_floor_is_the_stall_the_exercise_quotes():
    floor = TASKS["double_softmax_floor"].reference
    assert round(floor(3), 4) == 0.5514
    for k in (2, 3, 10, 1000):  # the floor equals TensorFlow's loss of a perfect prediction after a double softmax
        labels = np.eye(k)[[0]]
        twice = tf.nn.softmax_cross_entropy_with_logits(labels=labels, logits=tf.nn.softmax(labels * 1e3))
        assert float(twice[0]) == pytest.approx(floor(k), rel=1e-6)
    task = TASKS["double_softmax_floor"]
    for seed in range(20):
        for case in task.fresh(np.random.default_rng(seed)):
            judging.judge(task, case, running.run_case(task, task.reference, case))


@pytest.mark.parametrize("wrong, words", [
    (lambda k: float(np.log(k)), "uniform guess"),
    (lambda k: 0.0, "never reaches 0"),
    (lambda k: float(np.log(np.e + k - 1)), "left out the true class's own logit"),
    (lambda k: float(np.log(np.e + k) - 1), "the other k - 1 classes"),
])
def test_double_softmax_floor_names_the_mistake(wrong, words):
    fails_with("double_softmax_floor", wrong, words)


# ---------------------------------------------------------------- exercise 08: a loss that grows with the batch


def test_batch_mean_loss_reference_and_tensorflow_pass():
    task = TASKS["batch_mean_loss"]
    # the NumPy reference gives the values; the learner's answer must also give a gradient, so TensorFlow here
    fused = tf.function(lambda y, z: tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=y, logits=z)))
    for fn in (fused, lambda y, z: tf.keras.losses.CategoricalCrossentropy(from_logits=True)(y, z)):
        checks.check("batch_mean_loss", fn)
    for fn in (fused, lambda y, z: tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=y, logits=z))):
        checks.check("batch_mean_loss", fn, hard=True)
        for seed in range(10):
            for case in task.fresh(np.random.default_rng(seed)):
                judging.judge(task, case, running.run_case(task, fn, case))
    assert round(float(task.reference(LABELS, Y_HAT)), 5) == 0.83934


@pytest.mark.parametrize("wrong, words, hard", [
    (lambda y, z: -tf.reduce_sum(y * tf.math.log(tf.nn.softmax(z))), "grows with the batch size", False),
    (lambda y, z: -tf.reduce_mean(y * tf.math.log(tf.nn.softmax(z))), "averaged over the classes too", False),
    (lambda y, z: tf.nn.softmax_cross_entropy_with_logits(labels=y, logits=z), "one loss per row", False),
    (lambda y, z: tf.reduce_mean(-tf.reduce_sum(y * tf.math.log(tf.nn.softmax(z)), axis=-1)),
     "softmax_cross_entropy_with_logits", True),
])
def test_batch_mean_loss_names_the_mistake(wrong, words, hard):
    fails_with("batch_mean_loss", wrong, words, hard=hard)


@tf.function
def _log_softmax_bug_in_a_graph(labels, logits):
    return -tf.reduce_mean(tf.reduce_sum(labels * tf.math.log(tf.nn.softmax(logits)), axis=-1))


def test_batch_mean_loss_is_judged_eagerly_with_its_gradient():
    # Grappler rewrites log(softmax) into log_softmax in a forward-only tf.function (TF 2.21): the bug the task
    # is built to catch would pass if the check called the learner's tf.function as it is.
    z = tf.constant([[800.0, 0.0, -800.0]])
    assert np.isfinite(_log_softmax_bug_in_a_graph(tf.constant([[0.0, 1.0, 0.0]]), z).numpy())
    message = fails_with("batch_mean_loss", _log_softmax_bug_in_a_graph, "eagerly", hard=True)
    assert "softmax_cross_entropy_with_logits" in message
    assert not tf.config.functions_run_eagerly()  # the probe restores the setting
    fails_with("batch_mean_loss", lambda y, z: numerics.cross_entropy(np.asarray(y), np.asarray(z)).mean(),
               "no gradient reaches the logits")


@pytest.mark.parametrize("make, sparse, words", [
    (lambda: tf.keras.losses.SparseCategoricalCrossentropy(), True, "reads the logits as probabilities"),
    (lambda: tf.keras.losses.CategoricalCrossentropy(), False, "reads the logits as probabilities"),
    (lambda: tf.keras.losses.categorical_crossentropy, False, "not a loss object"),
    (lambda: tf.keras.losses.sparse_categorical_crossentropy, True, "not a loss object"),
    (lambda: tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction="sum"), True, "sum over"),
])
def test_keras_loss_tasks_name_the_mistake(make, sparse, words):
    fails_with("sparse_keras_loss" if sparse else "keras_loss", make, words)


def test_exercises_06_and_08_no_longer_share_a_task():
    from helpers import ROOT
    from logitlab.authoring import course

    def keys(stem):
        nb = course.read_notebook(ROOT / "solutions" / f"{stem}.ipynb")
        cells = [course.cell_source(c) for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("grade")]
        return {read_check_cell(s.replace("### BEGIN HIDDEN TESTS", "").replace("### END HIDDEN TESTS", ""))[0]
                for s in cells}

    six, eight = keys("06-fused-ops"), keys("08-pitfalls")
    assert not six & eight, six & eight
    assert {"pick_loss", "positional_call"} <= six and {"double_softmax_floor", "batch_mean_loss"} <= eight
    assert set(KERAS_LOSSES) == {"CategoricalCrossentropy", "SparseCategoricalCrossentropy", "BinaryCrossentropy"}
    assert numerics.softmax(np.eye(3)[0])[0] == pytest.approx(np.e / (np.e + 2))


# ---------------------------------------------------------------- exercise 06: predict the old positional call


def test_positional_call_prediction_matches_what_tensorflow_2_returns():
    task = TASKS["positional_call"]
    cases = list(task.cases) + [c for seed in range(10) for c in task.fresh(np.random.default_rng(seed))]
    for case in cases:
        y_hat, y_true = case.args
        np.testing.assert_allclose(task.reference(y_hat, y_true),
                                   tf.nn.softmax_cross_entropy_with_logits(y_hat, y_true).numpy(), rtol=1e-12)
        judging.judge(task, case, running.run_case(task, task.reference, case))
    np.testing.assert_allclose(task.reference(Y_HAT, LABELS), [1.7580339, 6.3675125], rtol=1e-6)


@pytest.mark.parametrize("wrong, words", [
    (lambda y_hat, y_true: tf.nn.softmax_cross_entropy_with_logits(labels=y_true, logits=y_hat),
     "first parameter is labels"),
    (lambda y_hat, y_true: (y_hat * numerics.log_softmax(y_true)).sum(axis=-1), "sign error"),
    (lambda y_hat, y_true: float(tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(y_hat, y_true))), "no mean"),
])
def test_positional_call_names_the_mistake(wrong, words):
    fails_with("positional_call", wrong, words)


# ---------------------------------------------------------------- exercise 06: the fused ops, called by name


def test_fused_tasks_pass_with_tensorflow_called_by_name(capsys):
    for hard in (False, True):
        checks.check("fused_cross_entropy", lambda y, z: tf.nn.softmax_cross_entropy_with_logits(labels=y, logits=z),
                     hard=hard)
        checks.check("sparse_fused_cross_entropy",
                     lambda ids, z: tf.nn.sparse_softmax_cross_entropy_with_logits(labels=ids, logits=z), hard=hard)
    assert capsys.readouterr().out.count("✓") == 4


def test_fused_cross_entropy_names_the_swapped_positional_call():
    def per_example_loss(labels, logits):
        return tf.nn.softmax_cross_entropy_with_logits(logits, labels)  # TF 1's order, by position

    message = fails_with("fused_cross_entropy", per_example_loss, "first parameter is `labels`")
    assert "[1.758034, 6.367513]" in message, message  # lesson 06's positional-call numbers
    fails_with("fused_cross_entropy", per_example_loss, "labels=labels, logits=logits", hard=True)


def test_sparse_fused_task_says_the_op_raises_not_valueerror():
    def via_one_hot(label_ids, logits):  # a bad id becomes a row of zeros: loss 0, no error
        labels = tf.one_hot(label_ids, depth=np.shape(logits)[-1], dtype=tf.float64)
        return tf.nn.softmax_cross_entropy_with_logits(labels=labels, logits=logits)

    checks.check("sparse_fused_cross_entropy", via_one_hot)
    message = fails_with("sparse_fused_cross_entropy", via_one_hot, "instead of an error", hard=True)
    assert "raises InvalidArgumentError" in message and "tf.one_hot" in message and "ValueError" not in message
    assert "NumPy" not in message
