"""Slider explorers: move a logit and watch the probabilities move.

Every explorer is a pure function (inputs -> the numbers to draw, in `logitlab/explorers/numbers.py`,
testable without widgets) wrapped in an `Explorer` (`logitlab/explorers/explorer.py`): `exp.controls`
(name -> ipywidgets control), `exp.numbers` (what is shown now), `exp.set(**values)`. A cell ending with an
explorer shows the live widget; the stored output keeps a PNG of the picture and a short text summary for
notebook viewers.

The picture is one off-screen matplotlib figure (`logitlab/explorers/blitting.py`): a slider move redraws
only the artists that change and sends the PNG to an image widget, so the figure is updated in
place: no new figure, no `Output` widget, nothing for nbval to trip on.
"""

import numpy as np

from logitlab import numerics
from logitlab.explorers.blitting import (
    BLUE,
    CLASS_COLOURS,
    GREEN,
    GREY,
    ORANGE,
    STYLE,
    VERMILION,
    Bars,
    BlittedFigure,
    Curve,
    readout,
    set_size,
)
from logitlab.explorers.explorer import Explorer
from logitlab.explorers.numbers import (
    LOGIT_RANGE,
    STABILITY_DTYPES,
    class_id,
    class_names_for,
    cross_entropy_numbers,
    double_softmax_numbers,
    finite_number,
    fused_op_numbers,
    logit_numbers,
    logit_row,
    score_numbers,
    slider_logits,
    softmax_numbers,
    stability_numbers,
    training_numbers,
)
from logitlab.explorers.next_token import next_token_explorer  # noqa: F401  lesson 09's explorer, in its own module
from logitlab.i18n import _

__all__ = [
    "Explorer",
    "cross_entropy_explorer",
    "cross_entropy_numbers",
    "double_softmax_explorer",
    "double_softmax_numbers",
    "fused_op_explorer",
    "fused_op_numbers",
    "logit_explorer",
    "logit_numbers",
    "score_explorer",
    "score_numbers",
    "set_size",
    "softmax_explorer",
    "softmax_numbers",
    "stability_explorer",
    "stability_numbers",
    "training_explorer",
    "training_numbers",
]


# ---------------------------------------------------------------- controls and numbers the explorers share


def _slider(description, value, low, high, step=0.1, fmt=".2f", tooltip=""):
    import ipywidgets as widgets

    value = finite_number(value, description)
    if not low <= value <= high:
        message = _("{name} is {value:g}: expected a value from {low:g} to {high:g} (the slider's range)")
        raise ValueError(message.format(name=description, value=value, low=low, high=high))
    return widgets.FloatSlider(value=value, min=low, max=high, step=step, description=description,
                               readout_format=fmt, continuous_update=True, tooltip=tooltip or description,
                               style={"description_width": "initial"}, layout={"width": f"{STYLE.slider_px}px"})


def _table(rows):
    """A small HTML table of the shown numbers (readable by screen readers, checked by browser tests)."""
    cells = "".join(f"<tr><th style='text-align:left;padding-right:8px'>{k}</th><td>{v}</td></tr>" for k, v in rows)
    return f"<table class='logitlab-numbers-table' style='font-family:monospace'>{cells}</table>"


def _fmt(values, digits=4):
    return "[" + ", ".join(f"{v:.{digits}f}" for v in values) + "]"


# ---------------------------------------------------------------- explorers


