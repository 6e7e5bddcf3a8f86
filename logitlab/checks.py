"""Exercise checks that read like a tutor: what was tried, what came back, what to do next.

Each `check_*` function calls the learner's function on a few inputs, compares the result with
logitlab's reference numerics and, when it is wrong, names the mistake (a missing max
subtraction, a wrong axis, probabilities where logits were expected, a sign error, ...).
A passing check prints one line starting with a tick. A failing one raises `CheckFailed`, an
AssertionError that IPython shows as its message alone, so a learner never sees a traceback
from inside logitlab and nbgrader scores the test cell 0.
"""

import textwrap
import warnings

import numpy as np

from logitlab import numerics

__all__ = [
    "CheckFailed",
    "NotAnswered",
    "check_logit",
    "check_sigmoid",
    "check_dense_logits",
    "check_predict_class",
    "check_binary_probability",
    "check_softmax",
    "check_softmax_with_temperature",
    "check_cross_entropy",
    "check_sparse_cross_entropy",
    "check_logsumexp",
    "check_log_softmax",
    "check_softmax_cross_entropy_grad",
    "check_keras_loss",
    "check_logits_model",
    "check_probability_model",
    "check_trained_model",
    "check_looks_like_probabilities",
]


class CheckFailed(AssertionError):
    """A check that failed. The message is the feedback; IPython shows only the message."""

    def _render_traceback_(self):
        first, *rest = str(self).splitlines() or [""]
        wrapped = [piece for line in rest for piece in textwrap.wrap(line, 96) or [""]]
        return [f"\x1b[0;31m✗ {first}\x1b[0m"] + [f"  {line}" for line in wrapped]


class NotAnswered(CheckFailed):
    """The task still holds `raise NotImplementedError()`."""


def _passed(name, what):
    print(f"✓ {name}: {what}")


def _show(x):
    """A short, readable repr of a number or array for feedback messages."""
    try:
        arr = np.asarray(x)
    except Exception:  # noqa: BLE001 - anything the learner returned
        return repr(x)[:120]
    if arr.dtype == object:
        return repr(x)[:120]
    text = np.array2string(arr, separator=", ", threshold=12, formatter={"float_kind": lambda v: f"{v:.7g}"})
    return " ".join(text.split())


def _call(name, fn, *args):
    """Call the learner's function; turn 'not answered' and crashes into tutor messages."""
    if not callable(fn):
        raise CheckFailed(f"{name} should be a function, but it is {type(fn).__name__} {_show(fn)}.")
    shown = ", ".join(_show(a) for a in args)
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            return fn(*args)
    except NotImplementedError:
        raise NotAnswered(
            f"{name}: not answered yet. Replace `raise NotImplementedError()` with your code, "
            "run that cell, then run this one again."
        ) from None
    except Exception as err:  # noqa: BLE001 - report any crash of the learner's code as feedback
        raise CheckFailed(
            f"{name}({shown}) raised {type(err).__name__}: {err}\n"
            "Read the error above, fix your function, run its cell, then this one again."
        ) from None


def _as_array(name, got, args):
    try:
        return np.asarray(got, dtype=float)
    except (TypeError, ValueError):
        shown = ", ".join(_show(a) for a in args)
        raise CheckFailed(f"{name}({shown}) returned {_show(got)}, which is not an array of numbers.") from None


def _expect(name, fn, args, expected, mistakes=(), nonfinite=None, rtol=1e-5, atol=1e-7, dtype=None):
    """Check fn(*args) against `expected`; on a mismatch, name the first mistake that matches.

    `mistakes` are (wrong_function, message) pairs: if the learner's result equals
    wrong_function(*args), the message explains that mistake. `nonfinite` is the message used
    when the result has inf or nan where the expected result is finite.
    """
    got = _call(name, fn, *args)
    shown = ", ".join(_show(a) for a in args)
    values = _as_array(name, got, args)
    expected = np.asarray(expected)
    if dtype is not None and np.asarray(got).dtype != dtype:
        raise CheckFailed(
            f"{name}({shown}) returned {np.asarray(got).dtype} values for {np.dtype(dtype)} input: "
            f"keep the input's dtype (TensorFlow does), e.g. by working with the array you were given."
        )
    if values.shape != expected.shape:
        for wrong, message in mistakes:
            alt = _reference(wrong, args)
            if alt is not None and alt.shape == values.shape and np.allclose(values, alt, rtol=rtol, atol=atol, equal_nan=True):
                raise CheckFailed(f"{name}({shown}) returned {_show(got)}.\n{message}")
        raise CheckFailed(
            f"{name}({shown}) returned shape {list(values.shape)}; expected shape {list(expected.shape)}."
        )
    expected_finite = np.isfinite(expected)
    if nonfinite and (~np.isfinite(values) & expected_finite).any():
        raise CheckFailed(f"{name}({shown}) returned {_show(got)}; expected {_show(expected)}.\n{nonfinite}")
    if np.allclose(values, expected, rtol=rtol, atol=atol, equal_nan=False):
        return values
    for wrong, message in mistakes:
        alt = _reference(wrong, args)
        if alt is not None and alt.shape == values.shape and np.allclose(values, alt, rtol=rtol, atol=atol, equal_nan=True):
            raise CheckFailed(f"{name}({shown}) returned {_show(got)}; expected {_show(expected)}.\n{message}")
    raise CheckFailed(f"{name}({shown}) returned {_show(got)}; expected {_show(expected)}.")


