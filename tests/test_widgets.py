"""The explorers without a browser: drive their controls from Python and check the numbers they show
against logitlab's reference numerics and TensorFlow."""

import base64
import io
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

import logitlab as ll
from logitlab.explorers import widgets as w

tf = pytest.importorskip("tensorflow")  # pinned in requirements.txt; the reference for every number


def close(a, b, tol=1e-6):
    np.testing.assert_allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float), rtol=tol, atol=tol)


@pytest.mark.parametrize("module", ["logitlab", "logitlab.explorers.numbers"])
def test_import_stays_light(module):
    """`import logitlab` and the explorers' numbers load no matplotlib, widgets or TensorFlow."""
    heavy = ("matplotlib", "tensorflow", "ipywidgets", "keras")
    code = f"import sys, {module}; print(sorted(m for m in {heavy!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_ll_widgets_is_reachable_after_import():
    assert ll.widgets.softmax_explorer is w.softmax_explorer


def test_softmax_explorer_sliders_temperature_and_shift():
    exp = ll.widgets.softmax_explorer(logits=(2.0, 1.0, 0.1), class_names=["cat", "dog", "bird"])
    close(exp.numbers["probs"], ll.softmax([2.0, 1.0, 0.1]))
    exp.controls["z2"].value = 3.0
    close(exp.numbers["probs"], tf.nn.softmax(tf.constant([2.0, 1.0, 3.0], tf.float64)).numpy())
    assert exp.numbers["argmax"] == 2
    exp.set(temperature=2.5, z0=-1.0)
    close(exp.numbers["probs"], ll.softmax(np.array([-1.0, 1.0, 3.0]) / 2.5))
    before = exp.numbers["probs"]
    exp.controls["shift"].value = 4.0  # adding a constant to every logit changes nothing
    close(exp.numbers["shifted_logits"], [3.0, 5.0, 7.0])
    close(exp.numbers["probs"], before, tol=1e-12)
    assert "argmax 2 (bird)" in repr(exp)


def test_logit_explorer_matches_reference():
    exp = ll.widgets.logit_explorer(p=0.8, z=1.0)
    close(exp.numbers["logit_p"], np.log(4.0))
    exp.set(p=0.25, z=-2.0)
    close(exp.numbers["logit_p"], ll.logit(0.25))
    close(exp.numbers["sigmoid_z"], tf.math.sigmoid(tf.constant(-2.0, tf.float64)).numpy())
    exp.controls["p"].value = 0.5
    assert exp.numbers["logit_p"] == 0.0  # E7: logit(0.5) = 0


def test_score_explorer_bias_moves_one_logit_and_the_prediction():
    exp = ll.widgets.score_explorer()
    x = np.array([1.0, 2.0])
    weights = np.array([[1.0, -0.5], [0.2, 0.6], [-0.8, 0.9]])
    close(exp.numbers["logits"], weights @ x)
    assert exp.numbers["prediction"] == 1
    before = np.array(exp.numbers["logits"])
    exp.controls["b0"].value = 3.0
    close(np.array(exp.numbers["logits"]) - before, [3.0, 0.0, 0.0])
    assert exp.numbers["prediction"] == 0
    exp.controls["w2"].value = 2.0
    close(exp.numbers["logits"][2], 2.0 * 1.0 + 0.9 * 2.0)
    close(exp.numbers["probs"], ll.softmax(exp.numbers["logits"]))


def test_cross_entropy_explorer_loss_and_label_smoothing_match_keras():
    exp = ll.widgets.cross_entropy_explorer(p_true=0.7)
    close(exp.numbers["loss"], -np.log(0.7))
    close(exp.numbers["contributions"], [-np.log(0.7), 0.0, 0.0])
    exp.set(p_true=0.3, smoothing=0.1)
    probs = np.array(exp.numbers["probs"])
    close(probs, [0.3, 0.35, 0.35])
    keras_loss = tf.keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1)
    expected = keras_loss(np.array([[1.0, 0.0, 0.0]]), np.log(probs)[None]).numpy()
    close(exp.numbers["loss"], expected, tol=1e-5)
    close(exp.numbers["loss"], ll.cross_entropy(exp.numbers["labels"], np.log(probs)))
    close(sum(exp.numbers["contributions"]), exp.numbers["loss"])


