"""Slider explorers: move a logit and watch the probabilities move.

Every explorer is a pure function (inputs -> the numbers to draw, testable without widgets)
wrapped in an `Explorer`: `exp.controls` (name -> ipywidgets control), `exp.numbers` (what is
shown now), `exp.set(**values)`. A cell ending with an explorer shows the live widget; the
stored output keeps a PNG of the picture and a short text summary for notebook viewers.

Pictures are matplotlib figures drawn off-screen once; a slider move redraws only the artists
that change (blitting onto the saved background) and sends the PNG to an image widget, so the
figure is updated in place: no new figure, no `Output` widget, nothing for nbval to trip on.
"""

import base64
import contextlib
import io
import math
import struct
import zlib

import numpy as np
from matplotlib.artist import Artist
from matplotlib.text import Text

from logitlab import numerics

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
    "softmax_explorer",
    "softmax_numbers",
    "stability_explorer",
    "stability_numbers",
    "training_explorer",
    "training_numbers",
]

# Okabe-Ito: distinguishable with every common colour-vision deficiency.
BLUE, ORANGE, GREEN, VERMILION, PURPLE, SKY, YELLOW, GREY = (
    "#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#767676")
CLASS_COLOURS = [BLUE, ORANGE, GREEN, PURPLE, SKY, VERMILION, YELLOW, GREY]
DPI = 100
LOGIT_RANGE = 6.0  # sliders for logits go from -6 to 6: wide enough to saturate softmax


# ---------------------------------------------------------------- checking arguments


def _logits_vector(logits, name="logits", max_classes=10):
    """A 1-D float64 array of finite logits, or a ValueError saying what was wrong."""
    arr = numerics._as_logits(logits, name)
    if arr.ndim != 1:
        raise ValueError(f"{name} has shape {list(arr.shape)}: an explorer takes one row of class scores, e.g. [2.0, 1.0, 0.1]")
    if not 2 <= arr.size <= max_classes:
        raise ValueError(f"{name} has {arr.size} value(s): expected 2 to {max_classes} classes")
    return arr.astype(np.float64)


def _number(value, name, low=-math.inf, high=math.inf, low_open=False):
    """A finite float inside [low, high] (or (low, high] when low_open), or a clear ValueError."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number; got {value!r}") from None
    if math.isnan(x) or math.isinf(x):
        raise ValueError(f"{name} is {x}: expected a finite number")
    if x < low or x > high or (low_open and x == low):
        bracket = "(" if low_open else "["
        raise ValueError(f"{name} is {x}: expected a value in {bracket}{low:g}, {high:g}]")
    return x


def _is_index(value, low, high):
    """True for a Python or NumPy integer (not a bool) with low <= value <= high."""
    return not isinstance(value, bool) and isinstance(value, (int, np.integer)) and low <= value <= high


def _label_id(label_id, classes):
    if isinstance(label_id, bool) or not isinstance(label_id, (int, np.integer)):
        raise ValueError(f"label_id must be an integer class id; got {label_id!r}")
    if not 0 <= label_id < classes:
        raise ValueError(f"label_id is {label_id}: expected a class id from 0 to {classes - 1}")
    return int(label_id)


def _class_names(class_names, classes):
    if class_names is None:
        return [f"class {k}" for k in range(classes)]
    names = [str(n) for n in class_names]
    if len(names) != classes:
        raise ValueError(f"class_names has {len(names)} names for {classes} logits: expected one name per logit")
    return names


# ---------------------------------------------------------------- pure functions (inputs -> numbers)


def logit_numbers(p, z):
    """Lesson 01: the log-odds of probability `p`, and the sigmoid of logit `z`."""
    p = _number(p, "p", 0.0, 1.0)
    if p in (0.0, 1.0):
        raise ValueError(f"p is {p}: its logit is infinite; expected a probability strictly between 0 and 1")
    z = _number(z, "z")
    return {"p": p, "odds": p / (1 - p), "logit_p": float(numerics.logit(p)), "z": z,
            "sigmoid_z": float(numerics.sigmoid(z))}


def softmax_numbers(logits, temperature=1.0, shift=0.0):
    """Lessons 00/03: softmax((logits + shift) / temperature); the shift changes nothing."""
    logits = _logits_vector(logits)
    temperature = _number(temperature, "temperature", 0.0, low_open=True)
    shift = _number(shift, "shift")
    shifted = logits + shift
    probs = numerics.softmax(shifted / temperature)
    return {"logits": logits.tolist(), "shift": shift, "temperature": temperature,
            "shifted_logits": shifted.tolist(), "probs": probs.tolist(), "argmax": int(np.argmax(probs))}


def score_numbers(features, weights, biases):
    """Lesson 02: a linear layer's logits W x + b for one input, the probabilities and the prediction."""
    x = numerics._as_floats(features, "features").astype(np.float64)
    w = numerics._as_floats(weights, "weights").astype(np.float64)
    b = _logits_vector(biases, "biases")
    if x.ndim != 1 or w.shape != (b.size, x.size):
        raise ValueError(f"weights have shape {list(w.shape)}: expected [classes, features] = [{b.size}, {x.size}]")
    logits = w @ x + b
    probs = numerics.softmax(logits)
    return {"features": x.tolist(), "biases": b.tolist(), "logits": logits.tolist(), "probs": probs.tolist(),
            "prediction": int(np.argmax(logits))}