def logit_explorer(p=0.8, z=1.0):
    """Lesson 01: p -> logit(p) on the log-odds curve, and z -> sigmoid(z) on its inverse."""
    logit_numbers(p, z)  # bad arguments fail here, with the pure function's message
    picture = BlittedFigure()
    ps = np.linspace(0.001, 0.999, 400)
    left = Curve(picture, picture.axes[0], ps, numerics.logit(ps), "probability p", "logit(p) = log(p / (1 - p))",
                 "probability → logit", xlim=(0, 1), ylim=(-7, 7))
    zs = np.linspace(-8, 8, 400)
    right = Curve(picture, picture.axes[1], zs, numerics.sigmoid(zs), "logit z", "sigmoid(z) = 1 / (1 + exp(-z))",
                  "logit → probability", colour=GREEN, xlim=(-8, 8), ylim=(0, 1))
    for ax in picture.axes:
        ax.axhline(0 if ax is picture.axes[0] else 0.5, color="black", linewidth=0.6)

    def draw(n):
        left.update(n["p"], n["logit_p"], f"p = {n['p']:.3f}\nodds = {n['odds']:.3g}\nlogit = {n['logit_p']:.3f}")
        right.update(n["z"], n["sigmoid_z"], f"z = {n['z']:.2f}\nsigmoid = {n['sigmoid_z']:.4f}")

    controls = {"p": _slider(_("probability p"), p, 0.001, 0.999, 0.001, ".3f"),
                "z": _slider("logit z", z, -8.0, 8.0, 0.1, ".2f")}
    return Explorer(
        "logit explorer", controls, logit_numbers, picture, draw,
        lambda n: f"p={n['p']:.3f} -> logit(p)={n['logit_p']:.4f}; z={n['z']:.2f} -> sigmoid(z)={n['sigmoid_z']:.4f}",
        lambda n: _table([("p", f"{n['p']:.3f}"), (_("odds"), f"{n['odds']:.4g}"), ("logit(p)", f"{n['logit_p']:.4f}"),
                          ("z", f"{n['z']:.2f}"), ("sigmoid(z)", f"{n['sigmoid_z']:.4f}")]))


def softmax_explorer(logits=(2.0, 1.0, 0.1), class_names=None):
    """Lessons 00/03: a slider per logit, a temperature and a shift; bars of the softmax probabilities."""
    logits = slider_logits(logits)
    names = class_names_for(class_names, logits.size)
    picture = BlittedFigure()
    left = Bars(picture, picture.axes[0], names, (-2 * LOGIT_RANGE, 2 * LOGIT_RANGE), fmt="{:.2f}",
                ylabel="logit + shift", title="logits (any real numbers)")
    right = Bars(picture, picture.axes[1], names, (0, 1.3), fmt="{:.3f}", ylabel="probability",
                 title="softmax((logits + shift) / T)")

    def compute(temperature, shift, **zs):
        return softmax_numbers([zs[f"z{k}"] for k in range(logits.size)], temperature, shift)

    def draw(n):
        scaled = f"   / T → {_fmt(n['scaled_logits'], 2)}" if logits.size <= 4 else ""  # what softmax sees
        left.update(n["shifted_logits"], note=f"shift = {n['shift']:+.2f}{scaled}")
        right.update(n["probs"], marked=n["argmax"], note=f"T = {n['temperature']:.2f}   sum = {sum(n['probs']):.3f}")

    controls = _logit_sliders(logits, names)
    controls["temperature"] = _slider(_("temperature T"), 1.0, 0.1, 5.0, 0.05)
    controls["shift"] = _slider(_("shift added to every logit"), 0.0, -5.0, 5.0)
    return Explorer(
        "softmax explorer", controls, compute, picture, draw,
        lambda n: (f"logits {_fmt(n['logits'], 2)}, T={n['temperature']:.2f}, shift={n['shift']:.2f} -> "
                   f"(logits + shift) / T {_fmt(n['scaled_logits'], 2)} -> "
                   f"probs {_fmt(n['probs'])}, argmax {n['argmax']} ({names[n['argmax']]})"),
        lambda n: _table([("logits", _fmt(n["logits"], 2)), ("(logits + shift) / T", _fmt(n["scaled_logits"], 2)),
                          ("probs", _fmt(n["probs"])), ("argmax", f"{n['argmax']} ({names[n['argmax']]})")]))


