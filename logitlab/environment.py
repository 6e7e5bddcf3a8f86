"""Lesson 00's environment check: the running Python and the installed packages against the course's pins.

The pins are the ones `make install` uses (requirements.txt, with its per-Python markers), so a learner
sees at once whether their numbers should match the lessons', on any supported Python.
"""

import importlib.metadata
import platform
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
    """The Pythons the course supports, e.g. ">=3.10,<3.14" (None when unknown).

    For this checkout, the installed package's Requires-Python (pip read it from pyproject.toml); for another
    folder `root`, its pyproject.toml's `requires-python` (read with tomllib, Python 3.11+).
    """
    if Path(root).resolve() == ROOT:
        installed = SpecifierSet(importlib.metadata.metadata("logitlab")["Requires-Python"])
        # Lower bound first, as pyproject.toml writes it (the metadata sorts them the other way round).
        return ",".join(str(s) for s in sorted(installed, key=lambda s: (not s.operator.startswith(">"), str(s))))
    path = Path(root) / "pyproject.toml"
    try:
        import tomllib
    except ImportError:  # Python 3.10: no TOML reader in the standard library
        return None
    if not path.exists():
        return None
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return data.get("project", data).get("requires-python")


def installed_version(distributions):
    """The installed version of the first of `distributions` that is installed (read from its metadata, so
    checking TensorFlow's version does not import TensorFlow); "none" when none is."""
    for name in sorted(distributions):
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return "none"


def check_lines(root=ROOT):
    """One line per component: name, installed version, then ✓ (as the course expects) or ✗ and what to do."""
    python = platform.python_version()
    supported = supported_pythons(root)
    if supported is None:
        verdict = "? no requires-python found to compare with"
    elif python in SpecifierSet(supported):
        verdict = f"✓ supported by the course ({supported})"
    else:
        verdict = f"✗ the course needs Python {supported}"
    lines = [f"{'Python':<11} {python:<10} {verdict}"]
    pins = pinned_versions(root)
    for name, _module, distributions in PACKAGES:
        installed = installed_version(distributions)
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
