"""Every graded task of the exercises, as data: inputs, right answers, named mistakes.

One `Task` per function a learner writes (the format is in `logitlab/checks.py`; how to add one is
in CONTRIBUTING.md). The instant checks (`ll.checks.check_softmax(softmax)`) and the grader
(`python -m logitlab grade`) both read this table, so a learner sees the same messages in
JupyterLab and on the feedback page. Right answers come from `logitlab.numerics`; only the Keras
tasks' probes, which run in the learner's process, import TensorFlow.
"""

import numpy as np

from logitlab import numerics
from logitlab.checks import Case, CheckFailed, Mistake, Opaque, Task, show

TASKS = {}


def register(task):
    """Add a task to the table (its key must be new) and return it."""
    if task.key in TASKS:
        raise ValueError(f"task {task.key!r} is registered twice")
    TASKS[task.key] = task
    return task


def _floats(z):
    return np.asarray(z, dtype=float)


def _logits(rng, rows, classes, scale=2.0):
    """Random logits rounded to 2 decimals, so feedback messages stay readable."""
    return np.round(rng.normal(scale=scale, size=(rows, classes)), 2)


def _one_hot(rng, rows, classes):
    return np.eye(classes)[rng.integers(0, classes, size=rows)]


# ---------------------------------------------------------------- lesson 01: the math logit

register(Task(
    key="logit", function="logit", reference=numerics.logit,
    cases=[
        Case((0.5,), expected=0.0),
        Case((np.array([0.1, 0.5, 0.8, 0.9]),)),
        Case((np.array([0.0, 1.0]),), hidden=True, expected=np.array([-np.inf, np.inf]),
             hint="The logit of 0 is -inf and of 1 is +inf, not nan."),
        Case((np.array([[0.01, 0.25], [0.75, 0.99]]),), hidden=True),
        Case((numerics.sigmoid(np.linspace(-8, 8, 9)),), hidden=True, expected=np.linspace(-8, 8, 9), atol=1e-6,
             hint="logit(sigmoid(z)) should give z back."),
    ],
    mistakes=[
        Mistake(lambda p: np.log(np.asarray(p)),
                "you returned log(p): the logit is the log of the odds, log(p / (1 - p))."),
        Mistake(lambda p: np.log((1 - np.asarray(p)) / np.asarray(p)),
                "sign error: you computed log((1 - p) / p). A probability above 0.5 has a positive logit."),
        Mistake(lambda p: np.asarray(p) / (1 - np.asarray(p)), "you returned the odds p / (1 - p): take their log."),
    ],
    passed=("logit(0.5) = 0, and p = 0.1, 0.8, 0.9 give the right log-odds",
            "p = 0 and 1 give -inf and +inf, a [2, 2] batch keeps its shape, logit(sigmoid(z)) = z"),
    fresh=lambda rng: [Case((np.round(rng.uniform(0.02, 0.98, size=5), 3),)),
                       Case((np.round(rng.uniform(0.001, 0.999, size=(3, 4)), 3),), hidden=True)],
))

SIGMOID_OVERFLOW = ("exp(1000) overflows to inf (and inf / inf is nan). Use 1 / (1 + exp(-z)) for z >= 0 and "
                    "exp(z) / (1 + exp(z)) for z < 0, so exp only ever sees a non-positive number.")

register(Task(
    key="sigmoid", function="sigmoid", reference=numerics.sigmoid,
    cases=[
        Case((0.0,), expected=0.5),
        Case((np.array([-2.0, 0.0, 2.0, 4.0]),)),
        Case((np.array([-1000.0, 1000.0]),), hidden=True, nonfinite=SIGMOID_OVERFLOW),
        Case((np.array([1000.0, -1000.0]),), hidden=True, nonfinite=SIGMOID_OVERFLOW),
        Case((np.array([-20.0, 0.0, 20.0], dtype=np.float16),), hidden=True, rtol=1e-3, atol=1e-3,
             nonfinite=SIGMOID_OVERFLOW),
        Case((np.array([[-3.0, -1.0], [1.0, 3.0]]),), hidden=True),
    ],
    mistakes=[
        Mistake(lambda z: 1 / (1 + np.exp(_floats(z))),
                "sign error: you computed 1 / (1 + exp(z)). sigmoid(z) = 1 / (1 + exp(-z)) grows with z."),
        Mistake(lambda z: np.exp(-_floats(z)) / (1 + np.exp(-_floats(z))),
                "you returned exp(-z) / (1 + exp(-z)), which is sigmoid(-z) = 1 - sigmoid(z): a sign error."),
        Mistake(lambda z: np.exp(_floats(z)), "you returned exp(z): divide by 1 + exp(z) to get a probability."),
    ],
    passed=("sigmoid(0) = 0.5, and z = -2, 2, 4 give the right probabilities",
            "z = ±1000 give 0 and 1 (no overflow), float16 works, a [2, 2] batch keeps its shape"),
    fresh=lambda rng: [Case((np.round(rng.normal(scale=3, size=5), 2),)),
                       Case((np.round(rng.normal(scale=600, size=(2, 3)), 1),), hidden=True,
                            nonfinite=SIGMOID_OVERFLOW)],
))