def score_explorer(features=(1.0, 2.0), weights=((1.0, -0.5), (0.2, 0.6), (-0.8, 0.9)), biases=(0.0, 0.0, 0.0),
                   class_names=("negative", "neutral", "positive")):
    """Lesson 02: logits = W x + b of a tiny linear layer; move a class's bias or weight and its logit moves."""
    first = score_numbers(features, weights, biases)
    names = class_names_for(class_names, len(first["biases"]))
    w0 = np.asarray(weights, dtype=float)
    x = first["features"]
    picture = BlittedFigure()
    left = Bars(picture, picture.axes[0], names, (-8, 8), fmt="{:.2f}", ylabel="logit = w · x + b",
                title="logits from the last layer")
    right = Bars(picture, picture.axes[1], names, (0, 1.3), ylabel="probability", title="softmax(logits)")

    def compute(**values):
        w = w0.copy()
        w[:, 0] = [values[f"w{k}"] for k in range(len(names))]
        return score_numbers(x, w, [values[f"b{k}"] for k in range(len(names))])

    def draw(n):
        left.update(n["logits"], note=f"input x = {_fmt(n['features'], 1)}")
        right.update(n["probs"], marked=n["prediction"], note=f"prediction: {names[n['prediction']]}")

    controls = {}
    for k, name in enumerate(names):
        controls[f"b{k}"] = _slider(_("b{k}: bias of {name}").format(k=k, name=name), first["biases"][k], -5.0, 5.0)
    for k, name in enumerate(names):
        controls[f"w{k}"] = _slider(_("w{k}: weight of x[0] for {name}").format(k=k, name=name), w0[k, 0], -3.0, 3.0)
    return Explorer(
        "score explorer", controls, compute, picture, draw,
        lambda n: (f"logits {_fmt(n['logits'], 3)} -> probs {_fmt(n['probs'])}, "
                   f"prediction {n['prediction']} ({names[n['prediction']]})"),
        lambda n: _table([("logits", _fmt(n["logits"], 3)), ("probs", _fmt(n["probs"])),
                          (_("prediction"), f"{n['prediction']} ({names[n['prediction']]})")]))


Q_TRUE_MAX = 0.99  # below 1: with label smoothing, q[true] = 1 costs an infinite loss


def cross_entropy_explorer(p_true=0.7, classes=3):
    """Lesson 04: probability given to the true class -> loss on the -log curve; per-class contributions."""
    cross_entropy_numbers(p_true, classes)
    smooth_ps = np.linspace(0.01, Q_TRUE_MAX, 50)
    names = ["class 0 (true)"] + [f"class {k}" for k in range(1, classes)]
    picture = BlittedFigure()
    ps = np.linspace(0.005, 1, 400)
    curve = Curve(picture, picture.axes[0], ps, -np.log(ps), "probability of the true class q[true]",
                  "loss", "loss = -sum(labels · log q)", colour=VERMILION,
                  xlim=(0, 1), ylim=(0, 5.5))
    bars = Bars(picture, picture.axes[1], names, (0, 5.5), colours=[VERMILION] + [GREY] * (classes - 1),
                ylabel="-labels[k] · log q[k]", title="each class's share of the loss")
    smooth_line = picture.moving(picture.axes[0].plot([], [], color=BLUE, linewidth=1.5, linestyle="-.",
                                                    label="with label smoothing")[0])
    picture.axes[0].legend([curve.line, smooth_line], ["one-hot labels", "with label smoothing"],
                          loc="center right", fontsize=STYLE.ticks)

    def draw(n):
        curve.update(n["p_true"], n["loss"], f"q[true] = {n['p_true']:.3f}\nloss = {n['loss']:.4f}")
        if n["smoothing"] > 0:  # drawn to the slider's end (with smoothing the loss at q[true] = 1 is infinite)
            ys = [cross_entropy_numbers(p, classes, n["smoothing"])["loss"] for p in smooth_ps]
            smooth_line.set_data(smooth_ps, ys)
        smooth_line.set_visible(n["smoothing"] > 0)
        bars.update(n["contributions"], note=f"loss = sum = {n['loss']:.4f}")

    controls = {"p_true": _slider(_("q[true]: probability of the true class"), p_true, 0.01, Q_TRUE_MAX, 0.01),
                "smoothing": _slider(_("label smoothing"), 0.0, 0.0, 0.3, 0.01)}
    return Explorer(
        "cross-entropy explorer", controls, lambda **v: cross_entropy_numbers(classes=classes, **v), picture, draw,
        lambda n: f"q[true]={n['p_true']:.3f}, smoothing={n['smoothing']:.2f} -> loss {n['loss']:.4f}",
        lambda n: _table([("probs q", _fmt(n["probs"])), ("labels", _fmt(n["labels"])),
                          (_("contributions"), _fmt(n["contributions"])), (_("loss"), f"{n['loss']:.4f}")]))


