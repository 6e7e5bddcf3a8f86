"""Lessons 05-08 as stored: the syllabus's worked examples E3-E6 in their outputs, and the claims they make,
recomputed here with TensorFlow (their structure is tests/test_lesson_structure.py's)."""

import math
import re
import warnings

import numpy as np
import pytest

from helpers import ROOT
from logitlab.authoring import course
from notebook_outputs import (NUMBER, all_code, all_markdown, all_output, cells_of, line_starting, lines_starting,
                              notebook, numbers)

tf = pytest.importorskip("tensorflow")  # pinned in requirements.txt; the reference for every number

E3_LOSSES = [0.4790107, 1.19967598]
Y_HAT = np.array([[0.5, 1.5, 0.1], [2.2, 1.3, 1.7]])
Y_TRUE = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])


# ---------------------------------------------------------------- lesson 05


def test_lesson_05_shows_the_naive_formula_failing_and_the_stable_one_finite():
    text = all_output("05")
    naive = [numbers(line) for line in lines_starting(text, "probs:") if "loss" not in line]
    assert len(naive) == 1 and math.isnan(naive[0][0]) and naive[0][1:] == [0.0, 0.0]
    assert math.isnan(numbers(line_starting(text, "loss if class 0 is true"))[-1])
    assert math.isinf(numbers(line_starting(text, "loss if class 1 is true"))[-1])
    assert numbers(line_starting(text, "loss if class 0 / 1 / 2 is true")) == [0.0, 1000.0, 2000.0]
    rows = {}
    for line in text.splitlines():
        match = re.match(r"\s*(float16|float32|float64)\s+(\d+) \|(.*)", line)
        if match:
            rows[match[1], int(match[2])] = [float(x) for x in NUMBER.findall(match[3].replace("|", " "))]
    assert len(rows) == 12, "the table has 3 dtypes x 4 scales"
    for dtype in ("float32", "float16"):
        naive_right, naive_wrong, log_of_softmax, log_softmax = rows[dtype, 1000]
        assert math.isnan(naive_right) and math.isinf(naive_wrong) and math.isinf(log_of_softmax)
        assert log_softmax == 2000
    for (dtype, scale), row in rows.items():
        # TensorFlow's own log_softmax agrees with the lesson's stable column, in every dtype.
        logits = tf.constant(scale * np.array([1.0, 0.0, -1.0]), dtype=dtype)
        reference = -float(tf.nn.log_softmax(logits)[2])
        assert math.isfinite(row[3]) and row[3] == pytest.approx(reference, rel=2e-3)
    # The naive formula written in TensorFlow fails the same way.
    z = tf.constant([1000.0, 0.0, -1000.0])
    naive = tf.exp(z) / tf.reduce_sum(tf.exp(z))
    assert math.isnan(float(naive[0])) and float(naive[1]) == 0.0


def test_lesson_05_checks_the_gradient_against_gradient_tape():
    text = all_output("05")
    assert "max |ours - GradientTape| =" in text
    assert float(line_starting(text, "max |ours - GradientTape|").split("=")[1]) < 1e-12
    logits = tf.Variable(Y_HAT)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(tf.nn.softmax_cross_entropy_with_logits(labels=Y_TRUE, logits=logits))
    grad = tape.gradient(loss, logits).numpy()
    shown = [numbers(line) for line in text.split("GradientTape:\n", 1)[1].splitlines()[:2]]
    np.testing.assert_allclose(shown, grad, atol=1e-6)
    assert "tf.GradientTape" in all_code("05")


def _exp_edges(dtype):
    """log(max) and log(smallest subnormal / 2) of a NumPy float type: where exp overflows and rounds to 0."""
    info = np.finfo(dtype)
    return math.log(float(info.max)), math.log(float(info.smallest_subnormal)) - math.log(2)


def test_lesson_05_table_of_limits_is_right_for_numpy_and_bfloat16():
    text = all_output("05")
    rows = {}
    for line in text.splitlines():
        match = re.match(r"\s*(float64|float32|float16|bfloat16) \|(.*)", line)
        if match:
            rows[match[1]] = [float(x) for x in NUMBER.findall(match[2].replace("|", " "))]
    assert set(rows) == {"float64", "float32", "float16", "bfloat16"}
    expected_edges = {"float64": (709.78, -745.13), "float32": (88.72, -103.97), "float16": (11.09, -17.33)}
    for name, (over, under) in expected_edges.items():
        largest, log_max, normal, log_normal, subnormal, zero_below, digits = rows[name]
        info = np.finfo(name)
        assert (log_max, zero_below) == (over, under) == tuple(round(v, 2) for v in _exp_edges(name))
        assert log_normal == round(math.log(float(info.tiny)), 2)
        # NumPy keeps subnormals: exp is positive 0.01 above the edge and 0 below it.
        edge = _exp_edges(name)[1]
        assert np.exp(np.array(edge + 0.01, dtype=name)) > 0 and np.exp(np.array(edge - 0.01, dtype=name)) == 0
    assert rows["float64"][2] == pytest.approx(float(np.finfo(np.float64).tiny), rel=1e-2)
    # bfloat16: float32's range (8 exponent bits), 8 significant bits; TensorFlow's own bit patterns agree.
    bf = rows["bfloat16"]
    assert bf[1] == rows["float32"][1] == 88.72 and bf[3] == rows["float32"][3] == -87.34
    assert bf[5] == round(math.log(2.0 ** -133) - math.log(2), 2) and bf[6] == round(8 * math.log10(2), 1)
    patterns = tf.constant([0x7F7F, 0x0080, 0x0001], dtype=tf.uint16)
    assert [float(v) for v in tf.bitcast(patterns, tf.bfloat16).numpy()] == [(2 - 2 ** -7) * 2.0 ** 127, 2.0 ** -126,
                                                                              2.0 ** -133]
    assert float(tf.bfloat16.max) == (2 - 2 ** -7) * 2.0 ** 127
    assert "the layout (8, 7) gives the same numbers: True" in text
    assert text.count("gives exactly np.finfo's numbers: True") == 3