# ---------------------------------------------------------------- lesson 02: logits as scores

_rng = np.random.default_rng(2)
_X, _W = np.round(_rng.normal(size=(3, 4)), 2), np.round(_rng.normal(size=(4, 5)), 2)
_X1 = np.round(_rng.normal(size=(1, 4)), 2)
_B = np.array([0.5, -1.0, 0.0, 2.0, 0.25])


def _dense_fresh(rng):
    W, b = np.round(rng.normal(size=(3, 4)), 2), np.round(rng.normal(size=4), 2)
    return [Case((np.round(rng.normal(size=(5, 3)), 2), W, b)),
            Case((np.round(rng.normal(size=(1, 3)), 2), W, b), hidden=True)]


register(Task(
    key="dense_logits", function="dense_logits", reference=lambda x, W, b: x @ W + b,
    cases=[Case((_X, _W, _B)), Case((_X1, _W, _B), hidden=True)],
    mistakes=[
        Mistake(lambda x, W, b: x @ W, "you left out the bias b: the logits are x @ W + b."),
        Mistake(lambda x, W, b: numerics.softmax(x @ W + b),
                "these values sum to 1 per row: you applied softmax. Logits are the raw scores before softmax."),
        Mistake(lambda x, W, b: np.maximum(x @ W + b, 0),
                "there are no negative values: you applied relu. The last layer's logits have no activation."),
        Mistake(lambda x, W, b: (x @ W + b).T, "you returned the transpose: logits have shape [batch, classes]."),
    ],
    passed=("a batch of 3 examples with 4 features gives [3, 5] logits with the bias added",
            "a batch of one example keeps its [1, classes] shape"),
    fresh=_dense_fresh,
))

register(Task(
    key="predict_class", function="predict_class", reference=lambda z: np.argmax(z, axis=-1),
    cases=[
        Case((np.array([[2.0, 1.0, 0.1], [-1.0, 3.0, 0.5], [0.2, 0.1, 4.0], [1.5, 2.5, -0.3]]),)),
        Case((np.array([[-5.0, -2.0, -9.0], [1000.0, 999.0, -1000.0]]),), hidden=True),
    ],
    mistakes=[
        Mistake(lambda z: np.argmax(z, axis=0),
                "wrong axis: take the argmax of each row (axis=-1), one class id per example."),
        Mistake(lambda z: np.max(z, axis=-1),
                "you returned the largest logit itself; return its index with np.argmax."),
        Mistake(lambda z: np.argmax(z), "you returned one number for the whole batch: use np.argmax(logits, axis=-1)."),
    ],
    passed=("the highest logit of each of 4 rows gives its class id",
            "all-negative logits and logits near 1000 give the right classes"),
    fresh=lambda rng: [Case((_logits(rng, 6, 4),)), Case((_logits(rng, 3, 5, scale=500) - 2000,), hidden=True)],
))

register(Task(
    key="binary_probability", function="binary_probability", reference=lambda z: numerics.softmax(z)[:, 1],
    cases=[
        Case((np.array([[0.0, 0.0], [1.0, 3.0], [2.0, -1.0]]),),
             nonfinite="exp of a logit of 1000 overflows: compute sigmoid(z1 - z0) stably (see lesson 01's sigmoid)."),
        Case((np.array([[1000.0, 0.0], [0.0, 1000.0], [-1000.0, 1000.0]]),), hidden=True,
             nonfinite="exp of a logit of 1000 overflows: compute sigmoid(z1 - z0) stably (see lesson 01's sigmoid)."),
    ],
    mistakes=[
        Mistake(lambda z: numerics.sigmoid(np.asarray(z)[:, 1]),
                "you used only the class-1 logit: with two logits, P(class 1) = sigmoid(z1 - z0)."),
        Mistake(lambda z: numerics.sigmoid(np.asarray(z)[:, 0] - np.asarray(z)[:, 1]),
                "sign error: you computed sigmoid(z0 - z1), which is P(class 0). Use sigmoid(z1 - z0)."),
        Mistake(lambda z: numerics.softmax(z),
                "you returned both probabilities: return only P(class 1), one number per row."),
    ],
    passed=("equal logits give 0.5 and the difference z1 - z0 decides the rest",
            "logits of ±1000 give probabilities of 0 and 1 without overflow"),
    fresh=lambda rng: [Case((_logits(rng, 4, 2),)), Case((_logits(rng, 3, 2, scale=800),), hidden=True)],
))