def _reference(fn, args):
    """The result of one of our deliberately wrong versions, or None if it does not apply."""
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            return np.asarray(fn(*args), dtype=float)
    except Exception:  # noqa: BLE001 - a wrong version that does not apply to these inputs
        return None


def _name(fn, default):
    """The learner's function name for messages (tasks in later lessons reuse a check)."""
    name = getattr(fn, "__name__", default)
    return name if name.isidentifier() else default


# ---------------------------------------------------------------- lesson 01: the math logit


def check_logit(logit, hard=False):
    """Check a learner's `logit(p)` = log(p / (1 - p)); `hard` adds p = 0 and 1 and batches."""
    mistakes = [
        (lambda p: np.log(np.asarray(p)), "you returned log(p): the logit is the log of the odds, log(p / (1 - p))."),
        (lambda p: np.log((1 - np.asarray(p)) / np.asarray(p)),
         "sign error: you computed log((1 - p) / p). A probability above 0.5 has a positive logit."),
        (lambda p: np.asarray(p) / (1 - np.asarray(p)), "you returned the odds p / (1 - p): take their log."),
    ]
    if not hard:
        _expect("logit", logit, (0.5,), 0.0, mistakes)
        _expect("logit", logit, (np.array([0.1, 0.5, 0.8, 0.9]),), numerics.logit([0.1, 0.5, 0.8, 0.9]), mistakes)
        _passed("logit", "logit(0.5) = 0, and p = 0.1, 0.8, 0.9 give the right log-odds")
        return
    ends = np.array([0.0, 1.0])
    _expect("logit", logit, (ends,), [-np.inf, np.inf], mistakes, nonfinite=None)
    got = _as_array("logit", _call("logit", logit, ends), (ends,))
    if np.isnan(got).any():
        raise CheckFailed(f"logit({_show(ends)}) returned {_show(got)}: the logit of 0 is -inf and of 1 is +inf, not nan.")
    grid = np.array([[0.01, 0.25], [0.75, 0.99]])
    _expect("logit", logit, (grid,), numerics.logit(grid), mistakes)
    z = np.linspace(-8, 8, 9)
    back = _as_array("logit", _call("logit", logit, numerics.sigmoid(z)), (z,))
    if not np.allclose(back, z, atol=1e-6):
        raise CheckFailed(f"logit(sigmoid(z)) should give z back for z = {_show(z)}; got {_show(back)}.")
    _passed("logit", "p = 0 and 1 give -inf and +inf, a [2, 2] batch keeps its shape, logit(sigmoid(z)) = z")


def check_sigmoid(sigmoid, hard=False):
    """Check a learner's `sigmoid(z)`; `hard` adds z = ±1000, float16 and batches."""
    mistakes = [
        (lambda z: 1 / (1 + np.exp(np.asarray(z, float))),
         "sign error: you computed 1 / (1 + exp(z)). sigmoid(z) = 1 / (1 + exp(-z)) grows with z."),
        (lambda z: np.exp(-np.asarray(z, float)) / (1 + np.exp(-np.asarray(z, float))),
         "you returned exp(-z) / (1 + exp(-z)), which is sigmoid(-z) = 1 - sigmoid(z): a sign error."),
        (lambda z: np.exp(np.asarray(z, float)), "you returned exp(z): divide by 1 + exp(z) to get a probability."),
    ]
    if not hard:
        _expect("sigmoid", sigmoid, (0.0,), 0.5, mistakes)
        z = np.array([-2.0, 0.0, 2.0, 4.0])
        _expect("sigmoid", sigmoid, (z,), numerics.sigmoid(z), mistakes)
        _passed("sigmoid", "sigmoid(0) = 0.5, and z = -2, 2, 4 give the right probabilities")
        return
    overflow = ("exp(1000) overflows to inf (and inf / inf is nan). Use 1 / (1 + exp(-z)) for z >= 0 and "
                "exp(z) / (1 + exp(z)) for z < 0, so exp only ever sees a non-positive number.")
    for z in (np.array([-1000.0, 1000.0]), np.array([1000.0, -1000.0])):
        _expect("sigmoid", sigmoid, (z,), numerics.sigmoid(z), mistakes, nonfinite=overflow)
    z16 = np.array([-20.0, 0.0, 20.0], dtype=np.float16)
    _expect("sigmoid", sigmoid, (z16,), numerics.sigmoid(z16), mistakes, nonfinite=overflow, rtol=1e-3, atol=1e-3)
    grid = np.array([[-3.0, -1.0], [1.0, 3.0]])
    _expect("sigmoid", sigmoid, (grid,), numerics.sigmoid(grid), mistakes)
    _passed("sigmoid", "z = ±1000 give 0 and 1 (no overflow), float16 works, a [2, 2] batch keeps its shape")


