"""The explorers' numbers: pure functions from slider values to what the picture shows.

Each `*_numbers` function checks its arguments (a ValueError says what was wrong and what was
expected) and returns a dict of plain floats and lists. Only NumPy and `logitlab.numerics` are
imported, so these run and are tested without matplotlib or ipywidgets; `logitlab/explorers/widgets.py`
draws them.
"""

import math

import numpy as np

from logitlab import numerics

__all__ = [
    "cross_entropy_numbers",
    "double_softmax_numbers",
    "fused_op_numbers",
    "logit_numbers",
    "score_numbers",
    "softmax_numbers",
    "stability_numbers",
    "training_numbers",
]

LOGIT_RANGE = 6.0  # sliders for logits go from -6 to 6: wide enough to saturate softmax
STABILITY_DTYPES = ("float16", "float32", "float64")


# ---------------------------------------------------------------- checking arguments


def logit_row(logits, name="logits", max_classes=10):
    """A 1-D float64 array of finite logits, or a ValueError saying what was wrong."""
    arr = numerics.as_logits(logits, name)
    if arr.ndim != 1:
        raise ValueError(f"{name} has shape {list(arr.shape)}: an explorer takes one row of class scores, "
                         "e.g. [2.0, 1.0, 0.1]")
    if not 2 <= arr.size <= max_classes:
        raise ValueError(f"{name} has {arr.size} value(s): expected 2 to {max_classes} classes")
    return arr.astype(np.float64)


def finite_number(value, name, low=-math.inf, high=math.inf, low_open=False):
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


def is_index(value, low, high):
    """True for a Python or NumPy integer (not a bool) with low <= value <= high."""
    return not isinstance(value, bool) and isinstance(value, (int, np.integer)) and low <= value <= high


def class_id(label_id, classes):
    """`label_id` as an int, if it is an integer class id from 0 to classes - 1; else a clear ValueError."""
    if isinstance(label_id, bool) or not isinstance(label_id, (int, np.integer)):
        raise ValueError(f"label_id must be an integer class id; got {label_id!r}")
    if not 0 <= label_id < classes:
        raise ValueError(f"label_id is {label_id}: expected a class id from 0 to {classes - 1}")
    return int(label_id)


def class_names_for(class_names, classes):
    """One name per class: the given names as strings, or "class 0", "class 1", ... when None."""
    if class_names is None:
        return [f"class {k}" for k in range(classes)]
    names = [str(n) for n in class_names]
    if len(names) != classes:
        raise ValueError(f"class_names has {len(names)} names for {classes} logits: "
                         "expected one name per logit")
    return names


def slider_logits(logits):
    """`logit_row(logits)`, also refused when a value lies outside the logit sliders' range."""
    logits = logit_row(logits)
    if np.abs(logits).max() > LOGIT_RANGE:
        raise ValueError(f"logits must lie in [-{LOGIT_RANGE:g}, {LOGIT_RANGE:g}] for the sliders; "
                         f"got {logits.tolist()}")
    return logits


# ---------------------------------------------------------------- pure functions (inputs -> numbers)


def logit_numbers(p, z):
    """Lesson 01: the log-odds of probability `p`, and the sigmoid of logit `z`."""
    p = finite_number(p, "p", 0.0, 1.0)
    if p in (0.0, 1.0):
        raise ValueError(f"p is {p}: its logit is infinite; "
                         "expected a probability strictly between 0 and 1")
    z = finite_number(z, "z")
    return {"p": p, "odds": p / (1 - p), "logit_p": float(numerics.logit(p)), "z": z,
            "sigmoid_z": float(numerics.sigmoid(z))}


def softmax_numbers(logits, temperature=1.0, shift=0.0):
    """Lessons 00/03: softmax((logits + shift) / temperature); the shift changes nothing."""
    logits = logit_row(logits)
    temperature = finite_number(temperature, "temperature", 0.0, low_open=True)
    shift = finite_number(shift, "shift")
    shifted = logits + shift
    scaled = shifted / temperature  # what softmax sees: the gaps between logits divided by T
    probs = numerics.softmax(scaled)
    return {"logits": logits.tolist(), "shift": shift, "temperature": temperature,
            "shifted_logits": shifted.tolist(), "scaled_logits": scaled.tolist(), "probs": probs.tolist(),
            "argmax": int(np.argmax(probs))}