# ---------------------------------------------------------------- lesson 03: softmax


def _softmax_axis0(z):
    z = _floats(z)
    e = np.exp(z - z.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)


def _softmax_whole(z):
    z = _floats(z)
    e = np.exp(z - z.max())
    return e / e.sum()


SOFTMAX_MISTAKES = [
    Mistake(lambda z: numerics.softmax(numerics.softmax(z)),
            "this is softmax applied twice (double softmax): apply it once, to the logits."),
    Mistake(_softmax_axis0,
            "wrong axis: rows should sum to 1. Take the max and the sum over axis=-1 with keepdims=True."),
    Mistake(_softmax_whole,
            "you normalized over the whole batch: each row should sum to 1. Sum over axis=-1 with keepdims=True."),
    Mistake(lambda z: np.exp(_floats(z)), "you returned exp(logits): divide by their sum over the row."),
    Mistake(lambda z: _floats(z) / _floats(z).sum(axis=-1, keepdims=True),
            "you divided the logits by their sum: exponentiate first, then divide exp(logits) by its sum."),
]

register(Task(
    key="softmax", function="softmax", reference=numerics.softmax,
    cases=[
        Case((np.array([[0.1, 0.3, 0.5, 0.9]]),)),
        Case((np.array([[0.5, 1.5, 0.1], [2.2, 1.3, 1.7]]),)),
        Case((np.array([[1000.0, 0.0], [-1000.0, 1000.0]]),), hidden=True,
             nonfinite="your softmax returns nan for logits [1000, 0]: subtract the row max before exp."),
        Case((np.array([[20.0, 0.0, -5.0]], dtype=np.float16),), hidden=True, rtol=1e-3, atol=1e-3,
             nonfinite="in float16 exp overflows above 11 (the largest float16 is 65504): "
                       "subtract the row max before exp."),
        Case((np.full((2, 4), 3.0),), hidden=True, expected=np.full((2, 4), 0.25)),
        Case((np.array([[101.0, 102.0, 103.0]]),), hidden=True),
    ],
    mistakes=SOFTMAX_MISTAKES,
    passed=("one row and a [2, 3] batch: each row's probabilities are right and sum to 1",
            "logits of ±1000 and float16 stay finite, equal logits give 0.25 each, a shift changes nothing"),
    fresh=lambda rng: [Case((_logits(rng, 3, 4),)),
                       Case((_logits(rng, 2, 5, scale=400),), hidden=True,
                            nonfinite="exp overflows for large logits: subtract the row max before exp.")],
))

register(Task(
    key="softmax_with_temperature", function="softmax_with_temperature", uses=("softmax",),
    reference=lambda z, t: numerics.softmax(_floats(z) / t),
    cases=[
        Case((np.array([[2.0, 1.0, 0.1]]), 1.0)),
        Case((np.array([[2.0, 1.0, 0.1]]), 2.0)),
        Case((np.array([[2.0, 1.0, 0.1]]), 0.5)),
        Case((np.array([[2.0, 1.0, 0.1]]), 0.001), hidden=True,
             nonfinite="at temperature 0.001 the logits become 2000, 1000, 100 and exp overflows: "
                       "subtract the row max after dividing by the temperature."),
        Case((np.array([[1.0, 2.0], [3.0, 3.0]]), 10.0), hidden=True),
    ],
    mistakes=[
        Mistake(lambda z, t: numerics.softmax(_floats(z) * t),
                "you multiplied by the temperature: divide the logits by it (a higher temperature gives flatter "
                "probabilities)."),
        Mistake(lambda z, t: numerics.softmax(z) / t,
                "you divided the probabilities by the temperature: divide the logits, then apply softmax."),
        Mistake(lambda z, t: numerics.softmax(z),
                "the temperature made no difference: divide the logits by it before softmax."),
    ],
    passed=("T = 1 is plain softmax, T = 2 flattens, T = 0.5 sharpens",
            "a very low temperature does not overflow and a batch keeps its rows"),
    fresh=lambda rng: [Case((_logits(rng, 2, 4), float(rng.choice([0.25, 3.0, 5.0])))),
                       Case((_logits(rng, 2, 3), 0.002), hidden=True,
                            nonfinite="at a very low temperature exp overflows: subtract the row max after dividing "
                                      "by the temperature.")],
))

