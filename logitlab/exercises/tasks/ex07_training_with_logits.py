"""Exercise 07, training with logits: the Keras model tasks, then what training puts into the logits."""

import numpy as np

from logitlab import numerics
from logitlab.i18n import N_, _
from logitlab.exercises.format import Case, CheckFailed, Mistake, Opaque, Task
from logitlab.exercises.format import show
from logitlab.exercises.judging import matching_mistake
from logitlab.exercises.tasks.common import as_floats, describe, random_logits, register

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
        return {"model": describe(model)}
    last = layers[-1]
    activation = getattr(getattr(last, "activation", None), "__name__", None)
    return {**_model_outputs(model, x), "activation": activation, "last_layer": type(last).__name__}


def _judge_logits_model(case, got, name):
    features, classes, x = case.args
    call = f"{name}({features}, {classes})"
    if "model" in got:
        raise CheckFailed(_("{call} returned {got}: return a Keras model.").format(call=call, got=show(got["model"])))
    if "error" in got:
        raise CheckFailed(_("calling the model from {call} on a {shape} batch raised {error}").format(
            call=call, shape=f"[{len(x)}, {features}]", error=got["error"]))
    out = np.asarray(got["outputs"], dtype=float)
    if out.shape != (len(x), classes):
        raise CheckFailed(_("{call} gave outputs of shape {got} for {points} points; expected {expected}: one logit "
                            "per class.").format(call=call, got=list(out.shape), points=len(x),
                                                 expected=f"[{len(x)}, {classes}]"))
    activation = got.get("activation")
    if activation == "softmax" or got.get("last_layer") == "Softmax" or (
            (out >= 0).all() and np.allclose(out.sum(axis=-1), 1.0, atol=1e-5)):
        raise CheckFailed(
            _("{call}: these outputs sum to 1 per row, so the last layer applies softmax and the loss would get "
              "probabilities where logits were expected.").format(call=call) + "\n"
            + _("End with Dense(num_classes) and no activation; the loss applies softmax itself with "
                "from_logits=True."))
    if got.get("last_layer") == "ReLU" or _clamped_at_zero(x, out):
        raise CheckFailed(_("{call}: every output is 0 or more and some are exactly 0, so the last layer clamps "
                            "negative logits (a ReLU). A logit can be any real number: end with Dense(num_classes) "
                            "and no activation.").format(call=call))
    if activation not in (None, "linear"):
        raise CheckFailed(_("{call}: the last layer uses activation '{activation}'; logits need none "
                            "(activation=None).").format(call=call, activation=activation))
    return None


def _clamped_at_zero(x, out):
    """Outputs all >= 0 with some exactly 0, for inputs that are not all zero (where a bias of 0 gives 0 anyway)."""
    nonzero_rows = ~np.all(np.asarray(x) == 0, axis=-1)
    kept = out[nonzero_rows]
    return kept.size > 0 and bool((kept >= 0).all() and (kept == 0).any())