def score_numbers(features, weights, biases):
    """Lesson 02: a linear layer's logits W x + b for one input, the probabilities and the prediction."""
    x = numerics.as_floats(features, "features").astype(np.float64)
    w = numerics.as_floats(weights, "weights").astype(np.float64)
    b = logit_row(biases, "biases")
    if x.ndim != 1 or w.shape != (b.size, x.size):
        raise ValueError(f"weights have shape {list(w.shape)}: expected [classes, features] = [{b.size}, {x.size}]")
    logits = w @ x + b
    probs = numerics.softmax(logits)
    return {"features": x.tolist(), "biases": b.tolist(), "logits": logits.tolist(), "probs": probs.tolist(),
            "prediction": int(np.argmax(logits))}


def cross_entropy_numbers(p_true, classes=3, smoothing=0.0):
    """Lesson 04: loss -sum(labels * log(probs)) when the true class (class 0) gets `p_true`.

    The rest of the probability is shared equally by the other classes; `smoothing` moves that
    much of the one-hot label's mass evenly onto all classes (label smoothing). At p_true = 1 the
    loss is exact: 0 for one-hot labels, +inf with smoothing (the other classes keep label mass
    smoothing / classes and get probability 0).
    """
    p_true = finite_number(p_true, "p_true", 0.0, 1.0, low_open=True)
    if not is_index(classes, 2, 10):
        raise ValueError(f"classes is {classes!r}: expected an integer from 2 to 10")
    smoothing = finite_number(smoothing, "smoothing", 0.0, 1.0)
    probs = np.full(classes, (1 - p_true) / (classes - 1))
    probs[0] = p_true
    labels = np.full(classes, smoothing / classes)
    labels[0] += 1 - smoothing
    with np.errstate(divide="ignore", invalid="ignore"):
        contributions = np.where(labels > 0, -labels * np.log(probs), 0.0)  # 0 * log 0 counts as 0
    return {"p_true": float(probs[0]), "smoothing": smoothing, "probs": probs.tolist(), "labels": labels.tolist(),
            "contributions": contributions.tolist(), "loss": float(contributions.sum())}


def _naive_softmax(logits):
    """The textbook formula exp(z) / sum(exp(z)), with no max subtraction: it overflows."""
    with np.errstate(all="ignore"):
        e = np.exp(logits)
        return e / e.sum()




def stability_numbers(logits, label_id=0, scale=1.0, dtype="float32"):
    """Lesson 05: loss of (scale * logits) in `dtype`, naive formula vs log-sum-exp."""
    logits = logit_row(logits)
    label_id = class_id(label_id, logits.size)
    scale = finite_number(scale, "scale", 0.0, low_open=True)
    if dtype not in STABILITY_DTYPES:
        raise ValueError(f"dtype is {dtype!r}: expected one of {', '.join(STABILITY_DTYPES)}")
    scaled = (logits * scale).astype(dtype)
    naive_probs = _naive_softmax(scaled)
    with np.errstate(all="ignore"):
        naive_loss = float(-np.log(naive_probs[label_id]))
    finite = np.isfinite(scaled).all()
    stable_loss = float(numerics.sparse_cross_entropy(label_id, scaled)) + 0.0 if finite else math.inf
    stable_probs = numerics.softmax(scaled) if finite else np.full(logits.size, np.nan)
    return {"scale": scale, "dtype": dtype, "label_id": label_id, "scaled_logits": scaled.astype(float).tolist(),
            "naive_probs": naive_probs.astype(float).tolist(), "stable_probs": stable_probs.astype(float).tolist(),
            "naive_loss": naive_loss, "stable_loss": stable_loss}


def fused_op_numbers(logits, label_id=0):
    """Lesson 06: what the fused op returns (loss) and sends back (gradient softmax - labels)."""
    logits = logit_row(logits)
    label_id = class_id(label_id, logits.size)
    labels = np.eye(logits.size)[label_id]
    return {"logits": logits.tolist(), "label_id": label_id, "labels": labels.tolist(),
            "probs": numerics.softmax(logits).tolist(), "loss": float(numerics.sparse_cross_entropy(label_id, logits)),
            "grad": numerics.softmax_cross_entropy_grad(labels, logits).tolist()}


def double_softmax_numbers(logits, label_id=0, double=False):
    """Lesson 08: the loss and its gradient (w.r.t. the logits) with softmax applied once or twice.

    Twice means softmax output fed to a `*_with_logits` loss: the "logits" it sees lie in [0, 1],
    so the loss can barely move and the gradient shrinks.
    """
    logits = logit_row(logits)
    label_id = class_id(label_id, logits.size)
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
    if not is_index(epoch, 0, epochs):
        raise ValueError(f"epoch is {epoch!r}: this run recorded epochs 0 to {epochs}")
    points = len(run.points)
    if not is_index(point, 0, points - 1):
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