# ---------------------------------------------------------------- lesson 02: logits as scores


def check_dense_logits(dense_logits, hard=False):
    """Check `dense_logits(x, W, b)` = x @ W + b, the logits of a Dense layer with no activation."""
    rng = np.random.default_rng(2)
    x = np.round(rng.normal(size=(3, 4)), 2)
    W = np.round(rng.normal(size=(4, 5)), 2)
    b = np.array([0.5, -1.0, 0.0, 2.0, 0.25])
    if hard:
        x = np.round(rng.normal(size=(1, 4)), 2)
    expected = x @ W + b
    mistakes = [
        (lambda x, W, b: x @ W, "you left out the bias b: the logits are x @ W + b."),
        (lambda x, W, b: numerics.softmax(x @ W + b),
         "these values sum to 1 per row: you applied softmax. Logits are the raw scores before softmax."),
        (lambda x, W, b: np.maximum(x @ W + b, 0),
         "there are no negative values: you applied relu. The last layer's logits have no activation."),
        (lambda x, W, b: (x @ W + b).T, "you returned the transpose: logits have shape [batch, classes]."),
    ]
    _expect("dense_logits", dense_logits, (x, W, b), expected, mistakes)
    if hard:
        _passed("dense_logits", "a batch of one example keeps its [1, classes] shape")
    else:
        _passed("dense_logits", "a batch of 3 examples with 4 features gives [3, 5] logits with the bias added")


def check_predict_class(predict_class, hard=False):
    """Check `predict_class(logits)`: the id of the highest logit in each row."""
    logits = np.array([[2.0, 1.0, 0.1], [-1.0, 3.0, 0.5], [0.2, 0.1, 4.0], [1.5, 2.5, -0.3]])
    if hard:
        logits = np.array([[-5.0, -2.0, -9.0], [1000.0, 999.0, -1000.0]])
    expected = logits.argmax(axis=-1)
    mistakes = [
        (lambda z: np.argmax(z, axis=0), "wrong axis: take the argmax of each row (axis=-1), one class id per example."),
        (lambda z: np.max(z, axis=-1), "you returned the largest logit itself; return its index with np.argmax."),
        (lambda z: np.argmax(z), "you returned one number for the whole batch: use np.argmax(logits, axis=-1)."),
    ]
    _expect("predict_class", predict_class, (logits,), expected, mistakes)
    if hard:
        _passed("predict_class", "all-negative logits and logits near 1000 give the right classes")
    else:
        _passed("predict_class", "the highest logit of each of 4 rows gives its class id")


def check_binary_probability(binary_probability, hard=False):
    """Check `binary_probability(logits)`: P(class 1) from [batch, 2] logits, sigmoid(z1 - z0)."""
    logits = np.array([[0.0, 0.0], [1.0, 3.0], [2.0, -1.0]])
    if hard:
        logits = np.array([[1000.0, 0.0], [0.0, 1000.0], [-1000.0, 1000.0]])
    expected = numerics.softmax(logits)[:, 1]
    mistakes = [
        (lambda z: numerics.sigmoid(np.asarray(z)[:, 1]),
         "you used only the class-1 logit: with two logits, P(class 1) = sigmoid(z1 - z0)."),
        (lambda z: numerics.sigmoid(np.asarray(z)[:, 0] - np.asarray(z)[:, 1]),
         "sign error: you computed sigmoid(z0 - z1), which is P(class 0). Use sigmoid(z1 - z0)."),
        (lambda z: numerics.softmax(z), "you returned both probabilities: return only P(class 1), one number per row."),
    ]
    _expect("binary_probability", binary_probability, (logits,), expected, mistakes,
            nonfinite="exp of a logit of 1000 overflows: compute sigmoid(z1 - z0) stably (see lesson 01's sigmoid).")
    if hard:
        _passed("binary_probability", "logits of ±1000 give probabilities of 0 and 1 without overflow")
    else:
        _passed("binary_probability", "equal logits give 0.5 and the difference z1 - z0 decides the rest")