def test_lesson_05_tensorflow_flushes_subnormals_on_cpu_as_the_lesson_says():
    text = all_output("05")
    # float32/float64/bfloat16: TensorFlow returns 0 where NumPy returns a subnormal; float16 keeps it.
    for name, z in [("float64", -720.0), ("float32", -100.0), ("bfloat16", -90.0)]:
        assert float(tf.exp(tf.constant(z, dtype=name))) == 0.0
        if name != "bfloat16":
            assert 0 < float(np.exp(np.array(z, dtype=name))) < float(np.finfo(name).tiny)
        assert re.search(rf"{name}: exp\({z}\) NumPy .* TensorFlow 0$", text, re.M)
    assert float(tf.exp(tf.constant(-17.0, tf.float16))) == float(np.exp(np.float16(-17.0))) > 0
    # Just above the log of the smallest normal number TensorFlow is still positive (it flushes, it does not round).
    assert float(tf.exp(tf.constant(-87.3))) > 0 and float(tf.exp(tf.constant(-87.4))) == 0.0
    prose = all_markdown("05")
    assert "flush subnormals to zero" in prose and "On an x86-64 CPU" in prose and "aarch64" in prose
    assert "TensorFlow on an x86-64 CPU flushes subnormals" in prose  # the Summary says where it holds
    import platform

    assert f"this machine: {platform.machine()}" in text


def test_lesson_05_slider_hint_matches_where_the_explorer_breaks():
    from logitlab.explorers.widgets import stability_numbers

    text, prose = all_output("05"), all_markdown("05")
    hint = {"float16": "near 8.7", "float32": "Just past 52", "float64": "float64 near 373"}
    for name, words in hint.items():
        assert words in prose
        line = line_starting(text, f"{name}: naive loss inf from scale")
        inf_from, nan_from = [float(x) for x in re.findall(r"scale\s+([\d.]+)", line)]
        assert inf_from == round(-_exp_edges(name)[1] / 2, 2) and nan_from == round(_exp_edges(name)[0], 2)
        for scale, finite in [(0.99 * inf_from, True), (1.01 * inf_from, False), (1.01 * nan_from, False)]:
            loss = stability_numbers([1.0, 0.0, -1.0], 2, scale, name)["naive_loss"]
            assert math.isfinite(loss) == finite, (name, scale, loss)
        nan_probs = stability_numbers([1.0, 0.0, -1.0], 2, 1.01 * nan_from, name)["naive_probs"]
        assert math.isnan(nan_probs[0])
    assert "about 89" in prose


def test_lesson_05_does_not_call_float16_exact():
    """float16 holds 2.408203, the nearest value to 2.40761; the 2.406 is the lesson's NumPy log_softmax rounding to
    float16 after every step, not the type's limit (issue 25)."""
    prose = all_markdown("05")
    assert "exact at any scale" not in prose and "float16 included: $2s$" in prose
    assert "more accurate than its type" not in prose and "in the first rows" not in prose
    rows = [line for line in all_output("05").splitlines() if re.match(r"\s*float16\s+1 \|", line)]
    assert len(rows) == 1 and "2.406" in rows[0] and "2.408" in rows[0]
    logits = np.array([1.0, 0.0, -1.0], dtype=np.float16)  # the lesson's log_softmax, computed in float16
    top = logits.max()
    ours = -float((logits - (top + np.log(np.exp(logits - top).sum())))[2])
    true = float(np.log(np.exp([1.0, 0.0, -1.0]).sum()) + 1.0)
    nearest = float(np.float16(true))
    assert round(ours, 3) == 2.406 and nearest == 2.408203125
    assert abs(nearest - true) <= float(np.spacing(np.float16(2.4))) / 2
    tf_f16 = -float(tf.nn.log_softmax(tf.constant(logits))[2])
    assert tf_f16 == nearest
    text = all_output("05")
    assert line_starting(text, "true loss") == (f"true loss {true:.5f}; the nearest float16 {nearest:.6f}; "
                                                 "the next float16s are 0.001953 apart")
    assert line_starting(text, "in float16: our log_softmax") == ("in float16: our log_softmax 2.406250, "
                                                                  f"tf.nn.log_softmax {tf_f16:.6f}")
    assert "rounds to float16 after every step" in prose


def test_lesson_05_says_exp_is_not_always_the_nearest_number():
    """NumPy's float32 exp is not correctly rounded (its own accuracy tests allow 3 units in the last place; float64
    1); the lesson prints how often it misses the nearest float32, and says exp is not always the nearest number."""
    import os

    prose = all_markdown("05")
    assert "`exp` returns the nearest representable number" not in prose
    assert "not always the nearest number" in prose and "only recommends it for `exp`" in prose
    z = np.random.default_rng(0).uniform(-100.0, 88.0, size=100_000).astype(np.float32)
    nearest = np.exp(z.astype(np.float64)).astype(np.float32)
    steps = np.abs(np.exp(z).view(np.int32).astype(np.int64) - nearest.view(np.int32))
    line = line_starting(all_output("05"), "NumPy's float32 exp is the nearest float32 for")
    assert line == (f"NumPy's float32 exp is the nearest float32 for {np.mean(steps == 0):.0%} of them, "
                    f"at most {steps.max()} floats away")
    assert 0 < steps.max() <= 3, "not correctly rounded, within NumPy's own tolerance"
    tolerances = {}
    data = os.path.join(os.path.dirname(np.__file__), "_core", "tests", "data", "umath-validation-set-exp.csv")
    if os.path.exists(data):  # NumPy's own accuracy test data, shipped with its wheel
        for row in open(data, encoding="utf-8"):
            if row.startswith("np.float"):
                dtype, *_, ulps = row.strip().split(",")
                tolerances[dtype] = int(ulps)
        assert tolerances == {"np.float32": 3, "np.float64": 1}


# ---------------------------------------------------------------- lesson 06


def test_lesson_06_reproduces_e3_e4_e5_e6():
    text = all_output("06")
    reference = tf.nn.softmax_cross_entropy_with_logits(labels=Y_TRUE, logits=Y_HAT).numpy()
    np.testing.assert_allclose(reference, E3_LOSSES, atol=1e-8)
    for prefix in ("manual:", "fused: "):  # E3, both ways
        line = line_starting(text, prefix)
        shown = numbers(line)
        assert shown[:2] == E3_LOSSES and shown[2] == 0.83934 == round(float(reference.mean()), 5)
    # E4: softmax per row, sum and mean of the per-row loss, both ways.
    e4 = text.split("softmax of each row:", 1)[1]
    assert e4.count("[0.09003057 0.24472848 0.66524094]") == 3
    assert numbers(line_starting(text, "reduce_sum:").replace("manual", "").replace("fused", "")) == [1.2228, 1.2228]
    assert numbers(line_starting(text, "reduce_mean:").replace("manual", "").replace("fused", "")) == [0.4076, 0.4076]
    e4_loss = tf.nn.softmax_cross_entropy_with_logits(labels=[[0.0, 0.0, 1.0]] * 3, logits=[[1.0, 2.0, 3.0]] * 3)
    assert round(float(tf.reduce_sum(e4_loss)), 4) == 1.2228
    # E5: softmax keeps the shape, the fused op returns one loss per row.
    assert "logits: (2, 5) -> softmax: (2, 5) -> softmax_cross_entropy_with_logits: (2,)" in text
    # E6: the sparse op with labels [1, 2] gives E3's losses.
    assert numbers(line_starting(text, "sparse, labels=[1, 2]:")) == E3_LOSSES
    sparse = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=[1, 2], logits=Y_HAT).numpy()
    np.testing.assert_allclose(sparse, reference, atol=1e-12)


