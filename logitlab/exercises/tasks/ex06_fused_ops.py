"""Exercise 06, fused ops: `per_example_loss`, `sparse_per_example_loss` (exercise 04's cases, with the mistakes
of TensorFlow's ops), `pick_loss` and `positional_call`."""

from dataclasses import replace

import numpy as np

from logitlab import numerics
from logitlab.i18n import N_, _
from logitlab.exercises.format import Case, CheckFailed, Mistake, Task
from logitlab.exercises.format import show
from logitlab.exercises.tasks.common import (LABELS, TASKS, Y_HAT, describe, as_floats, random_logits, random_one_hot,
                                             register)

# ---------------------------------------------------------------- tasks 1 and 2: the fused ops, called right


def _swapped_call(y_hat, y_true):
    """What TF 2 returns for softmax_cross_entropy_with_logits(y_hat, y_true): y_hat is taken as the labels."""
    return -(as_floats(y_hat) * numerics.log_softmax(y_true)).sum(axis=-1)


SWAPPED_FUSED = N_("you passed the logits where TensorFlow 2 expects the labels: the op's first parameter is `labels`, "
                   "so the positional call (logits, labels) swaps the two without an error. Pass them by name: "
                   "labels=labels, logits=logits.")
_dense = TASKS["cross_entropy"]  # exercise 04's cases: the same losses, now from TensorFlow's op
_SWAPPED = Mistake(lambda labels, logits: _swapped_call(logits, labels), SWAPPED_FUSED)


def _not_the_swap(mistake, case=_dense.cases[0]):
    """Exercise 04's mistakes other than its own swapped call, which SWAPPED_FUSED names for the op."""
    wrong, swapped = np.asarray(mistake.wrong(*case.args)), _SWAPPED.wrong(*case.args)
    return wrong.shape != swapped.shape or not np.allclose(wrong, swapped)


register(Task(
    key="fused_cross_entropy", function="per_example_loss", reference=_dense.reference, cases=_dense.cases,
    mistakes=[_SWAPPED, *filter(_not_the_swap, _dense.mistakes)],
    passed=_dense.passed, fresh=_dense.fresh,
))

# In NumPy (exercise 04) a bad id must raise ValueError; here TensorFlow's sparse op raises by itself (on the CPU).
BAD_ID_FUSED = N_("Label ids must be 0 to classes - 1. tf.nn.sparse_softmax_cross_entropy_with_logits raises "
                  "InvalidArgumentError for such an id on the CPU: call it with labels=label_ids and let the error "
                  "through (no try/except; tf.one_hot would turn a bad id into a row of zeros, whose loss is 0).")
_sparse = TASKS["sparse_cross_entropy"]
register(Task(
    key="sparse_fused_cross_entropy", function="sparse_per_example_loss", reference=_sparse.reference,
    cases=[replace(case, hint=BAD_ID_FUSED, raises=("InvalidArgumentError", "ValueError")) if case.raises else case
           for case in _sparse.cases],
    mistakes=_sparse.mistakes, passed=_sparse.passed, fresh=_sparse.fresh,
))

# ---------------------------------------------------------------- exercises 06 and 08: judgement tasks
# Each is judged on scenarios the learner does not choose (fixed ones, and fresh ones drawn when grading),
# so the right answer has to come from reading the numbers, not from recalling one API name.

KERAS_LOSSES = ("CategoricalCrossentropy", "SparseCategoricalCrossentropy", "BinaryCrossentropy")


LOGIT_KINDS = ("mixed", "positive", "small")


def _scenario_logits(rng, kind, rows, classes):
    """Logits of one kind: "mixed" has a negative one; "positive" are all above 0, one above 1; "small" all lie in
    [0.6, 0.95], so every row sums to at least 1.2: only the row sums tell them from softmax probabilities."""
    if kind == "small":
        return np.round(rng.uniform(0.6, 0.95, size=(rows, classes)), 2)
    logits = np.round(rng.normal(scale=2.0, size=(rows, classes)), 2)
    if kind == "positive":
        logits = np.abs(logits) + 0.05
        logits[0, 0] += 1.5  # one logit above 1, so they never pass for sigmoid probabilities
    else:
        logits[0, 0] = -abs(logits[0, 0]) - 1.5  # some logit below 0
    return logits