# ---------------------------------------------------------------- lesson 03: softmax


def _softmax_mistakes():
    def naive(z):
        e = np.exp(np.asarray(z, float))
        return e / e.sum(axis=-1, keepdims=True)

    def axis0(z):
        z = np.asarray(z, float)
        e = np.exp(z - z.max(axis=0, keepdims=True))
        return e / e.sum(axis=0, keepdims=True)

    def whole(z):
        z = np.asarray(z, float)
        e = np.exp(z - z.max())
        return e / e.sum()

    return naive, [
        (lambda z: numerics.softmax(numerics.softmax(z)),
         "this is softmax applied twice (double softmax): apply it once, to the logits."),
        (axis0, "wrong axis: rows should sum to 1. Take the max and the sum over axis=-1 with keepdims=True."),
        (whole, "you normalized over the whole batch: each row should sum to 1. Sum over axis=-1 with keepdims=True."),
        (lambda z: np.exp(np.asarray(z, float)), "you returned exp(logits): divide by their sum over the row."),
        (lambda z: np.asarray(z, float) / np.asarray(z, float).sum(axis=-1, keepdims=True),
         "you divided the logits by their sum: exponentiate first, then divide exp(logits) by its sum."),
    ]


def check_softmax(softmax, hard=False):
    """Check a learner's `softmax(logits)` over the last axis; `hard` adds ±1000, float16, equal logits."""
    _, mistakes = _softmax_mistakes()
    if not hard:
        e1 = np.array([[0.1, 0.3, 0.5, 0.9]])
        _expect("softmax", softmax, (e1,), numerics.softmax(e1), mistakes)
        e2 = np.array([[0.5, 1.5, 0.1], [2.2, 1.3, 1.7]])
        _expect("softmax", softmax, (e2,), numerics.softmax(e2), mistakes)
        _passed("softmax", "one row and a [2, 3] batch: each row's probabilities are right and sum to 1")
        return
    big = np.array([[1000.0, 0.0], [-1000.0, 1000.0]])
    _expect("softmax", softmax, (big,), numerics.softmax(big), mistakes,
            nonfinite="your softmax returns nan for logits [1000, 0]: subtract the row max before exp.")
    z16 = np.array([[20.0, 0.0, -5.0]], dtype=np.float16)
    _expect("softmax", softmax, (z16,), numerics.softmax(z16), mistakes, rtol=1e-3, atol=1e-3,
            nonfinite="in float16 exp overflows above 11 (the largest float16 is 65504): subtract the row max before exp.")
    equal = np.full((2, 4), 3.0)
    _expect("softmax", softmax, (equal,), np.full((2, 4), 0.25), mistakes)
    shifted = np.array([[1.0, 2.0, 3.0]]) + 100.0
    _expect("softmax", softmax, (shifted,), numerics.softmax(shifted), mistakes)
    _passed("softmax", "logits of ±1000 and float16 stay finite, equal logits give 0.25 each, a shift changes nothing")


def check_softmax_with_temperature(softmax_with_temperature, hard=False):
    """Check `softmax_with_temperature(logits, temperature)` = softmax(logits / temperature)."""
    logits = np.array([[2.0, 1.0, 0.1]])
    mistakes = [
        (lambda z, t: numerics.softmax(np.asarray(z) * t),
         "you multiplied by the temperature: divide the logits by it (a higher temperature gives flatter probabilities)."),
        (lambda z, t: numerics.softmax(z) / t, "you divided the probabilities by the temperature: divide the logits, then apply softmax."),
        (lambda z, t: numerics.softmax(z), "the temperature made no difference: divide the logits by it before softmax."),
    ]
    if not hard:
        for t in (1.0, 2.0, 0.5):
            _expect("softmax_with_temperature", softmax_with_temperature, (logits, t), numerics.softmax(logits / t), mistakes)
        _passed("softmax_with_temperature", "T = 1 is plain softmax, T = 2 flattens, T = 0.5 sharpens")
        return
    cold = 0.001
    _expect("softmax_with_temperature", softmax_with_temperature, (logits, cold), numerics.softmax(logits / cold), mistakes,
            nonfinite="at temperature 0.001 the logits become 2000, 1000, 100 and exp overflows: "
                      "subtract the row max after dividing by the temperature.")
    batch = np.array([[1.0, 2.0], [3.0, 3.0]])
    _expect("softmax_with_temperature", softmax_with_temperature, (batch, 10.0), numerics.softmax(batch / 10.0), mistakes)
    _passed("softmax_with_temperature", "a very low temperature does not overflow and a batch keeps its rows")


# ---------------------------------------------------------------- lesson 04: cross-entropy


