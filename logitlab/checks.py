"""Exercise checks that read like a tutor: what was tried, what came back, what to do next.

A graded task is data (see `logitlab/tasks.py` and CONTRIBUTING.md, "How to add a graded task"):
the function the learner defines, its cases (inputs, the reference answer, tolerances), the
named mistakes, and the earlier tasks it may call. Two steps judge it, and they can run in
different processes:

- `run_case` calls the learner's function on one case's inputs and returns plain data (arrays,
  numbers, strings, or `Raised` when it raised). This runs where the learner's code lives.
- `judge` compares that data with the reference and, when it is wrong, names the first mistake
  that matches (a missing max subtraction, a wrong axis, probabilities where logits were
  expected, ...). It returns how close the answer was, or raises `CheckFailed`.

The instant checks (`ll.checks.check_softmax(softmax)`) do both in the learner's kernel and print
one line starting with a tick. The grader runs `run_case` in a sandbox and `judge` in its own
process, so no code in a submission decides a score. A failed check raises `CheckFailed`, an
AssertionError that IPython shows as its message alone.
"""

import ast
import contextlib
import textwrap
import warnings
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

__all__ = [
    "Case",
    "CheckFailed",
    "Mistake",
    "NotAnswered",
    "Raised",
    "Task",
    "check",
    "judge",
    "run_case",
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


class CheckFailed(AssertionError):
    """A check that failed. The message is the feedback; IPython shows only the message."""

    def _render_traceback_(self):
        first, *rest = str(self).splitlines() or [""]
        wrapped = [piece for line in rest for piece in textwrap.wrap(line, 96) or [""]]
        return [f"\x1b[0;31m✗ {first}\x1b[0m"] + [f"  {line}" for line in wrapped]


class NotAnswered(CheckFailed):
    """The task still holds `raise NotImplementedError()`."""


# ---------------------------------------------------------------- the format of a task


@dataclass(frozen=True)
class Mistake:
    """A named mistake: if the answer equals `wrong(*case.args)`, the feedback is `message`."""

    wrong: Callable
    message: str


@dataclass(frozen=True)
class Case:
    """One set of inputs to a task and how its answer is judged.

    `args` are passed to the learner's function. `expected` is the right answer; when it is None
    the task's `reference(*args)` gives it. `hidden` cases run only when the notebook is graded
    (the `hard=True` check cell). `nonfinite` is the message for inf or nan where the right answer
    is finite; `hint` is added when the answer is wrong and no named mistake matches; `about`
    describes the input in messages ("logits above 1"); `shown`, when not None, is how the call's
    arguments are written in messages ("model"). `dtype`, when given, is the dtype the answer must
    have. `raises` lists exception names one of which the call must raise.
    """

    args: tuple
    hidden: bool = False
    expected: object = None
    rtol: float = 1e-5
    atol: float = 1e-7
    nonfinite: str = ""
    hint: str = ""
    about: str = ""
    dtype: str = ""
    raises: tuple = ()
    shown: str = None


@dataclass
class Task:
    """A graded task: a function the learner writes, judged on `cases`.

    `key` names the task (`ll.checks.check(key, fn)`, and `check_<key>` for the lessons' checks).
    `function` is the name the exercise asks for. `kind` is "array" (compared with tolerances),
    "value" (compared exactly: a bool, a class id, a chosen letter or word) or "custom" (`judge_data`
    decides). `reference` computes right answers with NumPy and stands in for this task's function
    when a later task calls it. `uses` are keys of earlier tasks whose functions this one may call:
    they are bound to their references while this task is judged, so one mistake costs one task.
    `probe(fn, case, env)` turns the learner's function into data when calling it on `case.args`
    is not enough (a Keras loss or model); `env` maps each used task's function name to the function
    to use. `fresh(rng)` draws extra cases at grading time from a secret seed. `passed` is the text of
    the tick line for the visible and the hidden cases.
    """

    key: str
    function: str
    cases: list
    passed: tuple
    reference: Callable = None
    mistakes: list = field(default_factory=list)
    kind: str = "array"
    uses: tuple = ()
    probe: Callable = None
    judge_data: Callable = None
    fresh: Callable = None

    def selected(self, hidden):
        """The cases of the visible check (hidden=False) or of the graded hidden check (hidden=True)."""
        return [case for case in self.cases if case.hidden == hidden]


@dataclass(frozen=True)
class Raised:
    """The learner's function raised: the exception's class names (class first) and its message."""

    types: tuple
    message: str

    @property
    def not_answered(self):
        return "NotImplementedError" in self.types


@dataclass(frozen=True)
class Opaque:
    """A returned object that is not data (a function, a model): its type and a short repr."""

    text: str


# ---------------------------------------------------------------- running the learner's code


@contextlib.contextmanager
def quiet():
    """Silence warnings and NumPy floating-point notices while learner or reference code runs."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        yield


def to_data(x):
    """The learner's result as plain data: a NumPy array, str, bool, int, float, None, dict or Opaque."""
    if x is None or isinstance(x, (str, bool)):
        return x
    if isinstance(x, dict):
        return {str(k): to_data(v) for k, v in x.items()}
    if isinstance(x, (np.bool_, np.integer, np.floating)):
        return x.item()
    if isinstance(x, (int, float)):
        return x
    try:
        arr = np.asarray(x)
    except Exception:  # noqa: BLE001 - anything the learner returned
        return Opaque(f"{type(x).__name__} {repr(x)[:120]}")
    if arr.dtype.kind not in "biuf":
        return Opaque(f"{type(x).__name__} {repr(x)[:120]}")
    return np.array(arr)


def _raised(err):
    return Raised(tuple(t.__name__ for t in type(err).__mro__ if t is not object), str(err)[:2000])


@contextlib.contextmanager
def bound(fn, env):
    """Within the block, the names in `env` seen by the learner's function `fn` are env's functions."""
    space = getattr(fn, "__globals__", None)
    if not env or space is None:
        yield
        return
    missing = object()
    saved = {name: space.get(name, missing) for name in env}
    space.update(env)
    try:
        yield
    finally:
        for name, old in saved.items():
            if old is missing:
                space.pop(name, None)
            else:
                space[name] = old


def run_case(task, fn, case, env=None):
    """Call the learner's `fn` on one case (with `env` bound, see `bound`); return its result as data."""
    if not callable(fn):
        return Raised(("NotCallable",), f"{type(fn).__name__} {show(fn)}")
    try:
        with quiet(), bound(fn, env if task.probe is None else None):
            if task.probe is not None:
                return to_data(task.probe(fn, case, env or {}))
            return to_data(fn(*case.args))
    except Exception as err:  # noqa: BLE001 - any error of the learner's code is feedback
        return _raised(err)


# ---------------------------------------------------------------- judging an answer


def show(x):
    """A short, readable repr of a number or array for feedback messages."""
    if isinstance(x, Opaque):
        return x.text
    if isinstance(x, (str, bool)) or x is None:
        return repr(x)
    try:
        arr = np.asarray(x)
    except Exception:  # noqa: BLE001 - anything the learner returned
        return repr(x)[:120]
    if arr.dtype == object:
        return repr(x)[:120]
    text = np.array2string(arr, separator=", ", threshold=12, formatter={"float_kind": lambda v: f"{v:.7g}"})
    return " ".join(text.split())




def _call_text(name, case):
    shown = case.shown if case.shown is not None else ", ".join(show(a) for a in case.args)
    return f"{name}({shown})"


def expected_answer(task, case):
    """The right answer of a case: `case.expected`, else the task's reference on the case's inputs."""
    if case.expected is not None:
        return case.expected
    with quiet():
        return task.reference(*case.args)


def _wrong_answer(mistake, case):
    """What a named mistake gives on this case, or None if it does not apply to these inputs."""
    try:
        with quiet():
            return to_data(mistake.wrong(*case.args))
    except Exception:  # noqa: BLE001 - a wrong version that does not apply to these inputs
        return None


def _same(task, case, got, alt):
    if task.kind == "value":
        return not isinstance(alt, Opaque) and _equal_values(got, alt)
    try:
        a, b = np.asarray(got, dtype=float), np.asarray(alt, dtype=float)
    except (TypeError, ValueError):
        return False
    return a.shape == b.shape and np.allclose(a, b, rtol=case.rtol, atol=case.atol, equal_nan=True)


def _equal_values(got, expected):
    if isinstance(expected, bool) or isinstance(got, bool):
        return isinstance(got, (bool, int)) and bool(got) == expected
    try:
        return bool(np.array_equal(np.asarray(got), np.asarray(expected)))
    except Exception:  # noqa: BLE001 - incomparable answers are not equal
        return False


def _named_mistake(task, case, got, shape_only=False):
    for mistake in task.mistakes:
        alt = _wrong_answer(mistake, case)
        if alt is None:
            continue
        if shape_only and np.shape(alt) != np.shape(got):
            continue
        if _same(task, case, got, alt):
            return mistake.message
    return None


def _judge_raised(name, case, got):
    if got.types[0] == "NotCallable":
        raise CheckFailed(f"{name} should be a function, but it is {got.message}.")
    if got.types[0] == "NameError" and f"'{name}'" in got.message:
        raise CheckFailed(f"{name} is not defined: run the cell that defines it (and keep its name), then this one.")
    if got.not_answered:
        raise NotAnswered(
            f"{name}: not answered yet. Replace `raise NotImplementedError()` with your code, "
            "run that cell, then run this one again."
        )
    raise CheckFailed(
        f"{_call_text(name, case)} raised {got.types[0]}: {got.message}\n"
        "Read the error above, fix your function, run its cell, then this one again."
    )


def judge(task, case, got, name=None):
    """Judge the learner's answer `got` (data from `run_case`) on one case.

    Returns how far the answer is from the right one (0.0 when exact; None when closeness does not
    apply), or raises CheckFailed with the feedback: the first named mistake that matches, else
    what came back and what was expected.
    """
    name = name or task.function
    if case.raises:
        return _judge_raises(name, case, got)
    if isinstance(got, Raised):
        _judge_raised(name, case, got)
    if task.kind == "custom":
        return task.judge_data(case, got, name)
    expected = expected_answer(task, case)
    if task.kind == "value":
        return _judge_value(task, name, case, got, expected)
    return _judge_array(task, name, case, got, expected)


def _judge_raises(name, case, got):
    wanted = f"{case.raises[0]} saying so"
    if isinstance(got, Raised) and got.not_answered:
        _judge_raised(name, case, got)
    if isinstance(got, Raised) and any(t in got.types for t in case.raises):
        return None
    what = case.about or ", ".join(show(a) for a in case.args)
    if isinstance(got, Raised):
        raise CheckFailed(f"{name}({what}) raised {got.types[0]}: {got.message}\n{case.hint} Raise {wanted}.")
    raise CheckFailed(f"{name}({what}) returned {show(got)} instead of an error.\n{case.hint} Raise {wanted}.")


def _judge_value(task, name, case, got, expected):
    if _equal_values(got, expected):
        return None
    what = f" for {case.about}" if case.about else ""
    message = _named_mistake(task, case, got) or case.hint
    raise CheckFailed(f"{_call_text(name, case)} returned {show(got)}{what}; expected {show(expected)}."
                      + (f"\n{message}" if message else ""))


def _judge_array(task, name, case, got, expected):
    call = _call_text(name, case)
    if isinstance(got, Opaque) or isinstance(got, str) or isinstance(got, dict):
        raise CheckFailed(f"{call} returned {show(got)}, which is not an array of numbers.")
    values = np.asarray(got, dtype=float)
    expected = np.asarray(expected, dtype=float)
    if case.dtype and np.asarray(got).dtype != np.dtype(case.dtype):
        raise CheckFailed(
            f"{call} returned {np.asarray(got).dtype} values for {np.dtype(case.dtype)} input: "
            "keep the input's dtype (TensorFlow does), e.g. by working with the array you were given."
        )
    if values.shape != expected.shape:
        message = _named_mistake(task, case, got, shape_only=True)
        if message:
            raise CheckFailed(f"{call} returned {show(got)}.\n{message}")
        raise CheckFailed(f"{call} returned shape {list(values.shape)}; expected shape {list(expected.shape)}.")
    told = f"{call} returned {show(got)}; expected {show(expected)}."
    if case.nonfinite and (~np.isfinite(values) & np.isfinite(expected)).any():
        raise CheckFailed(f"{told}\n{case.nonfinite}")
    if np.allclose(values, expected, rtol=case.rtol, atol=case.atol, equal_nan=False):
        both = np.isfinite(values) & np.isfinite(expected)
        return float(np.max(np.abs(values[both] - expected[both]), initial=0.0))
    message = _named_mistake(task, case, got) or case.hint
    raise CheckFailed(told + (f"\n{message}" if message else ""))


def closeness(differences):
    """The end of a tick line, like nn-zero-to-hero's `cmp`: exact, or the largest difference."""
    known = [d for d in differences if d is not None]
    if not known:
        return ""
    largest = max(known)
    return " (exact)" if largest == 0 else f" (largest difference {largest:.1e})"


# ---------------------------------------------------------------- the instant checks


def registry():
    """The table of every graded task, {key: Task} (logitlab/tasks.py)."""
    from logitlab.tasks import TASKS

    return TASKS


def references(task):
    """{function name: reference function} of the earlier tasks this task may call."""
    tasks = registry()
    return {tasks[key].function: tasks[key].reference for key in task.uses}


def _judge_with_blame(task, fn, case, name, env):
    """Judge one case; if it fails only because an earlier task is wrong, say which task is at fault."""
    got = run_case(task, fn, case, env)
    try:
        return judge(task, case, got, name)
    except NotAnswered:
        raise
    except CheckFailed:
        refs = references(task)
        if not refs or task.probe is not None:
            raise
        try:
            judge(task, case, run_case(task, fn, case, refs), name)
        except CheckFailed:
            raise
        at_fault = ", ".join(sorted(refs))
        raise CheckFailed(
            f"{name} calls your {at_fault}, which is wrong (its own check says why): with the reference "
            f"{at_fault} it passes.\nFix {at_fault} first, run its cell, then this one again.") from None


def check(key, fn, hard=False, env=None, name=None):
    """Check the learner's `fn` on task `key`'s visible cases (or, with `hard=True`, its hidden ones).

    Prints a tick line saying how close the answers were, or raises CheckFailed naming the mistake.
    `env` gives the functions of earlier tasks the probe should use (a learner's build_model).
    """
    task = registry()[key]
    name = name or task.function
    differences = [_judge_with_blame(task, fn, case, name, env) for case in task.selected(hard)]
    print(f"✓ {name}: {task.passed[1 if hard else 0]}{closeness(differences)}")


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


def check_sparse_cross_entropy(sparse_cross_entropy, hard=False, error=ValueError):
    """Check `sparse_cross_entropy(label_ids, logits)`: one loss per row for integer class ids.

    `hard` also checks that out-of-range ids raise an error (ValueError for NumPy code; TensorFlow's
    sparse op raises InvalidArgumentError, which is accepted too; `error` is kept for old notebooks).
    """
    name = _name(sparse_cross_entropy, "sparse_cross_entropy")
    check("sparse_cross_entropy", sparse_cross_entropy, hard=hard, name=name)


def check_keras_loss(make_loss, sparse=False):
    """Check a function returning a Keras loss that scores raw logits (from_logits=True, mean reduction)."""
    check("sparse_keras_loss" if sparse else "keras_loss", make_loss)


def check_logits_model(build_model):
    """Check `build_model(num_features, num_classes)`: a Keras model whose last layer outputs logits."""
    check("logits_model", build_model)


def check_trained_model(train_model, build_model, points=None, label_ids=None):
    """Check `train_model(model, points, label_ids)`: compiles with a from_logits loss and fits well.

    The learner's `build_model` makes the model; the task's own copy of the lesson's points is used.
    """
    check("trained_model", train_model, env={"build_model": build_model})


def check_probability_model(probability_model, build_model, points=None):
    """Check `probability_model(model)`: the model followed by softmax, giving probabilities."""
    check("probability_model", probability_model, env={"build_model": build_model})


# Lesson 07: what training puts into the logits (NumPy tasks).
check_initial_loss = _check(
    "initial_loss", "Check `initial_loss(label_ids, bias)`: the mean loss when every row's logits are the bias.")
check_log_prior_bias = _check(
    "log_prior_bias", "Check `log_prior_bias(label_ids, num_classes)`: softmax(bias) = class frequencies.")
check_fit_temperature = _check(
    "fit_temperature", "Check `fit_temperature(logits, label_ids)`: the T with the least mean NLL.")
check_calibrated_probabilities = _check(
    "calibrated_probabilities", "Check `calibrated_probabilities(...)`: softmax(logits / T) with T from held-out data.")


def read_check_cell(source):
    """(task key, the learner's function name, hidden) of a check cell: its one `ll.checks.check...` call.

    `ll.checks.check("nll", nll, hard=True)` gives ("nll", "nll", True); the lessons' wrappers
    `ll.checks.check_softmax(softmax)` give ("softmax", "softmax", False). Raises ValueError for a cell
    that is not one such call (comments aside).
    """
    try:
        body = ast.parse(source).body
    except SyntaxError as err:
        raise ValueError(f"a check cell is not valid Python: {err}") from None
    calls = [node.value for node in body if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)]
    if len(calls) != 1 or len(body) != 1 or not isinstance(calls[0].func, ast.Attribute):
        raise ValueError(f"a check cell must hold one ll.checks call and nothing else: {source!r:.200}")
    call, check_name = calls[0], calls[0].func.attr
    kwargs = {k.arg: k.value.value for k in call.keywords if isinstance(k.value, ast.Constant)}
    args = call.args
    if check_name == "check" and args and isinstance(args[0], ast.Constant):
        key, args = args[0].value, args[1:]
    elif check_name.startswith("check_"):
        key = check_name.removeprefix("check_")
        if key == "keras_loss" and kwargs.get("sparse"):
            key = "sparse_keras_loss"
    else:
        raise ValueError(f"not an ll.checks check: {source!r:.200}")
    if not args or not isinstance(args[0], ast.Name):
        raise ValueError(f"a check must name the learner's function first: {source!r:.200}")
    if key not in registry():
        raise ValueError(f"no graded task {key!r} in logitlab/tasks.py (cell {source!r:.200})")
    return key, args[0].id, bool(kwargs.get("hard", False))