def test_cross_entropy_explorer_never_shows_a_clamped_loss():
    # With smoothing, q[true] = 1 leaves the other classes label mass eps/K and probability 0: the loss is +inf,
    # not the 1.8883 a clamp to 1 - 1e-12 printed. The slider stops below 1, the smoothed curve reaches its end.
    assert w.cross_entropy_numbers(1.0, 3, 0.1)["loss"] == np.inf
    assert w.cross_entropy_numbers(1.0, 3, 0.0)["loss"] == 0.0
    exp = ll.widgets.cross_entropy_explorer()
    with pytest.raises(ValueError, match="from 0.01 to 0.99"):
        exp.set(p_true=1.0)
    exp.set(p_true=0.99, smoothing=0.1)
    assert exp.numbers["p_true"] == exp.controls["p_true"].max < 1
    assert np.isfinite(exp.numbers["loss"])
    drawn = exp.picture.axes[0].lines
    assert max(line.get_xdata()[-1] for line in drawn if len(line.get_xdata()) == 50) == exp.controls["p_true"].max
    best = 1 - 0.1 + 0.1 / 3  # the smoothed label itself
    losses = {q: w.cross_entropy_numbers(q, 3, 0.1)["loss"] for q in (0.9, round(best, 2), 0.97)}
    assert min(losses, key=losses.get) == round(best, 2)


def test_cross_entropy_explorer_counts_classes_from_0():
    exp = ll.widgets.cross_entropy_explorer()
    labels = [t.get_text() for t in exp.picture.axes[1].get_xticklabels()]
    assert labels == ["class 0 (true)", "class 1", "class 2"]


def test_softmax_explorer_shows_the_scaled_logits():
    exp = ll.widgets.softmax_explorer(logits=(2.0, 1.0, 0.1))
    exp.set(temperature=0.5, shift=1.0)
    close(exp.numbers["scaled_logits"], (np.array([2.0, 1.0, 0.1]) + 1.0) / 0.5)
    assert "(logits + shift) / T" in exp._numbers_html.value and "[6.00, 4.00, 2.20]" in exp._numbers_html.value
    assert "(logits + shift) / T [6.00, 4.00, 2.20]" in exp.summary()


def test_stability_explorer_naive_breaks_stable_matches_tensorflow():
    exp = ll.widgets.stability_explorer(logits=(2.0, 1.0, 0.1), label_id=2)
    close(exp.numbers["naive_loss"], exp.numbers["stable_loss"], tol=1e-5)
    exp.set(scale=100.0, dtype="float32")
    logits = np.array([200.0, 100.0, 10.0], np.float32)
    assert not np.isfinite(exp.numbers["naive_loss"])  # exp(200) overflows float32
    fused = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=[2], logits=logits[None]).numpy()[0]
    close(exp.numbers["stable_loss"], fused, tol=1e-5)
    exp.set(scale=100.0, dtype="float64")
    assert np.isfinite(exp.numbers["naive_loss"])  # float64 holds exp(200)
    close(exp.numbers["naive_loss"], exp.numbers["stable_loss"], tol=1e-9)
    exp.set(scale=10.0, dtype="float16")
    assert not np.isfinite(exp.numbers["naive_loss"])  # exp(20) overflows float16
    assert np.isfinite(exp.numbers["stable_loss"])


def test_fused_op_explorer_loss_and_gradient_match_tensorflow():
    exp = ll.widgets.fused_op_explorer(logits=(2.0, 1.0, 0.1), label_id=0)
    exp.set(z1=3.5, label_id=2)
    logits = tf.constant([[2.0, 3.5, 0.1]], tf.float64)
    labels = tf.constant([[0.0, 0.0, 1.0]], tf.float64)
    with tf.GradientTape() as tape:
        tape.watch(logits)
        loss = tf.nn.softmax_cross_entropy_with_logits(labels=labels, logits=logits)
    close(exp.numbers["loss"], loss.numpy()[0])
    close(exp.numbers["grad"], tape.gradient(loss, logits).numpy()[0])
    close(exp.numbers["grad"], ll.softmax_cross_entropy_grad(labels.numpy(), logits.numpy())[0])


