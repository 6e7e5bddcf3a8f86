"""Exercise 07's NumPy tasks (loss before training, log-prior bias, temperature, calibrated probabilities):
the reference passes, simple learner answers pass, and each named mistake is named."""

import numpy as np
import pytest

from logitlab import checks, numerics
from logitlab.exercises import judging, running
from logitlab.exercises.tasks import TASKS


def feedback(key, fn, hard=False):
    """The message a learner's `fn` gets on task `key` ('' when it passes)."""
    try:
        checks.check(key, fn, hard=hard)
    except checks.CheckFailed as err:
        return str(err)
    return ""


def learner_fit_temperature(logits, label_ids):
    """What a learner writes after lesson 07: a log-spaced search of the stable NLL."""
    temperatures = np.geomspace(0.05, 20, 401)
    nlls = [numerics.sparse_cross_entropy(label_ids, np.asarray(logits) / t).mean() for t in temperatures]
    return temperatures[int(np.argmin(nlls))]


def learner_log_prior_bias(label_ids, num_classes):
    counts = np.bincount(label_ids, minlength=num_classes)
    return np.log(counts + 1e-3)  # log counts: a constant away from log frequencies, which softmax ignores


LEARNERS = {
    "initial_loss": lambda ids, b: numerics.sparse_cross_entropy(ids, np.tile(b, (len(ids), 1))).mean(),
    "log_prior_bias": learner_log_prior_bias,
    "fit_temperature": learner_fit_temperature,
    "calibrated_probabilities": lambda tl, ti, hl, hi, z: numerics.softmax(z / learner_fit_temperature(hl, hi)),
}


@pytest.mark.parametrize("key", sorted(LEARNERS))
@pytest.mark.parametrize("hard", [False, True])
def test_reference_and_a_learners_answer_pass(key, hard):
    assert feedback(key, TASKS[key].reference, hard) == ""
    assert feedback(key, LEARNERS[key], hard) == ""


@pytest.mark.parametrize("key", sorted(LEARNERS))
def test_fresh_cases_are_as_passable(key):
    task = TASKS[key]
    for seed in range(5):
        for case in task.fresh(np.random.default_rng(seed)):
            judging.judge(task, case, running.run_case(task, LEARNERS[key], case))


def _loss(ids, b):
    return -numerics.log_softmax(np.asarray(b, dtype=float))[np.asarray(ids)].mean()


@pytest.mark.parametrize("fn, hard, words", [
    (lambda ids, b: np.log(len(b)), False, "log K whatever the bias"),
    (lambda ids, b: -(numerics.softmax(b) * numerics.log_softmax(b)).sum(), False, "entropy of the model's"),
    (lambda ids, b: -_loss(ids, b), False, "sign error"),
    (lambda ids, b: -np.log(np.asarray(b, dtype=float)[np.asarray(ids)]).mean(), False, "log of the bias itself"),
    (lambda ids, b: _loss(ids, b) * len(ids), False, "sum over the instances"),
    (lambda ids, b: -numerics.log_softmax(np.asarray(b, dtype=float))[np.asarray(ids)], False, "one loss per instance"),
    (lambda ids, b: -np.log(numerics.softmax(b)[np.asarray(ids)] if np.abs(b).max() < 100
                            else np.exp(b)[np.asarray(ids)] / np.exp(b).sum()).mean(), True, "stable log_softmax"),
])
def test_initial_loss_mistakes_are_named(fn, hard, words):
    assert words in feedback("initial_loss", fn, hard)


def _freq(ids, k):
    return np.bincount(ids, minlength=k) / len(ids)


@pytest.mark.parametrize("fn, hard, words", [
    (lambda ids, k: _freq(ids, k), False, "frequencies themselves"),
    (lambda ids, k: np.bincount(ids, minlength=k).astype(float), False, "returned the counts"),
    (lambda ids, k: -np.log(_freq(ids, k)), False, "Sign error"),
    (lambda ids, k: np.log(_freq(ids, k) / (1 - _freq(ids, k))), False, "log-odds"),
    (lambda ids, k: np.zeros(k), False, "Keras's default bias"),
    (lambda ids, k: np.log(np.bincount(ids) / len(ids)), True, "minlength=num_classes"),
    (lambda ids, k: np.log(_freq(ids, k)), True, "log(0) = -inf"),
])
def test_log_prior_bias_mistakes_are_named(fn, hard, words):
    assert words in feedback("log_prior_bias", fn, hard)


def test_log_counts_are_accepted_and_a_constant_shift_too():
    assert feedback("log_prior_bias", lambda ids, k: np.log(np.bincount(ids, minlength=k)) + 7.0) == ""


def _naive_fit(logits, label_ids):
    temperatures = np.geomspace(0.05, 20, 401)
    probs = [np.exp(np.asarray(logits) / t) / np.exp(np.asarray(logits) / t).sum(-1, keepdims=True)
             for t in temperatures]
    return temperatures[int(np.argmin([-np.log(p[np.arange(len(label_ids)), label_ids]).mean() for p in probs]))]


@pytest.mark.parametrize("fn, hard, words", [
    (lambda z, ids: 1 / TASKS["fit_temperature"].reference(z, ids), False, "multiplied the logits by T"),
    (lambda z, ids: 1.0, False, "T = 1 changes nothing"),
    (lambda z, ids: -2.0, False, "positive number"),
    (lambda z, ids: np.array([1.0, 2.0]), False, "return one number"),
    (lambda z, ids: numerics.sparse_cross_entropy(ids, z / TASKS["fit_temperature"].reference(z, ids)).mean(),
     False, "returned the smallest NLL"),
    (lambda z, ids: np.geomspace(0.25, 4.0, 401)[np.argmin([numerics.sparse_cross_entropy(ids, z / t).mean()
                                                            for t in np.geomspace(0.25, 4.0, 401)])],
     True, "wide range"),
    (_naive_fit, True, "exp overflows"),
])
def test_fit_temperature_mistakes_are_named(fn, hard, words):
    assert words in feedback("fit_temperature", fn, hard)


