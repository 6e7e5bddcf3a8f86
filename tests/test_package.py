"""The helper package's shape: the names the notebooks use exist, the learner's `ll.checks` shows only what a
learner calls, every module imports on its own and is at most 500 lines, and no two modules import each other
(directly or round about)."""

import ast
import importlib
import json
import re
import subprocess
import sys

import logitlab as ll
from helpers import ROOT

PACKAGE = ROOT / "logitlab"
# `ll.softmax`, `ll.checks.check_softmax`, `ll.widgets.softmax_explorer`: a name, and a name inside it.
LL_NAME = re.compile(r"\bll\.([A-Za-z_]\w*)(?:\.([A-Za-z_]\w*))?")


def notebook_code(folder):
    """{notebook path: its code cells' source joined} for every notebook in a course folder."""
    code = {}
    for path in sorted((ROOT / folder).glob("*.ipynb")):
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        code[path] = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    return code


def names_used():
    """{(name, inner name or ""): first notebook using it}, read from the code of every lesson, solution, exercise."""
    used = {}
    for folder in ("notebooks", "solutions", "exercises"):
        for path, code in notebook_code(folder).items():
            for name, inner in LL_NAME.findall(code):
                used.setdefault((name, inner), path.relative_to(ROOT))
    return used


def test_every_name_the_notebooks_use_exists():
    used = names_used()
    assert ("softmax", "") in used and ("checks", "check_softmax") in used and ("widgets", "softmax_explorer") in used
    missing = []
    for (name, inner), where in sorted(used.items()):
        try:
            found = getattr(ll, name)
        except AttributeError:  # `import logitlab.environment` in the notebook, then `ll.environment.report()`
            found = importlib.import_module(f"logitlab.{name}")
        if inner and not hasattr(found, inner):
            missing.append(f"ll.{name}.{inner} ({where})")
    assert not missing, f"names the notebooks use that the package lacks: {missing}"


def test_the_learners_checks_show_only_what_a_learner_calls():
    """Tab-completing `ll.checks.` lists the checks and their two failures, not the judging engine."""
    public = {name for name in dir(ll.checks) if not name.startswith("_")}
    extra = sorted(n for n in public if n not in {"check", "CheckFailed", "NotAnswered"} and not n.startswith("check_"))
    assert not extra, f"ll.checks shows more than a learner calls: {extra}"
    assert set(ll.checks.__all__) <= public


def module_name(path):
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imported_modules(path):
    """The package's modules that a module imports, anywhere in it (a function's own imports count too)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:  # `from logitlab import checks` imports the module logitlab.checks
                inner = f"{node.module}.{alias.name}"
                found.add(inner if inner in MODULES else node.module)
    return {name for name in found if name in MODULES}


def import_cycle(graph):
    """One cycle of the graph {module: modules it imports} as a list of modules, or None."""
    state = {}

    def visit(node, trail):
        state[node] = "open"
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                return trail[trail.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt, trail + [nxt])
                if found:
                    return found
        state[node] = "done"
        return None

    for start in sorted(graph):
        if start not in state:
            found = visit(start, [start])
            if found:
                return found
    return None


def test_no_import_cycles():
    graph = {name: imported_modules(path) - {name} for name, path in MODULES.items()}
    assert graph["logitlab.checks"] == {"logitlab.exercises.format", "logitlab.exercises.instant"}
    cycle = import_cycle(graph)
    assert cycle is None, f"import cycle: {' -> '.join(cycle)}"


def test_the_cycle_finder_finds_a_cycle():
    assert import_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert import_cycle({"a": {"b"}, "b": set()}) is None


def test_no_module_is_over_500_lines():
    """A module a newcomer can read whole (CONTRIBUTING.md): split one that grows past 500 lines by job."""
    lines = {name: len(path.read_text(encoding="utf-8").splitlines()) for name, path in MODULES.items()}
    assert len(lines) > 40, "the package's modules were not found"
    over = {name: n for name, n in lines.items() if n > 500}
    assert not over, f"modules over 500 lines: {over}"


def test_every_module_imports_on_its_own():
    """Each module imported first in a fresh package (an import cycle shows up as an ImportError here)."""
    names = [name for name in MODULES if not name.endswith("__main__")]
    script = (
        "import importlib, sys\n"
        f"for name in {names!r}:\n"
        "    for loaded in [m for m in sys.modules if m == 'logitlab' or m.startswith('logitlab.')]:\n"
        "        del sys.modules[loaded]\n"
        "    try:\n"
        "        importlib.import_module(name)\n"
        "    except Exception as err:\n"
        "        print(f'{name}: {type(err).__name__}: {err}')\n"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0 and not result.stdout, result.stdout + result.stderr[-2000:]


def test_logitlab_keeps_jsonschemas_slow_iri_checker_out_and_notebooks_still_validate():
    """Without logitlab, importing nbformat imports jsonschema's optional IRI checker (rfc3987_syntax, installed
    by Jupyter's jsonschema[format-nongpl]; 38 Lark grammars built at import); with logitlab imported first it is
    left out, and a lesson still reads and validates."""
    script = ("import sys\n"
              "{first}"
              "import nbformat\n"
              "nbformat.validate(nbformat.read('notebooks/03-softmax.ipynb', as_version=4))\n"
              "print(type(sys.modules.get('rfc3987_syntax')).__name__)\n")
    without, with_logitlab = (
        subprocess.run([sys.executable, "-c", script.format(first=first)], cwd=ROOT, capture_output=True, text=True,
                       timeout=120) for first in ("", "import logitlab\n"))
    assert without.returncode == 0 and without.stdout.strip() == "module", without.stdout + without.stderr[-2000:]
    assert with_logitlab.returncode == 0 and with_logitlab.stdout.strip() == "NoneType", (
        with_logitlab.stdout + with_logitlab.stderr[-2000:])