@pytest.mark.parametrize("double", [False, True])
def test_double_softmax_explorer_matches_tensorflow(double):
    exp = ll.widgets.double_softmax_explorer(logits=(2.0, 1.0, 0.1), label_id=0)
    exp.set(z0=-1.0, double=double)
    logits = tf.constant([[-1.0, 1.0, 0.1]], tf.float64)
    with tf.GradientTape() as tape:
        tape.watch(logits)
        seen = tf.nn.softmax(logits) if double else logits
        loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=[0], logits=seen)
    close(exp.numbers["loss"], loss.numpy()[0])
    close(exp.numbers["grad"], tape.gradient(loss, logits).numpy()[0])


def test_double_softmax_flattens_the_gradient():
    exp = ll.widgets.double_softmax_explorer(logits=(-1.0, 1.0, 0.1), label_id=0)
    once = np.abs(exp.numbers["grad"]).sum()
    exp.controls["double"].value = True
    assert np.abs(exp.numbers["grad"]).sum() < once / 3


@pytest.fixture(scope="module")
def recorded_run():
    tf.keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(c, 0.6, (30, 2)) for c in ([0, 0], [3, 0], [1.5, 2.5])]).astype("float32")
    y = np.repeat([0, 1, 2], 30)
    model = tf.keras.Sequential([tf.keras.Input((2,)), tf.keras.layers.Dense(8, activation="relu"),
                                 tf.keras.layers.Dense(3)])
    model.compile(optimizer=tf.keras.optimizers.Adam(0.05),
                  loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    recorder = ll.training.LogitRecorder(x[[0, 30, 60]], ll.training.grid_around(x, steps=20), label_ids=y[[0, 30, 60]])
    model.fit(x, y, epochs=5, batch_size=32, callbacks=[recorder], verbose=0)
    return model, recorder.run


def test_logit_recorder_records_epoch_zero_and_every_epoch(recorded_run):
    model, run = recorded_run
    assert run.epochs == 5 and len(run.grid_probs) == 6 and run.losses[0] is None
    assert np.asarray(run.grid_probs[-1]).shape == (20, 20, 3)
    close(np.asarray(run.grid_probs[-1]).sum(axis=-1), np.ones((20, 20)), tol=1e-6)
    close(run.logits[-1], model(run.points).numpy(), tol=1e-5)


def test_training_explorer_epoch_slider(recorded_run):
    model, run = recorded_run
    exp = ll.widgets.training_explorer(run)
    first = exp.png
    exp.set(epoch=np.int64(5), point=1)
    assert exp.png != first
    close(exp.numbers["logits"], model(run.points[1:2]).numpy()[0], tol=1e-5)
    close(exp.numbers["probs"], ll.softmax(exp.numbers["logits"]))
    assert exp.numbers["label_id"] == 1 and exp.numbers["loss"] == pytest.approx(run.losses[5])


def test_grid_around_covers_the_data():
    grid = ll.training.grid_around(np.array([[0.0, 1.0], [2.0, 5.0]]), steps=5, margin=0.0)
    assert grid.shape == (5, 5, 2)
    close(grid[0, 0], [0.0, 1.0])
    close(grid[-1, -1], [2.0, 5.0])
    with pytest.raises(ValueError, match="shape"):
        ll.training.grid_around(np.zeros((4, 3)))


def bench_run():
    from logitlab.authoring.bench import synthetic_run

    return synthetic_run(epochs=20)


@pytest.mark.parametrize("call, message", [
    (lambda: w.softmax_explorer(logits=[]), "empty"),
    (lambda: w.softmax_explorer(logits=[1.0, float("nan")]), "NaN"),
    (lambda: w.softmax_explorer(logits=[1.0]), "2 to 10 classes"),
    (lambda: w.softmax_explorer(logits=[1.0, 2.0], class_names=["a"]), "one name per logit"),
    (lambda: w.softmax_numbers([1.0, 2.0], temperature=0.0), "temperature"),
    (lambda: w.softmax_numbers([1.0, 2.0], temperature=-1.0), "temperature"),
    (lambda: w.softmax_explorer().set(temperature=0.0), "temperature"),
    (lambda: w.softmax_explorer().set(z9=1.0), "no control z9"),
    (lambda: w.logit_explorer(p=1.5), "p is 1.5"),
    (lambda: w.logit_numbers(1.0, 0.0), "strictly between 0 and 1"),
    (lambda: w.cross_entropy_explorer(p_true=0.0), "p_true"),
    (lambda: w.stability_explorer(label_id=5), "label_id is 5"),
    (lambda: w.stability_numbers([1.0, 2.0], 0, 1.0, "int8"), "dtype"),
    (lambda: w.stability_explorer().set(dtype="float8"), "dtype"),
    (lambda: w.fused_op_explorer(logits=[[1.0, 2.0]]), "one row"),
    (lambda: w.double_softmax_explorer(logits=[100.0, 0.0]), "sliders"),
    (lambda: w.training_explorer(object()), "recorder.run"),
    (lambda: w.double_softmax_explorer().set(double="yes"), "True or False"),
    (lambda: w.training_explorer(bench_run()).set(epoch=2.5), "whole number"),
    (lambda: w.training_explorer(bench_run()).set(epoch=99), "from 0 to 20"),
])
def test_bad_arguments_raise_clear_value_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()


@pytest.mark.parametrize("make, control, value", [
    (lambda: w.softmax_explorer(), "z1", 4.0),
    (lambda: w.logit_explorer(), "p", 0.3),
    (lambda: w.score_explorer(), "b2", 2.0),
    (lambda: w.cross_entropy_explorer(), "p_true", 0.2),
    (lambda: w.stability_explorer(), "scale", 300.0),
    (lambda: w.fused_op_explorer(), "z2", 5.0),
    (lambda: w.double_softmax_explorer(), "double", True),
])
def test_a_slider_move_redraws_the_same_figure_in_place(make, control, value):
    exp = make()
    figure, image, before, numbers = exp.picture.figure, exp.image, bytes(exp.image.value), dict(exp.numbers)
    exp.controls[control].value = value
    assert exp.picture.figure is figure and exp.image is image
    assert bytes(exp.image.value) != before and exp.image.format == "url"
    assert bytes(exp.image.value) == b"data:image/png;base64," + base64.b64encode(exp.png)
    assert exp.png.startswith(b"\x89PNG")
    assert exp.numbers != numbers
    bundle = exp._repr_mimebundle_()
    assert {"text/plain", "image/png", "application/vnd.jupyter.widget-view+json"} <= set(bundle)
    assert bundle["text/plain"] == repr(exp)


def test_png_is_a_valid_image_of_the_figure():
    exp = w.softmax_explorer()
    image = Image.open(io.BytesIO(exp.png))
    assert image.size == tuple(int(v) for v in exp.picture.figure.canvas.get_width_height(physical=True))
    pixels = np.asarray(image.convert("RGB"))
    assert (pixels == 255).all(axis=-1).mean() < 0.95  # something is drawn


def test_bench_report_ends_with_the_bench_line():
    import re

    from logitlab.authoring import bench

    out = io.StringIO()
    bench.print_timings(out=out, steps=2)  # the report's shape, not its timings (make bench): two moves per explorer
    lines = out.getvalue().splitlines()
    assert [line.split()[0] for line in lines[1:9]] == [
        "logit", "score", "softmax", "cross_entropy", "stability", "fused_op", "double_softmax", "training"]
    assert re.fullmatch(r"bench: median_ms=\d+\.\d p95_ms=\d+\.\d worst=[a-z_]+ cpu_median_ms=\d+\.\d "
                        r"baseline_median_ms=\d+\.\d size=normal", lines[-1])


def test_projector_size_draws_every_explorer_larger_with_bigger_text(monkeypatch):
    from PIL import Image

    from logitlab.explorers import blitting
    from logitlab.explorers import widgets

    monkeypatch.setitem(blitting.CHOSEN, "size", None)  # set_size's choice is undone after the test
    monkeypatch.delenv("LOGITLAB_SIZE", raising=False)
    normal = widgets.softmax_explorer()
    style = widgets.set_size("projector")
    big = widgets.softmax_explorer()
    assert style == big.style == blitting.SIZES["projector"] and style.font_size > blitting.SIZES["normal"].font_size
    small_px, big_px = Image.open(io.BytesIO(normal.png)).size, Image.open(io.BytesIO(big.png)).size
    assert big_px[0] >= 1.4 * small_px[0] and big_px[1] >= 1.4 * small_px[1], (small_px, big_px)
    ax = big.picture.axes[1]
    assert ax.yaxis.label.get_fontsize() == style.font_size  # axis labels follow the size too
    assert "font-size: 20px" in big.widget.children[0].children[0].children[0].value  # the sliders' text
    assert big.controls["z0"].layout.width == f"{style.slider_px}px"
    big.set(z0=-3.0)  # still a live explorer
    assert big.numbers["argmax"] == 1
    # An explorer keeps the size it was made with: set_size changes only the ones made afterwards.
    normal.set(z0=-3.0)
    assert normal.style == blitting.SIZES["normal"] and Image.open(io.BytesIO(normal.png)).size == small_px
    with pytest.raises(ValueError, match="not one of normal, projector"):
        widgets.set_size("huge")
    assert widgets.set_size("normal") == widgets.softmax_explorer().style == blitting.SIZES["normal"]
    with pytest.raises(AttributeError, match="read-only"):
        blitting.STYLE.dpi = 150


def test_a_kernel_started_with_logitlab_size_draws_at_that_size(monkeypatch):
    """`make lecture` starts JupyterLab with LOGITLAB_SIZE=projector: explorers made in its kernels are large."""
    from logitlab.explorers import blitting

    monkeypatch.setitem(blitting.CHOSEN, "size", None)
    monkeypatch.setenv("LOGITLAB_SIZE", "projector")
    assert w.softmax_explorer().style == blitting.SIZES["projector"]
    monkeypatch.setenv("LOGITLAB_SIZE", "huge")
    with pytest.raises(ValueError, match="LOGITLAB_SIZE 'huge' is not one of normal, projector"):
        w.softmax_explorer()


# ---------------------------------------------------------------- blitting draws what a full redraw draws


def pixels(png):
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)