def cross_entropy_numbers(p_true, classes=3, smoothing=0.0):
    """Lesson 04: loss -sum(labels * log(probs)) when the true class (class 0) gets `p_true`.

    The rest of the probability is shared equally by the other classes; `smoothing` moves that
    much of the one-hot label's mass evenly onto all classes (label smoothing).
    """
    p_true = _number(p_true, "p_true", 0.0, 1.0, low_open=True)
    if p_true == 1.0:
        p_true = 1.0 - 1e-12  # keep the other classes' log finite; the loss is 0 to 12 digits
    if not _is_index(classes, 2, 10):
        raise ValueError(f"classes is {classes!r}: expected an integer from 2 to 10")
    smoothing = _number(smoothing, "smoothing", 0.0, 1.0)
    probs = np.full(classes, (1 - p_true) / (classes - 1))
    probs[0] = p_true
    labels = np.full(classes, smoothing / classes)
    labels[0] += 1 - smoothing
    contributions = -labels * np.log(probs)
    return {"p_true": float(probs[0]), "smoothing": smoothing, "probs": probs.tolist(), "labels": labels.tolist(),
            "contributions": contributions.tolist(), "loss": float(contributions.sum())}


def _naive_softmax(logits):
    """The textbook formula exp(z) / sum(exp(z)), with no max subtraction: it overflows."""
    with np.errstate(all="ignore"):
        e = np.exp(logits)
        return e / e.sum()


STABILITY_DTYPES = ("float16", "float32", "float64")


def stability_numbers(logits, label_id=0, scale=1.0, dtype="float32"):
    """Lesson 05: loss of (scale * logits) in `dtype`, naive formula vs log-sum-exp."""
    logits = _logits_vector(logits)
    label_id = _label_id(label_id, logits.size)
    scale = _number(scale, "scale", 0.0, low_open=True)
    if dtype not in STABILITY_DTYPES:
        raise ValueError(f"dtype is {dtype!r}: expected one of {', '.join(STABILITY_DTYPES)}")
    scaled = (logits * scale).astype(dtype)
    naive_probs = _naive_softmax(scaled)
    with np.errstate(all="ignore"):
        naive_loss = float(-np.log(naive_probs[label_id]))
    stable_loss = float(numerics.sparse_cross_entropy(label_id, scaled)) + 0.0 if np.isfinite(scaled).all() else math.inf
    stable_probs = numerics.softmax(scaled) if np.isfinite(scaled).all() else np.full(logits.size, np.nan)
    return {"scale": scale, "dtype": dtype, "label_id": label_id, "scaled_logits": scaled.astype(float).tolist(),
            "naive_probs": naive_probs.astype(float).tolist(), "stable_probs": stable_probs.astype(float).tolist(),
            "naive_loss": naive_loss, "stable_loss": stable_loss}


def fused_op_numbers(logits, label_id=0):
    """Lesson 06: what the fused op returns (loss) and sends back (gradient softmax - labels)."""
    logits = _logits_vector(logits)
    label_id = _label_id(label_id, logits.size)
    labels = np.eye(logits.size)[label_id]
    return {"logits": logits.tolist(), "label_id": label_id, "labels": labels.tolist(),
            "probs": numerics.softmax(logits).tolist(), "loss": float(numerics.sparse_cross_entropy(label_id, logits)),
            "grad": numerics.softmax_cross_entropy_grad(labels, logits).tolist()}


def double_softmax_numbers(logits, label_id=0, double=False):
    """Lesson 08: the loss and its gradient (w.r.t. the logits) with softmax applied once or twice.

    Twice means softmax output fed to a `*_with_logits` loss: the "logits" it sees lie in [0, 1],
    so the loss can barely move and the gradient shrinks.
    """
    logits = _logits_vector(logits)
    label_id = _label_id(label_id, logits.size)
    labels = np.eye(logits.size)[label_id]
    probs = numerics.softmax(logits)
    if not double:
        seen, grad = logits, probs - labels
    else:
        seen = probs
        upstream = numerics.softmax(probs) - labels
        grad = probs * (upstream - (probs * upstream).sum())  # chain rule through the first softmax
    return {"logits": logits.tolist(), "label_id": label_id, "double": bool(double), "loss_input": seen.tolist(),
            "probs_seen_by_loss": numerics.softmax(seen).tolist(),
            "loss": float(numerics.sparse_cross_entropy(label_id, seen)), "grad": grad.tolist()}


def training_numbers(run, epoch, point=0):
    """Lesson 07: the recorded logits and probabilities of one point after `epoch` epochs."""
    epochs = len(run.logits) - 1
    if not _is_index(epoch, 0, epochs):
        raise ValueError(f"epoch is {epoch!r}: this run recorded epochs 0 to {epochs}")
    points = len(run.points)
    if not _is_index(point, 0, points - 1):
        raise ValueError(f"point is {point!r}: expected a point index from 0 to {points - 1}")
    logits = np.asarray(run.logits[epoch][point], dtype=np.float64)
    probs = numerics.softmax(logits)
    out = {"epoch": int(epoch), "point": int(point), "xy": np.asarray(run.points[point], float).tolist(),
           "logits": logits.tolist(), "probs": probs.tolist(), "prediction": int(np.argmax(logits))}
    if run.label_ids is not None:
        out["label_id"] = int(run.label_ids[point])
    loss = run.losses[epoch] if epoch < len(run.losses) else None
    out["loss"] = None if loss is None else float(loss)
    return out


# ---------------------------------------------------------------- drawing


class Canvas:
    """An off-screen matplotlib figure redrawn in place: static parts once, changing artists per move."""

    def __init__(self, width=7.2, height=3.0, ncols=2):
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        self.figure = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
        FigureCanvasAgg(self.figure)
        axes = self.figure.subplots(1, ncols, squeeze=False)[0]
        self.axes = list(axes)
        for ax in self.axes:
            ax.spines[["top", "right"]].set_visible(False)
            ax.tick_params(labelsize=9)
        self._dynamic = []
        self._background = None

    def moving(self, artist):
        """Mark an artist as one that changes with the sliders (drawn on top of the saved background)."""
        for a in artist if isinstance(artist, (list, tuple)) else [artist]:
            a.set_animated(True)
            self._dynamic.append(a)
        return artist

    def png(self):
        """The picture as PNG bytes; the first call lays out and draws everything that does not move."""
        canvas = self.figure.canvas
        if self._background is None:
            canvas.draw()
            self.figure.set_layout_engine("none")  # freeze the layout: later moves must not shift the axes
            self._background = canvas.copy_from_bbox(self.figure.bbox)
        else:
            canvas.restore_region(self._background)
        for artist in self._dynamic:
            if artist.get_visible():
                self.figure.draw_artist(artist)
        return _encode_png(canvas)