# ---------------------------------------------------------------- lesson 04: cross-entropy

DOUBLE_SOFTMAX = ("this is the loss of softmax(logits): the loss got probabilities where logits were expected, "
                  "so softmax ran twice (double softmax). Pass the raw logits.")
STABLE_LOG = ("log(softmax(logits)) underflows: the probability of a class 1000 below the top is 0, and log(0) = -inf. "
              "Compute log_softmax directly: logits - max - log(sum(exp(logits - max))).")
Y_HAT = np.array([[0.5, 1.5, 0.1], [2.2, 1.3, 1.7]])  # lesson 04's example logits
LABELS = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])

register(Task(
    key="cross_entropy", function="cross_entropy", reference=numerics.cross_entropy,
    cases=[
        Case((LABELS, Y_HAT)),
        Case((np.array([[0.0, 1.0], [1.0, 0.0]]), np.array([[1000.0, 0.0], [0.0, 0.0]])), hidden=True,
             nonfinite=f"the right loss for the first row is 1000. {STABLE_LOG}"),
        Case((np.array([[0.1, 0.9], [0.5, 0.5]]), np.array([[1.0, 2.0], [3.0, -1.0]])), hidden=True),
        Case((np.eye(4)[[2]], np.zeros((1, 4))), hidden=True, expected=np.array([np.log(4.0)])),
    ],
    mistakes=[
        Mistake(lambda y, z: np.mean(numerics.cross_entropy(y, z)),
                "you returned one number for the whole batch: return one loss per row (reduce with a mean later)."),
        Mistake(lambda y, z: -numerics.cross_entropy(y, z),
                "the losses are negative: sign error. Cross-entropy is -sum(labels * log(probs))."),
        Mistake(lambda y, z: numerics.cross_entropy(y, numerics.softmax(z)), DOUBLE_SOFTMAX),
        Mistake(lambda y, z: -(np.asarray(y) * numerics.softmax(z)).sum(axis=-1),
                "you used the probabilities without their log: cross-entropy is -sum(labels * log(softmax(logits)))."),
        Mistake(lambda y, z: -(np.asarray(y) * np.log(np.asarray(z))).sum(axis=-1),
                "you took the log of the logits: turn them into probabilities with softmax first "
                "(or use log_softmax)."),
        Mistake(lambda y, z: -(np.asarray(y) * numerics.log_softmax(z, axis=0)).sum(axis=0),
                "wrong axis: sum over the classes of each row (axis=-1), not over the batch."),
    ],
    passed=("the [2, 3] example of lesson 04 gives [0.4790107, 1.19967598]",
            "a logit 1000 below the top gives loss 1000, soft labels work, 4 equal logits give log(4)"),
    fresh=lambda rng: [Case((_one_hot(rng, 3, 4), _logits(rng, 3, 4))),
                       Case((_one_hot(rng, 2, 3), _logits(rng, 2, 3, scale=500)), hidden=True,
                            nonfinite=STABLE_LOG)],
))

OUT_OF_RANGE = "Label ids must be 0 to classes - 1 (NumPy even reads -1 as the last class)."
ID_ERRORS = ("ValueError", "InvalidArgumentError")  # NumPy code raises ValueError, TensorFlow's sparse op the other

