"""The wire format between the grading processes: values, and the collector's report, validated strictly.

Three processes take part in grading one notebook (see `logitlab/grading/autograde.py`): the grader
(trusted), the collector `logitlab.grading.child` (trusted, outside the sandbox) and the learner's
kernel (untrusted, inside bubblewrap, see `logitlab.grading.bwrap`). The kernel hands each check's
values to the collector as one display message of type MIME (`encode`); the collector writes one
JSON report for the grader, which reads it back with `decode_result` and judges the values itself.
"""

import base64
import json
import math

import numpy as np

from logitlab.exercises.format import Opaque, Raised

MIME = "application/vnd.logitlab.probe+json"  # how a probe cell hands its values to the child
VERSION = 2
# What can go wrong while the collector runs a notebook: each names the cell or the task it happened in.
PROBLEM_KINDS = {"cell_timeout", "cell_killed", "cell_died", "probe_timeout", "probe_died", "budget"}
DTYPES = {"bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
          "float16", "float32", "float64"}
MAX_ELEMENTS = 1_000_000  # per array: far more than any task's answer
MAX_TEXT = 5_000
MAX_DEPTH = 4
MAX_OUTPUT_CHARS = 20_000  # per output: longer text is cut where it arrives, with CUT after it
MAX_CELL_CHARS = 2_000_000  # all outputs of one cell (pictures included); later ones are dropped
CUT = f"... output cut at {MAX_OUTPUT_CHARS} characters ..."


def stopped_output(timeout):
    """The error shown under a cell that ran past the per-cell timeout."""
    stopped = f"the cell ran longer than {timeout} s and was stopped"
    return {"output_type": "error", "ename": "CellTimeoutError", "evalue": stopped,
            "traceback": [f"CellTimeoutError: {stopped}"]}


def died_output():
    """The error shown under a cell during which the kernel died."""
    text = "the kernel died while running this cell (exit(), os._exit(), a crash or too much memory?)"
    return {"output_type": "error", "ename": "DeadKernelError", "evalue": text,
            "traceback": [f"DeadKernelError: {text}"]}


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
    if not isinstance(dtype, str) or dtype not in DTYPES:
        raise BadData(f"an array of dtype {str(dtype)[:40]!r}: expected numbers")
    if (not isinstance(shape, list) or len(shape) > 8
            or not all(isinstance(n, int) and not isinstance(n, bool) and 0 <= n <= MAX_ELEMENTS for n in shape)):
        raise BadData("an array shape is not a short list of sizes")
    size = math.prod(shape)  # Python integers: np.prod in int64 wraps (8 sizes of 2**19 give 0)
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
    """The collector's whole report, validated: (outputs by cell index, timed-out cells, probe values, problems).

    `cells` are the indexes of the code cells the collector was asked to run, `probes` the number of
    probe cells; anything else (unknown keys, other cells, a malformed output) raises BadData.
    Problems are dicts {"kind": one of PROBLEM_KINDS, "cell": index or None, "probe": index or None}.
    """
    import nbformat

    def reject(constant):
        raise BadData(f"{constant} is not allowed in the report")

    try:
        report = json.loads(text, parse_constant=reject)
    except json.JSONDecodeError as err:
        raise BadData(f"the report is not JSON ({err.msg})") from None
    if not isinstance(report, dict) or set(report) != {"version", "cells", "timeouts", "probes", "problems"}:
        raise BadData("the report does not have the expected fields")
    if report["version"] != VERSION:
        raise BadData("the report has another version")
    problems = report["problems"]
    if not isinstance(problems, list) or len(problems) > 1000 or not all(
            isinstance(p, dict) and set(p) == {"kind", "cell", "probe"} and p["kind"] in PROBLEM_KINDS
            and (p["cell"] is None or p["cell"] in cells)
            and (p["probe"] is None or isinstance(p["probe"], int) and 0 <= p["probe"] < probes)
            for p in problems):
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
    return outputs, sorted(set(timeouts)), decoded, problems
