"""The grading child: runs one submission inside a sandbox and hands back data, never verdicts.

`python -m logitlab.grading.sandbox JOB FD` runs inside bubblewrap (see `command`). JOB (read-only) holds
the submission's notebook and the grader's inputs for each check cell. The child executes the
notebook's code cells in a fresh kernel (never its check cells), then, for each check cell, calls
the learner's function on the grader's inputs in that kernel (`probe`) and writes everything back
as one JSON document to the pipe FD: cell outputs, which cells ran out of time, and the values the
functions returned. The grader (`logitlab.grading.autograde`) validates that document strictly with
`decode` and judges the values itself; nothing printed by the submission is ever read as a result.
"""

import base64
import json
import os
import secrets
import sys
from pathlib import Path

import numpy as np

from logitlab.exercises.format import Opaque, Raised

MIME = "application/vnd.logitlab.probe+json"  # how a probe cell hands its values to the child
VERSION = 1
DTYPES = {"bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
          "float16", "float32", "float64"}
MAX_ELEMENTS = 1_000_000  # per array: far more than any task's answer
MAX_TEXT = 5_000
MAX_DEPTH = 4


class BadData(ValueError):
    """Data from the sandbox that does not follow the format: the submission earns nothing for it."""


# ---------------------------------------------------------------- the data format, both ways


def encode(x):
    """JSON-ready form of a case's inputs or of a learner's answer (see `running.to_data`)."""
    if isinstance(x, Raised):
        return {"raised": {"types": [str(t)[:100] for t in x.types][:20], "message": str(x.message)[:MAX_TEXT]}}
    if isinstance(x, Opaque):
        return {"opaque": str(x.text)[:MAX_TEXT]}
    if x is None:
        return {"none": True}
    if isinstance(x, bool):
        return {"bool": x}
    if isinstance(x, int):
        return {"int": x}
    if isinstance(x, float):
        return {"float": repr(x)}
    if isinstance(x, str):
        return {"str": x[:MAX_TEXT]}
    if isinstance(x, dict):
        return {"dict": {str(k): encode(v) for k, v in x.items()}}
    if isinstance(x, (list, tuple)):
        return {"list": [encode(v) for v in x]}
    arr = np.asarray(x)  # tobytes() is in C order whatever the layout; a 0-d array stays 0-d
    return {"array": {"dtype": arr.dtype.name, "shape": list(arr.shape),
                      "data": base64.b64encode(arr.tobytes()).decode("ascii")}}


def decode(obj, depth=0):
    """The value `encode` wrote, checked strictly: known tags only, sane sizes, dtypes and shapes."""
    if depth > MAX_DEPTH or not isinstance(obj, dict) or len(obj) != 1:
        raise BadData("a value is not in the expected format")
    (tag, value), = obj.items()
    if tag == "none" and value is True:
        return None
    if tag == "bool" and isinstance(value, bool):
        return value
    if tag == "int" and isinstance(value, int) and not isinstance(value, bool) and abs(value) < 2 ** 63:
        return value
    if tag == "float" and isinstance(value, str) and len(value) < 40:
        try:
            return float(value)
        except ValueError:
            raise BadData("a number is not in the expected format") from None
    if tag in ("str", "opaque") and isinstance(value, str) and len(value) <= MAX_TEXT:
        return value if tag == "str" else Opaque(value)
    if tag == "raised" and isinstance(value, dict) and set(value) == {"types", "message"}:
        types, message = value["types"], value["message"]
        names_ok = isinstance(types, list) and 0 < len(types) <= 20 and all(
            isinstance(t, str) and len(t) <= 100 for t in types)
        if names_ok and isinstance(message, str) and len(message) <= MAX_TEXT:
            return Raised(tuple(types), message)
    if tag == "dict" and isinstance(value, dict) and len(value) <= 20:
        return {str(k)[:100]: decode(v, depth + 1) for k, v in value.items()}
    if tag == "list" and isinstance(value, list) and len(value) <= 20:
        return tuple(decode(v, depth + 1) for v in value)
    if tag == "array" and isinstance(value, dict) and set(value) == {"dtype", "shape", "data"}:
        return _decode_array(value)
    raise BadData(f"a value tagged {str(tag)[:40]!r} is not in the expected format")


def _decode_array(value):
    dtype, shape, data = value["dtype"], value["shape"], value["data"]
    if dtype not in DTYPES:
        raise BadData(f"an array of dtype {str(dtype)[:40]!r}: expected numbers")
    if (not isinstance(shape, list) or len(shape) > 8
            or not all(isinstance(n, int) and not isinstance(n, bool) and 0 <= n <= MAX_ELEMENTS for n in shape)):
        raise BadData("an array shape is not a short list of sizes")
    size = int(np.prod(shape, dtype=np.int64)) if shape else 1
    if size > MAX_ELEMENTS or not isinstance(data, str):
        raise BadData(f"an array of {size} values: at most {MAX_ELEMENTS} are accepted")
    try:
        raw = base64.b64decode(data, validate=True)
    except ValueError:
        raise BadData("array data is not base64") from None
    if len(raw) != size * np.dtype(dtype).itemsize:
        raise BadData("array data does not match its shape and dtype")
    return np.frombuffer(raw, dtype=dtype).reshape(shape).copy()