def test_lesson_06_uses_every_op_the_syllabus_lists_and_checks_each_against_numpy():
    code = all_code("06")
    for op in ["tf.nn.softmax(", "tf.nn.log_softmax(", "tf.nn.softmax_cross_entropy_with_logits(",
               "tf.nn.sparse_softmax_cross_entropy_with_logits(", "tf.nn.sigmoid_cross_entropy_with_logits(",
               "CategoricalCrossentropy(from_logits=True", "SparseCategoricalCrossentropy(from_logits=True",
               "BinaryCrossentropy(from_logits=True", '("sum_over_batch_size", "sum", None)', "reduction=None",
               "axis=0",
               "tf.stop_gradient(", "tf.GradientTape(", "tf.compat.v1.Session(", "tf.compat.v1.log(", "tf.math.log("]:
        assert op in code, f"lesson 06 does not use {op}"
    text = all_output("06")
    checks = [line for line in text.splitlines() if "agrees with NumPy:" in line]
    assert len(checks) >= 14 and all(line.endswith("agrees with NumPy: True") for line in checks), checks
    for name in ["tf.nn.softmax ", "tf.nn.log_softmax", "tf.nn.softmax_cross_entropy_with_logits ",
                 "tf.nn.sparse_softmax_cross_entropy_with_logits", "tf.nn.sigmoid_cross_entropy_with_logits",
                 "CategoricalCrossentropy", "SparseCategoricalCrossentropy", "BinaryCrossentropy"]:
        assert any(line.startswith(name) for line in checks), f"no NumPy check for {name}"


def test_lesson_06_measures_fused_against_naive_and_shows_the_naive_one_breaking():
    text = all_output("06")
    for name in ("naive log(softmax)", "log_softmax", "fused op"):
        line = line_starting(text, name + " ")
        assert re.fullmatch(re.escape(name) + r" +forward only ⏱ \d+\.\d ms +loss \+ gradient ⏱ \d+\.\d ms", line), line
    assert re.search(r"loss \+ gradient, naive / fused: ⏱ \d+\.\d\d×; the share of that gain log_softmax alone "
                     r"gives: ⏱ -?\d+ %", text)
    assert "batch, classes = 4096, 1000" in all_code("06")
    # The forward-only naive version is log_softmax in disguise: Grappler rewrites it inside a tf.function.
    extreme = tf.constant([[1000.0, 0.0, -1000.0]])
    naive_forward = tf.function(lambda z: tf.math.log(tf.nn.softmax(z)))
    np.testing.assert_allclose(naive_forward(extreme).numpy(), [[0.0, -1000.0, -2000.0]])
    assert np.isinf(tf.math.log(tf.nn.softmax(extreme)).numpy()).any()
    assert "rewrites `log(softmax(...))` into `log_softmax`" in all_markdown("06")
    assert "reads the logits once" not in all_markdown("06") and "One kernel is not one pass" in all_markdown("06")
    assert "naive: mean loss nan, rows with a nan/inf gradient: 4096 of 4096" in text
    assert re.search(r"fused: mean loss [\d.]+, rows with a nan/inf gradient: 0 of 4096", text)
    assert "gradients agree: True" in text
    # TensorFlow agrees: at extreme logits log(softmax) poisons the gradient, the fused op does not.
    logits = tf.constant([[300.0, 0.0, -300.0]])
    labels = tf.constant([[0.0, 1.0, 0.0]])
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(logits)
        naive = -tf.reduce_sum(labels * tf.math.log(tf.nn.softmax(logits)))
        fused = tf.reduce_sum(tf.nn.softmax_cross_entropy_with_logits(labels=labels, logits=logits))
    assert not np.isfinite(tape.gradient(naive, logits).numpy()).all()
    np.testing.assert_allclose(tape.gradient(fused, logits).numpy(), [[1.0, -1.0, 0.0]], atol=1e-6)


def test_lesson_06_timings_are_sanitized_narrowly():
    cfg = (ROOT / "tests" / "sanitize.cfg").read_text(encoding="utf-8")
    pairs = re.findall(r"regex: (.*)\nreplace: (.*)", cfg)
    timing = [(rx, rep) for rx, rep in pairs if "⏱" in rx]
    assert len(timing) == 1
    rx, rep = timing[0]
    assert re.sub(rx, rep, "naive / fused: ⏱ 1.93×") == "naive / fused: ⏱ TIME×"
    assert re.sub(rx, rep, "alone gives: ⏱ -12 %") == "alone gives: ⏱ TIME %"
    assert re.sub(rx, rep, "mean loss 11.2799, 0 of 4096") == "mean loss 11.2799, 0 of 4096"


def test_lesson_06_bad_label_ids_give_nan_under_xla_on_the_cpu_too():
    """Eagerly and in a tf.function the CPU kernel raises; compiled with XLA the same op returns nan (issue 17), and
    Keras's compile(jit_compile="auto") turns XLA on only when the machine has a device other than the CPU."""
    from keras.src.trainers import trainer

    with pytest.raises(tf.errors.InvalidArgumentError):
        tf.function(tf.nn.sparse_softmax_cross_entropy_with_logits)(labels=tf.constant([1, 3]), logits=Y_HAT)
    xla = tf.function(tf.nn.sparse_softmax_cross_entropy_with_logits, jit_compile=True)
    for bad in ([1, 3], [1, -1]):
        loss = xla(labels=tf.constant(bad), logits=Y_HAT).numpy()
        assert loss[0] == pytest.approx(E3_LOSSES[0]) and math.isnan(loss[1])
    text, prose = all_output("06"), all_markdown("06")
    shown = line_starting(text, "XLA on the CPU, labels [1, 3]:")
    assert numbers(shown)[-2] == round(E3_LOSSES[0], 8) and math.isnan(numbers(shown)[-1])
    assert "every id in 0 … classes-1: False" in text and "check that the label ids in your data" in prose
    source = inspect_source(trainer.Trainer._resolve_auto_jit_compile)
    assert "Disable XLA on CPU-only machines" in source
    assert 'jit_compile="auto"' in inspect_source(trainer.Trainer.compile)


