"""Reference NumPy numerics for the course: logits, softmax, cross-entropy and friends.

Every function is stable at logits of +-1000, works on any batch shape along `axis`,
keeps float16/float32/float64 (integers become float64), and raises ValueError with a
sentence saying what was wrong and what was expected.
"""

import numpy as np

__all__ = [
    "logit",
    "sigmoid",
    "softmax",
    "log_softmax",
    "logsumexp",
    "cross_entropy",
    "sparse_cross_entropy",
    "binary_cross_entropy_with_logits",
    "softmax_cross_entropy_grad",
    "as_floats",
    "as_logits",
]


def as_floats(x, name):
    """`x` as a float array (ints and bools become float64), non-empty and NaN-free, or a clear ValueError."""
    try:
        arr = np.asarray(x)
    except ValueError as err:  # ragged nested lists
        raise ValueError(f"{name} must be a rectangular array of numbers; got {x!r} ({err})") from None
    if arr.dtype == bool or np.issubdtype(arr.dtype, np.integer):
        arr = arr.astype(np.float64)
    if not np.issubdtype(arr.dtype, np.floating):
        raise ValueError(f"{name} must contain numbers; got an array of {arr.dtype} ({x!r:.80})")
    if arr.size == 0:
        raise ValueError(f"{name} is empty (shape {list(arr.shape)}): expected at least one value")
    if np.isnan(arr).any():
        where = tuple(int(i) for i in np.argwhere(np.isnan(arr))[0])
        raise ValueError(f"{name} contains NaN at index {where}: expected real numbers")
    return arr


def as_logits(x, name="logits", axis=-1):
    """`as_floats(x)` that is also finite, at least 1-D, and has the given `axis`; else a clear ValueError."""
    arr = as_floats(x, name)
    if np.isinf(arr).any():
        where = tuple(int(i) for i in np.argwhere(np.isinf(arr))[0])
        raise ValueError(f"{name} contains {arr[where]} at index {where}: expected finite logits")
    if arr.ndim == 0:
        raise ValueError(f"{name} is a single number: expected a vector of class scores")
    _check_axis(arr, axis, name)
    return arr


def _check_axis(arr, axis, name):
    if not -arr.ndim <= axis < arr.ndim:
        raise ValueError(
            f"axis={axis} is out of range for {name} of shape {list(arr.shape)}: "
            f"expected an axis from {-arr.ndim} to {arr.ndim - 1}"
        )


def _work_dtype(arr):
    # float16 has too little range for exp/sum; compute in float32 and round at the end.
    return np.float32 if arr.dtype == np.float16 else arr.dtype


def _check_same_shape(labels, logits):
    if labels.shape != logits.shape:
        raise ValueError(
            f"labels have shape {list(labels.shape)} but logits have shape {list(logits.shape)}: "
            "expected one label per logit (one-hot rows; use sparse_cross_entropy for integer class ids)"
        )


def logit(p):
    """Log-odds of a probability: log(p / (1 - p)); logit(0) = -inf, logit(1) = +inf."""
    arr = as_floats(p, "p")
    if ((arr < 0) | (arr > 1)).any():
        bad = arr[(arr < 0) | (arr > 1)].flat[0]
        raise ValueError(f"p contains {bad}, which is not a probability: expected values in [0, 1]")
    work = arr.astype(_work_dtype(arr))
    with np.errstate(divide="ignore"):
        return (np.log(work) - np.log1p(-work)).astype(arr.dtype)


def sigmoid(z):
    """The logistic function 1 / (1 + exp(-z)), the inverse of `logit`."""
    arr = as_floats(z, "z")
    work = arr.astype(_work_dtype(arr))
    # exp(-|z|) never overflows; pick the algebraically equal form for each sign.
    e = np.exp(-np.abs(work))
    return np.where(work >= 0, 1 / (1 + e), e / (1 + e)).astype(arr.dtype)


def logsumexp(logits, axis=-1, keepdims=False):
    """log(sum(exp(logits))) along `axis`, computed as max + log(sum(exp(logits - max)))."""
    arr = as_logits(logits, axis=axis)
    work = arr.astype(_work_dtype(arr))
    top = work.max(axis=axis, keepdims=True)
    out = top + np.log(np.exp(work - top).sum(axis=axis, keepdims=True))
    if not keepdims:
        out = np.squeeze(out, axis=axis)
    return out.astype(arr.dtype)