register(Task(
    key="logits_model", function="build_model", kind="custom", reference=reference_build_model,
    cases=[Case((2, 3, np.array([[0.0, 0.0], [1.0, -1.0], [3.0, 2.0], [-2.0, 0.5]])), shown="2, 3"),
           Case((5, 4, np.random.default_rng(71).normal(scale=3.0, size=(6, 5))), hidden=True, shown="5, 4")],
    probe=_probe_logits_model, judge_data=_judge_logits_model,
    passed=(N_("a [4, 2] batch gives [4, 3] logits from a last Dense layer with no activation"),
            N_("5 features and 4 classes give [6, 4] logits, again with no activation")),
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
             "loss_name": loss if isinstance(loss, str) else None, **_model_outputs(model, points)}
    if callable(loss) and "outputs" in facts:
        # Judged by value, so a loss written as a function or a lambda counts as well as a loss object.
        try:
            facts["loss_value"] = loss(np.asarray(label_ids), facts["outputs"])
        except Exception as err:  # noqa: BLE001 - the loss's own error is the feedback
            facts["loss_error"] = f"{type(err).__name__}: {err}"[:2000]
    return facts


def _judge_trained_model(case, got, name):
    points, label_ids = case.args
    if not got.get("compiled"):
        raise CheckFailed(_("{name}: the model was never compiled. "
                            "Call model.compile(optimizer=..., loss=...) before fit.").format(name=name))
    if got.get("loss_name") is not None:
        raise CheckFailed(_(
            "{name} compiled with loss={loss}: a loss given by name reads the outputs as probabilities. "
            "Pass tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True).").format(
                name=name, loss=repr(got["loss_name"])))
    if "error" in got:
        raise CheckFailed(_("calling the model after {name} raised {error}").format(name=name, error=got["error"]))
    if "loss_error" in got:
        raise CheckFailed(_("the loss compiled by {name}, called on integer label ids and the model's outputs, "
                            "raised {error}").format(name=name, error=got["loss_error"]))
    out = np.asarray(got["outputs"], dtype=float)
    if out.shape != (len(points), 3):
        raise CheckFailed(_("after {name} the model gives outputs of shape {shape}; expected {expected}.").format(
            name=name, shape=list(out.shape), expected=f"[{len(points)}, 3]"))
    right = float(numerics.sparse_cross_entropy(np.asarray(label_ids), out).mean())
    value = got.get("loss_value")
    if isinstance(value, Opaque) or value is None or np.size(value) != 1 or not np.isclose(
            float(np.asarray(value, dtype=float).reshape(-1)[0]), right, rtol=1e-3, atol=1e-5):
        raise CheckFailed(_(
            "{name} compiled the model with {loss}, which gives {got} on the trained model's outputs, where the mean "
            "cross-entropy of those logits is {right}: the loss reads the logits as probabilities, as a loss without "
            "from_logits=True does.\nPass SparseCategoricalCrossentropy(from_logits=True).").format(
                name=name, loss=got.get("loss_type"), got=show(value), right=f"{right:.5f}"))
    accuracy = float((out.argmax(axis=-1) == np.asarray(label_ids)).mean())
    if accuracy < 0.9:
        raise CheckFailed(_(
            "after {name} the model classifies {accuracy} of the training points right; expected at least 90%.\n"
            "Train for more epochs or with a larger learning rate, and check that the labels match the loss.").format(
                name=name, accuracy=f"{accuracy:.0%}"))
    return None


register(Task(
    key="trained_model", function="train_model", kind="custom", uses=("logits_model",),
    cases=[Case(_blobs(), shown="model, points, label_ids")],
    probe=_probe_trained_model, judge_data=_judge_trained_model,
    passed=(N_("compiled with from_logits=True; it classifies at least 90% of the training points right"), ""),
))


def _probe_probability_model(probability_model, case, env):
    (points,) = case.args
    model = env.get("build_model", reference_build_model)(points.shape[1], 3)
    before = _model_outputs(model, points)
    wrapped = probability_model(model)
    if not callable(wrapped):
        return {"model": describe(wrapped)}
    logits, probs = _model_outputs(model, points), _model_outputs(wrapped, points)
    if "error" in probs:
        return probs
    return {"logits": before.get("outputs"), "logits_after": logits.get("outputs"), "probs": probs["outputs"]}


def _judge_probability_model(case, got, name):
    call = f"{name}(model)"
    if "model" in got:
        raise CheckFailed(_("{call} returned {got}: return a Keras model.").format(call=call, got=show(got["model"])))
    if "error" in got:
        raise CheckFailed(_("calling the model from {call} raised {error}").format(call=call, error=got["error"]))
    logits, probs = np.asarray(got["logits"], dtype=float), np.asarray(got["probs"], dtype=float)
    after = np.asarray(got.get("logits_after", logits), dtype=float)
    if after.shape != logits.shape or not np.allclose(after, logits, atol=1e-5):
        raise CheckFailed(_("{call} changed the model it was given (model.add(...)?): the logits model now outputs "
                            "{after} instead of its logits {logits}, so training it would double the softmax. Leave "
                            "it as it is and return a new model: tf.keras.Sequential([model, "
                            "tf.keras.layers.Softmax()]).").format(call=call, after=show(after[:2]),
                                                                    logits=show(logits[:2])))
    expected = numerics.softmax(logits)
    if probs.shape != expected.shape:
        raise CheckFailed(_("{call} gives shape {got}; expected {expected}, like the model.").format(
            call=call, got=list(probs.shape), expected=list(expected.shape)))
    if np.allclose(probs, logits, atol=1e-5):
        raise CheckFailed(_("{call} gives the same numbers as the model: add a Softmax layer after it.").format(
            call=call))
    if np.allclose(probs, numerics.softmax(expected), atol=1e-5):
        raise CheckFailed(_("{call} applies softmax twice (double softmax): add one Softmax layer to the logits "
                            "model.").format(call=call))
    if not np.allclose(probs, expected, atol=1e-5):
        raise CheckFailed(_("{call} gives {got} for the first points; expected the softmax of the model's logits, "
                            "{expected}.").format(call=call, got=show(probs[:2]), expected=show(expected[:2])))
    # No closeness: the float32 model's softmax is a few 1e-8 from the float64 one, and which few depends on the
    # CPU (the same code printed 4.3e-08 on an AMD EPYC here and 3.9e-08 on an earlier machine): noise, not news.
    return None


register(Task(
    key="probability_model", function="probability_model", kind="custom", uses=("logits_model",),
    cases=[Case((_blobs()[0][:8],), shown="model"),
           Case((np.random.default_rng(72).normal(scale=20.0, size=(8, 4)),), hidden=True, shown="model")],
    probe=_probe_probability_model, judge_data=_judge_probability_model,
    passed=(N_("its outputs are the softmax of the model's logits: each row sums to 1"),
            N_("a model of 4 features, fed points far from the exercise's, gives the softmax of its logits too")),
))


# ---------------------------------------------------------------- lesson 07: what training puts into the logits
# Plain NumPy tasks: the loss before training, the output bias that matches the class frequencies, and a
# temperature fitted on held-out data (and only there).


def _mean_loss_of_bias(label_ids, bias):
    """The mean cross-entropy when every instance's logits are `bias` (a model whose weights are all 0)."""
    ids = np.asarray(label_ids, dtype=int)
    return float(-numerics.log_softmax(as_floats(bias))[ids].mean())


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
             nonfinite=N_("exp(1000) overflows (or a probability underflows to 0 and log(0) = -inf): use a stable "
                          "log_softmax, bias - max - log(sum(exp(bias - max))).")),
        Case((_IDS_07, np.array([101.0, 102.0, 103.0])), hidden=True),
    ],
    mistakes=[
        Mistake(lambda ids, b: np.log(len(b)),
                N_("you returned log K whatever the bias: that is the loss only when all logits are equal. "
                   "Score the true classes: the mean over instances of -log softmax(bias)[label_id].")),
        Mistake(lambda ids, b: float(-(numerics.softmax(b) * numerics.log_softmax(b)).sum()),
                N_("that is the entropy of the model's probabilities softmax(bias); the loss scores the labels: "
                   "the mean over instances of -log softmax(bias)[label_id].")),
        Mistake(lambda ids, b: -_mean_loss_of_bias(ids, b),
                N_("the loss is negative: sign error, the loss is -log of the true class's probability.")),
        Mistake(lambda ids, b: float(-np.log(as_floats(b)[np.asarray(ids)]).mean()),
                N_("you took the log of the bias itself: the bias holds logits, so apply log_softmax first.")),
        Mistake(lambda ids, b: _mean_loss_of_bias(ids, b) * len(ids),
                N_("that is the sum over the instances: the loss is their mean.")),
        Mistake(lambda ids, b: -numerics.log_softmax(as_floats(b))[np.asarray(ids, dtype=int)],
                N_("you returned one loss per instance: return their mean, one number.")),
    ],
    passed=(N_("equal logits give log 3, log-frequency logits give the entropy of the frequencies"),
            N_("ten classes give log 10, logits of ±1000 stay finite, a shift of 100 changes nothing")),
    fresh=lambda rng: [Case((rng.integers(0, 4, size=12), np.round(rng.normal(size=4), 2))),
                       Case((rng.integers(0, 3, size=8), np.round(rng.normal(scale=500, size=3), 1)), hidden=True,
                            nonfinite=N_("use a stable log_softmax: bias - max - log(sum(exp(bias - max)))."))],
))


