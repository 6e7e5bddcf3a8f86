"""Judging an answer: compare returned data with the reference and name the first matching mistake."""

import numpy as np

from logitlab.exercises.format import CheckFailed, NotAnswered, Opaque, Raised, show
from logitlab.exercises.running import quiet, to_data
from logitlab.i18n import _



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


def _same(kind, case, got, alt, rtol=None, atol=None):
    if kind == "value":
        return not isinstance(alt, Opaque) and _equal_values(got, alt)
    try:
        a, b = np.asarray(got, dtype=float), np.asarray(alt, dtype=float)
    except (TypeError, ValueError):
        return False
    rtol, atol = case.rtol if rtol is None else rtol, case.atol if atol is None else atol
    return a.shape == b.shape and np.allclose(a, b, rtol=rtol, atol=atol, equal_nan=True)


def _equal_values(got, expected):
    if isinstance(expected, bool) or isinstance(got, bool):
        return isinstance(got, (bool, int)) and bool(got) == expected
    try:
        return bool(np.array_equal(np.asarray(got), np.asarray(expected)))
    except Exception:  # noqa: BLE001 - incomparable answers are not equal
        return False


def _named_mistake(task, case, got, shape_only=False):
    return matching_mistake(task.mistakes, case, got, kind=task.kind, shape_only=shape_only)


def matching_mistake(mistakes, case, got, kind="array", shape_only=False, rtol=None, atol=None):
    """The message of the first of `mistakes` whose wrong answer on `case` equals `got`, or None.

    Custom judges call it with their task's own `mistakes=` list and the part of the probed data
    a mistake predicts (a loss value, a bias), so every task keeps its named mistakes in one place.
    `rtol` and `atol`, when given, replace the case's tolerances.
    """
    for mistake in mistakes:
        alt = _wrong_answer(mistake, case)
        if alt is None:
            continue
        if shape_only and np.shape(alt) != np.shape(got):
            continue
        if _same(kind, case, got, alt, rtol, atol):
            return _(mistake.message)
    return None


def _judge_raised(name, case, got):
    if got.types[0] == "NotCallable":
        raise CheckFailed(_("{name} should be a function, but it is {what}.").format(name=name, what=got.message))
    if got.types[0] == "NameError" and f"'{name}'" in got.message:
        raise CheckFailed(_("{name} is not defined: run the cell that defines it (and keep its name), then this one.")
                          .format(name=name))
    if got.not_answered:
        raise NotAnswered(
            _("{name}: not answered yet. Replace `raise NotImplementedError()` with your code, "
              "run that cell, then run this one again.").format(name=name)
        )
    raise CheckFailed(
        _("{call} raised {error}: {message}").format(call=_call_text(name, case), error=got.types[0],
                                                     message=got.message) + "\n"
        + _("Read the error above, fix your function, run its cell, then this one again.")
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
    wanted = _("{error} saying so").format(error=case.raises[0])
    if isinstance(got, Raised) and got.not_answered:
        _judge_raised(name, case, got)
    if isinstance(got, Raised) and any(t in got.types for t in case.raises):
        return None
    what = _(case.about) or ", ".join(show(a) for a in case.args)
    advice = f"{_(case.hint)} " + _("Raise {wanted}.").format(wanted=wanted)
    if isinstance(got, Raised):
        raise CheckFailed(_("{call} raised {error}: {message}").format(
            call=f"{name}({what})", error=got.types[0], message=got.message) + f"\n{advice}")
    raise CheckFailed(_("{call} returned {got} instead of an error.").format(call=f"{name}({what})", got=show(got))
                      + f"\n{advice}")


def _judge_value(task, name, case, got, expected):
    if _equal_values(got, expected):
        return None
    message = _named_mistake(task, case, got) or _(case.hint)
    told = _("{call} returned {got} for {about}; expected {expected}.") if case.about else \
        _("{call} returned {got}; expected {expected}.")
    raise CheckFailed(told.format(call=_call_text(name, case), got=show(got), about=_(case.about),
                                  expected=show(expected)) + (f"\n{message}" if message else ""))


def _judge_array(task, name, case, got, expected):
    call = _call_text(name, case)
    if isinstance(got, Opaque) or isinstance(got, str) or isinstance(got, dict):
        raise CheckFailed(_("{call} returned {got}, which is not an array of numbers.").format(
            call=call, got=show(got)))
    values = np.asarray(got, dtype=float)
    expected = np.asarray(expected, dtype=float)
    if case.dtype and np.asarray(got).dtype != np.dtype(case.dtype):
        raise CheckFailed(
            _("{call} returned {got} values for {wanted} input: keep the input's dtype (TensorFlow does), e.g. by "
              "working with the array you were given.").format(call=call, got=np.asarray(got).dtype,
                                                              wanted=np.dtype(case.dtype))
        )
    if values.shape != expected.shape:
        message = _named_mistake(task, case, got, shape_only=True)
        if message:
            raise CheckFailed(_("{call} returned {got}.").format(call=call, got=show(got)) + f"\n{message}")
        if expected.shape == ():
            raise CheckFailed(_("{call} returned shape {got}; expected one number (shape []): e.g. float(...) "
                                "of your result.").format(call=call, got=list(values.shape)))
        raise CheckFailed(_("{call} returned shape {got}; expected shape {expected}.").format(
            call=call, got=list(values.shape), expected=list(expected.shape)))
    told = _("{call} returned {got}; expected {expected}.").format(call=call, got=show(got), expected=show(expected))
    if case.nonfinite and (~np.isfinite(values) & np.isfinite(expected)).any():
        # A named mistake is the more precise diagnosis, but only if some finite value matched it too: nan equals
        # nan in that comparison, so an answer of nothing but nan and inf would match any mistake that breaks there.
        named = _named_mistake(task, case, got) if np.isfinite(values).any() else None
        if named:
            raise CheckFailed(f"{told}\n{named}")
        # A callable says what went wrong by what came back (nan from an overflow, inf from an underflow).
        why = case.nonfinite(values) if callable(case.nonfinite) else case.nonfinite
        raise CheckFailed(f"{told}\n{_(why)}")
    if np.allclose(values, expected, rtol=case.rtol, atol=case.atol, equal_nan=False):
        both = np.isfinite(values) & np.isfinite(expected)
        return float(np.max(np.abs(values[both] - expected[both]), initial=0.0))
    message = _named_mistake(task, case, got) or _(case.hint)
    raise CheckFailed(told + (f"\n{message}" if message else ""))


def closeness(differences):
    """The end of a tick line, like nn-zero-to-hero's `cmp`: exact, or the largest difference."""
    known = [d for d in differences if d is not None]
    if not known:
        return ""
    largest = max(known)
    return _(" (exact)") if largest == 0 else _(" (largest difference {largest})").format(largest=f"{largest:.1e}")


def closeness_text(english):
    """An English closeness ending (" (exact)", " (largest difference 1.2e-08)", "") in the current language."""
    if english == " (exact)":
        return _(english)
    if english.startswith(" (largest difference "):
        return _(" (largest difference {largest})").format(largest=english[len(" (largest difference "):-1])
    return english
