"""Exercise 05, numerical stability: `logsumexp`, `log_softmax`, `softmax_cross_entropy_grad`."""

import numpy as np

from logitlab import numerics
from logitlab.i18n import N_
from logitlab.exercises.format import Case, Mistake, Task
from logitlab.exercises.tasks.common import LABELS, Y_HAT, as_floats, random_logits, random_one_hot, register

# ---------------------------------------------------------------- lesson 05: numerical stability

LSE_OVERFLOW = N_("exp(1000) overflows to inf (and exp(-1000) underflows to 0, whose log is -inf): subtract the "
                  "row max, sum exp(logits - max), take the log and add the max back.")
# What came back tells which step broke: every entry -inf means log(sum(exp(logits))) overflowed;
# finite entries beside -inf mean log(softmax) took the log of a probability that underflowed to 0.
LOG_SOFTMAX_OVERFLOW = N_("every entry is -inf: exp(1000) overflowed to inf, so log(sum(exp(logits))) is inf. "
                          "Subtract the row max inside: logits - (max + log(sum(exp(logits - max)))).")
LOG_SOFTMAX_UNDERFLOW = N_("log(softmax) gives -inf where a probability underflows to 0 (e^-1000 is below the "
                           "smallest float): compute logits - logsumexp(logits) instead of taking the log.")
LOG_SOFTMAX_FINITE = N_("compute logits - logsumexp(logits), with the row max subtracted inside logsumexp: every "
                        "log-probability is finite and at most 0.")


def _naive_lse_log_softmax(z):
    """The textbook logits - log(sum(exp(logits))): exp overflows at a logit of 1000."""
    z = as_floats(z)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def _log_of_naive_softmax(z):
    z = as_floats(z)
    e = np.exp(z)
    return np.log(e / e.sum(axis=-1, keepdims=True))


def _lse_no_max_back(z):
    z = as_floats(z)
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
                N_("you subtracted the max but did not add it back: logsumexp = max + log(sum(exp(logits - max))).")),
        Mistake(lambda z: np.log(np.exp(as_floats(z)).sum(axis=0)),
                N_("wrong axis: reduce over the last axis (axis=-1), one value per row.")),
        Mistake(lambda z: numerics.logsumexp(z, keepdims=True),
                N_("you kept the reduced axis: return one value per row (keepdims=False).")),
        Mistake(lambda z: np.max(z, axis=-1), N_("you returned only the max: add log(sum(exp(logits - max))).")),
    ],
    passed=(N_("a [2, 3] batch gives one value per row"),
            N_("rows of ±1000 give 1000 + log 2 and -1000 + log 2; float16 stays finite")),
    fresh=lambda rng: [Case((random_logits(rng, 3, 4),)),
                       Case((random_logits(rng, 2, 4, scale=500),), hidden=True, nonfinite=LSE_OVERFLOW)],
))

def _log_softmax_batch_max(z):
    z = as_floats(z)
    with np.errstate(divide="ignore"):
        return z - (z.max() + np.log(np.exp(z - z.max()).sum(axis=-1, keepdims=True)))


register(Task(
    key="log_softmax", function="log_softmax", reference=numerics.log_softmax, uses=("logsumexp",),
    cases=[
        Case((Y_HAT,)),
        # No `nonfinite` message here: the named mistakes below tell overflow from underflow.
        Case((np.array([[1000.0, 0.0, -1000.0]]),), hidden=True, hint=LOG_SOFTMAX_FINITE),
        Case((np.zeros((3, 5)),), hidden=True, expected=np.full((3, 5), -np.log(5.0))),
        Case((np.array([[1000.0, 999.0, 998.0], [-1000.0, -1001.0, -1002.0]]),), hidden=True),
    ],
    mistakes=[
        Mistake(lambda z: numerics.softmax(z),
                N_("you returned probabilities: take their log (better: logits - logsumexp(logits)).")),
        Mistake(_naive_lse_log_softmax, LOG_SOFTMAX_OVERFLOW),
        Mistake(_log_of_naive_softmax, "the nan: exp(1000) overflowed to inf, and inf / inf = nan; the -inf: "
                + LOG_SOFTMAX_UNDERFLOW),
        Mistake(lambda z: np.log(numerics.softmax(z)), LOG_SOFTMAX_UNDERFLOW),
        Mistake(lambda z: as_floats(z) - as_floats(z).max(axis=-1, keepdims=True),
                N_("you subtracted the max but not log(sum(exp(logits - max))).")),
        Mistake(lambda z: numerics.log_softmax(z, axis=0), N_("wrong axis: normalize each row (axis=-1).")),
        Mistake(lambda z: -numerics.log_softmax(z), N_("sign error: log-probabilities are never positive.")),
        Mistake(_log_softmax_batch_max,
                N_("you subtracted the largest logit of the whole batch: for a row far below it, "
                   "log(sum(exp(...))) is log 0. Subtract each row's own max: z.max(axis=-1, keepdims=True).")),
    ],
    passed=(N_("a [2, 3] batch gives the log of each row's softmax"),
            N_("logits of ±1000 give -1000 and -2000 instead of -inf; equal logits give -log 5")),
    fresh=lambda rng: [Case((random_logits(rng, 3, 4),)),
                       Case((random_logits(rng, 2, 4, scale=500),), hidden=True, hint=LOG_SOFTMAX_FINITE)],
))

register(Task(
    key="softmax_cross_entropy_grad", function="softmax_cross_entropy_grad", uses=("logsumexp", "log_softmax"),
    reference=numerics.softmax_cross_entropy_grad,
    cases=[
        Case((LABELS, Y_HAT)),
        Case((LABELS, np.array([[1000.0, 0.0, -1000.0], [0.0, 0.0, 0.0]])), hidden=True,
             nonfinite=N_("your softmax inside the gradient overflows at logits of 1000: "
                          "subtract the row max before exp.")),
    ],
    mistakes=[
        Mistake(lambda y, z: np.asarray(y) - numerics.softmax(z),
                N_("sign error: the gradient is softmax(logits) - labels, not labels - softmax.")),
        Mistake(lambda y, z: np.asarray(z) - np.asarray(y),
                N_("you subtracted labels from the logits: subtract them from softmax(logits).")),
        Mistake(lambda y, z: (numerics.softmax(z) - np.asarray(y)) / len(np.asarray(z)),
                N_("you divided by the batch size: return the gradient of each row's own loss.")),
        Mistake(lambda y, z: numerics.softmax(z), N_("you forgot to subtract the labels.")),
    ],
    passed=(N_("the [2, 3] example gives softmax - labels"),
            N_("logits of ±1000 and equal logits give finite gradients whose rows sum to 0")),
    fresh=lambda rng: [Case((random_one_hot(rng, 3, 4), random_logits(rng, 3, 4))),
                       Case((random_one_hot(rng, 2, 3), random_logits(rng, 2, 3, scale=500)), hidden=True,
                            nonfinite=N_("your softmax inside the gradient overflows at large logits: subtract the "
                                         "row max before exp."))],
))