def _encode_png(canvas):
    """PNG bytes of the canvas: unfiltered rows, zlib level 1.

    Encoding is most of a redraw's cost with PIL (~13 ms here, even at level 0, because of
    its row filters); flat-colour plots compress as well without them in ~2 ms.
    """
    rgb = np.asarray(canvas.buffer_rgba())[:, :, :3]
    height, width, _ = rgb.shape
    rows = np.zeros((height, width * 3 + 1), dtype=np.uint8)  # each row starts with filter type 0
    rows[:, 1:] = rgb.reshape(height, -1)

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB, no interlace
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows.tobytes(), 1))
            + chunk(b"IEND", b""))


class CachedText(Text):
    """A Text that draws a cached bitmap of itself when the same string has been drawn before.

    Rendering text is most of the cost of a blitted redraw in matplotlib (~1 ms per label); a label
    that shows "0.659" again (sliders go back and forth) is pasted in a few microseconds instead.
    """

    _cache = {}
    _scratch = {}
    MAX_ENTRIES = 2048  # a few MB of small bitmaps at most

    def _key(self, renderer):
        return (self.get_text(), hash(self.get_fontproperties()), str(self.get_color()), self.get_ha(), self.get_va(),
                self.get_rotation(), self.get_linespacing(), repr(self._bbox_patch and self._bbox_patch.get_boxstyle()),
                renderer.dpi)

    def draw(self, renderer):
        if not self.get_visible() or not self.get_text():
            return
        anchor = self.get_transform().transform(self.get_unitless_position())
        key = self._key(renderer)
        hit = self._cache.get(key)
        if hit is None:
            hit = self._render(renderer, anchor)
            if len(self._cache) >= self.MAX_ENTRIES:
                self._cache.clear()
            self._cache[key] = hit
        image, dx, dy = hit
        if image is not None:
            gc = renderer.new_gc()
            renderer.draw_image(gc, round(anchor[0]) + dx, round(anchor[1]) + dy, image)
            gc.restore()
        self.stale = False

    def _render(self, renderer, anchor):
        """Draw the text alone on a transparent scratch canvas; keep the smallest box around its pixels."""
        from matplotlib.backends.backend_agg import RendererAgg

        size = (int(renderer.width), int(renderer.height), renderer.dpi)
        scratch = self._scratch.get(size)
        if scratch is None:
            scratch = self._scratch[size] = RendererAgg(*size)
        scratch.clear()
        super().draw(scratch)
        pixels = np.asarray(scratch.buffer_rgba())
        # Look for the drawn pixels only around the text (and its box), not over the whole canvas.
        box = self.get_window_extent(scratch)
        if self._bbox_patch is not None:
            box = box.union([box, self._bbox_patch.get_window_extent(scratch)])
        x0, x1 = max(int(box.x0) - 4, 0), min(int(box.x1) + 5, size[0])
        y0, y1 = max(size[1] - int(box.y1) - 5, 0), min(size[1] - int(box.y0) + 4, size[1])
        alpha = pixels[y0:y1, x0:x1, 3]
        rows = np.flatnonzero(alpha.any(axis=1))
        cols = np.flatnonzero(alpha.any(axis=0))
        if rows.size == 0:
            return None, 0, 0
        top, bottom, left, right = y0 + rows[0], y0 + rows[-1] + 1, x0 + cols[0], x0 + cols[-1] + 1
        image = pixels[top:bottom, left:right][::-1].copy()  # draw_image takes rows bottom-up
        # draw_image places the image's lower-left corner, in pixels from the canvas' bottom.
        return image, left - round(anchor[0]), (size[1] - bottom) - round(anchor[1])


class AxesPicture(Artist):
    """An RGB picture filling an axes, resized once per picture to the axes' pixels and then pasted.

    imshow resamples its image on every draw (~30 ms here for decision regions); the epoch slider
    only ever shows a few pictures, so each is resized once and kept.
    """

    def __init__(self, ax, rgb):
        super().__init__()
        self.axes = ax
        self._scaled = {}
        self.set_data(rgb)

    def set_data(self, rgb):
        """rgb: [rows, cols, 3] floats in [0, 1], row 0 at the bottom of the axes."""
        self._rgb = rgb
        self.stale = True

    def draw(self, renderer):
        from PIL import Image

        box = self.axes.bbox
        x0, y0 = round(box.x0), round(box.y0)
        width, height = round(box.x1) - x0, round(box.y1) - y0
        key = (id(self._rgb), width, height)
        image = self._scaled.get(key)
        if image is None:
            small = Image.fromarray((np.clip(self._rgb, 0, 1) * 255).astype(np.uint8)).convert("RGBA")
            image = self._scaled[key] = np.array(small.resize((width, height), Image.Resampling.BILINEAR))
        gc = renderer.new_gc()
        renderer.draw_image(gc, x0, y0, image)  # rows bottom-up, as the picture's rows are
        gc.restore()
        self.stale = False


def _text(ax, x, y, **kwargs):
    """A label that changes with the sliders (see CachedText); data coordinates unless `transform` says otherwise."""
    text = CachedText(x, y, kwargs.pop("text", ""), **kwargs)
    ax.add_artist(text)
    text.set_clip_on(False)
    return text


