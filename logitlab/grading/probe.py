"""What runs in the learner's kernel when grading: the probe that calls the learner's functions.

Before any of the notebook's cells, the collector (`logitlab.grading.child`) runs
`NAME = __import__("logitlab.grading.probe").grading.probe.make_probe()` under a random NAME; for
each check it then runs `NAME(SPEC, NONCE)`, where SPEC (JSON) names the task, the function and
the grader's inputs, sent only then. The probe calls the function on each input and hands the
values out as one display message of type MIME carrying NONCE. Everything here runs where the
submission's code runs too: a submission that rewires the probe can hand back values it did not
compute; the README says so. What it cannot do is reach the collector or the grader.
"""

import contextlib
import json
import sys
import types

from logitlab.grading.wire import CUT, MAX_OUTPUT_CHARS, MIME, decode, encode

_TRAMPOLINES = {}


def trampoline_code(freevars):
    """A code object with `freevars` free variables that calls its keyword default `logitlab_reference`.

    A function's `__code__` may only be replaced by code with as many free variables as the function
    has closure cells, so there is one trampoline per count; the cells are never read.
    """
    if freevars not in _TRAMPOLINES:
        names = [f"cell{i}" for i in range(freevars)]
        source = "def outer():\n"
        if names:
            source += f"    {' = '.join(names)} = None\n"
        source += ("    def trampoline(*args, logitlab_reference=None, **kwargs):\n"
                   "        if logitlab_reference is None:\n"
                   f"            return ({', '.join(names)}{',' if names else ''})\n"
                   "        return logitlab_reference(*args, **kwargs)\n"
                   "    return trampoline\n")
        space = {}
        exec(compile(source, "<logitlab trampoline>", "exec"), space)  # noqa: S102 - our own fixed source
        _TRAMPOLINES[freevars] = space["outer"]().__code__
    return _TRAMPOLINES[freevars]


@contextlib.contextmanager
def rebound(namespace, env, own):
    """Within the block, the learner's own function objects named in `env` run env's references instead.

    Rebinding the object itself (its code, defaults and keyword defaults, restored afterwards) also
    reaches a function held by another name, as a default argument or in a closure. `own`, the
    function under test, is never rebound.
    """
    saved = []
    for name, reference in env.items():
        fn = namespace.get(name)
        if not isinstance(fn, types.FunctionType) or fn is own or any(fn is s[0] for s in saved):
            continue
        before = (fn, fn.__code__, fn.__defaults__, fn.__kwdefaults__)
        try:
            fn.__code__ = trampoline_code(len(fn.__code__.co_freevars))
            fn.__defaults__, fn.__kwdefaults__ = None, {"logitlab_reference": reference}
        except (TypeError, ValueError, AttributeError):
            fn.__code__ = before[1]
            continue
        saved.append(before)
    try:
        yield
    finally:
        for fn, code, defaults, kwdefaults in reversed(saved):
            fn.__code__, fn.__defaults__, fn.__kwdefaults__ = code, defaults, kwdefaults


def cut_long_output(shell, limit=MAX_OUTPUT_CHARS):
    """Cut what each cell prints at `limit` characters inside the kernel, so megabytes never travel.

    The collector cuts every output again where it arrives; this only spares the transfer.
    """
    printed = [0]

    def limited(write):
        def write_cut(text):
            left = limit - printed[0]
            printed[0] += len(text)
            if left > 0:
                write(text[:left] + (f"\n{CUT}\n" if len(text) > left else ""))
            return len(text)
        return write_cut

    for stream in (sys.stdout, sys.stderr):
        stream.write = limited(stream.write)
    shell.events.register("pre_run_cell", lambda *args: printed.__setitem__(0, 0))


def make_probe():
    """In the submission's kernel, before any of its cells: the function that runs one check's calls.

    It holds what it needs from the start, so a submission that later replaces `ll.checks`,
    `sys.modules` entries or `print` does not change how its functions are called.
    """
    from IPython import get_ipython
    from IPython.display import display

    from logitlab.exercises.format import Case, Raised
    from logitlab.exercises.running import run_case
    from logitlab.exercises.tasks import TASKS, references

    namespace = get_ipython().user_ns
    cut_long_output(get_ipython())

    def probe(spec_text, nonce):
        spec = json.loads(spec_text)
        task, function = TASKS[spec["task"]], spec["function"]
        env = references(task)
        results = []
        for args in spec["cases"]:
            case = Case(tuple(decode(a) for a in args))
            if function not in namespace:
                got = Raised(("NameError",), f"name '{function}' is not defined")
            else:
                fn = namespace[function]
                with rebound(namespace, env, fn):
                    got = run_case(task, fn, case, env)
            results.append(encode(got))
        display({MIME: {"nonce": nonce, "results": results}}, raw=True)

    return probe