def _fit(z, ids):
    return TASKS["fit_temperature"].reference(z, ids)


@pytest.mark.parametrize("fn, words", [
    (lambda tl, ti, hl, hi, z: numerics.softmax(z / _fit(tl, ti)), "fitted T on the training data"),
    (lambda tl, ti, hl, hi, z: numerics.softmax(z / _fit(np.concatenate([tl, hl]), np.concatenate([ti, hi]))),
     "training and held-out data together"),
    (lambda tl, ti, hl, hi, z: numerics.softmax(z * _fit(hl, hi)), "multiplied the logits by T"),
    (lambda tl, ti, hl, hi, z: numerics.softmax(z), "uncalibrated probabilities"),
])
def test_calibrated_probabilities_mistakes_are_named(fn, words):
    assert words in feedback("calibrated_probabilities", fn)


def fit_temperature(logits, label_ids):
    """A learner's wrong fit_temperature (module level: the checks rebind the learner's global names)."""
    return 3.0


def calibrated_probabilities(train_logits, train_ids, held_logits, held_ids, logits):
    return numerics.softmax(np.asarray(logits) / fit_temperature(held_logits, held_ids))


def test_a_wrong_fit_temperature_is_blamed_not_calibrated_probabilities():
    message = feedback("calibrated_probabilities", calibrated_probabilities)
    assert "calls your fit_temperature, which is wrong" in message


def test_the_training_and_held_out_temperatures_are_far_apart():
    # The calibration cases are built so that fitting on the wrong data gives a clearly different answer.
    for case in TASKS["calibrated_probabilities"].cases:
        train_logits, train_ids, held_logits, held_ids, _ = case.args
        assert _fit(train_logits, train_ids) < 0.8 and _fit(held_logits, held_ids) > 1.8


# ---------------------------------------------------------------- logit adjustment, and the Keras tasks' judges


@pytest.mark.parametrize("fn, words", [
    (lambda z, prior, tau: np.argmax(z, axis=-1), "plain argmax"),
    (lambda z, prior, tau: np.argmax(z + tau * np.log(prior), axis=-1), "Subtract it"),
    (lambda z, prior, tau: np.argmax(z - tau * np.asarray(prior), axis=-1), "the prior itself"),
    (lambda z, prior, tau: z - tau * np.log(prior), "adjusted logits"),
])
def test_adjusted_predictions_mistakes_are_named(fn, words):
    assert words in feedback("adjusted_predictions", fn)


def test_adjusted_predictions_reference_passes_visible_hidden_and_fresh_cases():
    task = TASKS["adjusted_predictions"]
    assert feedback("adjusted_predictions", task.reference) == ""
    assert feedback("adjusted_predictions", task.reference, hard=True) == ""
    for seed in range(30):
        for case in task.fresh(np.random.default_rng(seed)):
            judging.judge(task, case, running.run_case(task, task.reference, case))
    assert task.reference(*task.cases[0].args).tolist() == [1, 1, 2], "the frequent class 0 loses the close calls"


def test_keras_judges_read_values_not_configs_and_name_a_mutated_model():
    tf = pytest.importorskip("tensorflow")
    from logitlab.exercises.tasks.ex07_training_with_logits import reference_build_model

    def lambda_loss(model, points, label_ids):
        model.compile(optimizer=tf.keras.optimizers.Adam(0.05), loss=lambda y, z: tf.reduce_mean(
            tf.keras.losses.sparse_categorical_crossentropy(y, z, from_logits=True)))
        model.fit(points, label_ids, epochs=30, batch_size=50, verbose=0)
        return model

    checks.check_trained_model(lambda_loss, reference_build_model)  # a correct lambda loss passes

    def mutate(model):
        model.add(tf.keras.layers.Softmax())
        return model

    with pytest.raises(checks.CheckFailed, match="changed the model it was given"):
        checks.check_probability_model(mutate, reference_build_model)


@pytest.mark.parametrize("clamp", ["ReLU layer", "Activation('relu')"])
def test_a_logits_model_that_clamps_negative_logits_fails(clamp):
    """A ReLU after the last Dense layer has no `activation` to read: its outputs, all >= 0 with exact zeros, tell."""
    tf = pytest.importorskip("tensorflow")

    def clamped_model(features, classes):
        last = tf.keras.layers.ReLU() if clamp == "ReLU layer" else tf.keras.layers.Activation("relu")
        return tf.keras.Sequential([tf.keras.Input(shape=(features,)), tf.keras.layers.Dense(16, activation="relu"),
                                    tf.keras.layers.Dense(classes), last])

    with pytest.raises(checks.CheckFailed, match="clamps negative logits|activation 'relu'"):
        checks.check_logits_model(clamped_model)
    with pytest.raises(checks.CheckFailed, match="clamps negative logits|activation 'relu'"):
        checks.check_logits_model(clamped_model, hard=True)


def test_a_plain_logits_model_is_never_taken_for_a_clamped_one():
    """The lesson's [0, 0] point gives exactly 0 from any bias-0 model: rows of zeros are not evidence of a ReLU."""
    tf = pytest.importorskip("tensorflow")
    from logitlab.exercises.tasks.ex07_training_with_logits import reference_build_model

    for seed in range(40):
        tf.keras.utils.set_random_seed(seed)
        checks.check_logits_model(reference_build_model)
        checks.check_logits_model(reference_build_model, hard=True)