class Bars:
    """Labelled bars whose heights (and printed values) change in place."""

    def __init__(self, canvas, ax, names, ylim, colours=None, fmt="{:.3f}", ylabel="", title="",
                 offset=0.0, width=0.65, fontsize=10, mark="argmax"):
        from matplotlib.transforms import offset_copy

        self.ax, self.ylim, self.fmt = ax, ylim, fmt
        colours = colours or [CLASS_COLOURS[k % len(CLASS_COLOURS)] for k in range(len(names))]
        x = np.arange(len(names))
        self.x = x + offset
        self.bars = canvas.moving(list(ax.bar(self.x, np.zeros(len(names)), color=colours, width=width,
                                              edgecolor="black", linewidth=0.8)))
        self.labels = canvas.moving([_text(ax, k, 0, ha="center", va="bottom", fontsize=fontsize,
                                             fontweight="bold") for k in self.x])
        ax.set_xticks(x, names)
        ax.set_ylim(*ylim)
        ax.set_xlim(-0.6, len(names) - 0.4)
        if ylim[0] < 0:
            ax.axhline(0, color="black", linewidth=0.8)
        ax.set_ylabel(ylabel)
        if title:  # the title's empty second line is where the changing note goes
            ax.set_title(title + "\n", fontsize=11)
        self.note = canvas.moving(_text(ax, 0.5, 1.01, transform=ax.transAxes, ha="center", va="bottom",
                                          fontsize=10, color="#333333"))
        # The marked bar's word sits one line above its value: a separate label, so it is always in the cache.
        self.mark = canvas.moving(_text(ax, 0, 0, text=mark, ha="center", va="bottom", fontsize=fontsize,
                                        fontweight="bold", transform=offset_copy(ax.transData, ax.figure,
                                                                                 y=1.3 * fontsize, units="points")))

    def update(self, values, marked=None, note=""):
        """Set bar heights; print each value on its bar; hatch and label the `marked` bar."""
        low, high = self.ylim
        pad = 0.02 * (high - low)
        for k, (bar, label, value) in enumerate(zip(self.bars, self.labels, values)):
            shown = value if np.isfinite(value) else 0.0
            bar.set_height(min(max(shown, low), high))
            bar.set_hatch("//" if k == marked else None)
            text = self.fmt.format(value) if np.isfinite(value) else str(value)
            label.set_text(text)
            top = min(shown, high - 6 * pad) if shown >= 0 else max(shown, low + 6 * pad)
            label.set_position((self.x[k], top + pad if shown >= 0 else top - pad))
            label.set_va("bottom" if shown >= 0 else "top")
            if k == marked:
                self.mark.set_position((self.x[k], top + pad))
        self.mark.set_visible(marked is not None)
        self.note.set_text(note)


class Curve:
    """A fixed curve with a marker that moves along it, guide lines to the axes and a readout."""

    def __init__(self, canvas, ax, x, y, xlabel, ylabel, title, colour=BLUE, xlim=None, ylim=None):
        self.ax = ax
        self.line, = ax.plot(x, y, color=colour, linewidth=2)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.set_title(title, fontsize=11)
        ax.grid(alpha=0.3)
        if xlim:
            ax.set_xlim(*xlim)
        if ylim:
            ax.set_ylim(*ylim)
        self.guides = canvas.moving(ax.plot([], [], color=GREY, linestyle="--", linewidth=1)[0])
        self.marker = canvas.moving(ax.plot([], [], "o", color=VERMILION, markersize=9,
                                            markeredgecolor="black")[0])
        self.readout = canvas.moving(_text(ax, 0.03, 0.95, transform=ax.transAxes, va="top", fontsize=10,
                                             bbox={"boxstyle": "round", "facecolor": "white", "alpha": 0.9}))

    def update(self, x, y, text):
        x0, _ = self.ax.get_xlim()
        y0, _ = self.ax.get_ylim()
        self.marker.set_data([x], [y])
        self.guides.set_data([x0, x, x], [y, y, y0])
        self.readout.set_text(text)


# ---------------------------------------------------------------- the Explorer object


def _slider(description, value, low, high, step=0.1, fmt=".2f", tooltip=""):
    import ipywidgets as widgets

    value = _number(value, description)
    if not low <= value <= high:
        raise ValueError(f"{description} is {value:g}: expected a value from {low:g} to {high:g} (the slider's range)")
    return widgets.FloatSlider(value=value, min=low, max=high, step=step, description=description,
                               readout_format=fmt, continuous_update=True, tooltip=tooltip or description,
                               style={"description_width": "initial"}, layout={"width": "440px"})