# Blitting draws the moving artists after everything still, so where a moving line crosses a still one
# (a spine, the zero line) a few antialiased edge pixels blend the other way round. Up to 20 pixels may
# differ by more than 32 of 255 levels; a picture one small slider step stale differs in over 1000.
TOLERANCE_PIXELS, TOLERANCE_LEVELS = 20, 32


def differing_pixels(png, reference_png):
    a, b = pixels(png), pixels(reference_png)
    assert a.shape == b.shape, f"pictures of different sizes: {a.shape} vs {b.shape}"
    return int((np.abs(a - b).max(axis=-1) > TOLERANCE_LEVELS).sum())


def full_redraw(exp):
    """The explorer's picture of its current state, every artist drawn from scratch (no saved background)."""
    exp.blit = False
    try:
        return exp.set().png
    finally:
        exp.blit = True


MOVES = [
    (lambda: w.logit_explorer(), [{"p": 0.3}, {"z": -4.0}, {"p": 0.95, "z": 2.0}]),
    (lambda: w.softmax_explorer(), [{"z0": -4.0}, {"temperature": 3.0}, {"shift": 2.0, "z2": 5.0}]),
    (lambda: w.score_explorer(), [{"b0": 3.0}, {"w2": -2.0}, {"b1": -4.0}]),
    (lambda: w.cross_entropy_explorer(), [{"p_true": 0.2}, {"smoothing": 0.2}, {"p_true": 0.9}]),
    (lambda: w.stability_explorer(), [{"scale": 300.0}, {"dtype": "float16"}, {"scale": 5.0, "dtype": "float64"}]),
    (lambda: w.fused_op_explorer(), [{"z1": 5.0}, {"label_id": 2}, {"z0": -3.0}]),
    (lambda: w.double_softmax_explorer(), [{"double": True}, {"z0": -4.0}, {"z1": 5.0}]),
    (lambda: w.training_explorer(bench_run()), [{"epoch": 5}, {"point": 2}, {"epoch": 20, "point": 0}]),
]


