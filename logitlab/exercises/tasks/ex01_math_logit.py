"""Exercise 01, the math logit: `logit` and `sigmoid`."""

import numpy as np

from logitlab import numerics
from logitlab.i18n import N_
from logitlab.exercises.format import Case, Mistake, Task
from logitlab.exercises.tasks.common import as_floats, register, wrong_log_base

# ---------------------------------------------------------------- lesson 01: the math logit

register(Task(
    key="logit", function="logit", reference=numerics.logit,
    # The array comes first: at p = 0.5 the odds are 1 and log p / log(1 - p) is 1 too, so a named mistake
    # matched there could blame the wrong one.
    cases=[
        Case((np.array([0.1, 0.5, 0.8, 0.9]),)),
        Case((0.5,), expected=0.0),
        Case((np.array([0.0, 1.0]),), hidden=True, expected=np.array([-np.inf, np.inf]),
             hint=N_("The logit of 0 is -inf and of 1 is +inf, not nan.")),
        Case((np.array([[0.01, 0.25], [0.75, 0.99]]),), hidden=True),
        Case((numerics.sigmoid(np.linspace(-8, 8, 9)),), hidden=True, expected=np.linspace(-8, 8, 9), atol=1e-6,
             hint=N_("logit(sigmoid(z)) should give z back.")),
    ],
    mistakes=[
        Mistake(lambda p: np.log(np.asarray(p)),
                N_("you returned log(p): the logit is the log of the odds, log(p / (1 - p)).")),
        Mistake(lambda p: np.log((1 - np.asarray(p)) / np.asarray(p)),
                N_("sign error: you computed log((1 - p) / p). A probability above 0.5 has a positive logit.")),
        Mistake(lambda p: np.asarray(p) / (1 - np.asarray(p)),
            N_("you returned the odds p / (1 - p): take their log.")),

        *wrong_log_base(numerics.logit),
    ],
    passed=(N_("p = 0.1, 0.5, 0.8, 0.9 give the right log-odds, and logit(0.5) = 0"),
            N_("p = 0 and 1 give -inf and +inf, a [2, 2] batch keeps its shape, logit(sigmoid(z)) = z")),
    fresh=lambda rng: [Case((np.round(rng.uniform(0.02, 0.98, size=5), 3),)),
                       Case((np.round(rng.uniform(0.001, 0.999, size=(3, 4)), 3),), hidden=True)],
))

# The task asks for no nan, not for no overflow: in 1 / (1 + exp(-z)) at z = -1000, exp(1000) overflows to inf
# (NumPy warns) and 1 / (1 + inf) = 0.0 exactly, the right answer; exp(z) / (1 + exp(z)) at z = 1000 is inf / inf = nan.
SIGMOID_NAN = N_("exp(1000) overflows to inf, and inf / inf is nan. Write sigmoid as 1 / (1 + exp(-z)): "
                 "there an overflow of exp(-z) gives 1 / (1 + inf) = 0, the right answer; "
                 "or use exp(z) / (1 + exp(z)) only where z < 0.")

register(Task(
    key="sigmoid", function="sigmoid", reference=numerics.sigmoid,
    cases=[
        Case((0.0,), expected=0.5),
        Case((np.array([-2.0, 0.0, 2.0, 4.0]),)),
        Case((np.array([-1000.0, 1000.0]),), hidden=True, nonfinite=SIGMOID_NAN),
        Case((np.array([1000.0, -1000.0]),), hidden=True, nonfinite=SIGMOID_NAN),
        Case((np.array([-20.0, 0.0, 20.0], dtype=np.float16),), hidden=True, rtol=1e-3, atol=1e-3,
             nonfinite=SIGMOID_NAN),
        Case((np.array([[-3.0, -1.0], [1.0, 3.0]]),), hidden=True),
    ],
    mistakes=[
        Mistake(lambda z: 1 / (1 + np.exp(as_floats(z))),
                N_("sign error: you computed 1 / (1 + exp(z)). sigmoid(z) = 1 / (1 + exp(-z)) grows with z.")),
        Mistake(lambda z: 1 + np.exp(-as_floats(z)),
                N_("you returned the denominator 1 + exp(-z): sigmoid is its reciprocal, 1 / (1 + exp(-z)).")),
        Mistake(lambda z: np.tanh(as_floats(z)),
                N_("you returned tanh(z), which lies in (-1, 1); sigmoid(z) = 1 / (1 + exp(-z)) lies in (0, 1).")),
        Mistake(lambda z: np.exp(as_floats(z)), N_("you returned exp(z): divide by 1 + exp(z) to get a probability.")),
    ],
    passed=(N_("sigmoid(0) = 0.5, and z = -2, 2, 4 give the right probabilities"),
            N_("z = ±1000 give 0 and 1 (no nan), float16 works, a [2, 2] batch keeps its shape")),
    fresh=lambda rng: [Case((np.round(rng.normal(scale=3, size=5), 2),)),
                       Case((np.round(rng.normal(scale=600, size=(2, 3)), 1),), hidden=True,
                            nonfinite=SIGMOID_NAN)],
))

