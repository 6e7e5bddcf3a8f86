"""Lessons 00-04: what they teach, and the syllabus's worked examples E1-E5 and E7 in their stored outputs.

The numbers are read from the outputs `make notebooks` stored, and TensorFlow computes each worked
example again here: what a lesson printed must be what TensorFlow says, and what the syllabus says.
"""

import re
import sys

import numpy as np

import logitlab  # noqa: F401  (before TensorFlow: silent import, oneDNN off as in the lessons)
import tensorflow as tf
from helpers import ROOT
from logitlab.authoring import course
from notebook_outputs import all_code, all_markdown, all_output, line_starting, notebook, numbers, output_text

Y_HAT = [[0.5, 1.5, 0.1], [2.2, 1.3, 1.7]]
Y_TRUE = [[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]


# ---------------------------------------------------------------- lessons 01 and 02


def test_lesson_01_needs_no_tensorflow():
    code = all_code("01")
    assert "tensorflow" not in code and "tf." not in code


def test_lesson_02_builds_the_syllabus_model():
    text = "\n".join(course.cell_source(c) for c in notebook("02")["cells"])
    assert "tf.keras.Input(shape=(784,))" in text
    assert 'tf.keras.layers.Dense(128, activation="relu")' in text and "tf.keras.layers.Dense(10)" in text
    out = all_output("02")
    assert "dense_1  units=10   activation=linear" in out
    logits_block = out.split("logits, shape (3, 10)\n", 1)[1].split("smallest logit", 1)[0]
    logits = np.array([float(x) for x in re.findall(r"-?\d+\.\d*", logits_block)])
    assert logits.size == 30 and logits.min() < 0, "the raw outputs shown include negative numbers"
    row_sums = numbers(line_starting(out, "row sums"))  # the raw logits' rows, printed before the softmax's
    assert len(row_sums) == 3 and not np.allclose(row_sums, 1.0, atol=0.05), "logit rows do not sum to 1"


def test_lesson_02_two_class_softmax_is_the_sigmoid_of_the_difference():
    pairs = tf.constant([[0.0, 2.0], [1.5, -0.5], [3.0, 3.0], [-1.0, 0.2]], dtype=tf.float64)
    softmax_p1 = tf.nn.softmax(pairs)[:, 1].numpy()
    sigmoid_gap = tf.math.sigmoid(pairs[:, 1] - pairs[:, 0]).numpy()
    np.testing.assert_allclose(softmax_p1, sigmoid_gap, rtol=1e-12)
    out = all_output("02")
    assert f"softmax(z)[1]     : {np.round(softmax_p1, 6)}" in out
    assert f"sigmoid(z1 - z0)  : {np.round(sigmoid_gap, 6)}" in out
    assert f"TensorFlow softmax(z)[1]   : {np.round(softmax_p1, 6)}" in out


# ---------------------------------------------------------------- worked examples


def test_e1_softmax_prints_the_float64_digits_in_numpy_and_tensorflow():
    reference = tf.nn.softmax(tf.constant([[0.1, 0.3, 0.5, 0.9]], dtype=tf.float64)).numpy()
    np.testing.assert_allclose(reference, [[0.16838508, 0.205666, 0.25120102, 0.37474789]], atol=5e-9)
    expected = str(reference)
    assert expected == "[[0.16838508 0.205666   0.25120102 0.37474789]]"
    assert all_output("03").count(expected) >= 2, "E1 is printed by the NumPy version and by the TensorFlow version"
    text = all_markdown("03")
    for migration in ("tf.Session()", "sess.run(tf.nn.softmax", "tf.math.log", "tf.compat.v1"):
        assert migration in text, f"the TF 1 -> TF 2 note mentions {migration}"


def test_e2_table_of_class_probabilities_and_argmax():
    reference = tf.nn.softmax(tf.constant(Y_HAT, dtype=tf.float64)).numpy()
    np.testing.assert_allclose(reference, [[0.227863, 0.61939586, 0.15274114],
                                           [0.49674623, 0.20196195, 0.30129182]], atol=5e-9)
    out = all_output("03")
    assert "Pr(class k) per training instance" in out
    for i, row in enumerate(reference):
        line = line_starting(out, f"instance {i + 1} ")
        assert [f"{p:.8f}" for p in row] == re.findall(r"\d\.\d{8}", line)
        assert f"class {int(row.argmax()) + 1} (id {int(row.argmax())} in code)" in line
    assert "class 2 (id 1 in code)" in line_starting(out, "instance 1 ")
    assert "class 1 (id 0 in code)" in line_starting(out, "instance 2 ")


def test_e3_cross_entropy_per_instance_manual_and_fused():
    fused = tf.nn.softmax_cross_entropy_with_logits(labels=Y_TRUE, logits=tf.constant(Y_HAT, dtype=tf.float64))
    manual = -tf.reduce_sum(Y_TRUE * tf.math.log(tf.nn.softmax(tf.constant(Y_HAT, dtype=tf.float64))), axis=1)
    np.testing.assert_allclose(fused.numpy(), [0.4790107, 1.19967598], atol=5e-9)
    np.testing.assert_allclose(manual.numpy(), fused.numpy(), rtol=1e-12)
    out = all_output("04")
    losses, mean = str(fused.numpy()), f"{float(tf.reduce_mean(fused)):.5f}"
    assert mean == "0.83934"
    assert f"{losses}\nmean loss: {mean}" in out, "the NumPy version prints E3 and its mean"
    assert f"manual: {losses}   mean {mean}" in out
    assert f"fused : {losses}   mean {mean}" in out


def test_e4_sum_and_mean_reduction():
    logits = tf.constant([[1.0, 2.0, 3.0]] * 3)
    labels = tf.constant([[0.0, 0.0, 1.0]] * 3)
    probs = tf.nn.softmax(logits).numpy()
    np.testing.assert_allclose(probs[0], [0.09003057, 0.24472848, 0.66524094], atol=5e-8)
    loss = tf.nn.softmax_cross_entropy_with_logits(labels=labels, logits=logits)
    total, mean = f"{float(tf.reduce_sum(loss)):.4f}", f"{float(tf.reduce_mean(loss)):.4f}"
    assert total == "1.2228"
    out = all_output("04")
    assert str(probs[:1])[1:-1] in out, "the softmax row E4 gives is printed"
    assert f"sum  reduction: manual {total}   fused {total}" in out
    assert f"mean reduction: manual {mean}   fused {mean}" in out


def test_e5_shapes():
    logits = tf.zeros([2, 5])
    softmax_shape = tf.nn.softmax(logits).shape.as_list()
    loss_shape = tf.nn.softmax_cross_entropy_with_logits(labels=tf.one_hot([3, 0], 5), logits=logits).shape.as_list()
    assert (softmax_shape, loss_shape) == ([2, 5], [2])
    out = all_output("04")
    assert f"logits  shape: [2, 5]\nsoftmax shape: {softmax_shape}\nloss    shape: {loss_shape}" in out


def test_e7_math_logit_sign_and_round_trip():
    out = all_output("01")
    assert line_starting(out, "logit(0.5) =") == f"logit(0.5) = {float(tf.math.log(0.5 / (1 - 0.5)))}"
    for p in [0.01, 0.3, 0.49, 0.51, 0.7, 0.99]:
        z = float(tf.math.log(tf.constant(p, tf.float64) / (1 - p)))
        line = line_starting(out, f"logit({p:<4}) =")
        assert f"= {z:+.4f}" in line
        assert ("negative  <=>  p < 0.5" if p < 0.5 else "positive  <=>  p > 0.5") in line
    zs = tf.constant([-4.0, -1.0, 0.0, 1.0, 4.0], tf.float64)
    round_trip = tf.math.log(tf.math.sigmoid(zs) / (1 - tf.math.sigmoid(zs))).numpy()
    np.testing.assert_allclose(round_trip, zs.numpy(), atol=1e-12)
    assert f"logit(sigmoid(z))  : {np.round(round_trip, 10)}" in out
    assert "both round trips?  : True True" in out
    figures = [c for c in notebook("01")["cells"] if c["cell_type"] == "code"
               and "logit(p_grid)" in course.cell_source(c)
               and any("image/png" in o.get("data", {}) for o in c["outputs"])]
    assert figures, "E7 is plotted: the logit curve"


# ---------------------------------------------------------------- claims added for issue 10


def test_lesson_00_environment_check_prints_a_verdict_per_component():
    out = all_output("00")
    for name in ("Python", "TensorFlow", "Keras", "NumPy", "matplotlib", "ipywidgets", "JupyterLab"):
        line = line_starting(out, f"{name} ")
        # version then ✓: the nbval sanitize rule relies on it
        assert re.search(r"\d+\.\d+\.\d+\S* +✓", line), name
    rule = (ROOT / "tests" / "sanitize.cfg").read_text()
    assert "regex: \\d+\\.\\d+\\.\\d+\\S* +✓" in rule


def test_environment_check_reports_a_mismatch(tmp_path):
    from logitlab import environment

    (tmp_path / "requirements.txt").write_text('numpy==0.0.1\nkeras==0.0.2 ; python_version < "3.0"\n')
    (tmp_path / "pyproject.toml").write_text('requires-python = ">=2.7,<3.0"\n')
    lines = {line.split()[0]: line for line in environment.check_lines(tmp_path)}
    if sys.version_info >= (3, 11):
        assert "✗ the course needs Python >=2.7,<3.0" in lines["Python"]
    else:  # no TOML reader in Python 3.10's standard library: another folder's pyproject.toml is not read
        assert "? no requires-python found" in lines["Python"]
    assert "✗ the course pins 0.0.1: run `make install`" in lines["NumPy"]
    assert "? no pin found" in lines["Keras"], "a pin whose marker does not hold is not this Python's pin"
    here = {line.split()[0]: line for line in environment.check_lines()}
    assert all("✓" in line for line in here.values()), f"this environment does not match the pins: {here}"


def test_lesson_00_glossary_terms_and_the_odds_caveat():
    text = all_markdown("00")
    glossary = text.split("## Glossary", 1)[1]
    for english, chinese in [("temperature", "温度"), ("label smoothing", "标签平滑"),
                             ("overflow / underflow", "上溢 / 下溢"), ("gradient", "梯度"), ("batch", "批次"),
                             ("reduction", "归约"), ("logistic regression", "对数几率回归"),
                             ("log-sum-exp", "先取指数、求和、再取对数"), ("calibration", "校准"),
                             ("negative log-likelihood", "负对数似然"), ("prior", "先验")]:
        assert re.search(rf"^\| {re.escape(english)}[^|]*\| [^|]*{re.escape(chinese)}", glossary, re.M), english
    odds_row = line_starting(glossary, "| odds |")
    assert "几率" in odds_row and "赔率" not in odds_row, "odds is 几率, not 赔率 (a payout)"
    assert "everyday Chinese" in glossary and "概率" in glossary, "the caveat: 几率 often means probability"


def test_lessons_00_04_navigation_links_the_glossary():
    for lesson in course.lessons()[:5]:
        nav = course.cell_source(course.read_notebook(lesson.notebook)["cells"][-1])
        target = "(#Glossary)" if lesson.number == "00" else "(00-start-here.ipynb#Glossary)"
        assert f"[Glossary · 术语表]{target}" in nav, f"{lesson.stem} does not link the glossary"
    # JupyterLab's anchor #Glossary is the heading's text: the heading must be exactly "## Glossary".
    assert "\n## Glossary\n" in "\n" + all_markdown("00") + "\n"


def test_lesson_01_bookmaker_odds_are_odds_against():
    out = all_output("01")
    p_win = 1 / (3 + 1)
    assert p_win == 0.25
    assert f"bookmaker's 3 to 1 (against): p = {p_win}, odds in favour = {p_win / (1 - p_win):.3f}" in out
    assert f"3 to 1 in favour            : p = {1 - p_win}, odds in favour = {(1 - p_win) / p_win:.3f}" in out
    assert "odds **against**" in all_markdown("01")


def test_lesson_01_sigmoid_and_logit_share_one_square_axes_with_the_diagonal():
    cells = notebook("01")["cells"]
    figure = next(i for i, c in enumerate(cells) if "diagonal y = x" in course.cell_source(c))
    code = course.cell_source(cells[figure])
    assert 'aspect="equal"' in code and "plt.subplots(figsize=(5.5, 5.5))" in code, "one square axes"
    assert "logit(p_grid)" in code and "sigmoid(z_grid)" in code, "both curves on the same axes"
    assert "diagonal" in course.cell_source(cells[figure - 1])
    z0 = 2.0
    s = float(tf.math.sigmoid(tf.constant(z0, tf.float64)))
    back = float(tf.math.log(s / (1 - s)))
    mirrored = f"({z0}, {s:.4f}) on the sigmoid  <->  ({s:.4f}, {back:.4f}) on the logit"
    assert mirrored in output_text(cells[figure])


def test_lesson_02_sentiment_classes_in_the_explorers_order():
    import inspect

    from logitlab.explorers import widgets

    order = list(inspect.signature(widgets.score_explorer).parameters["class_names"].default)
    code = all_code("02")
    assert f"sentiments = {order!r}".replace("'", '"') in code
    out = all_output("02")
    for k, name in enumerate(order):
        assert line_starting(out, f"class {k} {name}")
    assert "positive" == order[2] and "`b2`, the bias of *positive*" in all_markdown("02")


def test_lesson_03_soft_arg_max_and_log_sum_exp():
    out = all_output("03")
    logits = tf.constant([2.0, 1.0, 0.1], tf.float64)
    for scale in [1, 2, 5, 10]:
        lse = float(tf.reduce_logsumexp(scale * logits)) / scale
        assert f"log-sum-exp / {scale:<2} = {lse:.4f}" in out
    assert abs(float(tf.reduce_logsumexp(10 * logits)) / 10 - 2.0) < 1e-4, "log-sum-exp tends to the max"
    tie = tf.nn.softmax(10 * tf.constant([2.0, 2.0, 0.1], tf.float64)).numpy()
    assert f"a tie, softmax(10 * [2.0, 2.0, 0.1]) = {np.round(tie, 4)}" in out
    np.testing.assert_allclose(tie[:2], [0.5, 0.5])
    text = all_markdown("03")
    thread = "What are logits? What is the difference between softmax and softmax_cross_entropy_with_logits?"
    assert text.count(thread) == 1 and "same Stack Overflow thread" in text, "E1 and E2 credit their source"


def test_lesson_04_cross_entropy_is_the_negative_log_likelihood():
    out = all_output("04")
    probs = tf.nn.softmax(tf.constant(Y_HAT, tf.float64)).numpy()
    q_true = probs[[0, 1], [1, 2]]
    fused = tf.nn.softmax_cross_entropy_with_logits(labels=Y_TRUE, logits=tf.constant(Y_HAT, tf.float64)).numpy()
    nll = -np.sum(np.log(q_true))
    np.testing.assert_allclose(nll, fused.sum(), rtol=1e-12)
    assert f"likelihood (their product)     : {np.prod(q_true):.6f}" in out
    assert f"negative log-likelihood        : {nll:.6f}" in out
    assert f"sum of E3's cross-entropies    : {fused.sum():.6f}" in out
    assert f"mean NLL = mean cross-entropy  : {nll / 2:.5f} = {fused.mean():.5f}" in out
    assert np.prod(np.full(3000, 0.5)) == 0.0, "the product of 3,000 halves underflows in float64"
    assert "likelihood, the product : 0.0" in out
    assert f"log-likelihood, the sum : {3000 * np.log(0.5):.2f}" in out


def test_lesson_04_leaves_the_optimiser_experiment_to_lesson_07():
    # GradientTape, tf.function and Adam are introduced in lessons 06-07 (issue 17): lesson 04 only states that
    # the sum's gradient is N times the mean's, and the Keras default.
    code, text = all_code("04"), all_markdown("04")
    for name in ["GradientTape", "tf.function", "Adam", "optimizers"]:
        assert name not in code, name
    assert "Lesson 07 runs that experiment" in text
    assert tf.keras.losses.CategoricalCrossentropy().reduction == "sum_over_batch_size", "Keras's default is the mean"


def test_lesson_04_e5_names_the_threads_wrong_shape_and_the_positional_trap():
    out = all_output("04")
    shape = tf.nn.softmax_cross_entropy_with_logits(labels=tf.one_hot([3, 0], 5), logits=tf.zeros([2, 5])).shape
    assert shape.as_list() == [2]
    assert f"the thread's answer says [2, 1]; TensorFlow returns {shape.as_list()}" in out
    assert "weighted [2, 1] one: [2, 2]" in out
    swapped = tf.nn.softmax_cross_entropy_with_logits(tf.constant(Y_HAT, tf.float64), tf.constant(Y_TRUE, tf.float64))
    np.testing.assert_allclose(swapped.numpy(), [1.7580338, 6.3675127], atol=1e-6)
    assert f"by position: {swapped.numpy()}" in out
    assert "【TensorFlow】tf.nn.softmax_cross_entropy_with_logits的用法" in all_markdown("04"), "E4 credits its source"


def test_lesson_04_explorer_prose_numbers():
    text = all_markdown("04")
    assert f"$\\log 2 \\approx {np.log(2):.3f}$" in text and f"$\\log 3 \\approx {np.log(3):.3f}$" in text
    # With label smoothing 0.1 over 3 classes the loss is lowest where q[true] equals the smoothed label.
    eps, k = 0.1, 3
    q = np.linspace(0.5, 0.999999, 200001)
    smooth_true, smooth_other = 1 - eps + eps / k, eps / k
    loss = -(smooth_true * np.log(q) + (k - 1) * smooth_other * np.log((1 - q) / (k - 1)))
    best = q[np.argmin(loss)]
    assert abs(best - smooth_true) < 1e-4 and 0.9 < best < 1.0, "lowest a little below 1"


# ---------------------------------------------------------------- issue 17: half-truths made whole


def test_lesson_00_explains_the_first_explorers_temperature_and_shift():
    text = all_markdown("00")
    assert "The last two sliders come in lesson 03" in text and "Leave them at 1 and 0" in text
    assert "from lesson 02 on, TensorFlow's version beside it" in text  # lesson 01 has none (test above)
    assert "可以用滑块调节的图" in text and "可以拖动的图" not in text


def test_lesson_02_pairwise_logit_difference_is_a_conditional_log_odds():
    logits = np.array([2.0, 0.5, -1.0, 0.3, 1.2, -0.4, 0.0, 0.9, -2.0, 1.1])  # ten classes
    p = tf.nn.softmax(tf.constant(logits, tf.float64)).numpy()
    i, j = 0, 4
    conditional = p[i] / (p[i] + p[j])
    np.testing.assert_allclose(np.log(conditional / (1 - conditional)), logits[i] - logits[j], rtol=1e-12)
    assert abs(np.log(p[i] / (1 - p[i])) - (logits[i] - logits[j])) > 0.1, "not the logit of p_i itself"
    text = all_markdown("02")
    assert "P(i \\mid i \\text{ or } j)" in text and "log-odds between any pair" not in text
    assert "## One word, two meanings" in text and "three meanings" not in text
    out = all_output("02")
    assert "that constant is logsumexp" in out and "unknown constant" not in text


def test_lesson_03_float32_rounds_a_gap_of_17_to_exactly_1():
    """tf.nn.softmax (eager, float32) gives exactly 1.0: the sum it divides by, 1 + e^-17, rounds to 1, although
    float32 has a number nearer the true 1 - 4e-8 (0.99999994): the rounding is the computation's, not the type's."""
    assert tf.nn.softmax(tf.constant([17.0, 0.0])).numpy()[0] == 1.0
    assert tf.nn.softmax(tf.constant([16.0, 0.0])).numpy()[0] < 1.0
    assert np.float32(1) + np.float32(np.exp(-17)) == 1 and np.float32(1 - np.exp(-17)) < 1
    assert "float32, logits [17, 0]: [1.0, " in all_output("03")
    assert "`tf.nn.softmax` already returns exactly 1.0 for a gap of 17 between two logits (it divides by " \
           "$1 + e^{-17}$" in all_markdown("03")


def test_lesson_03_teaches_the_row_max_where_softmax_is_taught():
    out = all_output("03")
    assert "softmax([1000, 0])             = [nan  0.]" in out
    assert "softmax([1000, 0] - row max)   = [1. 0.]" in out
    assert "**row max**" in all_markdown("03")


def test_lesson_03_goodfellow_soft_max_and_log_sum_exp_both_tend_to_the_max():
    logits = np.array([2.0, 1.0, 0.1])
    out = all_output("03")
    for scale in [1, 2, 5, 10]:
        weighted = tf.nn.softmax(tf.constant(scale * logits)).numpy() @ logits
        assert f"weighted = {weighted:.4f}" in out
    assert "\\operatorname{softmax}(z)^\\top z" in all_markdown("03")


def test_lesson_03_tensorflow_2_names_and_compat_v1_keeps_the_positional_swap():
    assert not hasattr(tf, "log") and hasattr(tf.math, "log")
    assert hasattr(tf, "exp") and hasattr(tf, "reduce_sum"), "the lesson says these short names still exist"
    swapped = tf.compat.v1.nn.softmax_cross_entropy_with_logits_v2(tf.constant(Y_HAT, tf.float64),
                                                                   tf.constant(Y_TRUE, tf.float64))
    np.testing.assert_allclose(swapped.numpy(), [1.7580338, 6.3675127], atol=1e-6)
    text = all_markdown("03") + all_markdown("04")
    assert "`tf.exp` and `tf.reduce_sum` still exist" in text and "`compat.v1` does not bring back" in text


def test_lesson_04_loss_is_logsumexp_minus_the_true_logit_and_its_gradient_softmax_minus_y():
    out = all_output("04")
    z = tf.constant(Y_HAT[1], tf.float64)
    lse = float(tf.reduce_logsumexp(z)) - Y_HAT[1][2]
    fused = tf.nn.softmax_cross_entropy_with_logits(labels=Y_TRUE[1], logits=z).numpy()
    assert abs(lse - fused) < 1e-12 and f"logsumexp(z) - z[t]    = {lse:.6f}" in out
    assert "logsumexp - z[t], far : 1000.0" in out
    wrong, y = tf.constant([0.0, 8.0, 0.0], tf.float64), tf.constant([1.0, 0.0, 0.0], tf.float64)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(wrong)
        p = tf.nn.softmax(wrong)
        ce = tf.nn.softmax_cross_entropy_with_logits(labels=y, logits=wrong)
        squared = tf.reduce_sum((p - y) ** 2)
    ce_grad, sq_grad = tape.gradient(ce, wrong).numpy(), tape.gradient(squared, wrong).numpy()
    np.testing.assert_allclose(ce_grad, (p - y).numpy(), atol=1e-12)
    assert f"squared-error gradient: {np.round(sq_grad, 4)}" in out
    assert abs(ce_grad[0]) > 500 * abs(sq_grad[0]), "the squared error saturates, cross-entropy does not"


def test_lesson_04_label_smoothing_best_gap_is_finite():
    eps, k = 0.1, 3
    gap = np.log((1 - eps + eps / k) / (eps / k))
    loss = tf.keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=eps)
    values = {g: float(loss([[1.0, 0.0, 0.0]], [[g, 0.0, 0.0]])) for g in (gap - 0.5, gap, gap + 0.5)}
    assert min(values, key=values.get) == gap, "the loss is lowest at the finite gap, higher beyond it"
    assert f"log(28) = {gap:.4f}" in all_output("04")
    assert "can never drive the loss to 0" not in all_markdown("04")


def test_lessons_00_04_chinese_has_no_calques_or_straight_quotes():
    for number in ["00", "01", "02", "03", "04"]:
        text = all_markdown(number)
        for calque in ["对数求和指数", "变小", "可以拖动的图"]:
            assert calque not in text, (number, calque)
        # Chinese prose quotes with “ ”; English prose (or an English table column) may quote a Chinese title.
        for piece in re.split(r"\n|\|", text):
            chinese_prose = re.search(r"[\u4e00-\u9fff]", re.sub(r'"[^"]*"|`[^`]*`', "", piece))
            assert not (chinese_prose and re.search(r'"[^"]*"', piece)), (number, piece)