def decode_result(text, cells, probes):
    """The child's whole report, validated: (outputs by cell index, timed-out cells, probe values, problem).

    `cells` are the indexes of the code cells the child was asked to run, `probes` the number of
    probe cells; anything else (unknown keys, other cells, a malformed output) raises BadData.
    """
    import nbformat

    def reject(constant):
        raise BadData(f"{constant} is not allowed in the report")

    try:
        report = json.loads(text, parse_constant=reject)
    except json.JSONDecodeError as err:
        raise BadData(f"the report is not JSON ({err.msg})") from None
    if not isinstance(report, dict) or set(report) != {"version", "cells", "timeouts", "probes", "problem"}:
        raise BadData("the report does not have the expected fields")
    if report["version"] != VERSION:
        raise BadData("the report has another version")
    problem = report["problem"]
    if problem not in (None, "kernel_died"):
        raise BadData("the report names an unknown problem")
    outputs = {}
    if not isinstance(report["cells"], dict):
        raise BadData("cell outputs are not a mapping")
    for key, cell_outputs in report["cells"].items():
        if not key.isdigit() or int(key) not in cells or not isinstance(cell_outputs, dict):
            raise BadData("outputs for a cell that was not run")
        if set(cell_outputs) != {"outputs", "execution_count"}:
            raise BadData(f"cell {key} has unexpected fields")
        try:  # nbformat's own schema for code cells
            cell = nbformat.v4.new_code_cell(outputs=cell_outputs["outputs"],
                                             execution_count=cell_outputs["execution_count"])
        except Exception:  # noqa: BLE001 - any schema error
            raise BadData(f"the outputs of cell {key} are not valid notebook outputs") from None
        outputs[int(key)] = cell
    timeouts = report["timeouts"]
    if not isinstance(timeouts, list) or not all(isinstance(i, int) and i in cells for i in timeouts):
        raise BadData("timed-out cells that were not run")
    values = report["probes"]
    if not isinstance(values, list) or len(values) != probes:
        raise BadData("the report does not have one entry per check")
    decoded = []
    for entry in values:
        if entry is None:
            decoded.append(None)
        elif isinstance(entry, list) and len(entry) <= 100:
            decoded.append([decode(value) for value in entry])
        else:
            raise BadData("a check's values are not a list")
    return outputs, sorted(set(timeouts)), decoded, problem


# ---------------------------------------------------------------- inside the learner's kernel


def make_probe(job_path):
    """In the submission's kernel, before any of its cells: the function that runs one check's calls.

    It holds the modules it needs from the start, so a submission that later replaces
    `ll.checks`, `sys.modules` entries or `print` does not change how its functions are called.
    `probe(i)` calls the learner's function of check `i` on the grader's inputs, with the earlier
    tasks' functions it may call bound to their references (one mistake costs one task), and
    hands the values out as one display message of type MIME, which the child collects.
    """
    from IPython import get_ipython
    from IPython.display import display

    from logitlab.exercises.format import Case
    from logitlab.exercises.running import run_case
    from logitlab.exercises.tasks import TASKS, references

    specs = json.loads(Path(job_path).read_text(encoding="utf-8"))["probes"]
    calls = [(TASKS[spec["task"]], spec["function"],
              [Case(tuple(decode(a) for a in args)) for args in spec["cases"]]) for spec in specs]
    namespace = get_ipython().user_ns

    def probe(index):
        task, function, cases = calls[index]
        env = references(task)
        results = []
        for case in cases:
            if function not in namespace:
                got = Raised(("NameError",), f"name '{function}' is not defined")
            else:
                got = run_case(task, namespace[function], case, env)
            results.append(encode(got))
        display({MIME: {"results": results}}, raw=True)

    return probe


# ---------------------------------------------------------------- the child


def _probe_values(cell):
    """The values of a probe cell: exactly one message of type MIME, else None (tampered or crashed)."""
    found = [out["data"][MIME] for out in cell.get("outputs", [])
             if out.get("output_type") == "display_data" and MIME in out.get("data", {})]
    if len(found) != 1 or not isinstance(found[0], dict) or not isinstance(found[0].get("results"), list):
        return None
    return found[0]["results"]


def _client_class():
    from nbclient import NotebookClient

    class Client(NotebookClient):
        """nbclient's client, noting when it had to interrupt a cell that ran past the timeout."""

        timed_out = False

        async def _async_handle_timeout(self, timeout, cell=None):
            self.timed_out = True
            return await super()._async_handle_timeout(timeout, cell)

    return Client