def _logit_sliders(logits, names):
    return {f"z{k}": _slider(_("z{k}: logit of {name}").format(k=k, name=names[k]), v, -LOGIT_RANGE, LOGIT_RANGE)
            for k, v in enumerate(logits)}


def _label_dropdown(label_id, names):
    import ipywidgets as widgets

    return widgets.Dropdown(options=[(f"{k}: {n}", k) for k, n in enumerate(names)], value=label_id,
                            description=_("true class"), style={"description_width": "initial"})


def stability_explorer(logits=(2.0, 1.0, 0.1), label_id=0):
    """Lesson 05: scale the logits up and pick a dtype: the naive loss hits inf/nan, the stable one does not."""
    import ipywidgets as widgets

    logits = logit_row(logits)
    label_id = class_id(label_id, logits.size)
    names = [f"class {k}" for k in range(logits.size)]
    picture = BlittedFigure(width=STYLE.width + 0.4)
    scales = np.logspace(0, 3, 240)
    curves = {}
    for dtype in STABILITY_DTYPES:
        rows = [stability_numbers(logits, label_id, s, dtype) for s in scales]
        curves[dtype] = (np.array([r["naive_loss"] for r in rows]), np.array([r["stable_loss"] for r in rows]))
    top = max(np.nanmax(np.where(np.isfinite(c[1]), c[1], np.nan)) for c in curves.values())
    ax = picture.axes[0]
    ax.set_xscale("log")
    ax.set_xlim(1, 1000)
    if top > 20:  # losses from ~0.1 to ~1000 all readable on one axis
        ax.set_yscale("symlog", linthresh=1.0)
        ax.set_ylim(0, top * 2)
    else:
        ax.set_ylim(0, max(1.0, top) * 1.1)
    ax.set_xlabel("logit scale (logits × scale)")
    ax.set_ylabel(f"loss for the true class {label_id}")
    ax.set_title("naive -log(exp(z) / sum(exp(z))) vs stable", fontsize=STYLE.title)
    ax.grid(alpha=0.3)
    # The curves and the red band change only with the dtype: they stay in the background, redrawn on a dtype click.
    stable_line = ax.plot([], [], color=BLUE, linewidth=2.5, label="stable (log-sum-exp)")[0]
    naive_line = ax.plot([], [], color=ORANGE, linewidth=2, linestyle="--", label="naive")[0]
    broken = ax.axvspan(1, 1, color=VERMILION, alpha=0.2, label="naive gives inf or nan")
    marker = picture.moving(ax.axvline(1, color="black", linewidth=1, zorder=6))  # over the legend, blitted or not
    numbers_box = picture.moving(readout(ax))
    ax.legend(loc="lower right" if top > 20 else "center right", fontsize=STYLE.small)  # not on a curve or the readout
    right = picture.axes[1]
    naive_bars = Bars(picture, right, names, (0, 1.2), colours=[ORANGE] * logits.size, fmt="{:.2f}", offset=-0.2,
                      width=0.38, fontsize=STYLE.small, ylabel="probability", title="softmax probabilities")
    stable_bars = Bars(picture, right, names, (0, 1.2), colours=[BLUE] * logits.size, fmt="{:.2f}", offset=0.2,
                       width=0.38, fontsize=STYLE.small)
    right.legend([naive_bars.bars[0], stable_bars.bars[0]], ["naive", "stable"], loc="upper right",
                 fontsize=STYLE.small)

    def show_dtype(dtype):
        naive, stable = curves[dtype]
        stable_line.set_data(scales, stable)
        naive_line.set_data(scales, np.where(np.isfinite(naive), naive, np.nan))
        bad = scales[~np.isfinite(naive)]
        broken.set_visible(bad.size > 0)
        if bad.size:
            x0 = bad.min()
            broken.set_x(x0)
            broken.set_width(1000 - x0)
        picture.background_changed()

    shown = {}

    def draw(n):
        if shown.get("dtype") != n["dtype"]:
            show_dtype(n["dtype"])
            shown["dtype"] = n["dtype"]
        marker.set_xdata([n["scale"], n["scale"]])
        numbers_box.set_text(f"scale = {n['scale']:.3g}  ({n['dtype']})\nnaive loss = {n['naive_loss']:.4g}\n"
                             f"stable loss = {n['stable_loss']:.4g}")
        naive_bars.update(n["naive_probs"])
        stable_bars.update(n["stable_probs"])

    controls = {"scale": widgets.FloatLogSlider(value=1.0, base=10, min=0, max=3, step=0.01,
                                                description=_("logit scale"), readout_format=".3g",
                                                style={"description_width": "initial"},
                                                layout={"width": f"{STYLE.slider_px}px"}),
                "dtype": widgets.ToggleButtons(options=list(STABILITY_DTYPES), value="float32", description="dtype",
                                               style={"button_width": "auto", "description_width": "initial"})}
    return Explorer(
        "stability explorer", controls, lambda **v: stability_numbers(logits, label_id, **v), picture, draw,
        lambda n: (f"scale={n['scale']:.3g}, {n['dtype']}: naive loss {n['naive_loss']:.4g}, "
                   f"stable loss {n['stable_loss']:.4g}"),
        lambda n: _table([(_("scaled logits"), _fmt(n["scaled_logits"], 1)), (_("naive probs"), _fmt(n["naive_probs"])),
                          (_("stable probs"), _fmt(n["stable_probs"])), (_("naive loss"), f"{n['naive_loss']:.4g}"),
                          (_("stable loss"), f"{n['stable_loss']:.4g}")]))