DOUBLE_SOFTMAX = ("this is the loss of softmax(logits): the loss got probabilities where logits were expected, "
                  "so softmax ran twice (double softmax). Pass the raw logits.")


def _ce_mistakes():
    return [
        (lambda y, z: np.mean(numerics.cross_entropy(y, z)),
         "you returned one number for the whole batch: return one loss per row (reduce with a mean later)."),
        (lambda y, z: -numerics.cross_entropy(y, z), "the losses are negative: sign error. Cross-entropy is -sum(labels * log(probs))."),
        (lambda y, z: numerics.cross_entropy(y, numerics.softmax(z)),
         DOUBLE_SOFTMAX),
        (lambda y, z: -(np.asarray(y) * numerics.softmax(z)).sum(axis=-1),
         "you used the probabilities without their log: cross-entropy is -sum(labels * log(softmax(logits)))."),
        (lambda y, z: -(np.asarray(y) * np.log(np.asarray(z))).sum(axis=-1),
         "you took the log of the logits: turn them into probabilities with softmax first (or use log_softmax)."),
        (lambda y, z: -(np.asarray(y) * numerics.log_softmax(z, axis=0)).sum(axis=0),
         "wrong axis: sum over the classes of each row (axis=-1), not over the batch."),
    ]


STABLE_LOG = ("log(softmax(logits)) underflows: the probability of a class 1000 below the top is 0, and log(0) = -inf. "
              "Compute log_softmax directly: logits - max - log(sum(exp(logits - max))).")


def check_cross_entropy(cross_entropy, hard=False):
    """Check `cross_entropy(labels, logits)`: one loss per row for one-hot (or soft) labels."""
    name = _name(cross_entropy, "cross_entropy")
    mistakes = _ce_mistakes()
    if not hard:
        y_hat = np.array([[0.5, 1.5, 0.1], [2.2, 1.3, 1.7]])
        labels = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
        _expect(name, cross_entropy, (labels, y_hat), numerics.cross_entropy(labels, y_hat), mistakes)
        _passed(name, "the [2, 3] example of lesson 04 gives [0.4790107, 1.19967598]")
        return
    big = np.array([[1000.0, 0.0], [0.0, 0.0]])
    labels = np.array([[0.0, 1.0], [1.0, 0.0]])
    _expect(name, cross_entropy, (labels, big), numerics.cross_entropy(labels, big), mistakes,
            nonfinite=f"the right loss for the first row is 1000. {STABLE_LOG}")
    soft = np.array([[0.1, 0.9], [0.5, 0.5]])
    z = np.array([[1.0, 2.0], [3.0, -1.0]])
    _expect(name, cross_entropy, (soft, z), numerics.cross_entropy(soft, z), mistakes)
    equal = np.zeros((1, 4))
    _expect(name, cross_entropy, (np.eye(4)[[2]], equal), [np.log(4.0)], mistakes)
    _passed(name, "a logit 1000 below the top gives loss 1000, soft labels work, 4 equal logits give log(4)")


def check_sparse_cross_entropy(sparse_cross_entropy, hard=False, error=ValueError):
    """Check `sparse_cross_entropy(label_ids, logits)`: one loss per row for integer class ids.

    `hard` also checks that out-of-range ids raise `error` (ValueError for NumPy code; TensorFlow's
    sparse op raises InvalidArgumentError).
    """
    name = _name(sparse_cross_entropy, "sparse_cross_entropy")
    y_hat = np.array([[0.5, 1.5, 0.1], [2.2, 1.3, 1.7]])
    mistakes = [
        (lambda ids, z: np.mean(numerics.sparse_cross_entropy(ids, z)),
         "you returned one number for the whole batch: return one loss per row."),
        (lambda ids, z: -numerics.sparse_cross_entropy(ids, z), "the losses are negative: sign error, the loss is -log_softmax(logits)[label_id]."),
        (lambda ids, z: numerics.sparse_cross_entropy(ids, numerics.softmax(z)),
         DOUBLE_SOFTMAX),
        (lambda ids, z: -numerics.log_softmax(z)[:, np.asarray(ids)],
         "you picked columns label_ids for every row: pick one entry per row, logp[np.arange(len(label_ids)), label_ids]."),
    ]
    if not hard:
        ids = np.array([1, 2])
        _expect(name, sparse_cross_entropy, (ids, y_hat), numerics.sparse_cross_entropy(ids, y_hat), mistakes)
        _passed(name, "label ids [1, 2] give the same [0.4790107, 1.19967598] as the one-hot labels")
        return
    big = np.array([[1000.0, 0.0, -1000.0]])
    _expect(name, sparse_cross_entropy, (np.array([2]), big), [2000.0], mistakes,
            nonfinite=f"the right loss is 2000. {STABLE_LOG}")
    for bad in (np.array([-1, 0]), np.array([1, 3])):
        try:
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                got = sparse_cross_entropy(bad, y_hat)
        except NotImplementedError:
            raise NotAnswered(f"{name}: not answered yet. Replace `raise NotImplementedError()` with your code.") from None
        except error:
            continue
        except Exception as err:  # noqa: BLE001 - the learner's error type is the feedback
            raise CheckFailed(
                f"{name}({_show(bad)}, logits with 3 classes) raised {type(err).__name__}: {err}\n"
                f"Check the ids first and raise {error.__name__} saying the ids must be 0, 1 or 2."
            ) from None
        raise CheckFailed(
            f"{name}({_show(bad)}, logits with 3 classes) returned {_show(got)} instead of an error.\n"
            "Label ids must be 0 to classes - 1 (NumPy even reads -1 as the last class): "
            f"raise {error.__name__} saying so."
        )
    _passed(name, f"a logit 2000 below the top gives loss 2000; ids 3 and -1 raise {error.__name__}")