def inspect_source(fn):
    import inspect

    return inspect.getsource(fn)


def op_and_loss_gradients(labels, logits, mode):
    """The gradient the fused op hands back, and the gradient of the loss it returns, in one execution mode."""
    def both(labels, logits):
        with tf.GradientTape(persistent=True) as tape:
            tape.watch(logits)
            through_op = tf.reduce_sum(tf.nn.softmax_cross_entropy_with_logits(labels=labels, logits=logits))
            written_out = tf.reduce_sum(-tf.reduce_sum(labels * tf.nn.log_softmax(logits), axis=-1))
        return through_op, written_out, tape.gradient(through_op, logits), tape.gradient(written_out, logits)

    run = {"eager": both, "tf.function": tf.function(both), "XLA": tf.function(both, jit_compile=True)}[mode]
    return [t.numpy() for t in run(tf.constant(labels), tf.constant(logits))]


@pytest.mark.parametrize("mode", ["eager", "tf.function", "XLA"])
def test_lesson_06_fused_gradient_is_softmax_minus_labels_even_when_labels_do_not_sum_to_1(mode):
    half = np.array([[0.5, 1.0, 0.5]])
    op_loss, loss, op_grad, loss_grad = op_and_loss_gradients(half, Y_HAT[:1], mode)
    probs = tf.nn.softmax(Y_HAT[:1]).numpy()
    assert op_loss == pytest.approx(loss)
    np.testing.assert_allclose(op_grad, probs - half, atol=1e-12)  # what the op hands the backward pass
    np.testing.assert_allclose(loss_grad, probs * half.sum() - half, atol=1e-12)  # p_k sum(y) - y_k
    np.testing.assert_allclose(op_grad.round(3), [[-0.272, -0.381, -0.347]])
    np.testing.assert_allclose(loss_grad.round(3), [[-0.044, 0.239, -0.195]])
    _, _, swapped_op, swapped_loss = op_and_loss_gradients(Y_HAT, Y_TRUE, mode)  # the positional call
    assert not np.allclose(swapped_op, swapped_loss)
    _, _, onehot_op, onehot_loss = op_and_loss_gradients(Y_TRUE, Y_HAT, mode)
    np.testing.assert_allclose(onehot_op, onehot_loss, atol=1e-12)
    if mode == "eager":
        text = all_output("06")
        assert numbers(line_starting(text, "labels [0.5, 1, 0.5]:")) == [-0.272, -0.381, -0.347, -0.044, 0.239, -0.195]
        after = text.split("positional call, the op's gradient:\n", 1)[1].splitlines()
        assert [numbers(":" + line) for line in after[:2]] == swapped_op.round(3).tolist()
        assert after[2].strip() == "the gradient of the loss it returns:"
        assert [numbers(":" + line) for line in after[3:5]] == swapped_loss.round(3).tolist()


def test_lesson_06_keras_reductions_and_sample_weight():
    """Keras 3.15 accepts "mean" and "mean_with_sample_weight" too; the default divides by the batch size even where
    sample weights are 0 (keras/src/losses/loss.py, reduce_values)."""
    from keras.src.losses import loss as keras_loss

    allowed = inspect_source(keras_loss.standardize_reduction)
    for name in ('"sum_over_batch_size"', '"sum"', '"mean"', '"mean_with_sample_weight"', "None"):
        assert name in allowed
    ids, weights = np.array([1, 2]), np.array([1.0, 0.0])
    per_row = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction=None)(ids, Y_HAT).numpy()
    for reduction, expected in [("sum_over_batch_size", per_row[0] / 2), ("mean", per_row[0] / 2),
                                ("mean_with_sample_weight", per_row[0])]:
        loss = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction=reduction)
        assert float(loss(ids, Y_HAT, sample_weight=weights)) == pytest.approx(expected, rel=1e-6)
    text = all_output("06")
    for reduction, expected in [("sum_over_batch_size", per_row[0] / 2), ("mean_with_sample_weight", per_row[0])]:
        shown = re.search(rf"reduction='{reduction}' +sample_weight=\[1, 0\]: ([\d.]+)", text)
        assert shown and float(shown[1]) == round(float(expected), 6), reduction


SHOWN_SUMMARY_TERMS = {
    # lesson: [(words of a Summary bullet, terms a shown slide (source or output) must hold for it)]
    "05": [("709.78", ["709.78", "88.72", "11.09", "-745.13", "-103.97", "-17.33"]),
           ("flushes subnormals: −708.40 and −87.34", ["flush subnormals to zero", "x86-64", "-708.40", "-87.34",
                                                        "TensorFlow 0"]),
           ("Subtracting the largest logit", ["stable_softmax", r"\max_j z_j"]),
           ("Finite is not exact", ["log_softmax", "about 3 significant digits", "2 to 3 digits",
                                     "rounds to float16 after every step"]),
           ("each row of labels sums to 1", ["that sum to 1", "GradientTape", "softmax - labels"])],
    "06": [("keep the shape", ["shape [2, 5]", "per element", "softmax_cross_entropy_with_logits: (2,)"]),
           ("only when each row of labels sums to 1", [r"p_k \sum_i y_i - y_k", "the loss's gradient",
                                                       "no `axis` argument", "XLA on the CPU",
                                                       "every id in 0 … classes-1", "Received a label value of 3"]),
           ("mean_with_sample_weight", ["sum_over_batch_size", "mean_with_sample_weight", "sample_weight=[1, 0]",
                                        "from_logits=True"]),
           ("partly thanks to `log_softmax` alone", ["forward only", "log_softmax alone", "4096 of 4096"]),
           ("drop the session", ["tf.Session", "tf.math.log", "axis=1", "positional call, the op's gradient"])],
}


