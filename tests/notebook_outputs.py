"""What a stored lesson shows a reader, as text: the lesson tests read notebooks and their outputs through these."""

import functools
import re

from logitlab.authoring import course

NUMBER = re.compile(r"-?(?:\d+\.?\d*(?:e[-+]?\d+)?|nan|inf)")


@functools.cache
def _paths():
    return {lesson.number: lesson.notebook for lesson in course.lessons()}


def notebook(number):
    """Lesson `number` ("00" to "08") as stored, a plain dict."""
    return course.read_notebook(_paths()[number])


def cells_of(nb, cell_type):
    """The cells of one type ("code" or "markdown") of a notebook, in order."""
    return [c for c in nb["cells"] if c["cell_type"] == cell_type]


def output_text(cell):
    """What a code cell showed as text: its stdout and the text/plain of its results."""
    parts = []
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream" and out.get("name") == "stdout":
            parts.append(course.cell_source({"source": out["text"]}))
        elif "text/plain" in out.get("data", {}):
            parts.append(course.cell_source({"source": out["data"]["text/plain"]}))
    return "".join(parts)


def all_output(number):
    """Everything lesson `number` printed, in order."""
    return "\n".join(output_text(c) for c in cells_of(notebook(number), "code"))


def all_code(number):
    return "\n".join(course.cell_source(c) for c in cells_of(notebook(number), "code"))


def all_markdown(number):
    return "\n".join(course.cell_source(c) for c in cells_of(notebook(number), "markdown"))


def lines_starting(text, prefix):
    """The lines of `text` that start with `prefix` once indentation is dropped, stripped; at least one."""
    found = [line.strip() for line in text.splitlines() if line.strip().startswith(prefix)]
    assert found, f"no output line starts with {prefix!r}"
    return found


def line_starting(text, prefix):
    """The first line of `text` that starts with `prefix` (see lines_starting)."""
    return lines_starting(text, prefix)[0]


def numbers(line):
    """The numbers printed on a line after its first colon (nan and inf included), as floats."""
    return [float(x) for x in NUMBER.findall(line.split(":", 1)[-1])]