# ---------------------------------------------------------------- lesson 05: numerical stability


def check_logsumexp(logsumexp, hard=False):
    """Check `logsumexp(logits)` over the last axis."""
    def no_max_back(z):
        z = np.asarray(z, float)
        return np.log(np.exp(z - z.max(axis=-1, keepdims=True)).sum(axis=-1))

    mistakes = [
        (no_max_back, "you subtracted the max but did not add it back: logsumexp = max + log(sum(exp(logits - max)))."),
        (lambda z: np.log(np.exp(np.asarray(z, float)).sum(axis=0)), "wrong axis: reduce over the last axis (axis=-1), one value per row."),
        (lambda z: numerics.logsumexp(z, keepdims=True), "you kept the reduced axis: return one value per row (keepdims=False)."),
        (lambda z: np.max(z, axis=-1), "you returned only the max: add log(sum(exp(logits - max)))."),
    ]
    overflow = "exp(1000) overflows to inf: subtract the row max, sum exp(logits - max), take the log and add the max back."
    if not hard:
        z = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
        _expect("logsumexp", logsumexp, (z,), numerics.logsumexp(z), mistakes)
        _passed("logsumexp", "a [2, 3] batch gives one value per row")
        return
    big = np.array([[1000.0, 1000.0], [-1000.0, -1000.0]])
    _expect("logsumexp", logsumexp, (big,), numerics.logsumexp(big), mistakes, nonfinite=overflow)
    z16 = np.array([[20.0, 10.0, 0.0]], dtype=np.float16)
    _expect("logsumexp", logsumexp, (z16,), numerics.logsumexp(z16), mistakes, nonfinite=overflow, rtol=1e-3, atol=1e-2)
    _passed("logsumexp", "rows of ±1000 give 1000 + log 2 and -1000 + log 2; float16 stays finite")


def check_log_softmax(log_softmax, hard=False):
    """Check `log_softmax(logits)` over the last axis."""
    mistakes = [
        (lambda z: numerics.softmax(z), "you returned probabilities: take their log (better: logits - logsumexp(logits))."),
        (lambda z: np.asarray(z, float) - np.asarray(z, float).max(axis=-1, keepdims=True),
         "you subtracted the max but not log(sum(exp(logits - max)))."),
        (lambda z: numerics.log_softmax(z, axis=0), "wrong axis: normalize each row (axis=-1)."),
        (lambda z: -numerics.log_softmax(z), "sign error: log-probabilities are never positive."),
    ]
    if not hard:
        z = np.array([[0.5, 1.5, 0.1], [2.2, 1.3, 1.7]])
        _expect("log_softmax", log_softmax, (z,), numerics.log_softmax(z), mistakes)
        _passed("log_softmax", "a [2, 3] batch gives the log of each row's softmax")
        return
    big = np.array([[1000.0, 0.0, -1000.0]])
    _expect("log_softmax", log_softmax, (big,), numerics.log_softmax(big), mistakes,
            nonfinite="log(softmax) gives -inf when a probability underflows to 0: compute logits - logsumexp(logits).")
    equal = np.zeros((3, 5))
    _expect("log_softmax", log_softmax, (equal,), np.full((3, 5), -np.log(5.0)), mistakes)
    _passed("log_softmax", "logits of ±1000 give -1000 and -2000 instead of -inf; equal logits give -log 5")