def run_job(job_path):
    """Execute the submission and its probes; return the report (a dict) for the grader."""
    import nbformat
    from nbclient.exceptions import DeadKernelError

    job = json.loads(Path(job_path).read_text(encoding="utf-8"))
    nb = nbformat.from_dict(job["notebook"])
    run = job["run"]
    name = f"_logitlab_probe_{secrets.token_hex(8)}"  # a name the submission's code does not know in advance
    preamble = nbformat.v4.new_code_cell(
        f"{name} = __import__('logitlab.grading.sandbox').grading.sandbox.make_probe({str(job_path)!r})")
    probes = [nbformat.v4.new_code_cell(f"{name}({i})") for i in range(len(job["probes"]))]
    first_probe = len(nb.cells)
    nb.cells.extend([*probes, preamble])
    timeout = job["timeout"]
    stopped = f"the cell ran longer than {timeout} s and was stopped"
    client = _client_class()(
        nb, timeout=timeout, interrupt_on_timeout=True, allow_errors=True, kernel_name="python3",
        error_on_timeout={"ename": "CellTimeoutError", "evalue": stopped,
                          "traceback": [f"CellTimeoutError: {stopped}"]},
        resources={"metadata": {"path": job["cwd"]}})
    report = {"version": VERSION, "cells": {}, "timeouts": [], "probes": [None] * len(probes), "problem": None}
    try:
        with client.setup_kernel():
            client.execute_cell(preamble, len(nb.cells) - 1, store_history=False)
            for index in run + list(range(first_probe, first_probe + len(probes))):
                cell = nb.cells[index]
                client.timed_out = False
                client.execute_cell(cell, index, store_history=index < first_probe)
                if client.timed_out and index < first_probe:
                    report["timeouts"].append(index)
                    cell.outputs.append(nbformat.v4.new_output(
                        "error", ename="CellTimeoutError", evalue=stopped, traceback=[f"CellTimeoutError: {stopped}"]))
                if index < first_probe:
                    report["cells"][str(index)] = {"outputs": cell.outputs, "execution_count": cell.execution_count}
                else:
                    report["probes"][index - first_probe] = _probe_values(cell)
    except DeadKernelError:
        report["problem"] = "kernel_died"
    return report


def main(job_path, fd):
    """Run the job and write its report to file descriptor `fd`, a pipe only the grader reads."""
    report = json.dumps(run_job(job_path), default=_plain)
    with os.fdopen(int(fd), "w", encoding="utf-8") as channel:
        channel.write(report)
    return 0


def _plain(x):
    """Outputs hold nbformat's NotebookNode objects (dicts); anything else is written as text."""
    return dict(x) if isinstance(x, dict) else str(x)


# ---------------------------------------------------------------- the sandbox itself


def _inside(path, folder):
    return path == folder or folder in path.parents


def command(job, scratch, hidden, fd):
    """The bubblewrap command line that runs the child on `job` with `scratch` as its only writable folder.

    The whole system is read-only. /tmp and every folder in `hidden` (the grader's home, the
    submissions, the output, solutions/, the grading run with its gradebook) are covered by empty
    tmpfs mounts; the course and Python itself are then shown again, read-only, if they live in one
    of those (and solutions/ hidden again inside the course). No network (only its own loopback),
    its own PID namespace: nothing it starts outlives it, and `--die-with-parent` ends it with the
    grader. The child writes its report to pipe `fd`.
    """
    from logitlab.authoring import course

    hidden = {Path(p).resolve() for p in hidden if Path(p).exists()} | {Path("/tmp").resolve()}
    masks = sorted(p for p in hidden if not any(q != p and _inside(p, q) for q in hidden))
    shown = {p.resolve() for p in (course.ROOT, Path(sys.prefix), Path(sys.base_prefix))}
    shown = sorted(p for p in shown if any(_inside(p, m) for m in masks) and not any(
        q != p and _inside(p, q) for q in shown))
    args = ["bwrap", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"]
    for mask in masks:
        args += ["--tmpfs", str(mask)]
    for path in shown:
        args += ["--ro-bind", str(path), str(path)]
    for path in sorted(hidden):  # hidden folders inside what was shown again (solutions/ in the course)
        if any(_inside(path, s) and path != s for s in shown):
            args += ["--tmpfs", str(path)]
    args += ["--dir", "/tmp/home", "--bind", str(scratch), "/tmp/work", "--ro-bind", str(job), "/tmp/job.json",
             "--unshare-all", "--die-with-parent", "--new-session", "--chdir", "/tmp/work",
             sys.executable, "-m", "logitlab.grading.sandbox", "/tmp/job.json", str(fd)]
    return args


def private_env(home):
    """Environment of the child: HOME and Jupyter's folders in `home`, TensorFlow quiet, nothing else of ours."""
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "LC_ALL", "TZ", "PYTHONPATH")}
    return {**keep, "HOME": str(home), "IPYTHONDIR": f"{home}/.ipython", "MPLCONFIGDIR": f"{home}/.matplotlib",
            "JUPYTER_RUNTIME_DIR": f"{home}/runtime", "JUPYTER_DATA_DIR": f"{home}/data",
            "PYTHONUNBUFFERED": "1", "PYTHONDONTWRITEBYTECODE": "1",
            "TF_CPP_MIN_LOG_LEVEL": "2", "TF_ENABLE_ONEDNN_OPTS": "0"}


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
