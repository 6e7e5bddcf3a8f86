"""The grader's reading of a check cell: which task it checks and with which of the learner's functions."""

import ast

from logitlab.exercises.tasks import TASKS


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
    if key not in TASKS:
        raise ValueError(f"no graded task {key!r} in logitlab/exercises/tasks/ (cell {source!r:.200})")
    return key, args[0].id, bool(kwargs.get("hard", False))
