"""The pip pins and environment.yml must list the same packages at the same versions, and the Binder files
(environment.yml, postBuild) must do what repo2docker needs; `.ci/binder_check.py` is the full check with PyPI."""

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from jupyter_core.paths import ENV_CONFIG_PATH
from jupyter_server.services.config.manager import ConfigManager

from helpers import ROOT

# environment.yml describes Python 3.11 on Linux x86_64; requirements.txt also holds pins for Python 3.10 and for
# TensorFlow off Linux x86_64, whose markers do not hold there.
ENVIRONMENT_YML_PLATFORM = {"python_version": "3.11", "python_full_version": "3.11.0", "sys_platform": "linux",
                            "platform_machine": "x86_64", "platform_system": "Linux", "os_name": "posix"}


def pins(path):
    """{name: version} of the `==` pins in a requirements file or environment.yml's pip section (read by packaging)."""
    found = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip().removeprefix("- ").strip()
        if "==" not in line or line.startswith("python="):
            continue
        req = Requirement(line)
        if req.marker is None or req.marker.evaluate(ENVIRONMENT_YML_PLATFORM):
            found[canonicalize_name(req.name)] = str(next(iter(req.specifier)).version)
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


def binder_check():
    """`.ci/binder_check.py` as a module (it is a script, not part of the package)."""
    spec = importlib.util.spec_from_file_location("binder_check", ROOT / ".ci" / "binder_check.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_environment_yml_is_conda_forge_python_and_pip_then_the_pins():
    """What repo2docker's `mamba env update` reads, parsed as YAML; the Binder check installs the same pip list."""
    text = (ROOT / "environment.yml").read_text()
    env = yaml.safe_load(text)
    assert env["channels"] == ["conda-forge"]
    conda, pip = [d for d in env["dependencies"] if isinstance(d, str)], [d for d in env["dependencies"]
                                                                          if isinstance(d, dict)]
    assert conda == ["python=3.11", "pip"], "only Python and pip from conda-forge: everything else is a PyPI pin"
    assert len(pip) == 1 and all("==" in line for line in pip[0]["pip"]), pip
    assert binder_check().pip_section(text) == pip[0]["pip"]


def test_postbuild_installs_the_course_and_puts_its_defaults_where_jupyterlab_reads_them(tmp_path):
    """postBuild as repo2docker runs it (`./postBuild` from the repository, NB_PYTHON_PREFIX set), without the
    network: a stand-in `pip` first on PATH records what it is asked (the real install is .ci/binder_check.py's)."""
    bin_dir, asked, prefix = tmp_path / "bin", tmp_path / "pip-asked", tmp_path / "prefix"
    bin_dir.mkdir()
    (bin_dir / "pip").write_text(f'#!/bin/sh\necho "$PWD" "$@" > "{asked}"\n')
    (bin_dir / "pip").chmod(0o755)
    env = dict(os.environ, NB_PYTHON_PREFIX=str(prefix), PATH=f"{bin_dir}:{os.environ['PATH']}")
    result = subprocess.run(["./postBuild"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
    assert asked.read_text().split() == [str(ROOT), "install", "--no-deps", "-e", "."]
    # JupyterLab reads labconfig/default_setting_overrides.json from every Jupyter config folder
    # (jupyterlab_server.settings_utils), and <sys.prefix>/etc/jupyter is one: NB_PYTHON_PREFIX is the image's prefix.
    assert ENV_CONFIG_PATH == [str(Path(sys.prefix, "etc", "jupyter"))]
    # The same reader as JupyterLab's, pointed at that one folder.
    read = ConfigManager(config_dir_name="labconfig", read_config_path=[str(prefix / "etc" / "jupyter" / "labconfig")])
    overrides = read.get("default_setting_overrides")
    shipped = json.loads((ROOT / "jupyter-config" / "labconfig" / "default_setting_overrides.json").read_text())
    assert overrides == shipped and overrides["@jupyterlab/apputils-extension:notification"]["fetchNews"] == "false"
    # The server's defaults: jupyter_server reads every file in jupyter_server_config.d/ of each config folder.
    server = prefix / "etc" / "jupyter" / "jupyter_server_config.d" / "logitlab.json"
    assert json.loads(server.read_text()) == json.loads((ROOT / "jupyter-config" / "jupyter_server_config.json")
                                                       .read_text())