class Explorer:
    """Controls, the numbers they produce, and a picture redrawn in place when a control moves.

    compute(**control values) -> numbers; draw(numbers) updates the canvas' artists;
    summary(numbers) -> one deterministic line of text (the stored text/plain output).
    """

    def __init__(self, name, controls, compute, canvas, draw, summary, readout, help_text=""):
        import ipywidgets as widgets

        self.name = name
        self.controls = dict(controls)
        self._compute, self._canvas, self._draw, self._summary, self._readout = (
            compute, canvas, draw, summary, readout)
        self._holding = False
        width = round(canvas.figure.get_figwidth() * DPI)  # shown at its own size: sharp, never stretched
        self._image = widgets.Image(format="png", layout={"width": f"{width}px", "max_width": "100%", "height": "auto"})
        self._numbers_html = widgets.HTML()
        intro = [widgets.HTML(f"<b>{help_text}</b>")] if help_text else []
        # Sliders with the numbers beside them, the picture right below: all in view while a slider moves.
        sliders = widgets.VBox(intro + list(self.controls.values()), layout={"margin": "0 24px 0 0"})
        top = widgets.HBox([sliders, self._numbers_html], layout={"flex_flow": "row wrap", "align_items": "center"})
        self.widget = widgets.VBox([top, self._image])
        self.widget.add_class("logitlab-explorer")
        self._image.add_class("logitlab-picture")
        self._numbers_html.add_class("logitlab-numbers")
        for control in self.controls.values():
            control.observe(self._on_change, names="value")
        self.numbers = {}
        self.png = b""
        self._refresh()

    def _on_change(self, _change):
        if not self._holding:
            self._refresh()

    def _refresh(self):
        self.numbers = self._compute(**{name: c.value for name, c in self.controls.items()})
        self._draw(self.numbers)
        self.png = self._canvas.png()
        self._image.value = self.png
        self._numbers_html.value = self._readout(self.numbers)

    def set(self, **values):
        """Set several controls at once (one redraw); unknown names or out-of-range values raise ValueError."""
        unknown = sorted(set(values) - set(self.controls))
        if unknown:
            raise ValueError(f"{self.name} has no control {', '.join(unknown)}: its controls are {', '.join(self.controls)}")
        for name, value in values.items():
            control = self.controls[name]
            low, high = getattr(control, "min", None), getattr(control, "max", None)
            options = getattr(control, "options", None)
            if options is not None and value not in [o[1] if isinstance(o, tuple) else o for o in options]:
                raise ValueError(f"{name} is {value!r}: expected one of {list(options)}")
            if isinstance(control.value, bool) and not isinstance(value, bool):
                raise ValueError(f"{name} is {value!r}: expected True or False")
            is_number = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
            if isinstance(control.value, int) and not isinstance(control.value, bool) and not (
                    is_number and float(value).is_integer()):
                raise ValueError(f"{name} is {value!r}: expected a whole number")
            if hasattr(control, "base"):  # FloatLogSlider: min and max are exponents
                low, high = control.base ** low, control.base ** high
            if low is not None and not (is_number and low <= value <= high):
                raise ValueError(f"{name} is {value!r}: expected a number from {low:g} to {high:g}")
        with self._hold():
            for name, value in values.items():
                control = self.controls[name]
                control.value = int(value) if isinstance(control.value, int) and not isinstance(value, bool) else value
        self._refresh()
        return self

    @contextlib.contextmanager
    def _hold(self):
        self._holding = True
        try:
            yield
        finally:
            self._holding = False

    def summary(self):
        """One line of text with the numbers shown now (what a notebook viewer prints)."""
        return f"{self.name}: {self._summary(self.numbers)}"

    def __repr__(self):
        return self.summary()

    def _repr_mimebundle_(self, **kwargs):
        bundle = self.widget._repr_mimebundle_(**kwargs)
        bundle["text/plain"] = self.summary()
        bundle["image/png"] = base64.b64encode(self.png).decode("ascii")
        return bundle


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
    canvas = Canvas()
    ps = np.linspace(0.001, 0.999, 400)
    left = Curve(canvas, canvas.axes[0], ps, numerics.logit(ps), "probability p", "logit(p) = log(p / (1 - p))",
                 "probability → logit", xlim=(0, 1), ylim=(-7, 7))
    zs = np.linspace(-8, 8, 400)
    right = Curve(canvas, canvas.axes[1], zs, numerics.sigmoid(zs), "logit z", "sigmoid(z) = 1 / (1 + exp(-z))",
                  "logit → probability", colour=GREEN, xlim=(-8, 8), ylim=(0, 1))
    for ax in canvas.axes:
        ax.axhline(0 if ax is canvas.axes[0] else 0.5, color="black", linewidth=0.6)

    def draw(n):
        left.update(n["p"], n["logit_p"], f"p = {n['p']:.3f}\nodds = {n['odds']:.3g}\nlogit = {n['logit_p']:.3f}")
        right.update(n["z"], n["sigmoid_z"], f"z = {n['z']:.2f}\nsigmoid = {n['sigmoid_z']:.4f}")

    controls = {"p": _slider("probability p", p, 0.001, 0.999, 0.001, ".3f"),
                "z": _slider("logit z", z, -8.0, 8.0, 0.1, ".2f")}
    return Explorer(
        "logit explorer", controls, logit_numbers, canvas, draw,
        lambda n: f"p={n['p']:.3f} -> logit(p)={n['logit_p']:.4f}; z={n['z']:.2f} -> sigmoid(z)={n['sigmoid_z']:.4f}",
        lambda n: _table([("p", f"{n['p']:.3f}"), ("odds", f"{n['odds']:.4g}"), ("logit(p)", f"{n['logit_p']:.4f}"),
                          ("z", f"{n['z']:.2f}"), ("sigmoid(z)", f"{n['sigmoid_z']:.4f}")]))


def softmax_explorer(logits=(2.0, 1.0, 0.1), class_names=None):
    """Lessons 00/03: a slider per logit, a temperature and a shift; bars of the softmax probabilities."""
    logits = _check_slider_logits(logits)
    names = _class_names(class_names, logits.size)
    canvas = Canvas()
    left = Bars(canvas, canvas.axes[0], names, (-2 * LOGIT_RANGE, 2 * LOGIT_RANGE), fmt="{:.2f}",
                ylabel="logit + shift", title="logits (any real numbers)")
    right = Bars(canvas, canvas.axes[1], names, (0, 1.3), fmt="{:.3f}", ylabel="probability",
                 title="softmax((logits + shift) / T)")

    def compute(temperature, shift, **zs):
        return softmax_numbers([zs[f"z{k}"] for k in range(logits.size)], temperature, shift)

    def draw(n):
        left.update(n["shifted_logits"], note=f"shift = {n['shift']:+.2f}")
        right.update(n["probs"], marked=n["argmax"], note=f"T = {n['temperature']:.2f}   sum = {sum(n['probs']):.3f}")

    controls = _logit_sliders(logits, names)
    controls["temperature"] = _slider("temperature T", 1.0, 0.1, 5.0, 0.05)
    controls["shift"] = _slider("shift added to every logit", 0.0, -5.0, 5.0)
    return Explorer(
        "softmax explorer", controls, compute, canvas, draw,
        lambda n: (f"logits {_fmt(n['logits'], 2)}, T={n['temperature']:.2f}, shift={n['shift']:.2f} -> "
                   f"probs {_fmt(n['probs'])}, argmax {n['argmax']} ({names[n['argmax']]})"),
        lambda n: _table([("logits", _fmt(n["logits"], 2)), ("probs", _fmt(n["probs"])),
                          ("argmax", f"{n['argmax']} ({names[n['argmax']]})")]))