def _reference_log_prior_bias(label_ids, num_classes):
    # A class that never appears gets a small floor instead of log(0) = -inf.
    return np.log(np.maximum(_frequencies(label_ids, num_classes), 1e-6))


def _judge_log_prior_bias(case, got, name):
    ids, classes = case.args
    call = f"{name}({show(ids)}, {classes})" if case.shown is None else f"{name}({case.shown})"
    frequencies = _frequencies(ids, classes)
    if isinstance(got, (Opaque, str, dict)) or got is None:
        raise CheckFailed(_("{call} returned {got}: return an array of {classes} numbers, one bias per class.")
                          .format(call=call, got=show(got), classes=classes))
    bias = np.asarray(got, dtype=float)
    if bias.shape != (classes,):
        extra = (" " + _("Count with np.bincount(label_ids, minlength=num_classes): a class that never appears "
                         "still needs its bias.") if bias.shape == (int(np.max(ids)) + 1,) else "")
        raise CheckFailed(_("{call} returned shape {got}; expected {expected}, one bias per class.").format(
            call=call, got=list(bias.shape), expected=f"[{classes}]") + extra)
    if not np.isfinite(bias).all():
        raise CheckFailed(_(
            "{call} returned {got}: a class that never appears has frequency 0, and log(0) = -inf would give nan "
            "gradients and a class the model can never predict. Floor the frequencies first, e.g. "
            "np.log(np.maximum(frequencies, 1e-6)).").format(call=call, got=show(bias)))
    probs = numerics.softmax(bias)
    if np.allclose(probs, frequencies, rtol=0, atol=case.atol):
        return float(np.max(np.abs(probs - frequencies)))
    told = _("{call} returned {got}; softmax of it is {probs}, but the class frequencies are {frequencies}.").format(
        call=call, got=show(bias), probs=show(np.round(probs, 4)), frequencies=show(np.round(frequencies, 4)))
    message = matching_mistake(_LOG_PRIOR_MISTAKES, case, bias, rtol=1e-6, atol=1e-9)
    raise CheckFailed(f"{told}\n{message or _(_LOG_PRIOR_HINT)}")