def _loss_scenario(rng, family, from_logits, rows=4, classes=3, kind="mixed"):
    """(outputs, labels) for one kind of model: its outputs (logits or probabilities) and its labels."""
    if family == "BinaryCrossentropy" and kind == "small":
        raise ValueError("small positive logits pass for sigmoid probabilities: no right answer")
    logits = _scenario_logits(rng, kind, rows, classes)
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


def _pick_case(seed, family, from_logits, hidden=False, **shape):
    """A fixed scenario, drawn from its own generator so that adding or removing a case changes no other."""
    outputs, labels = _loss_scenario(np.random.default_rng(seed), family, from_logits, **shape)
    return Case((outputs, labels), hidden=hidden, expected={"loss": family, "from_logits": from_logits},
                shown="outputs, labels")


def _fresh_pick_case(rng, family, from_logits):
    kinds = LOGIT_KINDS[:2] if family == "BinaryCrossentropy" else LOGIT_KINDS
    kind = kinds[int(rng.integers(0, len(kinds)))]
    outputs, labels = _loss_scenario(rng, family, from_logits, rows=int(rng.integers(3, 7)),
                                     classes=int(rng.integers(2, 6)), kind=kind)
    return Case((outputs, labels), hidden=True, expected={"loss": family, "from_logits": from_logits},
                shown="outputs, labels")


def _rows_sum_to_1(outputs):
    return bool(np.allclose(np.asarray(outputs, dtype=float).sum(axis=-1), 1.0, atol=1e-3))


def _in_unit(outputs):
    outputs = np.asarray(outputs, dtype=float)
    return bool(((outputs >= 0) & (outputs <= 1)).all())


def reference_pick_loss(outputs, labels):
    """The Keras loss for these outputs and labels: the family from the labels, from_logits from the outputs.

    Probabilities lie in [0, 1], and a softmax's rows also sum to 1: small positive logits are still logits."""
    import tensorflow as tf

    outputs, labels = np.asarray(outputs, dtype=float), np.asarray(labels)
    softmax_output = _in_unit(outputs) and _rows_sum_to_1(outputs)
    if labels.ndim == outputs.ndim - 1:
        return tf.keras.losses.SparseCategoricalCrossentropy(from_logits=not softmax_output)
    if np.allclose(labels.sum(axis=-1), 1.0):
        return tf.keras.losses.CategoricalCrossentropy(from_logits=not softmax_output)
    return tf.keras.losses.BinaryCrossentropy(from_logits=not _in_unit(outputs))


def _probe_pick(pick_loss, case, env):
    loss = pick_loss(*case.args)
    config = loss.get_config() if hasattr(loss, "get_config") else None
    if type(loss).__name__ not in KERAS_LOSSES or not isinstance(config, dict):
        return {"loss": describe(loss)}
    return {"class": type(loss).__name__, "from_logits": bool(config.get("from_logits", False))}


def _labels_read(labels):
    labels = np.asarray(labels)
    if labels.ndim == 1:
        return _("the labels are class ids, one integer per row (shape {shape})").format(shape=list(labels.shape))
    if np.allclose(labels.sum(axis=-1), 1.0):
        return _("the labels have shape {shape} and every row sums to 1: exactly one class is true per row "
                 "(one-hot)").format(shape=list(labels.shape))
    return _("the labels are 0/1 per output and their rows sum to {sums}: each output is its own yes/no "
             "question").format(sums=show(labels.sum(axis=-1)))


def _outputs_read(outputs, family):
    outputs = np.asarray(outputs, dtype=float)
    span = _("the outputs run from {low} to {high}").format(low=f"{outputs.min():.4g}", high=f"{outputs.max():.4g}")
    if not _in_unit(outputs):
        return _("{span}: outside [0, 1], so they are raw logits").format(span=span)
    if family == "BinaryCrossentropy":
        return _("{span}, all inside [0, 1]: they are sigmoid probabilities already").format(span=span)
    if _rows_sum_to_1(outputs):
        return _("{span}, all inside [0, 1], and each row sums to 1: softmax was applied already").format(span=span)
    return _("{span}, all inside [0, 1], but the rows sum to {sums}, not 1: a softmax output's rows always sum to 1, "
             "so these are raw logits that happen to be small").format(
                 span=span, sums=show(np.round(outputs.sum(axis=-1), 3)))


def _first_upper(text):
    return text[:1].upper() + text[1:]