register(Task(
    key="sparse_cross_entropy", function="sparse_cross_entropy", reference=numerics.sparse_cross_entropy,
    cases=[
        Case((np.array([1, 2]), Y_HAT)),
        Case((np.array([2]), np.array([[1000.0, 0.0, -1000.0]])), hidden=True, expected=np.array([2000.0]),
             nonfinite=f"the right loss is 2000. {STABLE_LOG}"),
        Case((np.array([-1, 0]), Y_HAT), hidden=True, raises=ID_ERRORS, hint=OUT_OF_RANGE,
             about="[-1, 0], logits with 3 classes"),
        Case((np.array([1, 3]), Y_HAT), hidden=True, raises=ID_ERRORS, hint=OUT_OF_RANGE,
             about="[1, 3], logits with 3 classes"),
    ],
    mistakes=[
        Mistake(lambda ids, z: np.mean(numerics.sparse_cross_entropy(ids, z)),
                "you returned one number for the whole batch: return one loss per row."),
        Mistake(lambda ids, z: -numerics.sparse_cross_entropy(ids, z),
                "the losses are negative: sign error, the loss is -log_softmax(logits)[label_id]."),
        Mistake(lambda ids, z: numerics.sparse_cross_entropy(ids, numerics.softmax(z)), DOUBLE_SOFTMAX),
        Mistake(lambda ids, z: -numerics.log_softmax(z)[:, np.asarray(ids)],
                "you picked columns label_ids for every row: pick one entry per row, "
                "logp[np.arange(len(label_ids)), label_ids]."),
    ],
    passed=("label ids [1, 2] give the same [0.4790107, 1.19967598] as the one-hot labels",
            "a logit 2000 below the top gives loss 2000; ids 3 and -1 raise an error"),
    fresh=lambda rng: [Case((rng.integers(0, 4, size=3), _logits(rng, 3, 4))),
                       Case((rng.integers(0, 3, size=2), _logits(rng, 2, 3, scale=500)), hidden=True,
                            nonfinite=STABLE_LOG)],
))

# ---------------------------------------------------------------- lesson 05: numerical stability

LSE_OVERFLOW = ("exp(1000) overflows to inf: subtract the row max, sum exp(logits - max), "
                "take the log and add the max back.")


def _lse_no_max_back(z):
    z = _floats(z)
    return np.log(np.exp(z - z.max(axis=-1, keepdims=True)).sum(axis=-1))


register(Task(
    key="logsumexp", function="logsumexp", reference=numerics.logsumexp,
    cases=[
        Case((np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]]),)),
        Case((np.array([[1000.0, 1000.0], [-1000.0, -1000.0]]),), hidden=True, nonfinite=LSE_OVERFLOW),
        Case((np.array([[20.0, 10.0, 0.0]], dtype=np.float16),), hidden=True, rtol=1e-3, atol=1e-2,
             nonfinite=LSE_OVERFLOW),
    ],
    mistakes=[
        Mistake(_lse_no_max_back,
                "you subtracted the max but did not add it back: logsumexp = max + log(sum(exp(logits - max)))."),
        Mistake(lambda z: np.log(np.exp(_floats(z)).sum(axis=0)),
                "wrong axis: reduce over the last axis (axis=-1), one value per row."),
        Mistake(lambda z: numerics.logsumexp(z, keepdims=True),
                "you kept the reduced axis: return one value per row (keepdims=False)."),
        Mistake(lambda z: np.max(z, axis=-1), "you returned only the max: add log(sum(exp(logits - max)))."),
    ],
    passed=("a [2, 3] batch gives one value per row",
            "rows of ±1000 give 1000 + log 2 and -1000 + log 2; float16 stays finite"),
    fresh=lambda rng: [Case((_logits(rng, 3, 4),)),
                       Case((_logits(rng, 2, 4, scale=500),), hidden=True, nonfinite=LSE_OVERFLOW)],
))

register(Task(
    key="log_softmax", function="log_softmax", reference=numerics.log_softmax, uses=("logsumexp",),
    cases=[
        Case((Y_HAT,)),
        Case((np.array([[1000.0, 0.0, -1000.0]]),), hidden=True,
             nonfinite="log(softmax) gives -inf when a probability underflows to 0: "
                       "compute logits - logsumexp(logits)."),
        Case((np.zeros((3, 5)),), hidden=True, expected=np.full((3, 5), -np.log(5.0))),
    ],
    mistakes=[
        Mistake(lambda z: numerics.softmax(z),
                "you returned probabilities: take their log (better: logits - logsumexp(logits))."),
        Mistake(lambda z: _floats(z) - _floats(z).max(axis=-1, keepdims=True),
                "you subtracted the max but not log(sum(exp(logits - max)))."),
        Mistake(lambda z: numerics.log_softmax(z, axis=0), "wrong axis: normalize each row (axis=-1)."),
        Mistake(lambda z: -numerics.log_softmax(z), "sign error: log-probabilities are never positive."),
    ],
    passed=("a [2, 3] batch gives the log of each row's softmax",
            "logits of ±1000 give -1000 and -2000 instead of -inf; equal logits give -log 5"),
    fresh=lambda rng: [Case((_logits(rng, 3, 4),)),
                       Case((_logits(rng, 2, 4, scale=500),), hidden=True,
                            nonfinite="log(softmax) gives -inf when a probability underflows to 0: "
                                      "compute logits - logsumexp(logits).")],
))

