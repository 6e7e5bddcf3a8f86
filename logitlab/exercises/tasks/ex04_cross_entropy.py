"""Exercise 04, cross-entropy: `cross_entropy`, `sparse_cross_entropy`, `mean_negative_log_likelihood`."""

import numpy as np

from logitlab import numerics
from logitlab.i18n import N_, _
from logitlab.exercises.format import Case, Mistake, Task
from logitlab.exercises.tasks.common import LABELS, Y_HAT, random_logits, random_one_hot, register, wrong_log_base

# ---------------------------------------------------------------- lesson 04: cross-entropy

DOUBLE_SOFTMAX = N_("this is the loss of softmax(logits): the loss got probabilities where logits were expected, "
                    "so softmax ran twice (double softmax). Pass the raw logits.")
LOG_FREE = N_("Never take the log of a probability: loss = logsumexp(logits) - sum(labels * logits) "
              "(for one-hot labels, logsumexp(logits) - logits[true]), "
              "with logsumexp = max + log(sum(exp(logits - max))).")


def stable_log(first=""):
    """The message for a loss that came back nan or inf, by what came back (`first` is said before it)."""
    def message(values):
        if np.isnan(values).any():
            why = (N_("your loss is nan: either exp overflowed (exp(1000) = inf, and inf / inf = nan), or a label of 0 "
                   "met log(0) = -inf (0 * -inf = nan)."))
        else:
            why = (N_("your loss is infinite: log(softmax(logits)) underflows, since the probability of a class 1000 "
                   "below the top is 0 in floating point and log(0) = -inf."))
        return f"{_(first)}{_(why)} {_(LOG_FREE)}"
    return message


STABLE_LOG = stable_log()
EPSILON = 1e-7  # Keras's backend.epsilon(), the clip of a loss that reads probabilities


def keras_probabilities_loss(labels, logits):
    """What Keras's categorical cross-entropy does with logits when from_logits is left False: it takes them for
    probabilities, divides by their sum and clips to [1e-7, 1 - 1e-7] (keras/src/backend/tensorflow/nn.py)."""
    z = np.asarray(logits, dtype=float)
    q = np.clip(z / z.sum(axis=-1, keepdims=True), EPSILON, 1 - EPSILON)
    return -(np.asarray(labels) * np.log(q)).sum(axis=-1)


def keras_sparse_probabilities_loss(label_ids, logits):
    """Keras's sparse categorical cross-entropy with from_logits False: clip to [1e-7, 1 - 1e-7], log, then the
    fused sparse op, which normalizes the clipped values again."""
    c = np.clip(np.asarray(logits, dtype=float), EPSILON, 1 - EPSILON)
    return -np.log(c[np.arange(len(c)), np.asarray(label_ids)] / c.sum(axis=-1))


FROM_LOGITS = N_("this is what Keras returns when it takes the logits for probabilities: from_logits was left False. "
                 "Pass from_logits=True (or compute the loss from the logits yourself).")
MEAN_OVER_CLASSES = N_("your losses are divided by the number of classes: you averaged over the classes. "
                       "Sum over the classes of each row (the labels pick the true class); "
                       "average over the batch later.")

def _per_row_loss_mistakes(loss, formula):
    """The mistakes both cross-entropy tasks look for first: the batch reduced to one number, the sign flipped
    (`formula` says what the loss is), softmax applied to the logits before the loss."""
    return [
        Mistake(lambda labels, z: np.mean(loss(labels, z)),
                N_("you returned one number for the whole batch: return one loss per row (reduce with a mean later).")),
        Mistake(lambda labels, z: -loss(labels, z), f"the losses are negative: sign error. {formula}"),
        Mistake(lambda labels, z: loss(labels, numerics.softmax(z)), DOUBLE_SOFTMAX),
        Mistake(lambda labels, z: loss(labels, z) / np.shape(z)[-1], MEAN_OVER_CLASSES),
    ]


