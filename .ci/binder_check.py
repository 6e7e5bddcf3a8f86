"""Manual check of the Binder files: do environment.yml and postBuild install a working course in a fresh environment?

    python3.11 .ci/binder_check.py            # about 3 minutes; needs PyPI, so it is not part of `make test`
    python3.11 .ci/binder_check.py --over-binder-base   # first install repo2docker's own Jupyter packages

repo2docker (what Binder builds with) cannot run here: it needs a Docker daemon, its base image from Docker Hub
and conda-forge. This script does the rest of what its Dockerfile does (`repo2docker --no-build --debug .` prints
it), with a venv standing in for the conda environment: copy the repository's tracked files into a scratch folder
(repo2docker copies the repository into the image), pip-install environment.yml's `pip:` section (read from the
file), run `./postBuild` there with NB_PYTHON_PREFIX set, and then check what a learner gets: `import logitlab` from
the copy, the image's `jupyter notebook` serving lesson 00 at the badge's address with the course's JupyterLab
defaults (no news prompt), and lessons 00 and 03 executed headless by nbval, their stored outputs reproduced.
Standard library only: it runs before anything is installed. Prints each step's time; stops at the first failure.
"""

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LESSON_ZERO = "/lab/tree/notebooks/00-start-here.ipynb"  # where the README's badge opens
LESSONS = ["notebooks/00-start-here.ipynb", "notebooks/03-softmax.ipynb"]
# repo2docker 2026.4.0's base environment for Python 3.11 (buildpacks/conda/environment.py-3.11-linux-64.lock): the
# Jupyter packages that are already in the image when environment.yml's pip section is installed over them.
BINDER_BASE = ["jupyterlab==4.4.9", "notebook==7.4.7", "jupyter_server==2.17.0", "ipykernel==7.0.1",
               "jupyterhub==5.4.0", "jupyter-resource-usage==1.2.0"]


def pip_section(text):
    """The requirement lines of environment.yml's `pip:` list, comments dropped (plain text: no YAML library yet)."""
    found, indent = [], None
    for line in text.splitlines():
        stripped = line.split("#", 1)[0].rstrip()
        if indent is None:
            if stripped.strip() == "- pip:":
                indent = len(stripped) - len(stripped.lstrip())
            continue
        if not stripped.strip():
            continue
        if len(stripped) - len(stripped.lstrip()) <= indent or not stripped.lstrip().startswith("- "):
            break
        found.append(stripped.lstrip()[2:].strip())
    return found


def step(name, timings):
    """Print a step's name and remember when it started."""
    print(f"\n== {name}", flush=True)
    timings.append([name, time.perf_counter()])


def run(cmd, **kwargs):
    """Run a command, show it, stop the check if it fails."""
    print("$", " ".join(str(c) for c in cmd), flush=True)
    subprocess.run(cmd, check=True, **kwargs)


def copy_tracked_files(dest):
    """The repository as repo2docker copies it: the files git tracks, as they are in the working tree."""
    names = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, check=True, capture_output=True).stdout
    for name in names.decode().split("\0"):
        if name and (ROOT / name).is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, dest / name)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url):
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.read()