@pytest.mark.parametrize("make, moves", MOVES, ids=[
    "logit", "softmax", "score", "cross_entropy", "stability", "fused_op", "double_softmax", "training"])
def test_blitted_picture_equals_a_full_redraw_after_moves(make, moves):
    exp = make()
    for move in moves:
        exp.set(**move)
        blitted = exp.png
        assert differing_pixels(blitted, full_redraw(exp)) <= TOLERANCE_PIXELS, f"after {move}"
        assert exp.set().png == blitted, "a full redraw leaves the blitted picture as it was"


def test_the_comparison_catches_a_picture_left_one_step_behind():
    exp = w.softmax_explorer()
    stale = exp.png
    exp.set(z1=1.05)  # the smallest visible move: every bar and its value shift a little
    assert differing_pixels(stale, full_redraw(exp)) > 50 * TOLERANCE_PIXELS


def test_a_blit_that_forgets_the_background_fails_the_comparison(monkeypatch):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    exp = w.softmax_explorer()
    monkeypatch.setattr(FigureCanvasAgg, "restore_region", lambda self, *args, **kwargs: None)
    exp.set(z0=-4.0)  # the z0 bar drops from 2 to -4 and the old bar stays in the picture
    assert differing_pixels(exp.png, full_redraw(exp)) > 50 * TOLERANCE_PIXELS