@pytest.mark.parametrize("number", sorted(SHOWN_SUMMARY_TERMS))
def test_lessons_05_06_summaries_stand_on_shown_slides(number):
    """A lecture that skips a cell must not summarise what only that cell shows (issue 17)."""
    from notebook_outputs import output_text

    cells = notebook(number)["cells"]
    shown = [c for c in cells if c["metadata"].get("slideshow", {}).get("slide_type") not in ("skip", "notes")]
    text = "\n".join(course.cell_source(c) + "\n" + output_text(c) for c in shown)
    summary = next(course.cell_source(c) for c in shown if course.cell_source(c).startswith("## Summary"))
    for bullet, terms in SHOWN_SUMMARY_TERMS[number]:
        assert bullet in summary, f"the Summary no longer says {bullet!r}: update this test"
        missing = [term for term in terms if term not in text]
        assert not missing, f"lesson {number}: the Summary's {bullet!r} stands on skipped cells only: {missing}"


THREAD = "What are logits? What is the difference between softmax and softmax_cross_entropy_with_logits?"
ARTICLE = "【TensorFlow】tf.nn.softmax_cross_entropy_with_logits的用法"


def test_lesson_06_quotes_what_the_docs_say_about_bad_label_ids_on_gpu():
    text, prose = all_output("06"), all_markdown("06")
    doc = " ".join(tf.nn.sparse_softmax_cross_entropy_with_logits.__doc__.split())
    sentence = ("Each entry in `labels` must be an index in `[0, num_classes)`. Other values will raise an exception "
                "when this op is run on CPU, and return `NaN` for corresponding loss and gradient rows on GPU.")
    assert sentence in doc, "TensorFlow's docstring changed: update lesson 06"
    assert f"{tf.__version__} docs: {sentence}" in text
    assert "older TensorFlow" not in prose
    with pytest.raises(tf.errors.InvalidArgumentError):
        tf.nn.sparse_softmax_cross_entropy_with_logits(labels=[1, 3], logits=Y_HAT)


def test_lesson_06_shows_the_positional_argument_trap_of_tf1_code():
    import inspect

    text = all_output("06")
    assert list(inspect.signature(tf.nn.softmax_cross_entropy_with_logits).parameters)[:2] == ["labels", "logits"]
    swapped = tf.nn.softmax_cross_entropy_with_logits(Y_HAT, Y_TRUE).numpy()  # runs: no error, no warning
    np.testing.assert_allclose(swapped, [1.7580339, 6.3675125], rtol=1e-6)
    shown = numbers(line_starting(text, "positional (y_hat, y_true):").replace("mean", ""))
    assert shown == [round(float(v), 3) for v in swapped] + [round(float(swapped.mean()), 3)] == [1.758, 6.368, 4.063]
    right = line_starting(text, "labels=y_true, logits=y_hat (right):").replace("mean", "")
    assert numbers(right) == [0.479, 1.2, 0.839]
    assert "softmax_cross_entropy_with_logits(labels, logits, axis=-1, name=None)" in text
    # tf.compat.v1's version of the op takes labels first too: old code run through compat.v1 swaps them the same way.
    np.testing.assert_allclose(tf.compat.v1.nn.softmax_cross_entropy_with_logits(Y_HAT, Y_TRUE).numpy(), swapped)
    # TF 2's op passes gradients into the labels; compat.v1's keeps TF 1's behaviour and stops them (eager).
    assert "`tf.compat.v1.nn.softmax_cross_entropy_with_logits` keeps the old one, which stops them" in \
        all_markdown("06")
    labels, logits = tf.constant(Y_TRUE), tf.constant(Y_HAT)
    for op, flows in ((tf.nn.softmax_cross_entropy_with_logits, True),
                      (tf.compat.v1.nn.softmax_cross_entropy_with_logits, False)):
        with tf.GradientTape() as tape:
            tape.watch(labels)
            loss = op(labels=labels, logits=logits)
        assert (tape.gradient(loss, labels) is not None) == flows, op
    assert "a positional call to the fused op is wrong in either API" in all_markdown("06")
    assert hasattr(tf, "exp") and hasattr(tf, "reduce_sum") and not hasattr(tf, "log") and not hasattr(tf, "log1p")
    assert all(hasattr(tf.math, name) for name in ("exp", "reduce_sum", "log", "log1p"))
    with pytest.raises(TypeError, match="reduction_indices"):
        tf.reduce_sum(Y_TRUE, reduction_indices=[1])
    assert "TypeError: Got an unexpected keyword argument 'reduction_indices'" in text
    prose = all_markdown("06")
    assert "tf.nn.softmax_cross_entropy_with_logits(y_hat, y_true)" in prose and "4.063 instead of 0.839" in prose


def test_lesson_06_credits_its_sources_and_numbers_classes_from_0():
    prose = all_markdown("06")
    assert THREAD in prose and ARTICLE in prose
    for wrong in ("Instance 1", "instance 2", "third class", "class 3"):
        assert wrong not in prose, f"lesson 06 numbers classes or rows from 1: {wrong!r}"
    assert "shape `[2, 1]`: it is `[2]`" in prose


# ---------------------------------------------------------------- lesson 07


def test_lesson_07_trains_on_logits_and_predicts_with_a_softmax_model():
    code = all_code("07")
    assert "tf.keras.layers.Dense(3),  # no activation: logits" in code
    assert "SparseCategoricalCrossentropy(from_logits=True)" in code
    assert "tf.keras.Sequential([model, tf.keras.layers.Softmax()])" in code
    assert "set_random_seed(0)" in code and "enable_op_determinism()" in code and "verbose=0" in code
    assert "ll.training.LogitRecorder(" in code and "keras.datasets" not in code and "http" not in code
    text = all_output("07")
    epochs = {int(m[1]): numbers(line) for line in text.splitlines() if (m := re.match(r"\s*epoch\s+(\d+):", line))}
    assert min(epochs) == 1 and max(epochs) == 30, sorted(epochs)
    (first_loss, _), (last_loss, last_accuracy) = epochs[1], epochs[30]
    assert last_loss < first_loss < math.log(3), "training lowers the loss below a uniform guess"
    assert last_accuracy > 0.9, "the classifier learns the three clouds"
    assert "same as softmax(logits): True" in text
    assert "30 epochs recorded" in text