def score_explorer(features=(1.0, 2.0), weights=((1.0, -0.5), (0.2, 0.6), (-0.8, 0.9)), biases=(0.0, 0.0, 0.0),
                   class_names=("negative", "neutral", "positive")):
    """Lesson 02: logits = W x + b of a tiny linear layer; move a class's bias or weight and its logit moves."""
    first = score_numbers(features, weights, biases)
    names = _class_names(class_names, len(first["biases"]))
    w0 = np.asarray(weights, dtype=float)
    x = first["features"]
    canvas = Canvas()
    left = Bars(canvas, canvas.axes[0], names, (-8, 8), fmt="{:.2f}", ylabel="logit = w · x + b",
                title="logits from the last layer")
    right = Bars(canvas, canvas.axes[1], names, (0, 1.3), ylabel="probability", title="softmax(logits)")

    def compute(**values):
        w = w0.copy()
        w[:, 0] = [values[f"w{k}"] for k in range(len(names))]
        return score_numbers(x, w, [values[f"b{k}"] for k in range(len(names))])

    def draw(n):
        left.update(n["logits"], note=f"input x = {_fmt(n['features'], 1)}")
        right.update(n["probs"], marked=n["prediction"], note=f"prediction: {names[n['prediction']]}")

    controls = {}
    for k, name in enumerate(names):
        controls[f"b{k}"] = _slider(f"b{k}: bias of {name}", first["biases"][k], -5.0, 5.0)
    for k, name in enumerate(names):
        controls[f"w{k}"] = _slider(f"w{k}: weight of x[0] for {name}", w0[k, 0], -3.0, 3.0)
    return Explorer(
        "score explorer", controls, compute, canvas, draw,
        lambda n: f"logits {_fmt(n['logits'], 3)} -> probs {_fmt(n['probs'])}, prediction {n['prediction']} ({names[n['prediction']]})",
        lambda n: _table([("logits", _fmt(n["logits"], 3)), ("probs", _fmt(n["probs"])),
                          ("prediction", f"{n['prediction']} ({names[n['prediction']]})")]))


def cross_entropy_explorer(p_true=0.7, classes=3):
    """Lesson 04: probability given to the true class -> loss on the -log curve; per-class contributions."""
    cross_entropy_numbers(p_true, classes)
    names = ["true class"] + [f"class {k}" for k in range(1, classes)]
    canvas = Canvas()
    ps = np.linspace(0.005, 1, 400)
    curve = Curve(canvas, canvas.axes[0], ps, -np.log(ps), "probability of the true class q[true]",
                  "loss", "loss = -sum(labels · log q)", colour=VERMILION,
                  xlim=(0, 1), ylim=(0, 5.5))
    bars = Bars(canvas, canvas.axes[1], names, (0, 5.5), colours=[VERMILION] + [GREY] * (classes - 1),
                ylabel="-labels[k] · log q[k]", title="each class's share of the loss")
    smooth_line = canvas.moving(canvas.axes[0].plot([], [], color=BLUE, linewidth=1.5, linestyle="-.",
                                                    label="with label smoothing")[0])
    canvas.axes[0].legend([curve.line, smooth_line], ["one-hot labels", "with label smoothing"],
                          loc="center right", fontsize=9)

    def draw(n):
        curve.update(n["p_true"], n["loss"], f"q[true] = {n['p_true']:.3f}\nloss = {n['loss']:.4f}")
        if n["smoothing"] > 0:
            ys = [cross_entropy_numbers(p, classes, n["smoothing"])["loss"] for p in ps[::8]]
            smooth_line.set_data(ps[::8], ys)
        smooth_line.set_visible(n["smoothing"] > 0)
        bars.update(n["contributions"], note=f"loss = sum = {n['loss']:.4f}")

    controls = {"p_true": _slider("q[true]: probability of the true class", p_true, 0.01, 1.0, 0.01),
                "smoothing": _slider("label smoothing", 0.0, 0.0, 0.3, 0.01)}
    return Explorer(
        "cross-entropy explorer", controls, lambda **v: cross_entropy_numbers(classes=classes, **v), canvas, draw,
        lambda n: f"q[true]={n['p_true']:.3f}, smoothing={n['smoothing']:.2f} -> loss {n['loss']:.4f}",
        lambda n: _table([("probs q", _fmt(n["probs"])), ("labels", _fmt(n["labels"])),
                          ("contributions", _fmt(n["contributions"])), ("loss", f"{n['loss']:.4f}")]))


def _logit_sliders(logits, names):
    return {f"z{k}": _slider(f"z{k}: logit of {names[k]}", v, -LOGIT_RANGE, LOGIT_RANGE) for k, v in enumerate(logits)}


def _check_slider_logits(logits):
    logits = _logits_vector(logits)
    if np.abs(logits).max() > LOGIT_RANGE:
        raise ValueError(f"logits must lie in [-{LOGIT_RANGE:g}, {LOGIT_RANGE:g}] for the sliders; got {logits.tolist()}")
    return logits


def _label_dropdown(label_id, names):
    import ipywidgets as widgets

    return widgets.Dropdown(options=[(f"{k}: {n}", k) for k, n in enumerate(names)], value=label_id,
                            description="true class", style={"description_width": "initial"})


