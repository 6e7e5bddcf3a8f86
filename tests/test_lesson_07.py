"""Lesson 07 as stored, and the claims it makes about TensorFlow and Keras, recomputed here against the installed
versions (so an upgrade that changes one fails here)."""

import ast
import math
import re
from pathlib import Path

import numpy as np
import pytest

from logitlab import numerics
from notebook_outputs import NUMBER, all_code, all_markdown, all_output, lines_starting, numbers

tf = pytest.importorskip("tensorflow")  # pinned in requirements.txt; the reference for every number

LOGITS_200 = [[200.0, 0.0, -200.0]]


def softmax_model_with_logits_200():
    """The lesson's one-instance model: Dense(3, activation="softmax") whose logits are [200, 0, -200]."""
    model = tf.keras.Sequential([tf.keras.Input(shape=(1,)), tf.keras.layers.Dense(3, activation="softmax")])
    model.layers[0].set_weights([np.array(LOGITS_200, np.float32), np.zeros(3, np.float32)])
    return model


# ---------------------------------------------------------------- Keras softmax + from_logits=False


def test_keras_uses_the_logits_behind_its_own_softmax_and_clips_any_other_probabilities():
    x, label_id = np.array([[1.0]], np.float32), np.array([2])
    model = softmax_model_with_logits_200()
    model.compile(loss=tf.keras.losses.SparseCategoricalCrossentropy())
    loss = tf.keras.losses.SparseCategoricalCrossentropy()
    exact = float(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=label_id, logits=LOGITS_200)[0])
    assert exact == 400.0
    assert model.evaluate(tf.data.Dataset.from_tensor_slices((x, label_id)).batch(1), verbose=0) == exact
    probs = model(x)
    assert hasattr(probs, "_keras_logits") and float(loss(label_id, probs)) == exact
    clipped = -math.log(float(np.float32(1e-7)))
    assert float(loss(label_id, tf.nn.softmax(LOGITS_200))) == pytest.approx(clipped, rel=1e-6)
    assert float(loss(label_id, probs.numpy())) == pytest.approx(clipped, rel=1e-6)
    # Graph mode (as inside fit) recognises a Softmax op and takes its input, even a tf.nn.softmax.
    in_graph = tf.function(lambda logits: loss(label_id, tf.nn.softmax(logits)))
    assert float(in_graph(tf.constant(LOGITS_200))) == exact


def test_lesson_07_prints_the_measured_losses():
    text = all_output("07")
    assert numbers(lines_starting(text, "model.evaluate:")[0]) == [400.0]
    eager = lines_starting(text, "loss of the model's output, eager:")[0]
    assert numbers(eager) == [400.0] and eager.endswith("has _keras_logits: True")
    assert numbers(lines_starting(text, "loss of an eager tf.nn.softmax:")[0]) == [16.118]
    assert numbers(lines_starting(text, "loss of the same probs as NumPy:")[0]) == [16.118, 1e-7, 16.118]
    prose = all_markdown("07")
    assert "_get_logits" in prose and "_keras_logits" in prose and "the exact loss is 400" in prose


def function_source(path, name):
    tree = ast.parse(Path(path).read_text())
    found = [node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name == name]
    assert len(found) == 1, f"{path} defines {name} once"
    return ast.get_source_segment(Path(path).read_text(), found[0])


@pytest.mark.parametrize("backend", ["jax", "torch"])
@pytest.mark.parametrize("name", ["categorical_crossentropy", "sparse_categorical_crossentropy"])
def test_other_keras_backends_clip_probabilities_and_never_look_for_logits(backend, name):
    # JAX and PyTorch are not installed here, so the installed Keras's source of their losses is what is pinned.
    import keras

    src = Path(keras.__file__).parent / "src" / "backend"
    other = function_source(src / backend / "nn.py", name)
    assert "_keras_logits" not in other and "_get_logits" not in other
    assert re.search(r"clip\(\s*output,\s*backend\.epsilon\(\),\s*1\.?0? - backend\.epsilon\(\)", other), other
    assert "_get_logits(" in function_source(src / "tensorflow" / "nn.py", name)
    assert keras.backend.epsilon() == pytest.approx(1e-7)


# ---------------------------------------------------------------- mixed precision