def test_lesson_07_probability_model_equals_softmax_of_logits():
    # The recipe the lesson teaches, checked with TensorFlow on a fresh model.
    model = tf.keras.Sequential([tf.keras.Input(shape=(2,)), tf.keras.layers.Dense(3)])
    probability_model = tf.keras.Sequential([model, tf.keras.layers.Softmax()])
    x = np.array([[0.5, -1.0], [2.0, 3.0]], dtype=np.float32)
    np.testing.assert_allclose(probability_model(x).numpy(), tf.nn.softmax(model(x)).numpy(), atol=1e-6)


# ---------------------------------------------------------------- lesson 08


def test_lesson_08_pitfall_numbers_match_tensorflow():
    text = all_output("08")
    probs = tf.nn.softmax(Y_HAT.astype(np.float32))
    cce = tf.keras.losses.CategoricalCrossentropy(from_logits=True)
    wrong, right = float(cce(Y_TRUE, probs)), float(cce(Y_TRUE, Y_HAT))
    line = line_starting(text, "Keras from_logits=True on probs:")
    assert numbers(line) == [round(wrong, 5), round(right, 5)] and round(right, 5) == 0.83934
    floor = -float(tf.nn.log_softmax([1.0, 0.0, 0.0])[0])
    assert numbers(line_starting(text, "loss of a perfect prediction after a double softmax"))[0] == round(floor, 4)
    # from_logits=False on raw logits: a near-zero loss for an unsure model.
    shown = numbers(line_starting(text, "warnings:").replace("loss:", ""))
    reference = float(tf.keras.losses.CategoricalCrossentropy()([[1.0, 0.0, 0.0]], [[2.0, -1.0, 0.5]]))
    right = float(tf.nn.softmax_cross_entropy_with_logits(labels=[[1.0, 0.0, 0.0]], logits=[[2.0, -1.0, 0.5]])[0])
    assert reference < 1e-6 and shown == [0, float(f"{reference:.1e}"), round(right, 4)]
    assert "per-instance loss: [1.879, 0.0]" in text  # out-of-range tf.one_hot id -> zero row -> loss 0
    assert "with axis=0, sums over classes: [1.0, 1.0, 1.0]" in text


def test_lesson_08_prints_the_keras_warning_keras_really_gives():
    text = all_output("08")
    line = line_starting(text, "UserWarning:")
    softmax_model = tf.keras.Sequential([tf.keras.Input(shape=(3,)), tf.keras.layers.Softmax()])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loss = tf.keras.losses.CategoricalCrossentropy(from_logits=True)(Y_TRUE, softmax_model(Y_HAT))
    messages = [str(w.message) for w in caught]
    assert messages and line == f"UserWarning: {messages[0]}"
    assert round(float(loss), 5) == 0.83934, "Keras uses the logits behind its own softmax"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        tf.keras.losses.CategoricalCrossentropy(from_logits=True)(Y_TRUE, tf.nn.softmax(Y_HAT))
    assert not caught, "an eager tf.nn.softmax is not detected (the lesson says so)"
    # The lesson counts warnings under simplefilter("always"), and says Python's default filter shows it once.
    assert 'under `warnings.simplefilter("always")`; with Python\'s default filter a warning is shown only the first ' \
           'time' in all_markdown("08")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        for _ in range(3):
            tf.keras.losses.CategoricalCrossentropy(from_logits=True)(Y_TRUE, softmax_model(Y_HAT))
    assert len([w for w in caught if "from_logits" in str(w.message)]) == 1
    assert "      eager: 3 calls, 0 from_logits warning(s), loss 0.98626 (right: 0.83934)" in text


def test_lesson_08_graph_mode_repairs_a_tf_nn_softmax_and_eager_mode_does_not():
    text = all_output("08")
    cce = tf.keras.losses.CategoricalCrossentropy(from_logits=True)
    y_hat = Y_HAT.astype(np.float32)

    def loss_after_tf_softmax(logits):
        return cce(Y_TRUE, tf.nn.softmax(logits))

    results = {}
    for mode, fn in [("eager", loss_after_tf_softmax), ("tf.function", tf.function(loss_after_tf_softmax)),
                     ("XLA", tf.function(loss_after_tf_softmax, jit_compile=True))]:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            loss = [float(fn(y_hat)) for _ in range(3)][-1]
        # only Keras's own warning: Python 3.12+ also records autograph's DeprecationWarnings while tracing
        results[mode] = (len([w for w in caught if issubclass(w.category, UserWarning)
                              and "from_logits=True" in str(w.message)]), round(loss, 5))
    assert results == {"eager": (0, 0.98626), "tf.function": (1, 0.83934), "XLA": (1, 0.83934)}, "once per trace"
    assert "tf.function: 3 calls, 1 from_logits warning(s), loss 0.83934 (right: 0.83934)" in text
    assert "        XLA: 3 calls, 1 from_logits warning(s), loss 0.83934 (right: 0.83934)" in text
    # Keras's own test for this lives in _get_logits: graph tensors are recognised by their op type.
    import inspect

    from keras.src.backend.tensorflow import nn as keras_tf_nn
    source = inspect.getsource(keras_tf_nn._get_logits)
    assert "_keras_logits" in source and "output.op.type == op_type" in source


def test_keras_softmax_with_from_logits_false_is_right_and_stable():
    """The reviewer's measurement: logits [200, 0, -200], true class 2, a model ending in Activation("softmax")."""
    text = all_output("08")
    logits = np.array([[200.0, 0.0, -200.0]], dtype=np.float32)
    labels = np.array([[0.0, 0.0, 1.0]], dtype=np.float32)
    model = tf.keras.Sequential([tf.keras.Input(shape=(3,)), tf.keras.layers.Activation("softmax")])
    model.compile(loss=tf.keras.losses.CategoricalCrossentropy())
    assert model.evaluate(tf.data.Dataset.from_tensors((logits, labels)), verbose=0) == 400.0
    cce = tf.keras.losses.CategoricalCrossentropy()
    assert float(cce(labels, model(logits))) == 400.0
    clipped = float(cce(labels, tf.nn.softmax(logits)))
    assert round(clipped, 3) == round(-math.log(1e-7), 3) == 16.118
    assert numbers(line_starting(text, "model ending in a Keras softmax, evaluate:")) == [400.0]
    assert numbers(line_starting(text, "the same model's output, eager:")) == [400.0]
    assert numbers(line_starting(text, "eager tf.nn.softmax output:"))[0] == 16.118
    table = all_markdown("08")
    assert "| Keras softmax (layer, `activation=\"softmax\"`, `keras.ops.softmax`) into `from_logits=False`, output " \
           "reaching the loss unchanged | none | right and stable" in table