def stability_explorer(logits=(2.0, 1.0, 0.1), label_id=0):
    """Lesson 05: scale the logits up and pick a dtype: the naive loss hits inf/nan, the stable one does not."""
    import ipywidgets as widgets

    logits = _logits_vector(logits)
    label_id = _label_id(label_id, logits.size)
    names = [f"class {k}" for k in range(logits.size)]
    canvas = Canvas(width=7.6)
    scales = np.logspace(0, 3, 240)
    curves = {}
    for dtype in STABILITY_DTYPES:
        rows = [stability_numbers(logits, label_id, s, dtype) for s in scales]
        curves[dtype] = (np.array([r["naive_loss"] for r in rows]), np.array([r["stable_loss"] for r in rows]))
    top = max(np.nanmax(np.where(np.isfinite(c[1]), c[1], np.nan)) for c in curves.values())
    ax = canvas.axes[0]
    ax.set_xscale("log")
    ax.set_xlim(1, 1000)
    if top > 20:  # losses from ~0.1 to ~1000 all readable on one axis
        ax.set_yscale("symlog", linthresh=1.0)
        ax.set_ylim(0, top * 2)
    else:
        ax.set_ylim(0, max(1.0, top) * 1.1)
    ax.set_xlabel("logit scale (logits × scale)")
    ax.set_ylabel(f"loss for the true class {label_id}")
    ax.set_title("naive -log(exp(z) / sum(exp(z))) vs stable", fontsize=11)
    ax.grid(alpha=0.3)
    stable_line = canvas.moving(ax.plot([], [], color=BLUE, linewidth=2.5, label="stable (log-sum-exp)")[0])
    naive_line = canvas.moving(ax.plot([], [], color=ORANGE, linewidth=2, linestyle="--", label="naive")[0])
    broken = canvas.moving(ax.axvspan(1, 1, color=VERMILION, alpha=0.2, label="naive gives inf or nan"))
    marker = canvas.moving(ax.axvline(1, color="black", linewidth=1))
    readout = canvas.moving(_text(ax, 0.03, 0.95, transform=ax.transAxes, va="top", fontsize=10,
                                    bbox={"boxstyle": "round", "facecolor": "white", "alpha": 0.9}))
    ax.legend(loc="lower right" if top > 20 else "upper right", fontsize=8)  # where the curve is not
    right = canvas.axes[1]
    naive_bars = Bars(canvas, right, names, (0, 1.2), colours=[ORANGE] * logits.size, fmt="{:.2f}", offset=-0.2,
                      width=0.38, fontsize=8, ylabel="probability", title="softmax probabilities")
    stable_bars = Bars(canvas, right, names, (0, 1.2), colours=[BLUE] * logits.size, fmt="{:.2f}", offset=0.2,
                       width=0.38, fontsize=8)
    right.legend([naive_bars.bars[0], stable_bars.bars[0]], ["naive", "stable"], loc="upper right", fontsize=8)

    def draw(n):
        naive, stable = curves[n["dtype"]]
        stable_line.set_data(scales, stable)
        naive_line.set_data(scales, np.where(np.isfinite(naive), naive, np.nan))
        bad = scales[~np.isfinite(naive)]
        broken.set_visible(bad.size > 0)
        if bad.size:
            x0 = bad.min()
            broken.set_x(x0)
            broken.set_width(1000 - x0)
        marker.set_xdata([n["scale"], n["scale"]])
        readout.set_text(f"scale = {n['scale']:.3g}  ({n['dtype']})\nnaive loss = {n['naive_loss']:.4g}\n"
                         f"stable loss = {n['stable_loss']:.4g}")
        naive_bars.update(n["naive_probs"])
        stable_bars.update(n["stable_probs"])

    controls = {"scale": widgets.FloatLogSlider(value=1.0, base=10, min=0, max=3, step=0.01,
                                                description="logit scale", readout_format=".3g",
                                                style={"description_width": "initial"}, layout={"width": "440px"}),
                "dtype": widgets.ToggleButtons(options=list(STABILITY_DTYPES), value="float32", description="dtype",
                                               style={"button_width": "70px", "description_width": "initial"})}
    return Explorer(
        "stability explorer", controls, lambda **v: stability_numbers(logits, label_id, **v), canvas, draw,
        lambda n: (f"scale={n['scale']:.3g}, {n['dtype']}: naive loss {n['naive_loss']:.4g}, "
                   f"stable loss {n['stable_loss']:.4g}"),
        lambda n: _table([("scaled logits", _fmt(n["scaled_logits"], 1)), ("naive probs", _fmt(n["naive_probs"])),
                          ("stable probs", _fmt(n["stable_probs"])), ("naive loss", f"{n['naive_loss']:.4g}"),
                          ("stable loss", f"{n['stable_loss']:.4g}")]))


def fused_op_explorer(logits=(2.0, 1.0, 0.1), label_id=0):
    """Lesson 06: logits and the true class -> the fused op's loss and its gradient softmax - labels."""
    logits = _check_slider_logits(logits)
    label_id = _label_id(label_id, logits.size)
    names = [f"class {k}" for k in range(logits.size)]
    canvas = Canvas()
    probs = Bars(canvas, canvas.axes[0], names, (0, 1.3), ylabel="probability", title="softmax(logits)",
                 mark="true class")
    grads = Bars(canvas, canvas.axes[1], names, (-1.35, 1.35), fmt="{:+.3f}", ylabel="d loss / d logit",
                 title="gradient = softmax - labels")

    def compute(label_id, **zs):
        return fused_op_numbers([zs[f"z{k}"] for k in range(logits.size)], label_id)

    def draw(n):
        probs.update(n["probs"], marked=n["label_id"], note=f"loss = -log q[{n['label_id']}] = {n['loss']:.4f}")
        grads.update(n["grad"], note="< 0: pushed up · > 0: pushed down")

    controls = {**_logit_sliders(logits, names), "label_id": _label_dropdown(label_id, names)}
    return Explorer(
        "fused-op explorer", controls, compute, canvas, draw,
        lambda n: f"logits {_fmt(n['logits'], 2)}, true class {n['label_id']} -> loss {n['loss']:.4f}, grad {_fmt(n['grad'])}",
        lambda n: _table([("logits", _fmt(n["logits"], 2)), ("probs", _fmt(n["probs"])), ("labels", _fmt(n["labels"], 0)),
                          ("loss", f"{n['loss']:.4f}"), ("gradient", _fmt(n["grad"]))]))


