"""Exercise 08, pitfalls: the Keras losses, `looks_like_probabilities`, `double_softmax_floor`, `batch_mean_loss`."""

import numpy as np

from logitlab import numerics
from logitlab.i18n import N_, _
from logitlab.exercises.format import Case, CheckFailed, Mistake, Opaque, Task
from logitlab.exercises.format import show
from logitlab.exercises.judging import matching_mistake
from logitlab.exercises.tasks.common import LABELS, Y_HAT, describe, as_floats, random_logits, random_one_hot, register

# ---------------------------------------------------------------- lessons 06-08: TensorFlow and Keras
# Probes run in the learner's process (they call Keras); judges run wherever the grade is decided
# and see only the data a probe returned.


def _probe_loss(make_loss, case, env):
    import tensorflow as tf

    loss = make_loss()
    if not callable(loss):
        return {"loss": describe(loss)}
    try:
        value = loss(*case.args)
    except Exception as err:  # noqa: BLE001 - the loss's own error is the feedback
        return {"error": f"{type(err).__name__}: {err}"[:2000]}
    return {"value": value, "loss_object": isinstance(loss, tf.keras.losses.Loss),
            "returned": f"{type(loss).__name__} {getattr(loss, '__name__', '')}".strip()}


def _read_as_probabilities(sparse):
    """What the loss computes when the logits are taken for probabilities (from_logits left at False).

    Keras 3.15's TensorFlow backend: the categorical loss rescales each row to sum to 1, then clips into
    [1e-7, 1 - 1e-7]; the sparse loss clips first and lets the fused op's softmax of log(p) rescale.
    """
    def wrong(labels, y_hat):
        ids = np.asarray(labels) if sparse else np.argmax(labels, axis=-1)
        rows = np.arange(len(ids))
        p = as_floats(y_hat)
        if sparse:
            clipped = np.clip(p, 1e-7, 1 - 1e-7)
            return float(-np.log(clipped[rows, ids] / clipped.sum(axis=-1)).mean())
        return float(-np.log(np.clip(p / p.sum(axis=-1, keepdims=True), 1e-7, 1 - 1e-7)[rows, ids]).mean())
    return wrong


def _mean_loss(labels, y_hat, sparse):
    ids = np.asarray(labels) if sparse else np.argmax(labels, axis=-1)
    return float(numerics.sparse_cross_entropy(ids, as_floats(y_hat)).mean())


def _loss_mistakes(sparse):
    kind = "SparseCategoricalCrossentropy" if sparse else "CategoricalCrossentropy"
    return [
        Mistake(_read_as_probabilities(sparse),
                f"It reads the logits as probabilities: raw logits need {kind}(from_logits=True)."),
        Mistake(lambda labels, y_hat: 2 * _mean_loss(labels, y_hat, sparse),
                N_("That is the sum over the batch: keep the default mean reduction.")),
    ]


def _judge_loss(sparse, mistakes):
    kind = "SparseCategoricalCrossentropy" if sparse else "CategoricalCrossentropy"

    def judge(case, got, name):
        labels, y_hat = case.args
        if "loss" in got:
            raise CheckFailed(_("{call} returned {got}: return a Keras loss object, e.g. {example}.").format(
                call=f"{name}()", got=show(got["loss"]), example=f"tf.keras.losses.{kind}(...)"))
        if "error" in got:
            extra = ("\n" + _("Labels given as class ids need {kind}; one-hot labels go to CategoricalCrossentropy.")
                     .format(kind=kind) if sparse else "")
            raise CheckFailed(_("the loss from {call} raised {error}").format(call=f"{name}()", error=got["error"])
                              + "\n" + _("Read the error above, fix your function, run its cell, then this one again.")
                              + extra)
        value = got.get("value")
        if not got.get("loss_object", True) and (isinstance(value, Opaque) or np.shape(value) != ()):
            raise CheckFailed(_("{call} returned {got}, a function that gives one loss per row, not a loss object: "
                                "return {right}, whose call takes the mean over the batch.").format(
                call=f"{name}()", got=got.get("returned"), right=f"tf.keras.losses.{kind}(from_logits=True)"))
        if isinstance(value, Opaque) or value is None or np.shape(value) != ():
            raise CheckFailed(_("calling the loss from {call} on a batch of {rows} gave {got}: return a loss object, "
                                "{kind}(...), whose call gives one number, the mean over the batch (its default "
                                "reduction).").format(call=f"{name}()", rows=len(labels), got=show(value), kind=kind))
        expected, value = _mean_loss(labels, y_hat, sparse), float(value)
        if np.isclose(value, expected, rtol=1e-4):
            return abs(value - expected)
        told = _("the loss from {call} gave {got} on {about}; expected {expected}.").format(
            call=f"{name}()", got=f"{value:.5f}", about=_(case.about), expected=f"{expected:.5f}")
        message = matching_mistake(mistakes, case, value, rtol=1e-3)
        raise CheckFailed(told + (f"\n{message}" if message else ""))

    return judge