_LOG_PRIOR_HINT = N_("Choose the bias so that softmax(bias) equals the frequencies: log(frequency), "
                     "plus any constant you like.")
_LOG_PRIOR_MISTAKES = [
    Mistake(lambda ids, k: _frequencies(ids, k),
            N_("You returned the frequencies themselves: the bias is their log (softmax(log f) = f).")),
    Mistake(lambda ids, k: _frequencies(ids, k) * len(ids),
            N_("You returned the counts: take their log (log counts work too: softmax ignores the constant log n).")),
    Mistake(lambda ids, k: -np.log(_frequencies(ids, k)),
            N_("Sign error: the bias is +log(frequency); -log makes the rarest class the likeliest.")),
    Mistake(lambda ids, k: np.log(_frequencies(ids, k) / (1 - _frequencies(ids, k))),
            N_("That is each class's log-odds log(f / (1 - f)), the bias for a sigmoid output per class; "
               "softmax needs log(f).")),
    Mistake(lambda ids, k: np.zeros(k), N_("Zeros is Keras's default bias: it predicts 1/K for every class. "
                                           "Use log(frequency).")),
]

register(Task(
    key="log_prior_bias", function="log_prior_bias", kind="custom", reference=_reference_log_prior_bias,
    cases=[
        Case((_IDS_07, 3), atol=1e-3),
        Case((np.repeat([0, 1, 2, 3], [70, 20, 9, 1]), 4), atol=1e-3),
        Case((np.array([0, 0, 0, 1, 2, 2]), 5), hidden=True, atol=1e-2, shown="[0, 0, 0, 1, 2, 2], 5"),
        Case((np.repeat([2, 0, 1], [1, 998, 1]), 3), hidden=True, atol=1e-4, shown="998 zeros, one 1, one 2; 3"),
    ],
    judge_data=_judge_log_prior_bias, mistakes=_LOG_PRIOR_MISTAKES,
    passed=(N_("softmax of your bias gives the class frequencies (a constant added to every bias is fine)"),
            N_("classes that never appear get a finite bias, and a 998-to-1 imbalance is matched")),
    fresh=lambda rng: [Case((rng.choice(3, size=50, p=[0.6, 0.3, 0.1]), 3), atol=1e-3, shown="50 label ids, 3"),
                       Case((rng.choice(4, size=30, p=[0.7, 0.2, 0.1, 0.0]), 6), hidden=True, atol=1e-2,
                            shown="30 label ids, 6")],
))


def _nlls(logits, label_ids, temperatures):
    """The mean NLL of softmax(logits / T) for each T in `temperatures` (one vectorised log_softmax)."""
    z = as_floats(logits)[None] / np.asarray(temperatures, dtype=float).reshape(-1, 1, 1)
    ids = np.asarray(label_ids, dtype=int)
    return -numerics.log_softmax(z)[:, np.arange(len(ids)), ids].mean(axis=-1)


