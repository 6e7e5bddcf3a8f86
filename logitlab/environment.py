"""Lesson 00's environment check: the running Python and the installed packages against the course's pins.

The pins are the ones `make install` uses (requirements.txt, with its per-Python markers), so a learner
sees at once whether their numbers should match the lessons', on any supported Python.
"""

import importlib
import platform
import re
from pathlib import Path

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

ROOT = Path(__file__).resolve().parent.parent
# What the lessons import, under the names a learner knows, and the distributions that provide them.
PACKAGES = [
    ("TensorFlow", "tensorflow", {"tensorflow", "tensorflow-cpu"}),
    ("Keras", "keras", {"keras"}),
    ("NumPy", "numpy", {"numpy"}),
    ("matplotlib", "matplotlib", {"matplotlib"}),
    ("ipywidgets", "ipywidgets", {"ipywidgets"}),
    ("JupyterLab", "jupyterlab", {"jupyterlab"}),
]


def pinned_versions(root=ROOT):
    """{distribution: version} for the `==` pins of requirements.txt whose markers hold on this machine."""
    path = Path(root) / "requirements.txt"
    if not path.exists():
        return {}
    pins = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        req = Requirement(line)
        exact = [spec.version for spec in req.specifier if spec.operator == "=="]
        if exact and (req.marker is None or req.marker.evaluate()):
            pins[req.name.lower()] = exact[0]
    return pins


def supported_pythons(root=ROOT):
    """The `requires-python` text of pyproject.toml, e.g. ">=3.10,<3.14" (None when the file is not there)."""
    path = Path(root) / "pyproject.toml"
    found = path.exists() and re.search(r'^requires-python\s*=\s*"([^"]+)"', path.read_text(encoding="utf-8"), re.M)
    return found[1] if found else None


def check_lines(root=ROOT):
    """One line per component: name, installed version, then ✓ (as the course expects) or ✗ and what to do."""
    python = platform.python_version()
    supported = supported_pythons(root)
    if supported is None:
        verdict = "? no pyproject.toml found to compare with"
    elif python in SpecifierSet(supported):
        verdict = f"✓ supported by the course ({supported})"
    else:
        verdict = f"✗ the course needs Python {supported}"
    lines = [f"{'Python':<11} {python:<10} {verdict}"]
    pins = pinned_versions(root)
    for name, module, distributions in PACKAGES:
        installed = importlib.import_module(module).__version__
        pin = next((pins[d] for d in distributions if d in pins), None)
        if pin is None:
            verdict = "? no pin found in requirements.txt"
        elif installed == pin:
            verdict = "✓ as pinned in requirements.txt"
        else:
            verdict = f"✗ the course pins {pin}: run `make install`"
        lines.append(f"{name:<11} {installed:<10} {verdict}")
    return lines


def report(root=ROOT):
    """Print the environment check of lesson 00."""
    print("\n".join(check_lines(root)))
