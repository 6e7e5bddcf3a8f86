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


def _per_row_loss_mistakes(loss, formula):
    """The mistakes both cross-entropy tasks look for first: the batch reduced to one number, the sign flipped
    (`formula` says what the loss is), softmax applied to the logits before the loss."""
    return [
        Mistake(lambda labels, z: np.mean(loss(labels, z)),
                "you returned one number for the whole batch: return one loss per row (reduce with a mean later)."),
        Mistake(lambda labels, z: -loss(labels, z), f"the losses are negative: sign error. {formula}"),
        Mistake(lambda labels, z: loss(labels, numerics.softmax(z)), DOUBLE_SOFTMAX),
    ]

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
        *_per_row_loss_mistakes(numerics.cross_entropy, "Cross-entropy is -sum(labels * log(probs))."),
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
        *_per_row_loss_mistakes(numerics.sparse_cross_entropy, "The loss is -log_softmax(logits)[label_id]."),
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

# Lesson 04, "Why this loss?" (added for issue 10 by lessons-a): the mean negative log-likelihood of a dataset's
# labels, from probabilities, is the mean cross-entropy.


def _true_probs(ids, probs):
    return np.asarray(probs, dtype=float)[np.arange(len(ids)), np.asarray(ids)]


def _mean_nll(ids, probs):
    return -np.mean(np.log(_true_probs(ids, probs)))


NLL_UNDERFLOW = ("the product of 3,000 probabilities underflows to 0 in float64, and log(0) = -inf: "
                 "take the log of each probability first, then average the logs (a sum of logs stays finite).")
MANY_HALVES = (np.zeros(3000, dtype=int), np.tile([0.5, 0.25, 0.25], (3000, 1)))
FOUR_CLASSES = (np.array([3, 0, 2, 2]), np.array([[0.1, 0.2, 0.3, 0.4], [0.7, 0.1, 0.1, 0.1],
                                                  [0.25, 0.25, 0.25, 0.25], [0.05, 0.05, 0.8, 0.1]]))


def _probs(rng, rows, classes):
    return np.round(numerics.softmax(_logits(rng, rows, classes)), 4) + 0.0