def test_mixed_precision_keeps_a_float32_last_layer_and_loss():
    tf.keras.config.set_dtype_policy("mixed_float16")
    try:
        model = tf.keras.Sequential([
            tf.keras.Input(shape=(2,)),
            tf.keras.layers.Dense(4, activation="relu"),
            tf.keras.layers.Dense(3, dtype="float32"),
        ])
        model.compile(optimizer="adam", loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    finally:
        tf.keras.config.set_dtype_policy("float32")
    x = np.ones((2, 2), np.float32)
    assert model.layers[0](x).dtype == tf.float16 and model.layers[0].kernel.dtype == "float32"
    assert model(x).dtype == tf.float32
    assert model.loss.dtype == "float32"
    assert type(model.optimizer).__name__ == "LossScaleOptimizer"
    text = all_output("07")
    assert "hidden layer: mixed_float16 -> outputs float16 | weights float32" in text
    assert "logits layer: float32 -> outputs float32" in text
    assert "the loss computes in float32 | optimizer: LossScaleOptimizer" in text
    assert 'tf.keras.config.set_dtype_policy("float32")' in all_code("07"), "the lesson restores the default policy"


# ---------------------------------------------------------------- loss at initialisation, log counts


@pytest.mark.parametrize("classes", [2, 3, 10])
def test_equal_logits_cost_log_k_whatever_the_class(classes):
    logits = tf.fill([classes, classes], 0.7)
    losses = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=tf.range(classes), logits=logits)
    np.testing.assert_allclose(losses.numpy(), math.log(classes), rtol=1e-6)


def test_lesson_07_checks_the_loss_before_training_against_log_3():
    shown = numbers(lines_starting(all_output("07"), "loss before training:")[0])
    loss, log_k = shown[0], shown[-1]
    assert log_k == round(math.log(3), 3)
    assert abs(loss - log_k) < 0.05, "a fresh model of the lesson's shape starts near log 3"
    text = all_output("07")
    counts = np.array([70, 20, 10])
    shown = numbers(lines_starting(text, "softmax(log counts):")[0])
    assert shown == list((counts / counts.sum()).round(3)) * 2
    assert numbers(lines_starting(text, "softmax(log counts + 5):")[0])[:3] == list((counts / counts.sum()).round(3))
    np.testing.assert_allclose(tf.nn.softmax(np.log(counts) + 5.0).numpy(), counts / counts.sum())


def test_lesson_07_training_stays_the_lessons_recipe():
    code = all_code("07")
    assert "tf.keras.layers.Dense(3),  # no activation: logits" in code
    assert "SparseCategoricalCrossentropy(from_logits=True)" in code
    assert "set_random_seed(0)" in code and "enable_op_determinism()" in code and "verbose=0" in code
    assert "keras.datasets" not in code and "http" not in code, "no downloads"
    # The held-out points are never trained on: the split is a mask and its complement.
    assert "features[~held_out]" in code and "features[held_out]" in code
    assert "dataset = tf.data.Dataset.from_tensor_slices((x_train, label_ids_train))" in code
    assert "model.fit(dataset," in code
    assert "per class [50, 50, 50] | held out: (450, 2) per class [150, 150, 150]" in all_output("07")


# ---------------------------------------------------------------- the output bias and the class prior


def test_the_bias_gradient_is_mean_probs_minus_frequencies_and_sums_to_zero():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(50, 2)).astype(np.float32)
    label_ids = rng.integers(0, 3, size=50)
    layer = tf.keras.layers.Dense(3, kernel_initializer="glorot_uniform", bias_initializer="zeros")
    loss = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    with tf.GradientTape() as tape:
        logits = layer(x)
        value = loss(label_ids, logits)
    grad = tape.gradient(value, layer.bias).numpy()
    frequencies = np.bincount(label_ids, minlength=3) / len(label_ids)
    np.testing.assert_allclose(grad, tf.nn.softmax(logits).numpy().mean(axis=0) - frequencies, atol=1e-6)
    assert abs(grad.sum()) < 1e-6, "plain gradient descent keeps the mean of the bias where it started"


def test_lesson_07_trained_bias_is_the_log_prior_up_to_a_constant():
    text = all_output("07")
    prior_line = lines_starting(text, "class frequencies (prior):")[0]
    prior, softmax_bias = numbers(prior_line)[:3], numbers(prior_line.split("softmax(bias):")[1])
    assert sum(prior) == pytest.approx(1.0, abs=2e-3) and prior[0] > prior[1] > prior[2]
    np.testing.assert_allclose(softmax_bias, prior, atol=2e-3)
    centred_bias = numbers(lines_starting(text, "bias - mean(bias):")[0])
    centred_log_prior = numbers(lines_starting(text, "log prior - mean(log prior):")[0])
    logs = np.log(prior)
    np.testing.assert_allclose(centred_log_prior, logs - logs.mean(), atol=0.01)
    np.testing.assert_allclose(centred_bias, centred_log_prior, atol=0.005)


def test_lesson_07_log_prior_bias_starts_the_loss_near_the_entropy_of_the_prior():
    text = all_output("07")
    default = numbers(lines_starting(text, "output bias 0 (the default)")[0])[-1]
    log_prior = numbers(lines_starting(text, "output bias log prior")[0])[-1]
    log_3, entropy = map(float, re.fullmatch(r"log 3 = (\S+) \| entropy of the prior = (\S+)",
                                             lines_starting(text, "log 3 =")[0]).groups())
    assert log_3 == round(math.log(3), 3)
    assert abs(default - log_3) < 0.1 and abs(log_prior - entropy) < 0.03 and log_prior < default - 0.2
    assert "Constant(np.log(prior))" in all_code("07")