def check_softmax_cross_entropy_grad(grad, hard=False):
    """Check `softmax_cross_entropy_grad(labels, logits)` = softmax(logits) - labels, per row."""
    mistakes = [
        (lambda y, z: np.asarray(y) - numerics.softmax(z), "sign error: the gradient is softmax(logits) - labels, not labels - softmax."),
        (lambda y, z: np.asarray(z) - np.asarray(y), "you subtracted labels from the logits: subtract them from softmax(logits)."),
        (lambda y, z: (numerics.softmax(z) - np.asarray(y)) / len(np.asarray(z)),
         "you divided by the batch size: return the gradient of each row's own loss."),
        (lambda y, z: numerics.softmax(z), "you forgot to subtract the labels."),
    ]
    labels = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    if not hard:
        z = np.array([[0.5, 1.5, 0.1], [2.2, 1.3, 1.7]])
        _expect("softmax_cross_entropy_grad", grad, (labels, z), numerics.softmax_cross_entropy_grad(labels, z), mistakes)
        _passed("softmax_cross_entropy_grad", "the [2, 3] example gives softmax - labels")
        return
    big = np.array([[1000.0, 0.0, -1000.0], [0.0, 0.0, 0.0]])
    _expect("softmax_cross_entropy_grad", grad, (labels, big), numerics.softmax_cross_entropy_grad(labels, big), mistakes,
            nonfinite="your softmax inside the gradient overflows at logits of 1000: subtract the row max before exp.")
    _passed("softmax_cross_entropy_grad", "logits of ±1000 and equal logits give finite gradients whose rows sum to 0")


# ---------------------------------------------------------------- lessons 06-08: TensorFlow and Keras


def check_keras_loss(make_loss, sparse=False):
    """Check a function returning a Keras loss that scores raw logits (from_logits=True, mean reduction)."""
    name = "make_sparse_loss" if sparse else "make_loss"
    kind = "SparseCategoricalCrossentropy" if sparse else "CategoricalCrossentropy"
    loss = _call(name, make_loss)
    if not callable(loss):
        raise CheckFailed(f"{name}() returned {_show(loss)}: return a Keras loss object, e.g. tf.keras.losses.{kind}(...).")
    y_hat = np.array([[0.5, 1.5, 0.1], [2.2, 1.3, 1.7]], dtype=np.float32)
    ids = np.array([1, 2])
    labels = ids if sparse else np.eye(3, dtype=np.float32)[ids]
    try:
        value = _as_array(name, _call(f"the loss from {name}()", loss, labels, y_hat), (labels, y_hat))
    except CheckFailed as failed:
        if sparse:
            raise CheckFailed(f"{failed}\nLabels given as class ids need {kind}; one-hot labels go to CategoricalCrossentropy.") from None
        raise
    expected = float(numerics.sparse_cross_entropy(ids, y_hat.astype(float)).mean())
    # What a loss without from_logits computes: it rescales each row to sum to 1 and takes -log.
    read_as_probs = float(-np.log(y_hat[[0, 1], ids] / y_hat.sum(axis=-1)).mean())
    if value.shape != ():
        raise CheckFailed(
            f"the loss from {name}() gives {_show(value)} for a batch of 2: "
            "leave the reduction at its default so it returns one number, the mean over the batch."
        )
    value = float(value)
    if np.isclose(value, expected, rtol=1e-4):
        _passed(name, f"on the lesson's [2, 3] example it gives the mean loss {expected:.5f}")
        return
    told = f"the loss from {name}() gave {value:.5f} on the lesson's logits; expected {expected:.5f}."
    if np.isclose(value, read_as_probs, rtol=1e-3):
        raise CheckFailed(f"{told}\nIt reads the logits as probabilities: raw logits need {kind}(from_logits=True).")
    if np.isclose(value, 2 * expected, rtol=1e-4):
        raise CheckFailed(f"{told}\nThat is the sum over the batch: keep the default mean reduction.")
    raise CheckFailed(told)


def _model_outputs(name, model, x):
    try:
        out = model(np.asarray(x, dtype=np.float32))
    except Exception as err:  # noqa: BLE001 - report the learner's model error as feedback
        raise CheckFailed(f"calling the model from {name} on a [{len(x)}, {x.shape[1]}] batch raised {type(err).__name__}: {err}") from None
    return np.asarray(out, dtype=float)