_Y32 = Y_HAT.astype(np.float32)
_LARGER = random_logits(np.random.default_rng(81), 4, 5, scale=4.0).astype(np.float32)  # the hidden case
_LARGER_IDS = np.array([3, 0, 4, 1])
for _sparse in (False, True):
    _mistakes = _loss_mistakes(_sparse)
    register(Task(
        key="sparse_keras_loss" if _sparse else "keras_loss",
        function="make_sparse_loss" if _sparse else "make_loss", kind="custom",
        cases=[Case((np.array([1, 2]) if _sparse else LABELS.astype(np.float32), _Y32), shown="",
                    about=N_("the lesson's logits")),
               Case((_LARGER_IDS if _sparse else np.eye(5, dtype=np.float32)[_LARGER_IDS], _LARGER), hidden=True,
                    shown="", about=N_("a [4, 5] batch of logits up to about ±8"))],
        probe=_probe_loss, judge_data=_judge_loss(_sparse, _mistakes), mistakes=_mistakes,
        passed=(f"on the lesson's [2, 3] example it gives the mean loss "
                f"{float(numerics.sparse_cross_entropy(np.array([1, 2]), Y_HAT).mean()):.5f}",
                N_("a [4, 5] batch of larger logits gets the mean of its rows' cross-entropies")),
    ))


PROBABILITIES = N_("Probabilities are all between 0 and 1 and each row sums to 1 (use np.allclose for the sums).")


def _between_0_and_1(x, strictly=False):
    x = np.asarray(x)
    return bool(np.all((x > 0) & (x < 1)) if strictly else np.all((x >= 0) & (x <= 1)))


def _softmax_rows_float32():
    """Three float32 softmax rows; two of them sum to 1 - 6e-8, as float32 rounding leaves them."""
    z = np.random.default_rng(1).normal(scale=2.0, size=(3, 7)).astype(np.float32)
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)

register(Task(
    key="looks_like_probabilities", function="looks_like_probabilities", kind="value",
    cases=[
        Case((np.array([[0.2, 0.3, 0.5], [0.9, 0.05, 0.05]]),), expected=True, about=N_("rows in [0, 1] that sum to 1"),
             hint=PROBABILITIES),
        Case((np.array([[2.0, 1.0, 0.1]]),), expected=False, about=N_("logits above 1"), hint=PROBABILITIES),
        Case((np.array([[0.2, 0.3, 0.1]]),), expected=False, about=N_("values in [0, 1] whose row sums to 0.6"),
             hint=PROBABILITIES),
        Case((np.array([[1.5, -0.5]]),), expected=False, about=N_("a row that sums to 1 but has a negative value"),
             hint=PROBABILITIES),
        Case((np.array([[0.5, 0.5], [0.25, 0.5]]),), expected=False, about=N_("a batch whose second row sums to 0.75"),
             hint=PROBABILITIES),
        Case((_softmax_rows_float32(),), hidden=True, expected=True,
             about=N_("float32 softmax rows, whose sums miss 1 by a rounding error"), hint=PROBABILITIES),
        Case((np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]),), hidden=True, expected=True,
             about=N_("one-hot rows (0 and 1 are probabilities too)"), hint=PROBABILITIES),
        Case((np.array([[np.nan, 0.5, 0.5]]),), hidden=True, expected=False, about=N_("a row with nan"),
             hint=PROBABILITIES),
        Case((np.array([[0.25, 0.75], [0.5, 0.5], [0.9, 0.2], [0.0, 1.0]]),), hidden=True, expected=False,
             about=N_("a batch of four rows, one of which sums to 1.1"), hint=PROBABILITIES),
    ],
    mistakes=[
        Mistake(lambda x: _between_0_and_1(x) and bool(np.all(np.sum(x, axis=-1) == 1)),
                N_("you compared each row's sum with ==: a float32 softmax row sums to 0.99999994, not exactly 1. "
                "Use np.allclose(x.sum(axis=-1), 1).")),
        Mistake(lambda x: _between_0_and_1(x, strictly=True) and bool(np.allclose(np.sum(x, axis=-1), 1)),
                N_("0 and 1 are probabilities too (a one-hot row is a distribution): use >= 0 and <= 1.")),
        Mistake(lambda x: bool(np.allclose(np.sum(x, axis=-1), 1.0)),
                N_("you checked the sums but not the values: [1.5, -0.5] sums to 1 too. Also check 0 <= x <= 1.")),
        Mistake(lambda x: bool(np.allclose(np.sum(x), 1.0)),
                N_("you summed the whole batch: each row must sum to 1 (x.sum(axis=-1)).")),
    ],
    passed=(N_("probabilities, logits, short rows, negative values and a mixed batch are told apart"),
            N_("float32 rounding, one-hot rows, nan and one bad row in a batch are told apart")),
))