def _nll(logits, label_ids, temperature):
    return float(_nlls(logits, label_ids, [temperature])[0])


def _reference_fit_temperature(logits, label_ids):
    """The T > 0 that minimises the mean NLL of softmax(logits / T): a log-spaced search, then finer ones."""
    grid = np.geomspace(0.01, 100.0, 801)
    for _round in range(3):
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
        raise CheckFailed(_("{call} returned {got}: return one number, the temperature T.").format(
            call=call, got=show(got)))
    t = float(np.asarray(got, dtype=float).reshape(()))
    best = _reference_fit_temperature(logits, ids)
    if not np.isfinite(t) or t <= 0:
        raise CheckFailed(_("{call} returned {got}: a temperature is a positive number (the best one here is "
                            "{best}).").format(call=call, got=repr(t), best=f"{best:.3f}"))
    if abs(t - best) <= 0.02 * best or _nll(logits, ids, t) <= _nll(logits, ids, best) + 1e-5:
        return abs(t - best)
    told = _("{call} returned T = {got}; the T that minimises the mean NLL of softmax(logits / T) is {best} (NLL "
             "{yours} at yours, {least} at the best).").format(
        call=call, got=f"{t:.4g}", best=f"{best:.4g}", yours=f"{_nll(logits, ids, t):.4f}",
        least=f"{_nll(logits, ids, best):.4f}")
    message = matching_mistake(_TEMPERATURE_MISTAKES, case, t, rtol=0.03, atol=1e-3)
    raise CheckFailed(f"{told}\n{message or _(case.hint or '') + _(_TEMPERATURE_HINT)}")


_TEMPERATURE_HINT = N_("Search T over a wide range (0.05 to 20, evenly spaced on a log scale, e.g. np.geomspace) "
                       "with a stable NLL (log_softmax, not log(softmax)).")
_TEMPERATURE_MISTAKES = [
    Mistake(lambda z, ids: 1 / _reference_fit_temperature(z, ids),
            N_("You multiplied the logits by T: divide them, softmax(logits / T).")),
    Mistake(lambda z, ids: _nll(z, ids, _reference_fit_temperature(z, ids)),
            N_("You returned the smallest NLL: return the temperature that gives it.")),
    Mistake(lambda z, ids: 1.0, N_("T = 1 changes nothing: search for the T with the smallest mean NLL.")),
]


# One generator per case, so adding a case never changes another's data.
_OVERCONFIDENT = _scaled_logits(np.random.default_rng(7), 300, 3, 2.0)
_UNDERCONFIDENT = _scaled_logits(np.random.default_rng(701), 300, 4, 0.6)
_VERY_OVERCONFIDENT = _scaled_logits(np.random.default_rng(702), 300, 3, 9.0, scale=1.0)
_HUGE = (_OVERCONFIDENT[0] + 500.0, _OVERCONFIDENT[1])  # the same T: a shift of every row changes no softmax

register(Task(
    key="fit_temperature", function="fit_temperature", kind="custom", reference=_reference_fit_temperature,
    cases=[
        Case(_OVERCONFIDENT, shown="300 overconfident logits, their label_ids"),
        Case(_UNDERCONFIDENT, shown="300 underconfident logits, their label_ids"),
        Case(_VERY_OVERCONFIDENT, hidden=True, shown="300 very overconfident logits (T near 9), their label_ids"),
        Case(_HUGE, hidden=True, shown="the same logits + 500, their label_ids",
             hint=N_("exp overflows for logits near 500 divided by a small T. ")),
    ],
    judge_data=_judge_fit_temperature, mistakes=_TEMPERATURE_MISTAKES,
    passed=(N_("an overconfident model gets T > 1 and an underconfident one T < 1, within 2% of the best T"),
            N_("T near 9 is found, and logits near 500 do not overflow")),
    fresh=lambda rng: [Case(_scaled_logits(rng, 300, 3, float(rng.uniform(0.5, 3.0))), shown="300 logits, label_ids"),
                       Case(_scaled_logits(rng, 300, 5, float(rng.uniform(3.0, 12.0)), scale=1.0), hidden=True,
                            shown="300 logits, label_ids")],
))