def double_softmax_explorer(logits=(2.0, 1.0, 0.1), label_id=0):
    """Lesson 08: toggle a second softmax before the loss and watch the loss curve and its gradient flatten."""
    import ipywidgets as widgets

    logits = _check_slider_logits(logits)
    label_id = _label_id(label_id, logits.size)
    names = [f"class {k}" for k in range(logits.size)]
    canvas = Canvas()
    ax = canvas.axes[0]
    zs = np.linspace(-LOGIT_RANGE, LOGIT_RANGE, 121)
    once_line = canvas.moving(ax.plot([], [], color=BLUE, linewidth=2.5, label="softmax once (right)")[0])
    twice_line = canvas.moving(ax.plot([], [], color=ORANGE, linewidth=2, linestyle="--",
                                       label="softmax twice (bug)")[0])
    marker = canvas.moving(ax.plot([], [], "o", color=VERMILION, markersize=9, markeredgecolor="black")[0])
    ax.set_xlim(-LOGIT_RANGE, LOGIT_RANGE)
    ax.set_ylim(0, 9)
    ax.set_xlabel(f"logit of the true class (z{label_id})")
    ax.set_ylabel("loss")
    ax.set_title("loss as the true logit moves", fontsize=11)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper right", fontsize=8)
    grads = Bars(canvas, canvas.axes[1], names, (-1.35, 1.35), fmt="{:+.3f}", ylabel="d loss / d logit",
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
                "double": widgets.ToggleButton(value=False, description="apply softmax twice",
                                               tooltip="feed softmax output to a from_logits loss", icon="bug",
                                               layout={"width": "220px"})}
    return Explorer(
        "double-softmax explorer", controls, compute, canvas, draw,
        lambda n: f"logits {_fmt(n['logits'], 2)}, softmax {'twice' if n['double'] else 'once'} -> loss {n['loss']:.4f}, grad {_fmt(n['grad'])}",
        lambda n: _table([("logits", _fmt(n["logits"], 2)), ("softmax applied", "twice" if n["double"] else "once"),
                          ("loss", f"{n['loss']:.4f}"), ("gradient", _fmt(n["grad"]))]),
        help_text=f"True class: {label_id}")


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
    canvas = Canvas(width=7.6, height=3.4)
    ax = canvas.axes[0]
    regions = canvas.moving(AxesPicture(ax, images[0]))
    points = np.asarray(run.points)
    ids = run.label_ids if run.label_ids is not None else np.full(len(points), -1)
    for k in sorted(set(int(i) for i in ids)):
        mine = ids == k
        canvas.moving(ax.scatter(points[mine, 0], points[mine, 1], s=45, marker=MARKERS[k % len(MARKERS)] if k >= 0 else "o",
                   color=CLASS_COLOURS[k % len(CLASS_COLOURS)] if k >= 0 else GREY, edgecolor="black",
                   linewidth=0.8, zorder=3, label=names[k] if k >= 0 else "points"))  # drawn over the regions
    ring = canvas.moving(ax.plot([], [], "o", markersize=16, markerfacecolor="none", markeredgecolor="black",
                                 markeredgewidth=2.5, zorder=4)[0])
    ax.set_xlim(extent[0], extent[1])
    ax.set_ylim(extent[2], extent[3])
    ax.set_xlabel("x[0]")
    ax.set_ylabel("x[1]")
    ax.set_title("decision regions (colour mix = probabilities)", fontsize=10, pad=20)
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=min(len(set(ids.tolist())), 4), fontsize=8,
              frameon=False, handletextpad=0.2, borderaxespad=0.1)
    bars = Bars(canvas, canvas.axes[1], names, (0, 1.3), ylabel="probability", title="the ringed point")

    def draw(n):
        regions.set_data(images[n["epoch"]])
        ring.set_data([n["xy"][0]], [n["xy"][1]])
        loss = n.get("loss")
        truth = f"   true: {n['label_id']}" if "label_id" in n else ""
        bars.update(n["probs"], marked=n["prediction"],
                    note=f"epoch {n['epoch']}" + (f" · loss {loss:.3f}" if loss is not None else " (untrained)") + truth)

    controls = {"epoch": widgets.IntSlider(value=0, min=0, max=len(run.logits) - 1, description="epoch",
                                           style={"description_width": "initial"}, layout={"width": "440px"}),
                "point": widgets.IntSlider(value=point, min=0, max=len(points) - 1, description="ringed point",
                                           style={"description_width": "initial"}, layout={"width": "440px"})}
    return Explorer(
        "training explorer", controls, lambda epoch, point: training_numbers(run, epoch, point), canvas, draw,
        lambda n: (f"{len(run.logits) - 1} epochs recorded; epoch {n['epoch']}, point {n['point']}: "
                   f"logits {_fmt(n['logits'], 3)}, probs {_fmt(n['probs'])}, prediction {n['prediction']}"),
        lambda n: _table([("epoch", n["epoch"]), ("point", f"{n['point']} at {_fmt(n['xy'], 2)}"),
                          ("logits", _fmt(n["logits"], 3)), ("probs", _fmt(n["probs"])),
                          ("prediction", n["prediction"])]))