def _judge_pick(case, got, name):
    outputs, labels = case.args
    family, from_logits = case.expected["loss"], case.expected["from_logits"]
    right = f"tf.keras.losses.{family}(from_logits={from_logits})"
    call = f"{name}(outputs, labels)"
    if "loss" in got:
        raise CheckFailed(_("{call} returned {got}: return a Keras loss object, e.g. {example}.").format(
            call=call, got=show(got["loss"]), example=f"tf.keras.losses.{KERAS_LOSSES[0]}(from_logits=...)"))
    said = _("{call} gave {loss}; expected {right}.").format(
        call=call, loss=f"{got['class']}(from_logits={got['from_logits']})", right=right)
    if got["class"] != family:
        why = {"SparseCategoricalCrossentropy": N_("integer class ids go to SparseCategoricalCrossentropy"),
               "CategoricalCrossentropy": N_("one-hot rows go to CategoricalCrossentropy (softmax over the classes)"),
               "BinaryCrossentropy": N_("independent 0/1 labels go to BinaryCrossentropy (a sigmoid per output)"),
               }[family]
        raise CheckFailed(said + "\n" + _("{what}: {why}.").format(what=_first_upper(_labels_read(labels)), why=_(why)))
    if got["from_logits"] != from_logits:
        fix = (N_("from_logits=True: with False Keras would read logits as probabilities") if from_logits else
               N_("from_logits=False: with True the loss would apply softmax or sigmoid a second time"))
        raise CheckFailed(said + "\n" + _("{what}: {why}.").format(
            what=_first_upper(_outputs_read(outputs, family)), why=_(fix)))
    return None


register(Task(
    key="pick_loss", function="pick_loss", kind="custom", reference=reference_pick_loss,
    cases=[_pick_case(60, "SparseCategoricalCrossentropy", True),
           _pick_case(61, "CategoricalCrossentropy", False),
           _pick_case(62, "BinaryCrossentropy", True, kind="positive"),
           _pick_case(63, "CategoricalCrossentropy", True, hidden=True, rows=5, classes=4),
           _pick_case(64, "SparseCategoricalCrossentropy", False, hidden=True, rows=3, classes=5),
           _pick_case(65, "BinaryCrossentropy", False, hidden=True, rows=4, classes=2),
           _pick_case(66, "SparseCategoricalCrossentropy", True, hidden=True, rows=3, classes=4, kind="positive"),
           _pick_case(67, "CategoricalCrossentropy", True, hidden=True, rows=2, classes=3, kind="small")],
    probe=_probe_pick, judge_data=_judge_pick,
    passed=(N_("integer ids with logits, one-hot rows with probabilities, multi-label yes/no with all-positive logits"),
            N_("other shapes, each family with the other kind of outputs, and small positive logits whose rows "
               "do not sum to 1")),
    fresh=lambda rng: [_fresh_pick_case(rng, family, bool(flag))
                       for family, flag in zip(KERAS_LOSSES, rng.integers(0, 2, size=3))],
))


def _swapped_case(rng, rows, classes, hidden=False):
    return Case((random_logits(rng, rows, classes, scale=1.5), random_one_hot(rng, rows, classes)), hidden=hidden)


register(Task(
    key="positional_call", function="positional_call", reference=_swapped_call,
    cases=[Case((Y_HAT, LABELS)), _swapped_case(np.random.default_rng(9), 4, 5, hidden=True)],
    mistakes=[
        Mistake(lambda y_hat, y_true: numerics.cross_entropy(y_true, y_hat),
                N_("that is the loss the old code meant (labels=y_true, logits=y_hat). In TensorFlow 2 the first "
                   "parameter is labels: the call takes y_hat as the labels and the one-hot y_true as the logits.")),
        Mistake(lambda y_hat, y_true: (as_floats(y_hat) * numerics.log_softmax(y_true)).sum(axis=-1),
                N_("sign error: the op returns -sum(labels * log_softmax(logits)).")),
        Mistake(lambda y_hat, y_true: _swapped_call(y_hat, y_true).mean(),
            N_("the op returns one loss per row; no mean.")),
    ],
    passed=(N_("the thread's y_hat and y_true give [1.758, 6.368], not E3's [0.479, 1.200]"),
            N_("a [4, 5] batch you have not seen")),
    fresh=lambda rng: [_swapped_case(rng, int(rng.integers(2, 6)), int(rng.integers(2, 6)), hidden=True)],
))