def _reference_calibrated(train_logits, train_ids, held_logits, held_ids, logits):
    return numerics.softmax(as_floats(logits) / _reference_fit_temperature(held_logits, held_ids))


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
        return numerics.softmax(as_floats(logits) / _reference_fit_temperature(*data))
    return wrong


register(Task(
    key="calibrated_probabilities", function="calibrated_probabilities", uses=("fit_temperature",),
    reference=_reference_calibrated,
    cases=[_calibration_case(np.random.default_rng(70), 2.5),
           _calibration_case(np.random.default_rng(71), 4.0, hidden=True)],
    mistakes=[
        Mistake(_fit_on(lambda tl, ti, hl, hi: (tl, ti)),
                N_("you fitted T on the training data: the model has fitted those, so they cannot show how sure it "
                   "should be on new data. Fit T on the held-out data.")),
        Mistake(_fit_on(lambda tl, ti, hl, hi: (np.concatenate([tl, hl]), np.concatenate([ti, hi]))),
                N_("you fitted T on the training and held-out data together: fit it on the held-out data only.")),
        Mistake(lambda tl, ti, hl, hi, z: numerics.softmax(as_floats(z) * _reference_fit_temperature(hl, hi)),
                N_("you multiplied the logits by T: divide them, softmax(logits / T).")),
        Mistake(lambda tl, ti, hl, hi, z: numerics.softmax(z),
                N_("these are the uncalibrated probabilities softmax(logits): divide the logits by the "
                   "fitted T first.")),
    ],
    passed=(N_("softmax(logits / T) with T fitted on the held-out data"),
        N_("a more overconfident model is calibrated too")),
    fresh=lambda rng: [_calibration_case(rng, float(rng.uniform(2.0, 4.0)))],
))



# ---------------------------------------------------------------- logit adjustment (Menon et al. 2021)


def _reference_adjusted_predictions(logits, prior, tau):
    """The class ids argmax(logits - tau * log(prior)): balanced accuracy on imbalanced classes."""
    return np.argmax(as_floats(logits) - tau * np.log(as_floats(prior)), axis=-1)


def _adjusted_case(rng, hidden=True):
    classes = int(rng.integers(3, 7))
    prior = np.round(rng.dirichlet(np.ones(classes)) * 0.9 + 0.1 / classes, 3)
    return Case((random_logits(rng, 12, classes), prior / prior.sum(), float(np.round(rng.uniform(0.5, 1.5), 2))),
                hidden=hidden, rtol=0, atol=0, shown="12 rows of logits, a prior, tau")


_LOGITS_LT = np.array([[2.0, 1.5, 0.2], [0.1, 0.3, -0.5], [1.0, 0.9, 0.8]])
_PRIOR_LT = np.array([0.7, 0.2, 0.1])

register(Task(
    key="adjusted_predictions", function="adjusted_predictions", reference=_reference_adjusted_predictions,
    cases=[
        Case((_LOGITS_LT, _PRIOR_LT, 1.0), rtol=0, atol=0),
        Case((_LOGITS_LT, _PRIOR_LT, 0.0), rtol=0, atol=0, about=N_("tau = 0: plain argmax")),
        Case((np.array([[500.0, 499.0, 498.5]]), _PRIOR_LT, 1.0), hidden=True, rtol=0, atol=0),
        _adjusted_case(np.random.default_rng(703)),
    ],
    mistakes=[
        Mistake(lambda z, prior, tau: np.argmax(as_floats(z), axis=-1),
                N_("that is the plain argmax of the logits: subtract tau * log(prior) from every row first.")),
        Mistake(lambda z, prior, tau: np.argmax(as_floats(z) + tau * np.log(as_floats(prior)), axis=-1),
                N_("you added tau * log(prior): that favours the frequent classes even more. Subtract it.")),
        Mistake(lambda z, prior, tau: np.argmax(as_floats(z) - tau * as_floats(prior), axis=-1),
                N_("you subtracted the prior itself: logits live on a log scale, so subtract tau * log(prior).")),
        Mistake(lambda z, prior, tau: as_floats(z) - tau * np.log(as_floats(prior)),
                N_("you returned the adjusted logits: return the class id of the largest one in each row (argmax).")),
    ],
    passed=(N_("the frequent class loses the close calls, and tau = 0 is the plain argmax"),
            N_("logits near 500, and priors over up to 6 classes")),
    fresh=lambda rng: [_adjusted_case(rng)],
))