register(Task(
    key="double_softmax_floor", function="double_softmax_floor",
    reference=lambda k: float(np.log(np.e + k - 1) - 1),
    cases=[Case((3,)), Case((2,), hidden=True), Case((10,), hidden=True), Case((1000,), hidden=True)],
    mistakes=[
        Mistake(lambda k: float(np.log(k)),
                N_("log(num_classes) is the loss of a uniform guess, not the floor. A double softmax turns a perfect "
                   "prediction [1, 0, ..., 0] into logits [1, 0, ..., 0]: take -log of softmax([1, 0, ..., 0]) at "
                   "the true class.")),
        Mistake(lambda k: 0.0,
                N_("with softmax applied twice the loss never reaches 0: that is why it stalls. A double softmax turns "
                   "a perfect prediction [1, 0, ..., 0] into logits [1, 0, ..., 0].")),
        Mistake(lambda k: float(np.log(np.e + k - 1)),
                N_("you left out the true class's own logit: -log(e^1 / (e^1 + (k - 1) e^0)) = log(e + k - 1) - 1.")),
        Mistake(lambda k: float(np.log(np.e + k) - 1),
                N_("the true class counts once: the other k - 1 classes add e^0 = 1 each, so log(e + k - 1) - 1.")),
    ],
    passed=(N_("3 classes give the 0.5514 the stalled model shows"),
        N_("2, 10 and 1000 classes give their floors too")),
    fresh=lambda rng: [Case((int(rng.integers(4, 200)),), hidden=True)],
))


def _batch_mean_reference(labels, logits):
    return float(numerics.cross_entropy(labels, logits).mean())


def _reference_batch_mean_loss(labels, logits):
    """The answer, in TensorFlow: a loss a training step can differentiate (the judge checks the gradient)."""
    import tensorflow as tf

    return tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=labels, logits=logits))


def _batch_gradient(labels, logits):
    """The gradient of the mean loss with respect to the logits: (softmax - labels) / batch (lesson 05)."""
    return (numerics.softmax(as_floats(logits)) - as_floats(labels)) / np.shape(logits)[0]


def _batch_case(rng, rows, hidden=False, scale=2.0, classes=4):
    return Case((random_one_hot(rng, rows, classes), random_logits(rng, rows, classes, scale=scale)), hidden=hidden,
                nonfinite=BATCH_NAN if scale > 100 else "")


def _probe_batch_loss(batch_mean_loss, case, env):
    """Run the learner's loss eagerly on float64 tensors and take its gradient, as a training step does.

    Eagerly, because a `tf.function` may repair log(softmax(z)) behind the learner's back: Grappler rewrites
    it into log_softmax in a forward-only graph, and not when a gradient is taken (TF 2.21).
    """
    import tensorflow as tf

    labels, logits = case.args
    was_eager = tf.config.functions_run_eagerly()
    tf.config.run_functions_eagerly(True)
    try:
        z = tf.Variable(as_floats(logits))
        with tf.GradientTape() as tape:
            value = batch_mean_loss(tf.constant(as_floats(labels)), z)
        gradient = tape.gradient(value, z) if tf.is_tensor(value) else None
    finally:
        tf.config.run_functions_eagerly(was_eager)
    return {"value": value, "gradient": gradient}


BATCH_NAN = N_("log(softmax(logits)) gives -inf (and 0 * -inf = nan) once a probability underflows: use "
               "tf.nn.softmax_cross_entropy_with_logits, which works from the logits.")
GRAPH_REPAIR = N_("(The check runs your function eagerly and takes its gradient, as a training step does: inside a "
                  "forward-only tf.function, TensorFlow may rewrite log(softmax) into log_softmax, but not once a "
                  "gradient is taken.)")


