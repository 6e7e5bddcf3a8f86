"""Running the learner's code on a case: where the learner's code lives (their kernel, or the sandbox)."""

import contextlib
import copy
import dataclasses
import warnings
from unittest import mock

import numpy as np

from logitlab.exercises.format import Opaque, Raised, show


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


def bound(fn, env):
    """Within the block, the names in `env` seen by the learner's function `fn` are env's functions.

    The learner's own functions are back afterwards, and names env added are gone (`mock.patch.dict`).
    """
    space = getattr(fn, "__globals__", None)
    if not env or space is None:
        return contextlib.nullcontext()
    return mock.patch.dict(space, env)


def run_case(task, fn, case, env=None):
    """Call the learner's `fn` on one case (with `env` bound, see `bound`); return its result as data."""
    if not callable(fn):
        return Raised(("NotCallable",), f"{type(fn).__name__} {show(fn)}")
    # A function that changes its inputs in place (logits /= temperature) gets copies: the case, its reference
    # answer and the cases after it stay as written.
    case = dataclasses.replace(case, args=copy.deepcopy(case.args))
    try:
        with quiet(), bound(fn, env if task.probe is None else None):
            if task.probe is not None:
                return to_data(task.probe(fn, case, env or {}))
            return to_data(fn(*case.args))
    except Exception as err:  # noqa: BLE001 - any error of the learner's code is feedback
        return _raised(err)