register(Task(
    key="mean_nll", function="mean_negative_log_likelihood", reference=_mean_nll,
    cases=[
        Case((np.array([1, 2]), numerics.softmax(Y_HAT))),
        Case(MANY_HALVES, hidden=True, nonfinite=NLL_UNDERFLOW,
             about="3,000 rows of probabilities [0.5, 0.25, 0.25], every label id 0",
             shown="label_ids=[0, 0, ..., 0] (3,000 of them), probs=3,000 rows of [0.5, 0.25, 0.25]"),
        Case(FOUR_CLASSES, hidden=True),
        Case((np.array([0]), np.array([[0.9, 0.1]])), hidden=True),
    ],
    mistakes=[
        Mistake(lambda ids, q: -_mean_nll(ids, q),
                "the result is negative: you forgot the minus sign. The NLL is -mean(log q_true): "
                "log of a probability is <= 0, and the minus makes the loss >= 0."),
        Mistake(lambda ids, q: np.prod(_true_probs(ids, q)),
                "you returned the likelihood itself, the product of the true classes' probabilities. "
                "Take the log of each probability (the log turns the product into a sum), average, and negate."),
        Mistake(lambda ids, q: np.mean(_true_probs(ids, q)),
                "you averaged the probabilities without taking their log: the NLL is -mean(log q_true)."),
        Mistake(lambda ids, q: 1 - np.mean(_true_probs(ids, q)),
                "1 - mean(q_true) is not the NLL: take the log of each true class's probability, average, and negate."),
        Mistake(lambda ids, q: -np.sum(np.log(_true_probs(ids, q))),
                "you returned the sum over the instances (the NLL of the whole dataset): the task asks for the mean "
                "per instance, which is what Keras's losses report. Divide by the number of instances."),
        Mistake(lambda ids, q: -np.mean(np.log(_true_probs(ids, q))) / np.shape(q)[-1],
                "you averaged over every entry of the [batch, classes] array (labels * log(probs)), so the result is "
                "also divided by the number of classes. Average over the instances only: -mean(log q_true)."),
        Mistake(lambda ids, q: -np.mean(np.log(np.asarray(q, dtype=float))),
                "you averaged the log-probabilities of every class: only the true class of each row counts, "
                "q_true = probs[np.arange(len(label_ids)), label_ids]."),
        Mistake(lambda ids, q: -np.mean(np.log(np.asarray(q, dtype=float)[:, np.asarray(ids)])),
                "you picked columns label_ids for every row: pick one entry per row, "
                "probs[np.arange(len(label_ids)), label_ids]."),
        Mistake(lambda ids, q: -np.log(_true_probs(ids, q)),
                "you returned one loss per instance: average them into one number, the mean NLL."),
        Mistake(lambda ids, q: _mean_nll(ids, numerics.softmax(q)),
                "you applied softmax to probabilities: these are a model's probabilities already "
                "(softmax is for logits). Take -mean(log q_true) directly."),
        Mistake(lambda ids, q: _mean_nll(ids, q) / np.log(2), "you used log base 2: use the natural log, np.log."),
        Mistake(lambda ids, q: _mean_nll(ids, q) / np.log(10), "you used log base 10: use the natural log, np.log."),
    ],
    passed=("the lesson's two instances give 0.83934, the mean cross-entropy of worked example E3",
            "3,000 instances stay finite (log 2 each), four classes, a single instance"),
    fresh=lambda rng: [Case((rng.integers(0, 4, size=5), _probs(rng, 5, 4))),
                       Case((rng.integers(0, 3, size=2000), _probs(rng, 2000, 3)), hidden=True,
                            nonfinite=NLL_UNDERFLOW, about="2,000 instances, 3 classes",
                            shown="label_ids (2,000 of them), probs (2,000 rows)")],
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


# ---------------------------------------------------------------- lesson 07: what training puts into the logits
# Plain NumPy tasks: the loss before training, the output bias that matches the class frequencies, and a
# temperature fitted on held-out data (and only there).


def _mean_loss_of_bias(label_ids, bias):
    """The mean cross-entropy when every instance's logits are `bias` (a model whose weights are all 0)."""
    ids = np.asarray(label_ids, dtype=int)
    return float(-numerics.log_softmax(_floats(bias))[ids].mean())


def _frequencies(label_ids, num_classes):
    ids = np.asarray(label_ids, dtype=int)
    return np.bincount(ids, minlength=num_classes) / len(ids)


_IDS_07 = np.array([0, 0, 0, 0, 1, 1, 2, 0, 1, 0])  # class frequencies 0.6 / 0.3 / 0.1

register(Task(
    key="initial_loss", function="initial_loss", reference=_mean_loss_of_bias,
    cases=[
        Case((_IDS_07, np.zeros(3))),
        Case((_IDS_07, np.log(_frequencies(_IDS_07, 3)))),
        Case((_IDS_07, np.array([0.5, -1.0, 2.0]))),
        Case((np.arange(10), np.zeros(10)), hidden=True, expected=np.log(10.0)),
        Case((_IDS_07, np.array([1000.0, 0.0, -1000.0])), hidden=True,
             nonfinite="exp(1000) overflows (or a probability underflows to 0 and log(0) = -inf): use a stable "
                       "log_softmax, bias - max - log(sum(exp(bias - max)))."),
        Case((_IDS_07, np.array([101.0, 102.0, 103.0])), hidden=True),
    ],
    mistakes=[
        Mistake(lambda ids, b: np.log(len(b)),
                "you returned log K whatever the bias: that is the loss only when all logits are equal. "
                "Score the true classes: the mean over instances of -log softmax(bias)[label_id]."),
        Mistake(lambda ids, b: float(-(numerics.softmax(b) * numerics.log_softmax(b)).sum()),
                "that is the entropy of the model's probabilities softmax(bias); the loss scores the labels: "
                "the mean over instances of -log softmax(bias)[label_id]."),
        Mistake(lambda ids, b: -_mean_loss_of_bias(ids, b),
                "the loss is negative: sign error, the loss is -log of the true class's probability."),
        Mistake(lambda ids, b: float(-np.log(_floats(b)[np.asarray(ids)]).mean()),
                "you took the log of the bias itself: the bias holds logits, so apply log_softmax first."),
        Mistake(lambda ids, b: _mean_loss_of_bias(ids, b) * len(ids),
                "that is the sum over the instances: the loss is their mean."),
        Mistake(lambda ids, b: -numerics.log_softmax(_floats(b))[np.asarray(ids, dtype=int)],
                "you returned one loss per instance: return their mean, one number."),
    ],
    passed=("equal logits give log 3, log-frequency logits give the entropy of the frequencies",
            "ten classes give log 10, logits of ±1000 stay finite, a shift of 100 changes nothing"),
    fresh=lambda rng: [Case((rng.integers(0, 4, size=12), np.round(rng.normal(size=4), 2))),
                       Case((rng.integers(0, 3, size=8), np.round(rng.normal(scale=500, size=3), 1)), hidden=True,
                            nonfinite="use a stable log_softmax: bias - max - log(sum(exp(bias - max))).")],
))


def _reference_log_prior_bias(label_ids, num_classes):
    # A class that never appears gets a small floor instead of log(0) = -inf.
    return np.log(np.maximum(_frequencies(label_ids, num_classes), 1e-6))


def _judge_log_prior_bias(case, got, name):
    ids, classes = case.args
    call = f"{name}({show(ids)}, {classes})" if case.shown is None else f"{name}({case.shown})"
    frequencies = _frequencies(ids, classes)
    if isinstance(got, (Opaque, str, dict)) or got is None:
        raise CheckFailed(f"{call} returned {show(got)}: return an array of {classes} numbers, one bias per class.")
    bias = np.asarray(got, dtype=float)
    if bias.shape != (classes,):
        extra = (" Count with np.bincount(label_ids, minlength=num_classes): a class that never appears "
                 "still needs its bias." if bias.shape == (int(np.max(ids)) + 1,) else "")
        raise CheckFailed(f"{call} returned shape {list(bias.shape)}; expected [{classes}], one bias per class.{extra}")
    if not np.isfinite(bias).all():
        raise CheckFailed(
            f"{call} returned {show(bias)}: a class that never appears has frequency 0, and log(0) = -inf would "
            "give nan gradients and a class the model can never predict. Floor the frequencies first, "
            "e.g. np.log(np.maximum(frequencies, 1e-6)).")
    probs = numerics.softmax(bias)
    if np.allclose(probs, frequencies, rtol=0, atol=case.atol):
        return float(np.max(np.abs(probs - frequencies)))
    told = (f"{call} returned {show(bias)}; softmax of it is {show(np.round(probs, 4))}, but the class "
            f"frequencies are {show(np.round(frequencies, 4))}.")
    with np.errstate(all="ignore"):
        wrong = [
            (frequencies, "You returned the frequencies themselves: the bias is their log (softmax(log f) = f)."),
            (frequencies * len(ids), "You returned the counts: take their log (log counts work too: softmax "
                                     "ignores the constant log n)."),
            (-np.log(frequencies),
             "Sign error: the bias is +log(frequency); -log makes the rarest class the likeliest."),
            (np.log(frequencies / (1 - frequencies)),
             "That is each class's log-odds log(f / (1 - f)), the bias for a sigmoid output per class; "
             "softmax needs log(f)."),
            (np.zeros(classes), "Zeros is Keras's default bias: it predicts 1/K for every class. Use log(frequency)."),
        ]
    for alt, message in wrong:
        if alt.shape == bias.shape and np.allclose(bias, alt, rtol=1e-6, atol=1e-9):
            raise CheckFailed(f"{told}\n{message}")
    raise CheckFailed(f"{told}\nChoose the bias so that softmax(bias) equals the frequencies: log(frequency), "
                      "plus any constant you like.")


register(Task(
    key="log_prior_bias", function="log_prior_bias", kind="custom", reference=_reference_log_prior_bias,
    cases=[
        Case((_IDS_07, 3), atol=1e-3),
        Case((np.repeat([0, 1, 2, 3], [70, 20, 9, 1]), 4), atol=1e-3),
        Case((np.array([0, 0, 0, 1, 2, 2]), 5), hidden=True, atol=1e-2, shown="[0, 0, 0, 1, 2, 2], 5"),
        Case((np.repeat([2, 0, 1], [1, 998, 1]), 3), hidden=True, atol=1e-4, shown="998 zeros, one 1, one 2; 3"),
    ],
    judge_data=_judge_log_prior_bias,
    passed=("softmax of your bias gives the class frequencies (a constant added to every bias is fine)",
            "classes that never appear get a finite bias, and a 998-to-1 imbalance is matched"),
    fresh=lambda rng: [Case((rng.choice(3, size=50, p=[0.6, 0.3, 0.1]), 3), atol=1e-3, shown="50 label ids, 3"),
                       Case((rng.choice(4, size=30, p=[0.7, 0.2, 0.1, 0.0]), 6), hidden=True, atol=1e-2,
                            shown="30 label ids, 6")],
))


def _nlls(logits, label_ids, temperatures):
    """The mean NLL of softmax(logits / T) for each T in `temperatures` (one vectorised log_softmax)."""
    z = _floats(logits)[None] / np.asarray(temperatures, dtype=float).reshape(-1, 1, 1)
    ids = np.asarray(label_ids, dtype=int)
    return -numerics.log_softmax(z)[:, np.arange(len(ids)), ids].mean(axis=-1)


def _nll(logits, label_ids, temperature):
    return float(_nlls(logits, label_ids, [temperature])[0])


def _reference_fit_temperature(logits, label_ids):
    """The T > 0 that minimises the mean NLL of softmax(logits / T): a log-spaced search, then finer ones."""
    grid = np.geomspace(0.01, 100.0, 801)
    for _ in range(3):
        best = int(np.argmin(_nlls(logits, label_ids, grid)))
        grid = np.geomspace(grid[max(best - 1, 0)], grid[min(best + 1, len(grid) - 1)], 201)
    return float(grid[np.argmin(_nlls(logits, label_ids, grid))])


def _scaled_logits(rng, n, classes, temperature, scale=2.0):
    """Logits that are calibrated once divided by `temperature`: labels are drawn from softmax(logits / T)."""
    calibrated = rng.normal(scale=scale, size=(n, classes))
    probs = numerics.softmax(calibrated)
    label_ids = np.array([rng.choice(classes, p=p) for p in probs])
    return np.round(calibrated * temperature, 3), label_ids


def _judge_fit_temperature(case, got, name):
    logits, ids = case.args
    call = f"{name}({case.shown})"
    if isinstance(got, (Opaque, str, dict)) or got is None or np.size(got) != 1:
        raise CheckFailed(f"{call} returned {show(got)}: return one number, the temperature T.")
    t = float(np.asarray(got, dtype=float).reshape(()))
    best = _reference_fit_temperature(logits, ids)
    if not np.isfinite(t) or t <= 0:
        raise CheckFailed(f"{call} returned {t!r}: a temperature is a positive number "
                          f"(the best one here is {best:.3f}).")
    if abs(t - best) <= 0.02 * best or _nll(logits, ids, t) <= _nll(logits, ids, best) + 1e-5:
        return abs(t - best)
    told = (f"{call} returned T = {t:.4g}; the T that minimises the mean NLL of softmax(logits / T) is {best:.4g} "
            f"(NLL {_nll(logits, ids, t):.4f} at yours, {_nll(logits, ids, best):.4f} at the best).")
    if abs(t - 1 / best) <= 0.03 / best:
        raise CheckFailed(f"{told}\nYou multiplied the logits by T: divide them, softmax(logits / T).")
    if abs(t - _nll(logits, ids, best)) < 1e-3:
        raise CheckFailed(f"{told}\nYou returned the smallest NLL: return the temperature that gives it.")
    if abs(t - 1) < 1e-9:
        raise CheckFailed(f"{told}\nT = 1 changes nothing: search for the T with the smallest mean NLL.")
    raise CheckFailed(f"{told}\n{case.hint or ''}Search T over a wide range (0.05 to 20, evenly spaced on a log scale, "
                      "e.g. np.geomspace) with a stable NLL (log_softmax, not log(softmax)).")


_RNG_07 = np.random.default_rng(7)
_OVERCONFIDENT = _scaled_logits(_RNG_07, 300, 3, 2.0)
_UNDERCONFIDENT = _scaled_logits(_RNG_07, 300, 4, 0.6)
_VERY_OVERCONFIDENT = _scaled_logits(_RNG_07, 300, 3, 9.0, scale=1.0)
_HUGE = (_OVERCONFIDENT[0] + 500.0, _OVERCONFIDENT[1])  # the same T: a shift of every row changes no softmax

register(Task(
    key="fit_temperature", function="fit_temperature", kind="custom", reference=_reference_fit_temperature,
    cases=[
        Case(_OVERCONFIDENT, shown="300 overconfident logits, their label_ids"),
        Case(_UNDERCONFIDENT, shown="300 underconfident logits, their label_ids"),
        Case(_VERY_OVERCONFIDENT, hidden=True, shown="300 very overconfident logits (T near 9), their label_ids"),
        Case(_HUGE, hidden=True, shown="the same logits + 500, their label_ids",
             hint="exp overflows for logits near 500 divided by a small T. "),
    ],
    judge_data=_judge_fit_temperature,
    passed=("an overconfident model gets T > 1 and an underconfident one T < 1, within 2% of the best T",
            "T near 9 is found, and logits near 500 do not overflow"),
    fresh=lambda rng: [Case(_scaled_logits(rng, 300, 3, float(rng.uniform(0.5, 3.0))), shown="300 logits, label_ids"),
                       Case(_scaled_logits(rng, 300, 5, float(rng.uniform(3.0, 12.0)), scale=1.0), hidden=True,
                            shown="300 logits, label_ids")],
))


def _reference_calibrated(train_logits, train_ids, held_logits, held_ids, logits):
    return numerics.softmax(_floats(logits) / _reference_fit_temperature(held_logits, held_ids))


def _calibration_case(rng, held_temperature, hidden=False,
                      shown="train_logits, train_ids, held_logits, held_ids, logits"):
    # A model that fitted its training data looks right, even underconfident, there; new data show it overconfident.
    train = _scaled_logits(rng, 300, 3, 0.6, scale=3.0)
    held = _scaled_logits(rng, 300, 3, held_temperature, scale=3.0)
    new = np.round(rng.normal(scale=held_temperature, size=(6, 3)), 2)  # moderate: every temperature shows
    return Case((*train, *held, new), hidden=hidden, rtol=0, atol=0.03, shown=shown)


def _fit_on(pick):
    def wrong(train_logits, train_ids, held_logits, held_ids, logits):
        data = pick(train_logits, train_ids, held_logits, held_ids)
        return numerics.softmax(_floats(logits) / _reference_fit_temperature(*data))
    return wrong


register(Task(
    key="calibrated_probabilities", function="calibrated_probabilities", uses=("fit_temperature",),
    reference=_reference_calibrated,
    cases=[_calibration_case(np.random.default_rng(70), 2.5),
           _calibration_case(np.random.default_rng(71), 4.0, hidden=True)],
    mistakes=[
        Mistake(_fit_on(lambda tl, ti, hl, hi: (tl, ti)),
                "you fitted T on the training data: the model has fitted those, so they cannot show how sure it "
                "should be on new data. Fit T on the held-out data."),
        Mistake(_fit_on(lambda tl, ti, hl, hi: (np.concatenate([tl, hl]), np.concatenate([ti, hi]))),
                "you fitted T on the training and held-out data together: fit it on the held-out data only."),
        Mistake(lambda tl, ti, hl, hi, z: numerics.softmax(_floats(z) * _reference_fit_temperature(hl, hi)),
                "you multiplied the logits by T: divide them, softmax(logits / T)."),
        Mistake(lambda tl, ti, hl, hi, z: numerics.softmax(z),
                "these are the uncalibrated probabilities softmax(logits): divide the logits by the fitted T first."),
    ],
    passed=("softmax(logits / T) with T fitted on the held-out data", "a more overconfident model is calibrated too"),
    fresh=lambda rng: [_calibration_case(rng, float(rng.uniform(2.0, 4.0)))],
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

# ---------------------------------------------------------------- exercises 06 and 08: judgement tasks
# Each is judged on scenarios the learner does not choose (fixed ones, and fresh ones drawn when grading),
# so the right answer has to come from reading the numbers, not from recalling one API name.

KERAS_LOSSES = ("CategoricalCrossentropy", "SparseCategoricalCrossentropy", "BinaryCrossentropy")


def _loss_scenario(rng, family, from_logits, rows=4, classes=3):
    """(outputs, labels) for one kind of model: its outputs (logits or probabilities) and its labels."""
    logits = np.round(rng.normal(scale=2.0, size=(rows, classes)), 2)
    logits[0, 0] = -abs(logits[0, 0]) - 1.5  # some logit below 0, so logits never pass for probabilities
    if family == "SparseCategoricalCrossentropy":
        labels = rng.integers(0, classes, size=rows)
    elif family == "CategoricalCrossentropy":
        labels = np.eye(classes)[rng.integers(0, classes, size=rows)]
    else:  # multi-label yes/no: at least one row with no class and one with two
        labels = (rng.random((rows, classes)) < 0.5).astype(float)
        labels[0], labels[1] = 0.0, 0.0
        labels[1, :2] = 1.0
    if from_logits:
        outputs = logits
    elif family == "BinaryCrossentropy":
        outputs = np.round(numerics.sigmoid(logits), 4)
    else:
        outputs = numerics.softmax(logits)
    return outputs.astype(np.float32), labels


def _pick_case(rng, family, from_logits, hidden=False, **shape):
    outputs, labels = _loss_scenario(rng, family, from_logits, **shape)
    return Case((outputs, labels), hidden=hidden, expected={"loss": family, "from_logits": from_logits},
                shown="outputs, labels")


def reference_pick_loss(outputs, labels):
    """The Keras loss for these outputs and labels: the family from the labels, from_logits from the outputs."""
    import tensorflow as tf

    outputs, labels = np.asarray(outputs, dtype=float), np.asarray(labels)
    probabilities = bool(((outputs >= 0) & (outputs <= 1)).all())
    if labels.ndim == outputs.ndim - 1:
        return tf.keras.losses.SparseCategoricalCrossentropy(from_logits=not probabilities)
    if np.allclose(labels.sum(axis=-1), 1.0):
        return tf.keras.losses.CategoricalCrossentropy(from_logits=not probabilities)
    return tf.keras.losses.BinaryCrossentropy(from_logits=not probabilities)


def _probe_pick(pick_loss, case, env):
    loss = pick_loss(*case.args)
    config = loss.get_config() if hasattr(loss, "get_config") else None
    if type(loss).__name__ not in KERAS_LOSSES or not isinstance(config, dict):
        return {"loss": _describe(loss)}
    return {"class": type(loss).__name__, "from_logits": bool(config.get("from_logits", False))}


def _labels_read(labels):
    labels = np.asarray(labels)
    if labels.ndim == 1:
        return f"the labels are class ids, one integer per row (shape {list(labels.shape)})"
    if np.allclose(labels.sum(axis=-1), 1.0):
        return (f"the labels have shape {list(labels.shape)} and every row sums to 1: exactly one class is true "
                "per row (one-hot)")
    return (f"the labels are 0/1 per output and their rows sum to {show(labels.sum(axis=-1))}: "
            "each output is its own yes/no question")


def _outputs_read(outputs, family):
    outputs = np.asarray(outputs, dtype=float)
    span = f"the outputs run from {outputs.min():.4g} to {outputs.max():.4g}"
    if ((outputs >= 0) & (outputs <= 1)).all():
        if family == "BinaryCrossentropy":
            return f"{span}, all inside [0, 1]: they are sigmoid probabilities already"
        return f"{span}, all inside [0, 1], and each row sums to 1: softmax was applied already"
    return f"{span}: outside [0, 1], so they are raw logits"


def _judge_pick(case, got, name):
    outputs, labels = case.args
    family, from_logits = case.expected["loss"], case.expected["from_logits"]
    right = f"tf.keras.losses.{family}(from_logits={from_logits})"
    if "loss" in got:
        raise CheckFailed(f"{name}(outputs, labels) returned {show(got['loss'])}: return a Keras loss object, "
                          f"e.g. tf.keras.losses.{KERAS_LOSSES[0]}(from_logits=...).")
    said = f"{name}(outputs, labels) gave {got['class']}(from_logits={got['from_logits']})"
    if got["class"] != family:
        why = {"SparseCategoricalCrossentropy": "integer class ids go to SparseCategoricalCrossentropy",
               "CategoricalCrossentropy": "one-hot rows go to CategoricalCrossentropy (softmax over the classes)",
               "BinaryCrossentropy": "independent 0/1 labels go to BinaryCrossentropy (a sigmoid per output)"}[family]
        raise CheckFailed(f"{said}; expected {right}.\n{_labels_read(labels).capitalize()}: {why}.")
    if got["from_logits"] != from_logits:
        fix = ("from_logits=True: with False Keras would read logits as probabilities" if from_logits else
               "from_logits=False: with True the loss would apply softmax or sigmoid a second time")
        raise CheckFailed(f"{said}; expected {right}.\n{_outputs_read(outputs, family).capitalize()}: {fix}.")
    return None


_pick_rng = np.random.default_rng(6)
register(Task(
    key="pick_loss", function="pick_loss", kind="custom", reference=reference_pick_loss,
    cases=[_pick_case(_pick_rng, "SparseCategoricalCrossentropy", True),
           _pick_case(_pick_rng, "CategoricalCrossentropy", False),
           _pick_case(_pick_rng, "BinaryCrossentropy", True),
           _pick_case(_pick_rng, "CategoricalCrossentropy", True, hidden=True, rows=5, classes=4),
           _pick_case(_pick_rng, "SparseCategoricalCrossentropy", False, hidden=True, rows=3, classes=5),
           _pick_case(_pick_rng, "BinaryCrossentropy", False, hidden=True, rows=4, classes=2)],
    probe=_probe_pick, judge_data=_judge_pick,
    passed=("integer ids with logits, one-hot rows with probabilities, multi-label yes/no with logits",
            "other shapes, and each family with the other kind of outputs"),
    fresh=lambda rng: [_pick_case(rng, family, bool(flag), hidden=True, rows=int(rng.integers(3, 7)),
                                  classes=int(rng.integers(2, 6)))
                       for family, flag in zip(KERAS_LOSSES, rng.integers(0, 2, size=3))],
))

STALL = "A double softmax turns a perfect prediction [1, 0, ..., 0] into logits [1, 0, ..., 0]"

register(Task(
    key="double_softmax_floor", function="double_softmax_floor",
    reference=lambda k: float(np.log(np.e + k - 1) - 1),
    cases=[Case((3,)), Case((2,), hidden=True), Case((10,), hidden=True), Case((1000,), hidden=True)],
    mistakes=[
        Mistake(lambda k: float(np.log(k)), f"log(num_classes) is the loss of a uniform guess, not the floor. {STALL}: "
                                            "take -log of softmax([1, 0, ..., 0]) at the true class."),
        Mistake(lambda k: 0.0, "with softmax applied twice the loss never reaches 0: that is why it stalls. "
                               f"{STALL}."),
        Mistake(lambda k: float(np.log(np.e + k - 1)),
                "you left out the true class's own logit: -log(e^1 / (e^1 + (k - 1) e^0)) = log(e + k - 1) - 1."),
        Mistake(lambda k: float(np.log(np.e + k) - 1),
                "the true class counts once: the other k - 1 classes add e^0 = 1 each, so log(e + k - 1) - 1."),
    ],
    passed=("3 classes give the 0.5514 the stalled model shows", "2, 10 and 1000 classes give their floors too"),
    fresh=lambda rng: [Case((int(rng.integers(4, 200)),), hidden=True)],
))


def _batch_mean_reference(labels, logits):
    return float(numerics.cross_entropy(labels, logits).mean())


def _batch_case(rng, rows, hidden=False, scale=2.0, classes=4):
    return Case((_one_hot(rng, rows, classes), _logits(rng, rows, classes, scale=scale)), hidden=hidden,
                nonfinite=BATCH_NAN if scale > 100 else "")


BATCH_NAN = ("log(softmax(logits)) gives -inf (and 0 * -inf = nan) once a probability underflows: use "
             "tf.nn.softmax_cross_entropy_with_logits, which works from the logits.")
_batch_rng = np.random.default_rng(8)
register(Task(
    key="batch_mean_loss", function="batch_mean_loss", reference=_batch_mean_reference,
    cases=[Case((LABELS, Y_HAT)),
           Case((np.array([[0.0, 0.0, 1.0]] * 3), np.array([[1.0, 2.0, 3.0]] * 3))),
           _batch_case(_batch_rng, 16, hidden=True),
           _batch_case(_batch_rng, 2, hidden=True, scale=800, classes=3),
           _batch_case(_batch_rng, 64, hidden=True)],
    mistakes=[
        Mistake(lambda y, z: float(numerics.cross_entropy(y, z).sum()),
                "that is the sum over the batch: it grows with the batch size. Take the mean over the rows "
                "(tf.reduce_mean), as Keras does."),
        Mistake(lambda y, z: float(numerics.cross_entropy(y, z).mean() / np.shape(z)[-1]),
                "you averaged over the classes too (a mean over every element of labels * log p): sum over "
                "the classes, then take the mean over the rows."),
        Mistake(lambda y, z: numerics.cross_entropy(y, z),
                "you returned one loss per row: reduce them to one number, their mean."),
    ],
    passed=("E3 gives 0.83934 and E4 gives 0.4076, the mean, whatever the batch size",
            "batches of 2, 16 and 64 rows, and logits of ±800, give the mean loss"),
    fresh=lambda rng: [_batch_case(rng, int(rng.integers(5, 40)), hidden=True)],
))


def _swapped_call(y_hat, y_true):
    """What TF 2 returns for softmax_cross_entropy_with_logits(y_hat, y_true): y_hat is taken as the labels."""
    return -(_floats(y_hat) * numerics.log_softmax(y_true)).sum(axis=-1)


def _swapped_case(rng, rows, classes, hidden=False):
    return Case((_logits(rng, rows, classes, scale=1.5), _one_hot(rng, rows, classes)), hidden=hidden)


register(Task(
    key="positional_call", function="positional_call", reference=_swapped_call,
    cases=[Case((Y_HAT, LABELS)), _swapped_case(np.random.default_rng(9), 4, 5, hidden=True)],
    mistakes=[
        Mistake(lambda y_hat, y_true: numerics.cross_entropy(y_true, y_hat),
                "that is the loss the old code meant (labels=y_true, logits=y_hat). In TensorFlow 2 the first "
                "parameter is labels: the call takes y_hat as the labels and the one-hot y_true as the logits."),
        Mistake(lambda y_hat, y_true: (_floats(y_hat) * numerics.log_softmax(y_true)).sum(axis=-1),
                "sign error: the op returns -sum(labels * log_softmax(logits))."),
        Mistake(lambda y_hat, y_true: _swapped_call(y_hat, y_true).mean(), "the op returns one loss per row; no mean."),
    ],
    passed=("the thread's y_hat and y_true give [1.758, 6.368], not E3's [0.479, 1.200]",
            "a [4, 5] batch you have not seen"),
    fresh=lambda rng: [_swapped_case(rng, int(rng.integers(2, 6)), int(rng.integers(2, 6)), hidden=True)],
))
