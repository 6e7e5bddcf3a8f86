"""Exercise 03, softmax: `softmax` and `softmax_with_temperature`."""

import numpy as np

from logitlab import numerics
from logitlab.i18n import N_
from logitlab.exercises.format import Case, Mistake, Task
from logitlab.exercises.tasks.common import as_floats, random_logits, register

# ---------------------------------------------------------------- lesson 03: softmax


def _softmax_axis0(z):
    z = as_floats(z)
    e = np.exp(z - z.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)


def _softmax_whole(z):
    z = as_floats(z)
    e = np.exp(z - z.max())
    return e / e.sum()


def _softmax_axis1(z):
    """axis=1 written for [batch, classes]: the same there, wrong for an array of 3 dimensions."""
    z = as_floats(z)
    if z.ndim < 3:
        return None
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _softmax_batch_max(z):
    z = as_floats(z)
    e = np.exp(z - z.max())
    return e / e.sum(axis=-1, keepdims=True)


SOFTMAX_MISTAKES = [
    Mistake(lambda z: numerics.softmax(numerics.softmax(z)),
            N_("this is softmax applied twice (double softmax): apply it once, to the logits.")),
    Mistake(_softmax_axis0,
            N_("wrong axis: rows should sum to 1. Take the max and the sum over axis=-1 with keepdims=True.")),
    Mistake(_softmax_whole,
            N_("you normalized over the whole batch: each row should sum to 1. Sum over axis=-1 with keepdims=True.")),
    Mistake(lambda z: np.exp(as_floats(z)), N_("you returned exp(logits): divide by their sum over the row.")),
    Mistake(lambda z: as_floats(z) / as_floats(z).sum(axis=-1, keepdims=True),
            N_("you divided the logits by their sum: exponentiate first, then divide exp(logits) by its sum.")),
    Mistake(_softmax_batch_max,
            N_("you subtracted the largest logit of the whole batch: a row far below it becomes 0 / 0. Subtract each "
               "row's own max: z.max(axis=-1, keepdims=True).")),
    Mistake(_softmax_axis1,
            N_("you took the softmax over axis 1: with 3 dimensions the classes are on the last axis. Use axis=-1, "
               "the last axis whatever the shape.")),
    Mistake(numerics.log_softmax,
            N_("you returned log-probabilities (log_softmax): softmax is their exponential, so each row of it is "
               "positive and sums to 1.")),
]

register(Task(
    key="softmax", function="softmax", reference=numerics.softmax,
    cases=[
        Case((np.array([[0.1, 0.3, 0.5, 0.9]]),)),
        Case((np.array([[0.5, 1.5, 0.1], [2.2, 1.3, 1.7]]),)),
        Case((np.array([[1000.0, 0.0], [-1000.0, 1000.0]]),), hidden=True,
             nonfinite=N_("your softmax returns nan for logits [1000, 0]: subtract the row max before exp.")),
        Case((np.array([[20.0, 0.0, -5.0]], dtype=np.float16),), hidden=True, rtol=1e-3, atol=1e-3,
             nonfinite=N_("in float16 exp overflows above 11 (the largest float16 is 65504): "
                          "subtract the row max before exp.")),
        Case((np.full((2, 4), 3.0),), hidden=True, expected=np.full((2, 4), 0.25)),
        Case((np.array([[101.0, 102.0, 103.0]]),), hidden=True),
        Case((np.array([[1000.0, 999.0, 998.0], [-1000.0, -1001.0, -1002.0]]),), hidden=True),
        # "Or any shape": one row of logits, and a [2, 2, 3] batch where axis=1 is not the classes' axis.
        Case((np.array([2.0, 1.0, 0.1]),), hidden=True,
             hint=N_("one row of logits, shape [3], works too: use axis=-1 (the last axis whatever the shape).")),
        Case((np.array([[[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]], [[-1.0, 5.0, 2.0], [4.0, 4.0, 1.0]]]),), hidden=True,
             hint=N_("a [2, 2, 3] array has its classes on the last axis: use axis=-1 with keepdims=True.")),
    ],
    mistakes=SOFTMAX_MISTAKES,
    passed=(N_("one row and a [2, 3] batch: each row's probabilities are right and sum to 1"),
            N_("logits of ±1000 and float16 stay finite, equal logits give 0.25 each, a shift changes nothing, "
               "one row and a [2, 2, 3] array work too")),
    fresh=lambda rng: [Case((random_logits(rng, 3, 4),)),
                       # rtol 1e-4: a float32 softmax rounds logits near 700 by 3e-5 (1 in 20 draws failed 1e-5).
                       Case((random_logits(rng, 2, 5, scale=400),), hidden=True, rtol=1e-4,
                            nonfinite=N_("exp overflows for large logits: subtract the row max before exp."))],
))

register(Task(
    key="softmax_with_temperature", function="softmax_with_temperature", uses=("softmax",),
    reference=lambda z, t: numerics.softmax(as_floats(z) / t),
    cases=[
        Case((np.array([[2.0, 1.0, 0.1]]), 1.0)),
        Case((np.array([[2.0, 1.0, 0.1]]), 2.0)),
        Case((np.array([[2.0, 1.0, 0.1]]), 0.5)),
        Case((np.array([[2.0, 1.0, 0.1]]), 0.001), hidden=True,
             nonfinite=N_("at temperature 0.001 the logits become 2000, 1000, 100 and exp overflows: "
                          "subtract the row max after dividing by the temperature.")),
        Case((np.array([[1.0, 2.0], [3.0, 3.0]]), 10.0), hidden=True),
        # Close logits at a low temperature are still a distribution ([0.27, 0.73, 0]): a temperature clamped
        # to 0.01, or an arg max for any small T, gives something else.
        Case((np.array([[1.0, 1.002, 0.5]]), 0.002), hidden=True,
             hint=N_("at temperature 0.002 the logits 1.0 and 1.002 become 500 and 501, one apart: divide by T "
                     "itself (no lower bound on T) and take the softmax, which is far from one-hot here.")),
    ],
    mistakes=[
        Mistake(lambda z, t: numerics.softmax(as_floats(z) * t),
                N_("you multiplied by the temperature: divide the logits by it (a higher temperature gives flatter "
                   "probabilities).")),
        Mistake(lambda z, t: numerics.softmax(z) / t,
                N_("you divided the probabilities by the temperature: divide the logits, then apply softmax.")),
        Mistake(lambda z, t: numerics.softmax(z),
                N_("the temperature made no difference: divide the logits by it before softmax.")),
    ],
    passed=(N_("T = 1 is plain softmax, T = 2 flattens, T = 0.5 sharpens"),
            N_("a very low temperature does not overflow, close logits at T = 0.002 keep their two "
               "probabilities, and a batch keeps its rows")),
    fresh=lambda rng: [Case((random_logits(rng, 2, 4), float(rng.choice([0.25, 3.0, 5.0])))),
                       Case((random_logits(rng, 2, 3), 0.002), hidden=True,
                            nonfinite=N_("at a very low temperature exp overflows: subtract the row max after dividing "
                                         "by the temperature."))],
))