def check_server(env, repo, log):
    """Start the image's default command (`jupyter notebook`, repo2docker's CMD) and ask it what the badge opens."""
    port, token = free_port(), "binder-check"
    cmd = ["jupyter", "notebook", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
           f"--IdentityProvider.token={token}"] + (["--allow-root"] if os.getuid() == 0 else [])
    print("$", " ".join(cmd), flush=True)
    with open(log, "w") as out:
        server = subprocess.Popen(cmd, cwd=repo, env=env, stdout=out, stderr=subprocess.STDOUT,
                                  start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                get(f"{base}/api/status?token={token}")
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"the server did not start:\n{Path(log).read_text()[-3000:]}")
                time.sleep(0.5)
        status, page = get(f"{base}{LESSON_ZERO}?token={token}")
        assert status == 200 and b"jupyter-config-data" in page, f"{LESSON_ZERO}: {status}"
        print(f"{LESSON_ZERO}: HTTP {status}, a JupyterLab page")
        _, body = get(f"{base}/api/contents/notebooks/00-start-here.ipynb?token={token}&content=0")
        assert json.loads(body)["type"] == "notebook"
        for plugin, key, wanted in [("@jupyterlab/apputils-extension:notification", "fetchNews", "false"),
                                    ("@jupyterlab/apputils-extension:notification", "checkForUpdates", False),
                                    ("jupyterlab-rise:plugin", "scroll", True)]:
            _, body = get(f"{base}/lab/api/settings/{plugin}?token={token}")
            default = json.loads(body)["schema"]["properties"][key].get("default")
            assert default == wanted, f"{plugin} {key}: default {default!r}, the course sets {wanted!r}"
            print(f"{plugin} {key}: default {default!r} (the course's jupyter-config)")
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=30)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--over-binder-base", action="store_true",
                        help="first install repo2docker's base Jupyter packages, as the image has them")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder (its path is printed)")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="logits-binder-"))
    repo, prefix, home = scratch / "repo", scratch / "env", scratch / "home"
    repo.mkdir(), home.mkdir()
    # A clean environment: only this venv's programs first on PATH, a fresh HOME (no user Jupyter settings, no pip
    # cache), nothing inherited from a developer's Jupyter or Python setup.
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("JUPYTER", "PYTHON", "VIRTUAL_ENV", "CONDA", "TF_", "LOGITLAB"))}
    env.update(HOME=str(home), NB_PYTHON_PREFIX=str(prefix), PATH=f"{prefix / 'bin'}:{env['PATH']}")
    python = str(prefix / "bin" / "python")
    timings = []
    print(f"scratch folder: {scratch}; Python {sys.version.split()[0]} at {sys.executable}")
    try:
        step("copy the repository's tracked files", timings)
        copy_tracked_files(repo)
        requirements = pip_section((repo / "environment.yml").read_text())
        assert requirements and all("==" in r for r in requirements), requirements
        (scratch / "pip-section.txt").write_text("\n".join(requirements) + "\n")
        print(f"environment.yml's pip section: {len(requirements)} pinned packages")

        step("fresh venv, current pip (environment.yml asks conda for `pip`)", timings)
        run([sys.executable, "-m", "venv", str(prefix)], env=env)
        run([python, "-m", "pip", "install", "--quiet", "--upgrade", "pip"], env=env)
        if args.over_binder_base:
            step("repo2docker's base Jupyter packages", timings)
            run([python, "-m", "pip", "install", "--quiet", *BINDER_BASE], env=env)

        step("pip install environment.yml's pip section", timings)
        run([python, "-m", "pip", "install", "--quiet", "-r", str(scratch / "pip-section.txt")], env=env)
        run([python, "-m", "pip", "check"], env=env)

        step("./postBuild (as repo2docker runs it: from the repository, NB_PYTHON_PREFIX set)", timings)
        run(["./postBuild"], cwd=repo, env=env)

        step("import logitlab", timings)
        shown = subprocess.run([python, "-c", "import logitlab; print(logitlab.__file__)"], cwd=scratch, env=env,
                               check=True, capture_output=True, text=True).stdout.strip()
        assert Path(shown).parent == repo / "logitlab", f"logitlab imported from {shown}, not the copy"
        print(f"logitlab from {shown}")

        step("jupyter notebook serves lesson 00 with the course's defaults", timings)
        check_server(env, repo, scratch / "server.log")

        step(f"nbval: {', '.join(LESSONS)} executed headless, stored outputs reproduced", timings)
        run([python, "-m", "pytest", "--nbval", "--nbval-sanitize-with", "tests/sanitize.cfg", *LESSONS, "-q"],
            cwd=repo, env=env)
    finally:
        timings.append(["end", time.perf_counter()])
        print("\nseconds per step:")
        for (name, start), (_, end) in zip(timings, timings[1:]):
            print(f"{end - start:7.1f}  {name}")
        print(f"{timings[-1][1] - timings[0][1]:7.1f}  in all")
        if args.keep:
            print(f"kept {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    print("\nOK: environment.yml + postBuild give a working course")


if __name__ == "__main__":
    main()
