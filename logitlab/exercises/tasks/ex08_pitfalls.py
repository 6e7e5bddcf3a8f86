"""Exercise 08, pitfalls: the Keras losses, `looks_like_probabilities`, `double_softmax_floor`, `batch_mean_loss`."""

import numpy as np

from logitlab import numerics
from logitlab.exercises.format import Case, CheckFailed, Mistake, Opaque, Task
from logitlab.exercises.format import show
from logitlab.exercises.tasks.common import LABELS, Y_HAT, describe, as_floats, random_logits, random_one_hot, register

# ---------------------------------------------------------------- lessons 06-08: TensorFlow and Keras
# Probes run in the learner's process (they call Keras); judges run wherever the grade is decided
# and see only the data a probe returned.


def _probe_loss(make_loss, case, env):
    loss = make_loss()
    if not callable(loss):
        return {"loss": describe(loss)}
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
        expected = float(numerics.sparse_cross_entropy(ids, as_floats(y_hat)).mean())
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
    return Case((random_one_hot(rng, rows, classes), random_logits(rng, rows, classes, scale=scale)), hidden=hidden,
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