register(Task(
    key="cross_entropy", function="cross_entropy", reference=numerics.cross_entropy,
    cases=[
        Case((LABELS, Y_HAT)),
        Case((np.array([[0.0, 1.0], [1.0, 0.0]]), np.array([[1000.0, 0.0], [0.0, 0.0]])), hidden=True,
             nonfinite=stable_log(N_("the right loss for the first row is 1000; "))),
        Case((np.array([[0.1, 0.9], [0.5, 0.5]]), np.array([[1.0, 2.0], [3.0, -1.0]])), hidden=True),
        Case((np.eye(4)[[2]], np.zeros((1, 4))), hidden=True, expected=np.array([np.log(4.0)])),
    ],
    mistakes=[
        *_per_row_loss_mistakes(numerics.cross_entropy, "Cross-entropy is -sum(labels * log(probs))."),
        Mistake(lambda y, z: -(np.asarray(y) * numerics.softmax(z)).sum(axis=-1),
                N_("you used the probabilities without their log: cross-entropy is -sum(labels * "
                   "log(softmax(logits))).")),
        Mistake(lambda y, z: -(np.asarray(y) * np.log(np.asarray(z))).sum(axis=-1),
                N_("you took the log of the logits: turn them into probabilities with softmax first "
                   "(or use log_softmax).")),
        Mistake(lambda y, z: -(np.asarray(y) * numerics.log_softmax(z, axis=0)).sum(axis=0),
                N_("wrong axis: sum over the classes of each row (axis=-1), not over the batch.")),
        Mistake(keras_probabilities_loss, FROM_LOGITS),
        Mistake(lambda y, z: np.mean(keras_probabilities_loss(y, z)), FROM_LOGITS),
        Mistake(lambda y, z: -(np.asarray(z) * numerics.log_softmax(y)).sum(axis=-1),
                N_("labels and logits are swapped: tf.nn.softmax_cross_entropy_with_logits(logits, labels) called "
                   "positionally (the pre-1.0 order) runs without error in TF 2 and gives this. "
                "Name the arguments: labels=..., logits=....")),
        Mistake(lambda y, z: -(np.asarray(y) * np.log(np.clip(numerics.softmax(z), 1e-7, 1.0))).sum(axis=-1),
                N_("you clipped the probabilities at 1e-7 before the log: a logit 1000 below the top then costs 16.1 "
                   "instead of 1000. Use log_softmax (the logits minus their logsumexp), which needs no clipping.")),
        *wrong_log_base(numerics.cross_entropy),
    ],
    passed=(N_("the [2, 3] example of lesson 04 gives [0.4790107, 1.19967598]"),
            N_("a logit 1000 below the top gives loss 1000, soft labels work, 4 equal logits give log(4)")),
    fresh=lambda rng: [Case((random_one_hot(rng, 3, 4), random_logits(rng, 3, 4))),
                       Case((random_one_hot(rng, 2, 3), random_logits(rng, 2, 3, scale=500)), hidden=True,
                            nonfinite=STABLE_LOG)],
))

OUT_OF_RANGE = N_("Label ids must be 0 to classes - 1 (NumPy even reads -1 as the last class).")
# NumPy code raises ValueError; TensorFlow's sparse op raises InvalidArgumentError on a CPU (eagerly; on a GPU,
# or under XLA, it returns nan rows instead, which the judge rejects as "instead of an error").
ID_ERRORS = ("ValueError", "InvalidArgumentError")

register(Task(
    key="sparse_cross_entropy", function="sparse_cross_entropy", reference=numerics.sparse_cross_entropy,
    cases=[
        Case((np.array([1, 2]), Y_HAT)),
        Case((np.array([2]), np.array([[1000.0, 0.0, -1000.0]])), hidden=True, expected=np.array([2000.0]),
             nonfinite=stable_log(N_("the right loss is 2000; "))),
        Case((np.array([-1, 0]), Y_HAT), hidden=True, raises=ID_ERRORS, hint=OUT_OF_RANGE,
             about=N_("[-1, 0], logits with 3 classes")),
        Case((np.array([1, 3]), Y_HAT), hidden=True, raises=ID_ERRORS, hint=OUT_OF_RANGE,
             about=N_("[1, 3], logits with 3 classes")),
    ],
    mistakes=[
        *_per_row_loss_mistakes(numerics.sparse_cross_entropy, "The loss is -log_softmax(logits)[label_id]."),
        Mistake(lambda ids, z: -numerics.log_softmax(z)[:, np.asarray(ids)],
                N_("you picked columns label_ids for every row: pick one entry per row, "
                   "logp[np.arange(len(label_ids)), label_ids].")),
        Mistake(keras_sparse_probabilities_loss, FROM_LOGITS),
        Mistake(lambda ids, z: np.mean(keras_sparse_probabilities_loss(ids, z)), FROM_LOGITS),

        *wrong_log_base(numerics.sparse_cross_entropy),
    ],
    passed=(N_("label ids [1, 2] give the same [0.4790107, 1.19967598] as the one-hot labels"),
            N_("a logit 2000 below the top gives loss 2000; ids 3 and -1 raise an error")),
    fresh=lambda rng: [Case((rng.integers(0, 4, size=3), random_logits(rng, 3, 4))),
                       Case((rng.integers(0, 3, size=2), random_logits(rng, 2, 3, scale=500)), hidden=True,
                            nonfinite=STABLE_LOG)],
))

# Lesson 04, "Why this loss?" (added for issue 10 by lessons-a): the mean negative log-likelihood of a dataset's
# labels, from probabilities, is the mean cross-entropy.


def _true_probs(ids, probs):
    return np.asarray(probs, dtype=float)[np.arange(len(ids)), np.asarray(ids)]


def _mean_nll(ids, probs):
    return -np.mean(np.log(_true_probs(ids, probs)))


NLL_UNDERFLOW = N_("the product of 3,000 probabilities underflows to 0 in float64, and log(0) = -inf: "
                   "take the log of each probability first, then average the logs (a sum of logs stays finite).")
