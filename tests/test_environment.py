"""The pip pins and environment.yml must list the same packages at the same versions."""

import re

from conftest import ROOT

PIN = re.compile(r"^\s*(?:-\s+)?([A-Za-z0-9_.-]+)==([^\s;#]+)\s*(;[^#]*)?")


def pins(path, skip_markers=True):
    found = {}
    for line in path.read_text().splitlines():
        match = PIN.match(line)
        if not match:
            continue
        name, version, marker = match.groups()
        # requirements.txt holds extra pins for Python 3.10 and for non-Linux TensorFlow;
        # environment.yml describes Python 3.11 on Linux x86_64.
        if marker and ('< "3.11"' in marker or "!=" in marker):
            continue
        found[name.lower()] = version
    return found


def test_environment_yml_matches_requirements():
    pip_pins = pins(ROOT / "requirements.txt")
    conda_pins = pins(ROOT / "environment.yml")
    assert "tensorflow-cpu" in pip_pins and "jupyterlab" in pip_pins
    assert conda_pins == pip_pins, (
        "environment.yml and requirements.txt disagree: "
        f"only in requirements {sorted(set(pip_pins.items()) - set(conda_pins.items()))}, "
        f"only in environment.yml {sorted(set(conda_pins.items()) - set(pip_pins.items()))}"
    )


def test_every_environment_entry_says_why():
    lines = [line.strip() for line in (ROOT / "environment.yml").read_text().splitlines()
             if line.strip().startswith("- ")]
    unexplained = [line for line in lines if "#" not in line and line != "- pip:"]
    assert not unexplained, f"environment.yml entries without a comment saying why: {unexplained}"


def test_one_set_of_pins_for_every_python_except_keras():
    """Stored outputs are the same on Python 3.10-3.13 because the packages are; only Keras 3.13+ needs 3.11."""
    by_python = [line.split("==")[0] for line in (ROOT / "requirements.txt").read_text().splitlines()
                 if "python_version" in line and not line.lstrip().startswith("#")]
    assert by_python == ["keras", "keras"], f"pins that differ by Python version: {by_python}"