@pytest.mark.parametrize("compressor", ["installed", "standard zlib"])
def test_encode_png_round_trips_rgb_and_rgba(compressor, monkeypatch):
    import zlib

    from logitlab.explorers import png
    from logitlab.explorers.png import encode_png

    if compressor == "standard zlib":  # what a machine without zlib-ng uses
        monkeypatch.setattr(png, "_compressor", zlib)
        monkeypatch.setattr(png, "LEVEL", 1)
    rgba = np.random.default_rng(0).integers(0, 256, (5, 7, 4), dtype=np.uint8)
    for pixels in (rgba, rgba[:, :, :3], np.ascontiguousarray(rgba[:, :, :3])):
        decoded = np.asarray(Image.open(io.BytesIO(encode_png(pixels))))
        assert decoded.shape == pixels.shape and (decoded == pixels).all()
    assert encode_png(rgba) == encode_png(rgba.copy()), "a reused buffer gives the same bytes"
    with pytest.raises(ValueError, match="expected uint8 RGB or RGBA"):
        encode_png(rgba.astype(float))


def test_one_style_setting_draws_a_larger_picture(monkeypatch):
    """A Style holds every size: a projector-sized dpi scales the whole picture and blitting stays exact."""
    import dataclasses

    from logitlab.explorers import blitting

    monkeypatch.setitem(blitting.CHOSEN, "size", None)
    monkeypatch.delenv("LOGITLAB_SIZE", raising=False)
    normal = pixels(w.softmax_explorer().png).shape
    monkeypatch.setitem(blitting.SIZES, "normal", dataclasses.replace(blitting.SIZES["normal"], dpi=150))
    exp = w.softmax_explorer()
    assert pixels(exp.png).shape[:2] == (round(normal[0] * 1.5), round(normal[1] * 1.5))
    assert exp.image.layout.width == f"{round(normal[1] * 1.5)}px"
    exp.set(z0=-3.0)
    assert differing_pixels(exp.png, full_redraw(exp)) <= TOLERANCE_PIXELS


# Control and table names that are code or notation, the same in both editions (the lessons write them so).
NOTATION = {"logit z", "top-k", "top-p", "dtype", "epoch", "logits", "probs", "probs q", "labels", "argmax", "p", "z",
            "logit(p)", "sigmoid(z)", "(logits + shift) / T"}


def shown_words(exp):
    """What an explorer says beside its picture: its controls' names, its help line and its table's row names
    (a dropdown's options are the class names, which the picture shows as they were given)."""
    import re

    top = exp.widget.children[0]
    sliders, numbers = top.children
    help_lines = [re.sub("<[^>]+>", "", c.value) for c in sliders.children
                  if hasattr(c, "value") and isinstance(c.value, str) and c.value.startswith("<b>")]
    return ([c.description for c in exp.controls.values()] + help_lines
            + re.findall(r"<th[^>]*>(.*?)</th>", numbers.value))


@pytest.mark.parametrize("make", [make for make, _ in MOVES] + [lambda: w.next_token_explorer()],
                         ids=[name for name in ("logit", "softmax", "score", "cross_entropy", "stability", "fused_op",
                                                "double_softmax", "training", "next_token")])
def test_an_explorer_speaks_the_editions_language_and_draws_the_same_picture(make):
    """In the Chinese edition (a kernel started in zh-CN/) an explorer's controls, help line and table are in
    Chinese, apart from code and notation; its picture and its summary line, the stored outputs the two editions
    share, are the same in both."""
    from logitlab import i18n

    english = make()
    with i18n.language("zh_CN"):
        chinese = make()
    said, translated = shown_words(english), shown_words(chinese)
    assert len(said) == len(translated) and all(word.isascii() for word in said), said
    untranslated = [word for word in translated
                    if word not in NOTATION and not any("\u4e00" <= ch <= "\u9fff" for ch in word)]
    assert not untranslated, f"shown in English in the Chinese edition: {untranslated}"
    assert chinese.png == english.png and repr(chinese) == repr(english)