def test_keras_repair_fails_silently_under_mixed_float16():
    """Loss.__call__ casts a float16 softmax output to float32; the cast has no _keras_logits and is no Softmax op."""
    import inspect

    from keras.src.losses import loss as keras_loss
    assert "convert_to_tensor(x, dtype=self.dtype)" in inspect.getsource(keras_loss.Loss.__call__)
    logits = np.array([[200.0, 0.0, -200.0]], dtype=np.float32)
    labels = np.array([[0.0, 0.0, 1.0]], dtype=np.float32)
    tf.keras.config.set_dtype_policy("mixed_float16")
    try:
        model = tf.keras.Sequential([tf.keras.Input(shape=(3,)), tf.keras.layers.Activation("softmax")])
    finally:
        tf.keras.config.set_dtype_policy("float32")
    found = {}
    for from_logits in (True, False):
        loss = tf.keras.losses.CategoricalCrossentropy(from_logits=from_logits)
        model.compile(loss=loss)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            found[from_logits] = (round(model.evaluate(tf.data.Dataset.from_tensors((logits, labels)), verbose=0), 4),
                                  round(float(loss(Y_TRUE, model(Y_HAT.astype(np.float32)))), 5),
                                  [str(w.message) for w in caught if "from_logits" in str(w.message)])
    assert found == {True: (1.5514, 0.98611, []), False: (16.1181, 0.83903, [])}
    text = all_output("08")
    assert "from_logits=True : evaluate on [200, 0, -200] 1.5514 (exact 400) | E3 0.98611 (right 0.83934) | " \
           "from_logits warnings: 0" in text
    assert "from_logits=False: evaluate on [200, 0, -200] 16.1181 (exact 400)" in text


def test_grappler_repairs_log_softmax_only_in_a_forward_graph_and_xla_nans_bad_ids():
    def log_of_softmax(z):
        return tf.math.log(tf.nn.softmax(z))

    z = tf.Variable([[1000.0, 0.0, -1000.0]])
    assert np.isneginf(log_of_softmax(z).numpy()[0, 1:]).all()
    assert tf.function(log_of_softmax)(z).numpy().tolist() == [[0.0, -1000.0, -2000.0]]
    assert np.isneginf(tf.function(log_of_softmax, jit_compile=True)(z).numpy()[0, 1:]).all()
    with tf.GradientTape() as tape:
        value = tf.reduce_sum(tf.function(log_of_softmax)(z) * [[0.0, 1.0, 0.0]])
    assert np.isnan(value.numpy()) and np.isnan(tape.gradient(value, z).numpy()).all()
    text = all_output("08")
    assert "tf.function, forward only:    [[    0. -1000. -2000.]]" in text
    assert "tf.function, with a gradient: nan | gradient [[nan nan nan]]" in text

    def sparse_loss(ids, logits):
        return tf.nn.sparse_softmax_cross_entropy_with_logits(labels=ids, logits=logits)

    with pytest.raises(tf.errors.InvalidArgumentError):
        sparse_loss(np.array([1, 3]), Y_HAT.astype(np.float32))
    xla = tf.function(sparse_loss, jit_compile=True)(np.array([1, 3]), Y_HAT.astype(np.float32)).numpy()
    assert np.isfinite(xla[0]) and np.isnan(xla[1])
    assert "eager, CPU: InvalidArgumentError | Received a label value of 3 which is outside the valid range" in text
    assert re.search(r"XLA, CPU: +\[0\.4790\d* +nan\]", text)


def test_logits_reaching_accuracy_are_thresholded_at_one_half_in_every_mode():
    logits = np.array([[0.3], [0.2], [-0.4], [-0.1]], dtype=np.float32)
    labels = np.array([[1.0], [1.0], [0.0], [0.0]], dtype=np.float32)
    for options in ({}, {"run_eagerly": True}, {"jit_compile": True}):
        model = tf.keras.Sequential([tf.keras.Input(shape=(1,)), tf.keras.layers.Identity()])
        model.compile(loss=tf.keras.losses.BinaryCrossentropy(from_logits=True),
                      metrics=["accuracy", tf.keras.metrics.BinaryAccuracy(name="at_0", threshold=0.0),
                               tf.keras.metrics.AUC(name="auc", from_logits=True)], **options)
        found = model.evaluate(logits, labels, verbose=0, return_dict=True)
        assert (found["accuracy"], found["at_0"], found["auc"]) == (0.5, 1.0, 1.0), options
    text = all_output("08")
    assert "accuracy       0.5000" in text and "accuracy_at_0  1.0000" in text and "auc            1.0000" in text


def test_lesson_08_functional_model_error_and_fixes_hold_in_keras_3():
    nb = notebook("08")
    errors = [o for c in cells_of(nb, "code") for o in c["outputs"] if o["output_type"] == "error"]
    assert len(errors) == 1 and errors[0]["ename"] == "ValueError"
    assert errors[0]["evalue"].startswith("A KerasTensor cannot be used as input to a TensorFlow function.")
    assert len(errors[0]["traceback"]) == 1, "the stored error is the message only (%xmode Minimal)"
    cell = next(c for c in cells_of(nb, "code") if any(o["output_type"] == "error" for o in c["outputs"]))
    assert "raises-exception" in cell["metadata"]["tags"]
    inputs = tf.keras.Input(shape=(3,))
    with pytest.raises(ValueError, match="A KerasTensor cannot be used as input to a TensorFlow function"):
        tf.nn.softmax(inputs)
    logits = np.array([[200.0, 0.0, -200.0]], dtype=np.float32)
    labels = np.array([[0.0, 0.0, 1.0]], dtype=np.float32)
    cce = tf.keras.losses.CategoricalCrossentropy()
    fixes = {"Softmax": tf.keras.layers.Softmax()(inputs), "ops": tf.keras.ops.softmax(inputs),
             "Lambda": tf.keras.layers.Lambda(tf.nn.softmax)(inputs)}
    eager = {}
    for name, outputs in fixes.items():
        model = tf.keras.Model(inputs, outputs)
        np.testing.assert_allclose(model(Y_HAT).numpy(), tf.nn.softmax(Y_HAT).numpy(), atol=1e-6)
        eager[name] = round(float(cce(labels, model(logits))), 3)
        if name == "Lambda":  # in graph mode (evaluate) Keras sees the Softmax op and uses its input
            model.compile(loss=cce)
            assert model.evaluate(tf.data.Dataset.from_tensors((logits, labels)), verbose=0) == 400.0
    assert eager == {"Softmax": 400.0, "ops": 400.0, "Lambda": 16.118}
    text = all_output("08")
    lambda_line = ("tf.keras.layers.Lambda(tf.nn.softmax)  probs [0.2279, 0.6194, 0.1527]  "
                   "eager loss on [200, 0, -200]: 16.118")
    assert lambda_line in text