register(Task(
    key="softmax_cross_entropy_grad", function="softmax_cross_entropy_grad", uses=("logsumexp", "log_softmax"),
    reference=numerics.softmax_cross_entropy_grad,
    cases=[
        Case((LABELS, Y_HAT)),
        Case((LABELS, np.array([[1000.0, 0.0, -1000.0], [0.0, 0.0, 0.0]])), hidden=True,
             nonfinite="your softmax inside the gradient overflows at logits of 1000: "
                       "subtract the row max before exp."),
    ],
    mistakes=[
        Mistake(lambda y, z: np.asarray(y) - numerics.softmax(z),
                "sign error: the gradient is softmax(logits) - labels, not labels - softmax."),
        Mistake(lambda y, z: np.asarray(z) - np.asarray(y),
                "you subtracted labels from the logits: subtract them from softmax(logits)."),
        Mistake(lambda y, z: (numerics.softmax(z) - np.asarray(y)) / len(np.asarray(z)),
                "you divided by the batch size: return the gradient of each row's own loss."),
        Mistake(lambda y, z: numerics.softmax(z), "you forgot to subtract the labels."),
    ],
    passed=("the [2, 3] example gives softmax - labels",
            "logits of ±1000 and equal logits give finite gradients whose rows sum to 0"),
    fresh=lambda rng: [Case((_one_hot(rng, 3, 4), _logits(rng, 3, 4))),
                       Case((_one_hot(rng, 2, 3), _logits(rng, 2, 3, scale=500)), hidden=True,
                            nonfinite="your softmax inside the gradient overflows at large logits: subtract the "
                                      "row max before exp.")],
))

# ---------------------------------------------------------------- lessons 06-08: TensorFlow and Keras
# Probes run in the learner's process (they call Keras); judges run wherever the grade is decided
# and see only the data a probe returned.


def _describe(x):
    return Opaque(f"{type(x).__name__} {repr(x)[:120]}")


def _probe_loss(make_loss, case, env):
    loss = make_loss()
    if not callable(loss):
        return {"loss": _describe(loss)}
    try:
        value = loss(*case.args)
    except Exception as err:  # noqa: BLE001 - the loss's own error is the feedback
        return {"error": f"{type(err).__name__}: {err}"[:2000]}
    return {"value": value}


def _judge_loss(sparse):
    kind = "SparseCategoricalCrossentropy" if sparse else "CategoricalCrossentropy"

    def judge(case, got, name):
        labels, y_hat = case.args
        if "loss" in got:
            raise CheckFailed(f"{name}() returned {show(got['loss'])}: return a Keras loss object, "
                              f"e.g. tf.keras.losses.{kind}(...).")
        if "error" in got:
            extra = (f"\nLabels given as class ids need {kind}; one-hot labels go to CategoricalCrossentropy."
                     if sparse else "")
            raise CheckFailed(f"the loss from {name}() raised {got['error']}\n"
                              f"Read the error above, fix your function, run its cell, then this one again.{extra}")
        ids = np.asarray(labels) if sparse else np.argmax(labels, axis=-1)
        value = np.asarray(got.get("value"), dtype=float) if not isinstance(got.get("value"), Opaque) else None
        if value is None or value.shape != ():
            raise CheckFailed(f"the loss from {name}() gives {show(got.get('value'))} for a batch of 2: "
                              "leave the reduction at its default so it returns one number, the mean over the batch.")
        expected = float(numerics.sparse_cross_entropy(ids, _floats(y_hat)).mean())
        # What a loss without from_logits computes: it rescales each row to sum to 1 and takes -log.
        read_as_probs = float(-np.log(y_hat[np.arange(len(ids)), ids] / y_hat.sum(axis=-1)).mean())
        value = float(value)
        if np.isclose(value, expected, rtol=1e-4):
            return abs(value - expected)
        told = f"the loss from {name}() gave {value:.5f} on the lesson's logits; expected {expected:.5f}."
        if np.isclose(value, read_as_probs, rtol=1e-3):
            raise CheckFailed(f"{told}\nIt reads the logits as probabilities: "
                              f"raw logits need {kind}(from_logits=True).")
        if np.isclose(value, 2 * expected, rtol=1e-4):
            raise CheckFailed(f"{told}\nThat is the sum over the batch: keep the default mean reduction.")
        raise CheckFailed(told)

    return judge