def fused_op_explorer(logits=(2.0, 1.0, 0.1), label_id=0):
    """Lesson 06: logits and the true class -> the fused op's loss and its gradient softmax - labels."""
    logits = slider_logits(logits)
    label_id = class_id(label_id, logits.size)
    names = [f"class {k}" for k in range(logits.size)]
    picture = BlittedFigure()
    probs = Bars(picture, picture.axes[0], names, (0, 1.3), ylabel="probability", title="softmax(logits)",
                 mark="true class")
    grads = Bars(picture, picture.axes[1], names, (-1.35, 1.35), fmt="{:+.3f}", ylabel="d loss / d logit",
                 title="gradient = softmax - labels")

    def compute(label_id, **zs):
        return fused_op_numbers([zs[f"z{k}"] for k in range(logits.size)], label_id)

    def draw(n):
        probs.update(n["probs"], marked=n["label_id"], note=f"loss = -log q[{n['label_id']}] = {n['loss']:.4f}")
        grads.update(n["grad"], note="< 0: pushed up · > 0: pushed down")

    controls = {**_logit_sliders(logits, names), "label_id": _label_dropdown(label_id, names)}
    return Explorer(
        "fused-op explorer", controls, compute, picture, draw,
        lambda n: (f"logits {_fmt(n['logits'], 2)}, true class {n['label_id']} -> loss {n['loss']:.4f}, "
                   f"grad {_fmt(n['grad'])}"),
        lambda n: _table([("logits", _fmt(n["logits"], 2)), ("probs", _fmt(n["probs"])),
                          ("labels", _fmt(n["labels"], 0)),
                          (_("loss"), f"{n['loss']:.4f}"), (_("gradient"), _fmt(n["grad"]))]))