# ---------------------------------------------------------------- calibration


def test_lesson_07_fits_the_temperature_on_one_split_and_scores_it_on_another():
    """Guo et al.'s protocol: T from the calibration split, NLL and ECE on a separate test split."""
    text, code = all_output("07"), all_code("07")
    assert "T = temperatures[np.argmin([nll(cal_logits, label_ids_cal, t) for t in temperatures])]" in code
    assert "x_test, label_ids_test = make_blobs(points_per_class=1000, seed=1)" in code
    temperature = numbers(lines_starting(text, "temperature fitted on the calibration split:")[0])[-1]
    assert temperature > 1.1, "the lesson says the model was overconfident"
    nll_before, ece_before = numbers(lines_starting(text, "test split, T = 1:")[0])[-2:]
    nll_after, ece_after = numbers(lines_starting(text, f"test split, T = {temperature:.2f}:")[0])[-2:]
    assert nll_after < nll_before and ece_after < ece_before
    before, after = numbers(lines_starting(text, "test accuracy:")[0])
    assert before == after
    on_training = numbers(lines_starting(text, "the same search on the training data:")[0])
    assert abs(on_training[0] - 1) < 0.15 < temperature - 1, "on the training data T looks about right"
    assert on_training[-1] != temperature, "the test split's own best T differs: scoring where T was fitted flatters"


def test_lesson_07_shows_how_noisy_ten_bin_ece_is():
    text = all_output("07")
    ranges = {}
    for line in lines_starting(text, "450 points, T =") + lines_starting(text, "3000 points, T ="):
        size, temperature = NUMBER.findall(line.split(":")[0])
        low, high = numbers(line)[:2]
        ranges[(int(size), float(temperature))] = (low, high)
    (low_450, high_450), (low_450_t, high_450_t) = [v for k, v in ranges.items() if k[0] == 450]
    nll_before, ece_before = numbers(lines_starting(text, "test split, T = 1:")[0])[-2:]
    temperature = numbers(lines_starting(text, "temperature fitted on the calibration split:")[0])[-1]
    ece_after = numbers(lines_starting(text, f"test split, T = {temperature:.2f}:")[0])[-1]
    change = ece_before - ece_after
    assert (high_450 - low_450) > 2.5 * change, "the prose: about three times as wide as the change"
    (low_3000, high_3000), (low_3000_t, high_3000_t) = [v for k, v in ranges.items() if k[0] == 3000]
    assert low_3000 < high_3000_t, "the prose: even on 3000 points the two ranges overlap"
    assert (high_3000 - low_3000) < (high_450 - low_450)


def test_lesson_07_bias_claim_holds_in_the_mode_it_states():
    """Balanced classes, a 64-unit model: the bias is not equal, the mean probabilities are the frequencies."""
    text = all_output("07")
    bias = numbers(lines_starting(text, "64-unit model, balanced classes: output bias")[0].split("bias")[1])
    assert max(bias) - min(bias) > 0.3
    line = lines_starting(text, "its mean predicted probabilities on the training data:")[0]
    mean_probs, frequencies = numbers(line.split("|")[0]), numbers(line.split("|")[1])
    np.testing.assert_allclose(mean_probs, frequencies, atol=0.01)


def test_lesson_07_logit_adjustment_raises_balanced_accuracy():
    text = all_output("07")
    balanced = {float(NUMBER.findall(line.split(":")[0])[0]): numbers(line)[-1]
                for line in lines_starting(text, "tau = ")}
    assert set(balanced) == {0.0, 0.5, 1.0, 1.5}
    assert balanced[1.0] > balanced[0.0] + 0.03
    assert "(logits_lt - tau * log_prior_lt).argmax(axis=-1)" in all_code("07")


def test_temperature_keeps_the_argmax_and_the_rescaling_model_divides_by_it():
    logits = np.random.default_rng(0).normal(scale=4.0, size=(200, 5)).astype(np.float32)
    for temperature in (0.3, 1.7, 25.0):
        scaled = tf.nn.softmax(logits / temperature).numpy()
        np.testing.assert_array_equal(scaled.argmax(axis=-1), logits.argmax(axis=-1))
    base = tf.keras.Sequential([tf.keras.Input(shape=(5,)), tf.keras.layers.Identity()])
    calibrated = tf.keras.Sequential([base, tf.keras.layers.Rescaling(1 / 1.7), tf.keras.layers.Softmax()])
    np.testing.assert_allclose(calibrated(logits).numpy(), numerics.softmax(logits / 1.7), atol=1e-6)
    assert "tf.keras.layers.Rescaling(1 / T), tf.keras.layers.Softmax()" in all_code("07")


# ---------------------------------------------------------------- closing


def test_lesson_07_says_that_keras_clips_other_probabilities():
    """(Its Summary and 中文小结 are checked with every lesson's in tests/test_lesson_structure.py.)"""
    assert "from_logits=False" in all_markdown("07") and "clips probabilities" in all_markdown("07")