_Y32 = Y_HAT.astype(np.float32)
for _sparse in (False, True):
    register(Task(
        key="sparse_keras_loss" if _sparse else "keras_loss",
        function="make_sparse_loss" if _sparse else "make_loss", kind="custom",
        cases=[Case((np.array([1, 2]) if _sparse else LABELS.astype(np.float32), _Y32), shown="")],
        probe=_probe_loss, judge_data=_judge_loss(_sparse),
        passed=(f"on the lesson's [2, 3] example it gives the mean loss "
                f"{float(numerics.sparse_cross_entropy(np.array([1, 2]), Y_HAT).mean()):.5f}", ""),
    ))


def reference_build_model(num_features, num_classes):
    """A small classifier whose last layer outputs logits (lesson 07's answer)."""
    import tensorflow as tf

    return tf.keras.Sequential([tf.keras.Input(shape=(num_features,)), tf.keras.layers.Dense(16, activation="relu"),
                                tf.keras.layers.Dense(num_classes)])


def _model_outputs(model, x):
    try:
        return {"outputs": model(np.asarray(x, dtype=np.float32))}
    except Exception as err:  # noqa: BLE001 - the model's error is the feedback
        return {"error": f"{type(err).__name__}: {err}"[:2000]}


def _probe_logits_model(build_model, case, env):
    features, classes, x = case.args
    model = build_model(features, classes)
    layers = getattr(model, "layers", None)
    if not layers:
        return {"model": _describe(model)}
    last = layers[-1]
    activation = getattr(getattr(last, "activation", None), "__name__", None)
    return {**_model_outputs(model, x), "activation": activation, "last_layer": type(last).__name__}


def _judge_logits_model(case, got, name):
    features, classes, x = case.args
    call = f"{name}({features}, {classes})"
    if "model" in got:
        raise CheckFailed(f"{call} returned {show(got['model'])}: return a Keras model.")
    if "error" in got:
        raise CheckFailed(f"calling the model from {call} on a [{len(x)}, {features}] batch raised {got['error']}")
    out = np.asarray(got["outputs"], dtype=float)
    if out.shape != (len(x), classes):
        raise CheckFailed(f"{call} gave outputs of shape {list(out.shape)} for {len(x)} points; "
                          f"expected [{len(x)}, {classes}]: one logit per class.")
    activation = got.get("activation")
    if activation == "softmax" or got.get("last_layer") == "Softmax" or (
            (out >= 0).all() and np.allclose(out.sum(axis=-1), 1.0, atol=1e-5)):
        raise CheckFailed(
            f"{call}: these outputs sum to 1 per row, so the last layer applies softmax and the loss "
            "would get probabilities where logits were expected.\nEnd with Dense(num_classes) and no activation; "
            "the loss applies softmax itself with from_logits=True.")
    if activation not in (None, "linear"):
        raise CheckFailed(f"{call}: the last layer uses activation '{activation}'; logits need none (activation=None).")
    return None


register(Task(
    key="logits_model", function="build_model", kind="custom", reference=reference_build_model,
    cases=[Case((2, 3, np.array([[0.0, 0.0], [1.0, -1.0], [3.0, 2.0], [-2.0, 0.5]])), shown="2, 3")],
    probe=_probe_logits_model, judge_data=_judge_logits_model,
    passed=("a [4, 2] batch gives [4, 3] logits from a last Dense layer with no activation", ""),
))


def _blobs():
    """Lesson 07's three clusters of 50 points (the same seed as the exercise's setup cell)."""
    rng = np.random.default_rng(0)
    centers = np.array([[0.0, 2.0], [-2.0, -1.0], [2.0, -1.0]])
    label_ids = np.repeat(np.arange(3), 50)
    return (centers[label_ids] + rng.normal(scale=0.6, size=(150, 2))).astype("float32"), label_ids


def _probe_trained_model(train_model, case, env):
    points, label_ids = case.args
    model = env.get("build_model", reference_build_model)(points.shape[1], int(np.max(label_ids)) + 1)
    trained = train_model(model, points, label_ids)
    model = trained if trained is not None else model
    loss = getattr(model, "loss", None)
    facts = {"compiled": loss is not None, "loss_type": type(loss).__name__,
             "loss_name": loss if isinstance(loss, str) else None,
             "from_logits": bool((loss.get_config() if hasattr(loss, "get_config") else {}).get("from_logits", False))}
    return {**facts, **_model_outputs(model, points)}


