"""The exercise checks a learner calls: `ll.checks.check_softmax(softmax)`, `ll.checks.check("nll", nll)`.

Each prints one line starting with a tick, saying how close the answers were, or raises `CheckFailed`
(an AssertionError that IPython shows as its message alone) naming the mistake; `NotAnswered` when the
task still raises NotImplementedError. That is all a learner needs here: the tasks are data in
`logitlab/exercises/tasks/`, and the engine that runs and judges them is in `logitlab/exercises/`
(`instant.py` for these checks).
"""

from logitlab.exercises.format import CheckFailed, NotAnswered
from logitlab.exercises.instant import check

__all__ = [
    "CheckFailed",
    "NotAnswered",
    "check",
    "check_logit",
    "check_sigmoid",
    "check_dense_logits",
    "check_predict_class",
    "check_binary_probability",
    "check_softmax",
    "check_softmax_with_temperature",
    "check_cross_entropy",
    "check_sparse_cross_entropy",
    "check_logsumexp",
    "check_log_softmax",
    "check_softmax_cross_entropy_grad",
    "check_keras_loss",
    "check_logits_model",
    "check_probability_model",
    "check_initial_loss",
    "check_log_prior_bias",
    "check_fit_temperature",
    "check_calibrated_probabilities",
    "check_trained_model",
    "check_looks_like_probabilities",
]


def _name(fn, default):
    """The learner's function name for messages (tasks in later lessons reuse a check)."""
    name = getattr(fn, "__name__", default)
    return name if isinstance(name, str) and name.isidentifier() and name != "<lambda>" else default


def _check(key, doc):
    def run(fn, hard=False):
        check(key, fn, hard=hard)

    run.__name__ = f"check_{key}"
    run.__doc__ = doc
    return run


check_logit = _check("logit", "Check a learner's `logit(p)` = log(p / (1 - p)); `hard` adds p = 0 and 1 and batches.")
check_sigmoid = _check("sigmoid", "Check a learner's `sigmoid(z)`; `hard` adds z = ±1000, float16 and batches.")
check_dense_logits = _check("dense_logits", "Check `dense_logits(x, W, b)` = x @ W + b, a Dense layer's logits.")
check_predict_class = _check("predict_class", "Check `predict_class(logits)`: the id of the highest logit per row.")
check_binary_probability = _check("binary_probability", "Check `binary_probability(logits)` = sigmoid(z1 - z0).")
check_softmax = _check("softmax", "Check a learner's `softmax(logits)`; `hard` adds ±1000, float16, equal logits.")
check_softmax_with_temperature = _check(
    "softmax_with_temperature", "Check `softmax_with_temperature(logits, temperature)` = softmax(logits / T).")
check_logsumexp = _check("logsumexp", "Check `logsumexp(logits)` over the last axis.")
check_log_softmax = _check("log_softmax", "Check `log_softmax(logits)` over the last axis.")
check_softmax_cross_entropy_grad = _check(
    "softmax_cross_entropy_grad", "Check `softmax_cross_entropy_grad(labels, logits)` = softmax(logits) - labels.")
check_looks_like_probabilities = _check(
    "looks_like_probabilities", "Check `looks_like_probabilities(x)`: True when every row is in [0, 1] and sums to 1.")
check_mean_nll = _check(
    "mean_nll", "Check `mean_negative_log_likelihood(label_ids, probs)` = -mean(log probs[i, label_ids[i]]).")


def check_cross_entropy(cross_entropy, hard=False):
    """Check `cross_entropy(labels, logits)`: one loss per row for one-hot (or soft) labels."""
    check("cross_entropy", cross_entropy, hard=hard, name=_name(cross_entropy, "cross_entropy"))


def check_sparse_cross_entropy(sparse_cross_entropy, hard=False):
    """Check `sparse_cross_entropy(label_ids, logits)`: one loss per row for integer class ids.

    `hard` also checks that out-of-range ids raise an error (ValueError for NumPy code; TensorFlow's
    sparse op raises InvalidArgumentError on a CPU, which is accepted too).
    """
    name = _name(sparse_cross_entropy, "sparse_cross_entropy")
    check("sparse_cross_entropy", sparse_cross_entropy, hard=hard, name=name)


def check_keras_loss(make_loss, sparse=False, hard=False):
    """Check a function returning a Keras loss that scores raw logits (from_logits=True, mean reduction).

    `hard` scores a larger batch of larger logits than the lesson's example.
    """
    check("sparse_keras_loss" if sparse else "keras_loss", make_loss, hard=hard)


def check_logits_model(build_model, hard=False):
    """Check `build_model(num_features, num_classes)`: a Keras model whose last layer outputs logits.

    `hard` builds it for other numbers of features and classes than the exercise's.
    """
    check("logits_model", build_model, hard=hard)


def check_trained_model(train_model, build_model):
    """Check `train_model(model, points, label_ids)`: compiles with a from_logits loss and fits well.

    The learner's `build_model` makes the model; the task trains it on its own copy of the exercise's points.
    """
    check("trained_model", train_model, env={"build_model": build_model})


def check_probability_model(probability_model, build_model, hard=False):
    """Check `probability_model(model)`: the model followed by softmax, giving probabilities.

    `hard` wraps a model for more features, fed points far from the exercise's.
    """
    check("probability_model", probability_model, env={"build_model": build_model}, hard=hard)


# Lesson 07: what training puts into the logits (NumPy tasks).
check_initial_loss = _check(
    "initial_loss", "Check `initial_loss(label_ids, bias)`: the mean loss when every row's logits are the bias.")
check_log_prior_bias = _check(
    "log_prior_bias", "Check `log_prior_bias(label_ids, num_classes)`: softmax(bias) = class frequencies.")
check_fit_temperature = _check(
    "fit_temperature", "Check `fit_temperature(logits, label_ids)`: the T with the least mean NLL.")
check_calibrated_probabilities = _check(
    "calibrated_probabilities", "Check `calibrated_probabilities(...)`: softmax(logits / T) with T from held-out data.")