def double_softmax_explorer(logits=(2.0, 1.0, 0.1), label_id=0):
    """Lesson 08: toggle a second softmax before the loss and watch the loss curve and its gradient flatten."""
    import ipywidgets as widgets

    logits = slider_logits(logits)
    label_id = class_id(label_id, logits.size)
    names = [f"class {k}" for k in range(logits.size)]
    picture = BlittedFigure()
    ax = picture.axes[0]
    zs = np.linspace(-LOGIT_RANGE, LOGIT_RANGE, 121)
    once_line = picture.moving(ax.plot([], [], color=BLUE, linewidth=2.5, label="softmax once (right)")[0])
    twice_line = picture.moving(ax.plot([], [], color=ORANGE, linewidth=2, linestyle="--",
                                       label="softmax twice (bug)")[0])
    marker = picture.moving(ax.plot([], [], "o", color=VERMILION, markersize=9, markeredgecolor="black")[0])
    ax.set_xlim(-LOGIT_RANGE, LOGIT_RANGE)
    ax.set_ylim(0, 9)
    ax.set_xlabel(f"logit of the true class (z{label_id})")
    ax.set_ylabel("loss")
    ax.set_title("loss as the true logit moves", fontsize=STYLE.title)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper right", fontsize=STYLE.small)
    grads = Bars(picture, picture.axes[1], names, (-1.35, 1.35), fmt="{:+.3f}", ylabel="d loss / d logit",
                 title="gradient the model receives")

    def compute(double, **values):
        return double_softmax_numbers([values[f"z{k}"] for k in range(logits.size)], label_id, double)

    def draw(n):
        others = np.array(n["logits"])
        rows = np.tile(others, (zs.size, 1))
        rows[:, label_id] = zs
        once = -numerics.log_softmax(rows)[:, label_id]
        twice = -numerics.log_softmax(numerics.softmax(rows))[:, label_id]
        once_line.set_data(zs, once)
        twice_line.set_data(zs, twice)
        marker.set_data([n["logits"][label_id]], [n["loss"]])
        grads.update(n["grad"], note=f"{'softmax twice' if n['double'] else 'softmax once'}: loss = {n['loss']:.4f}")

    controls = {**_logit_sliders(logits, names),
                "double": widgets.ToggleButton(value=False, description=_("apply softmax twice"),
                                               tooltip="feed softmax output to a from_logits loss", icon="bug",
                                               layout={"width": "max-content"})}
    return Explorer(
        "double-softmax explorer", controls, compute, picture, draw,
        lambda n: (f"logits {_fmt(n['logits'], 2)}, softmax {'twice' if n['double'] else 'once'} -> "
                   f"loss {n['loss']:.4f}, grad {_fmt(n['grad'])}"),
        lambda n: _table([("logits", _fmt(n["logits"], 2)),
                          (_("softmax applied"), _("twice") if n["double"] else _("once")),
                          (_("loss"), f"{n['loss']:.4f}"), (_("gradient"), _fmt(n["grad"]))]),
        help_text=_("True class: {label_id}").format(label_id=label_id))


def _region_image(probs):
    """Decision regions as RGB: each class's colour weighted by its probability, lightened so points stand out."""
    from matplotlib.colors import to_rgb

    colours = np.array([to_rgb(CLASS_COLOURS[k % len(CLASS_COLOURS)]) for k in range(probs.shape[-1])])
    return 1 - 0.55 * (1 - probs @ colours)


MARKERS = "os^Dv<>p"


