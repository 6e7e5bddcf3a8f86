"""The repository's first conftest: pytest loads it before tests/conftest.py and before collecting anything.

logitlab is imported first (it sets TensorFlow's quiet, oneDNN-off settings for the tests and the kernels they
start, and keeps jsonschema's slow IRI checker out: logitlab/__init__.py), then nbval, which imports nbformat and
so jsonschema. Named in pyproject's addopts instead, nbval would load before any conftest and cost each test
process about 1.4 s of CPU more.
"""

import logitlab  # noqa: F401

pytest_plugins = ["nbval.plugin"]