def _judge_batch_loss(mistakes):
    def judge(case, got, name):
        labels, logits = case.args
        call = f"{name}({case.shown})" if case.shown is not None else f"{name}(labels, logits)"
        value, gradient = got.get("value"), got.get("gradient")
        expected = _batch_mean_reference(labels, logits)
        if isinstance(value, (Opaque, str, dict)) or value is None:
            raise CheckFailed(_("{call} returned {got}: return one number, the mean loss over the batch.").format(
                call=call, got=show(value)))
        message = matching_mistake(mistakes, case, value)
        if np.shape(value) != ():
            raise CheckFailed(_("{call} returned shape {shape}; expected one number.").format(
                call=call, shape=list(np.shape(value)))
                + "\n" + (message or _("Reduce the per-row losses to their mean.")))
        value = float(value)
        told = _("{call} returned {got}; expected {expected}.").format(call=call, got=f"{value:.6g}",
                                                                      expected=f"{expected:.6g}")
        if not np.isfinite(value):
            raise CheckFailed(f"{told}\n{_(case.nonfinite or BATCH_NAN)}\n{_(GRAPH_REPAIR)}")
        if not np.isclose(value, expected, rtol=case.rtol, atol=case.atol):
            raise CheckFailed(told + (f"\n{message}" if message else ""))
        if gradient is None or isinstance(gradient, Opaque):
            raise CheckFailed(_(
                "{call} gives the right loss, but no gradient reaches the logits: a training loop cannot learn "
                "from it. Compute it with TensorFlow ops on the tensors you get (no NumPy, no .numpy()), e.g. "
                "tf.nn.softmax_cross_entropy_with_logits.").format(call=call))
        gradient, right = np.asarray(gradient, dtype=float), _batch_gradient(labels, logits)
        if not np.isfinite(gradient).all():
            raise CheckFailed(_(
                "{call} gives the right loss, {got}, but its gradient with respect to the logits contains nan or "
                "inf: {gradient}. Training would destroy the weights.").format(
                    call=call, got=f"{value:.6g}", gradient=show(gradient[:2]))
                + f"\n{_(BATCH_NAN)}\n{_(GRAPH_REPAIR)}")
        if gradient.shape != right.shape or not np.allclose(gradient, right, rtol=1e-5, atol=1e-7):
            raise CheckFailed(_("{call} gives the right loss, but its gradient is {gradient}; expected "
                                "(softmax(logits) - labels) / batch, {right}.").format(
                call=call, gradient=show(gradient[:2]), right=show(right[:2])))
        return abs(value - expected)

    return judge


_BATCH_MISTAKES = [
    Mistake(lambda y, z: float(numerics.cross_entropy(y, z).sum()),
            N_("that is the sum over the batch: it grows with the batch size. Take the mean over the rows "
               "(tf.reduce_mean), as Keras does.")),
    Mistake(lambda y, z: float(numerics.cross_entropy(y, z).mean() / np.shape(z)[-1]),
            N_("you averaged over the classes too (a mean over every element of labels * log p): sum over "
               "the classes, then take the mean over the rows.")),
    Mistake(lambda y, z: numerics.cross_entropy(y, z),
            N_("you returned one loss per row: reduce them to one number, their mean.")),
]
register(Task(
    key="batch_mean_loss", function="batch_mean_loss", kind="custom", reference=_reference_batch_mean_loss,
    cases=[Case((LABELS, Y_HAT), shown="E3's labels, logits"),
           Case((np.array([[0.0, 0.0, 1.0]] * 3), np.array([[1.0, 2.0, 3.0]] * 3)), shown="E4: 3 equal rows"),
           _batch_case(np.random.default_rng(80), 16, hidden=True),
           _batch_case(np.random.default_rng(81), 2, hidden=True, scale=800, classes=3),
           _batch_case(np.random.default_rng(82), 64, hidden=True)],
    mistakes=_BATCH_MISTAKES, probe=_probe_batch_loss, judge_data=_judge_batch_loss(_BATCH_MISTAKES),
    passed=(N_("E3 gives 0.83934 and E4 gives 0.4076, the mean, whatever the batch size; its gradient is "
               "(softmax - labels) / batch"),
            N_("batches of 2, 16 and 64 rows, and logits of ±800, give the mean loss and a finite gradient, "
               "run eagerly")),
    fresh=lambda rng: [_batch_case(rng, int(rng.integers(5, 40)), hidden=True)],
))
