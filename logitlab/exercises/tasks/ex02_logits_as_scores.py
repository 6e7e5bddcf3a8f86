"""Exercise 02, logits as scores: `dense_logits`, `predict_class`, `binary_probability`."""

import numpy as np

from logitlab import numerics
from logitlab.i18n import N_
from logitlab.exercises.format import Case, Mistake, Task
from logitlab.exercises.tasks.common import random_logits, register

# ---------------------------------------------------------------- lesson 02: logits as scores



def _seeded_normal(seed, shape):
    """Fixed inputs, each from its own generator: adding or changing one case changes no other."""
    return np.round(np.random.default_rng(seed).normal(size=shape), 2)


_X, _W, _X1 = _seeded_normal(21, (3, 4)), _seeded_normal(22, (4, 5)), _seeded_normal(23, (1, 4))
_B = np.array([0.5, -1.0, 0.0, 2.0, 0.25])


def _dense_fresh(rng):
    W, b = np.round(rng.normal(size=(3, 4)), 2), np.round(rng.normal(size=4), 2)
    return [Case((np.round(rng.normal(size=(5, 3)), 2), W, b)),
            Case((np.round(rng.normal(size=(1, 3)), 2), W, b), hidden=True)]


register(Task(
    key="dense_logits", function="dense_logits", reference=lambda x, W, b: x @ W + b,
    cases=[Case((_X, _W, _B)), Case((_X1, _W, _B), hidden=True)],
    mistakes=[
        Mistake(lambda x, W, b: x @ W, N_("you left out the bias b: the logits are x @ W + b.")),
        Mistake(lambda x, W, b: numerics.softmax(x @ W + b),
                N_("these values sum to 1 per row: you applied softmax. Logits are the raw scores before softmax.")),
        Mistake(lambda x, W, b: np.maximum(x @ W + b, 0),
                N_("there are no negative values: you applied relu. The last layer's logits have no activation.")),
        Mistake(lambda x, W, b: (x @ W + b).T, N_("you returned the transpose: logits have shape [batch, classes].")),
    ],
    passed=(N_("a batch of 3 examples with 4 features gives [3, 5] logits with the bias added"),
            N_("a batch of one example keeps its [1, classes] shape")),
    fresh=_dense_fresh,
))

def _max_off_index_0(rng):
    """Logits near -2000 whose largest entry is never at index 0 (where nan's argmax lands)."""
    z = random_logits(rng, 3, 5, scale=500) - 2000
    z[:, 0] = z.min(axis=-1) - 1
    return z


def _no_tied_max(rng):
    """Logits rounded to 2 decimals whose rows have one largest entry: on a tie, argsort or tf.argmax may
    rightly pick another index than np.argmax."""
    z = random_logits(rng, 6, 4)
    while ((z == z.max(axis=-1, keepdims=True)).sum(axis=-1) > 1).any():
        z = random_logits(rng, 6, 4)
    return z


register(Task(
    key="predict_class", function="predict_class", reference=lambda z: np.argmax(z, axis=-1),
    cases=[
        Case((np.array([[2.0, 1.0, 0.1], [-1.0, 3.0, 0.5], [0.2, 0.1, 4.0], [1.5, 2.5, -0.3]]),)),
        # The largest logit is off index 0: a softmax that overflows to nan would still give argmax 0.
        Case((np.array([[-5.0, -2.0, -9.0], [-1000.0, 999.0, 1000.0]]),), hidden=True),
    ],
    mistakes=[
        Mistake(lambda z: np.argmax(z, axis=0),
                N_("wrong axis: take the argmax of each row (axis=-1), one class id per example.")),
        Mistake(lambda z: np.max(z, axis=-1),
                N_("you returned the largest logit itself; return its index with np.argmax.")),
        Mistake(lambda z: np.argmax(z),
            N_("you returned one number for the whole batch: use np.argmax(logits, axis=-1).")),
    ],
    passed=(N_("the highest logit of each of 4 rows gives its class id"),
            N_("all-negative logits and logits near 1000 give the right classes")),
    fresh=lambda rng: [Case((_no_tied_max(rng),)), Case((_max_off_index_0(rng),), hidden=True)],
))

BINARY_NAN = N_("exp(1000) overflows to inf, and inf / inf is nan: do not divide exponentials of the logits; "
                "compute sigmoid(z1 - z0) = 1 / (1 + exp(-(z1 - z0))), which gives 0 or 1 there (or call ll.sigmoid).")

register(Task(
    key="binary_probability", function="binary_probability", reference=lambda z: numerics.softmax(z)[:, 1],
    cases=[
        Case((np.array([[0.0, 0.0], [1.0, 3.0], [2.0, -1.0]]),),
             nonfinite=BINARY_NAN),
        # The last row's answer is sigmoid(1) = 0.73: a 0/1 class prediction is right on the other rows.
        Case((np.array([[1000.0, 0.0], [0.0, 1000.0], [-1000.0, 1000.0], [1000.0, 1001.0]]),), hidden=True,
             nonfinite=BINARY_NAN),
    ],
    mistakes=[
        Mistake(lambda z: numerics.sigmoid(np.asarray(z)[:, 1]),
                N_("you used only the class-1 logit: with two logits, P(class 1) = sigmoid(z1 - z0).")),
        Mistake(lambda z: numerics.sigmoid(np.asarray(z)[:, 0] - np.asarray(z)[:, 1]),
                N_("sign error: you computed sigmoid(z0 - z1), which is P(class 0). Use sigmoid(z1 - z0).")),
        Mistake(lambda z: numerics.softmax(z),
                N_("you returned both probabilities: return only P(class 1), one number per row.")),
        Mistake(lambda z: (np.asarray(z)[:, 1] > np.asarray(z)[:, 0]).astype(float),
                N_("you returned the predicted class (0 or 1): return the probability of class 1, sigmoid(z1 - z0), "
                   "which lies between them.")),
        Mistake(lambda z: np.asarray(z, dtype=float)[:, 1] - np.asarray(z, dtype=float)[:, 0],
                N_("you returned the log-odds z1 - z0: pass it through the sigmoid, sigmoid(z1 - z0).")),
    ],
    passed=(N_("equal logits give 0.5 and the difference z1 - z0 decides the rest"),
            N_("logits of ±1000 give probabilities of 0 and 1, no nan, and logits 1000 and 1001 give sigmoid(1) = "
               "0.73")),
    fresh=lambda rng: [Case((random_logits(rng, 4, 2),)), Case((random_logits(rng, 3, 2, scale=800),), hidden=True)],
))