def training_explorer(run, point=0):
    """Lesson 07: an epoch slider over a recorded run: decision regions, and one point's logits and probabilities."""
    import ipywidgets as widgets

    if not hasattr(run, "logits") or not hasattr(run, "grid_probs") or not len(run.logits):
        raise ValueError("run must be a recorded training run: pass `recorder.run` of an ll.training.LogitRecorder "
                         "after model.fit(..., callbacks=[recorder])")
    training_numbers(run, 0, point)
    classes = np.asarray(run.logits[0]).shape[1]
    names = [f"class {k}" for k in range(classes)]
    images = [_region_image(np.asarray(p)) for p in run.grid_probs]
    grid = np.asarray(run.grid)
    extent = (grid[..., 0].min(), grid[..., 0].max(), grid[..., 1].min(), grid[..., 1].max())
    picture = BlittedFigure(width=STYLE.width + 0.4, height=STYLE.height + 0.4)
    ax = picture.axes[0]
    points = np.asarray(run.points)
    ids = run.label_ids if run.label_ids is not None else np.full(len(points), -1)
    scatters = []
    for k in sorted(set(int(i) for i in ids)):
        mine = ids == k
        scatters.append(ax.scatter(points[mine, 0], points[mine, 1], s=45,
                                   marker=MARKERS[k % len(MARKERS)] if k >= 0 else "o",
                                   color=CLASS_COLOURS[k % len(CLASS_COLOURS)] if k >= 0 else GREY, edgecolor="black",
                                   linewidth=0.8, zorder=3, label=names[k] if k >= 0 else "points"))
    ring = picture.moving(ax.plot([], [], "o", markersize=16, markerfacecolor="none", markeredgecolor="black",
                                  markeredgewidth=2.5, zorder=4)[0])
    ax.set_xlim(extent[0], extent[1])
    ax.set_ylim(extent[2], extent[3])
    ax.set_xlabel("x[0]")
    ax.set_ylabel("x[1]")
    ax.set_title("decision regions (colour mix = probabilities)", fontsize=STYLE.font_size, pad=20)
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=min(len(set(ids.tolist())), 4),
              fontsize=STYLE.small, frameon=False, handletextpad=0.2, borderaxespad=0.1)
    bars = Bars(picture, picture.axes[1], names, (0, 1.3), ylabel="probability", title="the ringed point")
    show_regions = picture.picture_under(ax)  # after everything else: it fixes the layout
    # Drawn over the regions, and never changing: one bitmap pasted each move.
    picture.still_layer(ax, scatters + [spine for spine in ax.spines.values() if spine.get_visible()])

    def draw(n):
        show_regions(images[n["epoch"]])
        ring.set_data([n["xy"][0]], [n["xy"][1]])
        loss = n.get("loss")
        truth = f"   true: {n['label_id']}" if "label_id" in n else ""
        trained = f" · loss {loss:.3f}" if loss is not None else " (untrained)"
        bars.update(n["probs"], marked=n["prediction"], note=f"epoch {n['epoch']}{trained}{truth}")

    controls = {"epoch": widgets.IntSlider(value=0, min=0, max=len(run.logits) - 1, description="epoch",
                                           style={"description_width": "initial"},
                                           layout={"width": f"{STYLE.slider_px}px"}),
                "point": widgets.IntSlider(value=point, min=0, max=len(points) - 1, description=_("ringed point"),
                                           style={"description_width": "initial"},
                                           layout={"width": f"{STYLE.slider_px}px"})}
    return Explorer(
        "training explorer", controls, lambda epoch, point: training_numbers(run, epoch, point), picture, draw,
        lambda n: (f"{len(run.logits) - 1} epochs recorded; epoch {n['epoch']}, point {n['point']}: "
                   f"logits {_fmt(n['logits'], 3)}, probs {_fmt(n['probs'])}, prediction {n['prediction']}"),
        lambda n: _table([("epoch", n["epoch"]),
                          (_("point"), _("{point} at {xy}").format(point=n["point"], xy=_fmt(n["xy"], 2))),
                          ("logits", _fmt(n["logits"], 3)), ("probs", _fmt(n["probs"])),
                          (_("prediction"), n["prediction"])]))