MANY_HALVES = (np.zeros(3000, dtype=int), np.tile([0.5, 0.25, 0.25], (3000, 1)))
FOUR_CLASSES = (np.array([3, 0, 2, 2]), np.array([[0.1, 0.2, 0.3, 0.4], [0.7, 0.1, 0.1, 0.1],
                                                  [0.25, 0.25, 0.25, 0.25], [0.05, 0.05, 0.8, 0.1]]))


def _probs(rng, rows, classes):
    # Rounded to 4 decimals but never to 0: a true class of probability 0 made the right answer inf, and a 0
    # elsewhere made a right one-hot-mask answer (0 * log 0) nan.
    return np.maximum(np.round(numerics.softmax(random_logits(rng, rows, classes)), 4), 1e-4) + 0.0


register(Task(
    key="mean_nll", function="mean_negative_log_likelihood", reference=_mean_nll,
    cases=[
        Case((np.array([1, 2]), numerics.softmax(Y_HAT))),
        Case(MANY_HALVES, hidden=True, nonfinite=NLL_UNDERFLOW,
             about=N_("3,000 rows of probabilities [0.5, 0.25, 0.25], every label id 0"),
             shown="label_ids=[0, 0, ..., 0] (3,000 of them), probs=3,000 rows of [0.5, 0.25, 0.25]"),
        Case(FOUR_CLASSES, hidden=True),
        Case((np.array([0]), np.array([[0.9, 0.1]])), hidden=True),
        Case((np.array([2, 0]), np.array([[0.5, 0.5 - 1e-8, 1e-8], [0.7, 0.2, 0.1]])), hidden=True,
             about=N_("a true class given probability 1e-8")),
    ],
    mistakes=[
        Mistake(lambda ids, q: -np.mean(np.log(np.clip(_true_probs(ids, q), 1e-7, 1.0))),
                N_("you clipped the probabilities at 1e-7, as Keras does: a true class given 1e-8 then scores 16.1 "
                   "instead of 18.4. Take the log of the probability itself.")),
        Mistake(lambda ids, q: -_mean_nll(ids, q),
                N_("the result is negative: you forgot the minus sign. The NLL is -mean(log q_true): "
                   "log of a probability is <= 0, and the minus makes the loss >= 0.")),
        Mistake(lambda ids, q: np.prod(_true_probs(ids, q)),
                N_("you returned the likelihood itself, the product of the true classes' probabilities. "
                   "Take the log of each probability (the log turns the product into a sum), average, and negate.")),
        Mistake(lambda ids, q: np.mean(_true_probs(ids, q)),
                N_("you averaged the probabilities without taking their log: the NLL is -mean(log q_true).")),
        Mistake(lambda ids, q: 1 - np.mean(_true_probs(ids, q)),
                N_("1 - mean(q_true) is not the NLL: take the log of each true class's probability, "
                   "average, and negate.")),
        Mistake(lambda ids, q: -np.sum(np.log(_true_probs(ids, q))),
                N_("you returned the sum over the instances (the NLL of the whole dataset): the task asks for the mean "
                   "per instance, which is what Keras's losses report. Divide by the number of instances.")),
        Mistake(lambda ids, q: -np.mean(np.log(_true_probs(ids, q))) / np.shape(q)[-1],
                N_("you averaged over every entry of the [batch, classes] array (labels * log(probs)), so "
                   "the result is also divided by the number of classes. Average over the instances only: "
                   "-mean(log q_true).")),
        Mistake(lambda ids, q: -np.mean(np.log(np.asarray(q, dtype=float))),
                N_("you averaged the log-probabilities of every class: only the true class of each row counts, "
                   "q_true = probs[np.arange(len(label_ids)), label_ids].")),
        Mistake(lambda ids, q: -np.mean(np.log(np.asarray(q, dtype=float)[:, np.asarray(ids)])),
                N_("you picked columns label_ids for every row: pick one entry per row, "
                   "probs[np.arange(len(label_ids)), label_ids].")),
        Mistake(lambda ids, q: -np.log(_true_probs(ids, q)),
                N_("you returned one loss per instance: average them into one number, the mean NLL.")),
        Mistake(lambda ids, q: _mean_nll(ids, numerics.softmax(q)),
                N_("you applied softmax to probabilities: these are a model's probabilities already "
                   "(softmax is for logits). Take -mean(log q_true) directly.")),
        *wrong_log_base(_mean_nll),
        Mistake(lambda ids, q: -np.log(np.mean(_true_probs(ids, q))),
                N_("you took the log of the mean probability: take the log of each true class's probability first, "
                   "then the mean, -mean(log q_true).")),
    ],
    passed=(N_("the lesson's two instances give 0.83934, the mean cross-entropy of worked example E3"),
            N_("3,000 instances stay finite (log 2 each), four classes, a single instance, a true class "
               "given 1e-8")),
    fresh=lambda rng: [Case((rng.integers(0, 4, size=5), _probs(rng, 5, 4))),
                       Case((rng.integers(0, 3, size=2000), _probs(rng, 2000, 3)), hidden=True,
                            nonfinite=NLL_UNDERFLOW, about=N_("2,000 instances, 3 classes"),
                            shown="label_ids (2,000 of them), probs (2,000 rows)")],
))