def test_sum_vs_mean_sgd_scales_the_step_adam_does_not_but_l2_weight_changes():
    """The lesson's NumPy optimisers, checked against Keras's own SGD and Adam."""
    rng = np.random.default_rng(1)
    features = rng.normal(size=(64, 4)).astype(np.float32)
    ids = rng.integers(0, 3, size=64)
    start = rng.normal(size=(4, 3)).astype(np.float32)

    def train(optimizer, reduce, l2=0.0, steps=20):
        w = tf.Variable(start)
        for _ in range(steps):
            with tf.GradientTape() as tape:
                per_instance = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=ids, logits=features @ w)
                loss = reduce(per_instance) + l2 * tf.reduce_sum(w ** 2)
            optimizer.apply_gradients([(tape.gradient(loss, w), w)])
        return w.numpy()

    sgd = [train(tf.keras.optimizers.SGD(0.5), r) for r in (tf.reduce_mean, tf.reduce_sum)]
    adam = [train(tf.keras.optimizers.Adam(0.05), r) for r in (tf.reduce_mean, tf.reduce_sum)]
    adam_l2 = [train(tf.keras.optimizers.Adam(0.05), r, l2=0.05) for r in (tf.reduce_mean, tf.reduce_sum)]
    assert np.abs(sgd[0] - sgd[1]).max() > 1.0
    assert np.abs(adam[0] - adam[1]).max() < 1e-4
    assert np.abs(adam_l2[0] - adam_l2[1]).max() > 1e-2
    text = all_output("08")
    # "<optimizer>: loss after <steps> steps, mean <loss> | sum <loss>   largest weight difference <diff>"
    shown = {m[1]: numbers(line) for line in text.splitlines()
             if (m := re.match(r"\s*(SGD|Adam \+ L2|Adam)\s*:", line))}
    assert sorted(shown) == ["Adam", "Adam + L2", "SGD"] and all(len(row) == 4 for row in shown.values()), shown
    diff = {name: row[3] for name, row in shown.items()}
    assert diff["SGD"] > 1.0 and diff["Adam"] < 1e-4 and diff["Adam + L2"] > 1e-2
    _, mean_sgd, sum_sgd, _ = shown["SGD"]
    assert sum_sgd > 2 * mean_sgd
    # The lesson's NumPy Adam is Keras's ("epsilon hat": eps added to sqrt(v) before the bias correction).
    w64, keras_adam = tf.Variable(start.astype(np.float64)), tf.keras.optimizers.Adam(0.05)
    w_hat, w_textbook, m, v = start.astype(np.float64), start.astype(np.float64), 0.0, 0.0
    for t in range(1, 6):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
                labels=ids, logits=features.astype(np.float64) @ w64))
        grad = tape.gradient(loss, w64)
        keras_adam.apply_gradients([(grad, w64)])
        g = grad.numpy()
        m, v = 0.9 * m + 0.1 * g, 0.999 * v + 0.001 * g ** 2
        w_hat = w_hat - 0.05 * np.sqrt(1 - 0.999 ** t) / (1 - 0.9 ** t) * m / (np.sqrt(v) + 1e-7)
        w_textbook = w_textbook - 0.05 * (m / (1 - 0.9 ** t)) / (np.sqrt(v / (1 - 0.999 ** t)) + 1e-7)
    hat, textbook = np.abs(w64.numpy() - w_hat).max(), np.abs(w64.numpy() - w_textbook).max()
    assert hat < 1e-5 and textbook > 10 * hat, (hat, textbook)
    assert "w = w - 0.05 * np.sqrt(1 - 0.999 ** t) / (1 - 0.9 ** t) * m / (np.sqrt(v) + 1e-7)" in "\n".join(
        course.cell_source(c) for c in cells_of(notebook("08"), "code"))


def test_lesson_08_explains_the_gradient_halved_by_the_mean_over_two_rows():
    text = all_output("08")
    once = line_starting(text, "gradient, softmax once:")
    halved = line_starting(text, "softmax - labels, divided by 2 rows:")
    assert numbers(once) == numbers(halved)
    grad = (tf.nn.softmax(Y_HAT) - Y_TRUE).numpy() / 2
    assert numbers(halved) == [round(float(v), 4) for v in grad.ravel()]
    assert "divides the loss by 2" in all_markdown("08")


def test_keras_fit_repairs_its_own_softmax_under_from_logits_true_as_lesson_08_says():
    x = np.random.default_rng(0).normal(size=(64, 2)).astype(np.float32)
    y = (x[:, 0] > 0).astype(int)
    losses, caught_per_model = [], []
    for activation in (None, "softmax"):
        tf.keras.utils.set_random_seed(0)
        model = tf.keras.Sequential([tf.keras.Input(shape=(2,)), tf.keras.layers.Dense(3, activation=activation)])
        model.compile(optimizer="sgd", loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            batches = tf.data.Dataset.from_tensor_slices((x, y)).batch(16)
            history = model.fit(batches, epochs=2, shuffle=False, verbose=0)
        losses.append(history.history["loss"])
        caught_per_model.append([str(w.message) for w in caught if "from_logits=True" in str(w.message)])
    np.testing.assert_allclose(losses[0], losses[1], rtol=1e-6)
    assert not caught_per_model[0] and caught_per_model[1]
    assert "trains exactly like the same model without the activation" in all_markdown("08")


def test_lesson_08_ends_with_a_checklist():
    nb = notebook("08")
    checklist = [c for c in nb["cells"] if "## A checklist to keep" in course.cell_source(c)]
    assert len(checklist) == 1
    items = re.findall(r"^\d\. ", course.cell_source(checklist[0]), re.M)
    assert len(items) >= 5
    text = "\n".join(course.cell_source(c) for c in nb["cells"])
    for pitfall in ["double softmax", "from_logits=False", "one-hot", "axis", "sum", "look like"]:
        assert pitfall in text.lower() or pitfall in text, f"lesson 08 misses the pitfall {pitfall!r}"