def _judge_trained_model(case, got, name):
    points, label_ids = case.args
    if not got.get("compiled"):
        raise CheckFailed(f"{name}: the model was never compiled. "
                          "Call model.compile(optimizer=..., loss=...) before fit.")
    if got.get("loss_name") is not None:
        raise CheckFailed(
            f"{name} compiled with loss={got['loss_name']!r}: a loss given by name reads the outputs as probabilities. "
            "Pass tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True).")
    if not got.get("from_logits"):
        raise CheckFailed(
            f"{name} compiled the model with {got.get('loss_type')} without from_logits=True, but the model "
            "outputs logits: the loss reads them as probabilities. Pass from_logits=True.")
    if "error" in got:
        raise CheckFailed(f"calling the model after {name} raised {got['error']}")
    out = np.asarray(got["outputs"], dtype=float)
    if out.shape != (len(points), 3):
        raise CheckFailed(f"after {name} the model gives outputs of shape {list(out.shape)}; "
                          f"expected [{len(points)}, 3].")
    accuracy = float((out.argmax(axis=-1) == np.asarray(label_ids)).mean())
    if accuracy < 0.9:
        raise CheckFailed(
            f"after {name} the model classifies {accuracy:.0%} of the training points right; expected at least 90%.\n"
            "Train for more epochs or with a larger learning rate, and check that the labels match the loss.")
    return None


register(Task(
    key="trained_model", function="train_model", kind="custom", uses=("logits_model",),
    cases=[Case(_blobs(), shown="model, points, label_ids")],
    probe=_probe_trained_model, judge_data=_judge_trained_model,
    passed=("compiled with from_logits=True; it classifies at least 90% of the training points right", ""),
))


def _probe_probability_model(probability_model, case, env):
    (points,) = case.args
    model = env.get("build_model", reference_build_model)(points.shape[1], 3)
    wrapped = probability_model(model)
    if not callable(wrapped):
        return {"model": _describe(wrapped)}
    logits, probs = _model_outputs(model, points), _model_outputs(wrapped, points)
    if "error" in probs:
        return probs
    return {"logits": logits.get("outputs"), "probs": probs["outputs"]}


def _judge_probability_model(case, got, name):
    call = f"{name}(model)"
    if "model" in got:
        raise CheckFailed(f"{call} returned {show(got['model'])}: return a Keras model.")
    if "error" in got:
        raise CheckFailed(f"calling the model from {call} raised {got['error']}")
    logits, probs = np.asarray(got["logits"], dtype=float), np.asarray(got["probs"], dtype=float)
    expected = numerics.softmax(logits)
    if probs.shape != expected.shape:
        raise CheckFailed(f"{call} gives shape {list(probs.shape)}; expected {list(expected.shape)}, like the model.")
    if np.allclose(probs, logits, atol=1e-5):
        raise CheckFailed(f"{call} gives the same numbers as the model: add a Softmax layer after it.")
    if np.allclose(probs, numerics.softmax(expected), atol=1e-5):
        raise CheckFailed(f"{call} applies softmax twice (double softmax): add one Softmax layer to the logits model.")
    if not np.allclose(probs, expected, atol=1e-5):
        raise CheckFailed(f"{call} gives {show(probs[:2])} for the first points; "
                          f"expected the softmax of the model's logits, {show(expected[:2])}.")
    return float(np.max(np.abs(probs - expected)))


register(Task(
    key="probability_model", function="probability_model", kind="custom", uses=("logits_model",),
    cases=[Case((_blobs()[0][:8],), shown="model")],
    probe=_probe_probability_model, judge_data=_judge_probability_model,
    passed=("its outputs are the softmax of the model's logits: each row sums to 1", ""),
))

PROBABILITIES = "Probabilities are all between 0 and 1 and each row sums to 1 (use np.allclose for the sums)."

register(Task(
    key="looks_like_probabilities", function="looks_like_probabilities", kind="value",
    cases=[
        Case((np.array([[0.2, 0.3, 0.5], [0.9, 0.05, 0.05]]),), expected=True, about="rows in [0, 1] that sum to 1",
             hint=PROBABILITIES),
        Case((np.array([[2.0, 1.0, 0.1]]),), expected=False, about="logits above 1", hint=PROBABILITIES),
        Case((np.array([[0.2, 0.3, 0.1]]),), expected=False, about="values in [0, 1] whose row sums to 0.6",
             hint=PROBABILITIES),
        Case((np.array([[1.5, -0.5]]),), expected=False, about="a row that sums to 1 but has a negative value",
             hint=PROBABILITIES),
        Case((np.array([[0.5, 0.5], [0.25, 0.5]]),), expected=False, about="a batch whose second row sums to 0.75",
             hint=PROBABILITIES),
    ],
    passed=("probabilities, logits, short rows, negative values and a mixed batch are told apart", ""),
))