def check_logits_model(build_model):
    """Check `build_model(num_features, num_classes)`: a Keras model whose last layer outputs logits."""
    model = _call("build_model", build_model, 2, 3)
    x = np.array([[0.0, 0.0], [1.0, -1.0], [3.0, 2.0], [-2.0, 0.5]])
    out = _model_outputs("build_model(2, 3)", model, x)
    if out.shape != (4, 3):
        raise CheckFailed(f"build_model(2, 3) gave outputs of shape {list(out.shape)} for 4 points; expected [4, 3]: one logit per class.")
    last = model.layers[-1]
    activation = getattr(getattr(last, "activation", None), "__name__", None)
    if activation == "softmax" or type(last).__name__ == "Softmax" or (
            (out >= 0).all() and np.allclose(out.sum(axis=-1), 1.0, atol=1e-5)):
        raise CheckFailed(
            "build_model(2, 3): these outputs sum to 1 per row, so the last layer applies softmax and the loss "
            "would get probabilities where logits were expected.\nEnd with Dense(num_classes) and no activation; "
            "the loss applies softmax itself with from_logits=True."
        )
    if activation not in (None, "linear"):
        raise CheckFailed(f"build_model(2, 3): the last layer uses activation '{activation}'; logits need none (activation=None).")
    _passed("build_model", "a [4, 2] batch gives [4, 3] logits from a last Dense layer with no activation")


def check_trained_model(train_model, build_model, points, label_ids):
    """Check `train_model(model, points, label_ids)`: compiles with a from_logits loss and fits well."""
    model = _call("build_model", build_model, points.shape[1], int(np.max(label_ids)) + 1)
    trained = _call("train_model", train_model, model, points, label_ids)
    model = trained if trained is not None else model
    loss = getattr(model, "loss", None)
    if loss is None:
        raise CheckFailed("train_model: the model was never compiled. Call model.compile(optimizer=..., loss=...) before fit.")
    if isinstance(loss, str):
        raise CheckFailed(
            f"train_model compiled with loss={loss!r}: a loss given by name reads the outputs as probabilities. "
            "Pass tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)."
        )
    config = loss.get_config() if hasattr(loss, "get_config") else {}
    if not config.get("from_logits", False):
        raise CheckFailed(
            f"train_model compiled the model with {type(loss).__name__} without from_logits=True, but the model "
            "outputs logits: the loss reads them as probabilities. Pass from_logits=True."
        )
    out = _model_outputs("train_model", model, points)
    accuracy = float((out.argmax(axis=-1) == np.asarray(label_ids)).mean())
    if accuracy < 0.9:
        raise CheckFailed(
            f"after train_model the model classifies {accuracy:.0%} of the training points right; expected at least 90%.\n"
            "Train for more epochs or with a larger learning rate, and check that the labels match the loss."
        )
    _passed("train_model", "compiled with from_logits=True; it classifies at least 90% of the training points right")


def check_probability_model(probability_model, build_model, points):
    """Check `probability_model(model)`: the model followed by softmax, giving probabilities."""
    model = _call("build_model", build_model, points.shape[1], 3)
    wrapped = _call("probability_model", probability_model, model)
    logits = _model_outputs("build_model", model, points)
    probs = _model_outputs("probability_model", wrapped, points)
    expected = numerics.softmax(logits)
    if probs.shape != expected.shape:
        raise CheckFailed(f"probability_model(model) gives shape {list(probs.shape)}; expected {list(expected.shape)}, like the model.")
    if np.allclose(probs, logits, atol=1e-5):
        raise CheckFailed("probability_model(model) gives the same numbers as the model: add a Softmax layer after it.")
    if np.allclose(probs, numerics.softmax(expected), atol=1e-5):
        raise CheckFailed("probability_model(model) applies softmax twice (double softmax): add one Softmax layer to the logits model.")
    if not np.allclose(probs, expected, atol=1e-5):
        raise CheckFailed(
            f"probability_model(model) gives {_show(probs[:2])} for the first points; "
            f"expected the softmax of the model's logits, {_show(expected[:2])}."
        )
    _passed("probability_model", "its outputs are the softmax of the model's logits: each row sums to 1")


def check_looks_like_probabilities(looks_like_probabilities):
    """Check `looks_like_probabilities(x)`: True when every row is in [0, 1] and sums to 1."""
    cases = [
        (np.array([[0.2, 0.3, 0.5], [0.9, 0.05, 0.05]]), True, "rows in [0, 1] that sum to 1"),
        (np.array([[2.0, 1.0, 0.1]]), False, "logits above 1"),
        (np.array([[0.2, 0.3, 0.1]]), False, "values in [0, 1] whose row sums to 0.6"),
        (np.array([[1.5, -0.5]]), False, "a row that sums to 1 but has a negative value"),
        (np.array([[0.5, 0.5], [0.25, 0.5]]), False, "a batch whose second row sums to 0.75"),
    ]
    for x, expected, what in cases:
        got = _call("looks_like_probabilities", looks_like_probabilities, x)
        if bool(got) != expected:
            raise CheckFailed(
                f"looks_like_probabilities({_show(x)}) returned {got!r} for {what}; expected {expected}.\n"
                "Probabilities are all between 0 and 1 and each row sums to 1 (use np.allclose for the sums)."
            )
    _passed("looks_like_probabilities", "probabilities, logits, short rows, negative values and a mixed batch are told apart")