def log_softmax(logits, axis=-1):
    """Log-probabilities: logits - logsumexp(logits), stable for any logit size."""
    arr = as_logits(logits, axis=axis)
    work = arr.astype(_work_dtype(arr))
    return (work - logsumexp(work, axis=axis, keepdims=True)).astype(arr.dtype)


def softmax(logits, axis=-1):
    """Probabilities exp(logits) / sum(exp(logits)) along `axis`, computed after subtracting the max."""
    arr = as_logits(logits, axis=axis)
    work = arr.astype(_work_dtype(arr))
    e = np.exp(work - work.max(axis=axis, keepdims=True))
    return (e / e.sum(axis=axis, keepdims=True)).astype(arr.dtype)


def _as_labels(labels, logits):
    lab = as_floats(labels, "labels")
    _check_same_shape(lab, logits)
    if ((lab < 0) | (lab > 1)).any():
        bad = lab[(lab < 0) | (lab > 1)].flat[0]
        raise ValueError(f"labels contain {bad}: expected one-hot or soft labels with values in [0, 1]")
    return lab


def cross_entropy(labels, logits, axis=-1):
    """Softmax cross-entropy per instance, -sum(labels * log_softmax(logits)), for dense labels."""
    arr = as_logits(logits, axis=axis)
    lab = _as_labels(labels, arr)
    dtype = np.result_type(arr.dtype, lab.dtype)
    work = _work_dtype(np.empty(0, dtype))
    loss = -(lab.astype(work) * log_softmax(arr.astype(work), axis=axis)).sum(axis=axis)
    return loss.astype(dtype)


def _as_label_ids(label_ids, logits, axis):
    ids = np.asarray(label_ids)
    if ids.dtype == bool or not np.issubdtype(ids.dtype, np.number):
        raise ValueError(f"label_ids must be integer class ids; got {label_ids!r:.80}")
    if not np.issubdtype(ids.dtype, np.integer):
        if np.isnan(ids).any() or (ids != np.round(ids)).any():
            raise ValueError(f"label_ids must be whole numbers (class ids); got {label_ids!r:.80}")
        ids = ids.astype(np.int64)
    expected = logits.shape[:axis % logits.ndim] + logits.shape[axis % logits.ndim + 1:]
    if ids.shape != expected:
        raise ValueError(
            f"label_ids have shape {list(ids.shape)} but logits have shape {list(logits.shape)}: "
            f"expected one class id per row, shape {list(expected)} (one-hot labels go to cross_entropy)"
        )
    classes = logits.shape[axis]
    if ((ids < 0) | (ids >= classes)).any():
        bad = ids[(ids < 0) | (ids >= classes)].flat[0]
        raise ValueError(f"label_ids contain {bad}: expected class ids from 0 to {classes - 1}")
    return ids


def sparse_cross_entropy(label_ids, logits, axis=-1):
    """Softmax cross-entropy per instance for integer class ids: -log_softmax(logits)[label_id]."""
    arr = as_logits(logits, axis=axis)
    ids = _as_label_ids(label_ids, arr, axis)
    logp = log_softmax(arr, axis=axis)
    picked = np.take_along_axis(logp, np.expand_dims(ids, axis=axis), axis=axis)
    return -np.squeeze(picked, axis=axis)


def binary_cross_entropy_with_logits(labels, logits):
    """Sigmoid cross-entropy per element: max(x, 0) - x * z + log(1 + exp(-|x|)) for logits x, labels z."""
    arr = as_floats(logits, "logits")
    if np.isinf(arr).any():
        raise ValueError("logits contain inf: expected finite logits")
    lab = _as_labels(labels, arr)
    dtype = np.result_type(arr.dtype, lab.dtype)
    work = _work_dtype(np.empty(0, dtype))
    x, z = arr.astype(work), lab.astype(work)
    return (np.maximum(x, 0) - x * z + np.log1p(np.exp(-np.abs(x)))).astype(dtype)


def softmax_cross_entropy_grad(labels, logits, axis=-1):
    """Gradient of `cross_entropy` per instance with respect to the logits: softmax(logits) - labels."""
    arr = as_logits(logits, axis=axis)
    lab = _as_labels(labels, arr)
    return (softmax(arr, axis=axis) - lab).astype(np.result_type(arr.dtype, lab.dtype))
