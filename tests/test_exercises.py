"""Exercises: generated from the solutions by nbgrader, checks that name the mistake, checked against TensorFlow."""

import json

import numpy as np
import pytest

from helpers import ROOT
from logitlab import checks
from logitlab.exercises import judging, running, format as task_format
from logitlab.exercises.cells import read_check_cell
from logitlab.authoring import course
from logitlab.exercises import generate as exercises
from logitlab import numerics as ref
from logitlab.exercises.tasks import TASKS

SOLUTIONS = sorted((ROOT / "solutions").glob("*.ipynb"))
STEMS = [lesson.stem for lesson in course.lessons() if lesson.graded]


def nbgrader_cells(path):
    return [c for c in course.read_notebook(path)["cells"] if "nbgrader" in c["metadata"]]


# ---------------------------------------------------------------- files


def test_there_is_a_solution_and_an_exercise_per_graded_lesson():
    assert [p.stem for p in SOLUTIONS] == STEMS
    assert sorted(p.stem for p in (ROOT / "exercises").glob("*.ipynb")) == STEMS


def test_exercises_are_regenerated_byte_for_byte():
    stale = exercises.generate_exercises(check=True)
    assert not stale, f"run `make exercises`: {stale}"


def test_generation_check_notices_a_hand_edited_exercise(tmp_path):
    (tmp_path / "solutions").mkdir()
    (tmp_path / "exercises").mkdir()
    source = ROOT / "solutions" / "03-softmax.ipynb"
    (tmp_path / "solutions" / source.name).write_text(source.read_text())
    exercise = tmp_path / "exercises" / source.name
    exercise.write_text((ROOT / "exercises" / source.name).read_text().replace("# YOUR CODE HERE", "# mine"))
    assert exercises.generate_exercises(tmp_path, check=True) == [exercise]
    assert exercises.generate_exercises(tmp_path) == [exercise]
    assert exercises.generate_exercises(tmp_path, check=True) == []


def test_solutions_carry_nbgrader_metadata():
    for path in SOLUTIONS:
        cells = nbgrader_cells(path)
        ids = [c["metadata"]["nbgrader"]["grade_id"] for c in cells]
        assert len(ids) == len(set(ids)), f"{path.name}: grade ids repeat"
        answers = [c for c in cells if c["metadata"]["nbgrader"]["solution"]]
        tests = [c for c in cells if c["metadata"]["nbgrader"]["grade"]]
        assert answers and tests, path.name
        for cell in answers:
            assert "### BEGIN SOLUTION" in cell["source"] and "### END SOLUTION" in cell["source"]
        for cell in tests:
            meta = cell["metadata"]["nbgrader"]
            assert meta["locked"] and meta["points"] > 0 and meta["schema_version"] == 3
            assert "ll.checks.check" in cell["source"], f"{path.name} {meta['grade_id']}: checks come from ll.checks"
        hidden = [c for c in tests if "### BEGIN HIDDEN TESTS" in c["source"]]
        assert hidden or path.stem == "07-training-with-logits", f"{path.name} has no hidden tests for the hard cases"


def test_exercise_has_notice_no_solution_and_no_hidden_tests():
    for stem in STEMS:
        nb = course.read_notebook(ROOT / "exercises" / f"{stem}.ipynb")
        first = course.cell_source(nb["cells"][0])
        assert first.startswith(f"*Generated from `solutions/{stem}.ipynb` by `make exercises`")
        assert "edit the solution, not this file" in first
        text = "\n".join(course.cell_source(c) for c in nb["cells"])
        code = "\n".join(course.cell_source(c) for c in nb["cells"] if c["cell_type"] == "code")
        # The hard checks are offered to a learner alone in markdown (issue 17), never run by the exercise itself.
        assert "BEGIN SOLUTION" not in text and "HIDDEN TESTS" not in text and "hard=True" not in code
        for cell in nb["cells"]:
            meta = cell["metadata"].get("nbgrader", {})
            if meta.get("solution"):
                assert "raise NotImplementedError()" in cell["source"]
            if meta.get("grade"):
                assert cell["metadata"]["editable"] is False and cell["metadata"]["deletable"] is False
                assert "raises-exception" in cell["metadata"]["tags"]
            if cell["cell_type"] == "code":
                assert cell["outputs"] == [] and cell["execution_count"] is None


def run_notebook(path):
    import nbclient
    import nbformat

    nb = nbformat.read(path, as_version=4)
    nbclient.NotebookClient(nb, timeout=120, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}}).execute()
    return json.loads(nbformat.writes(nb))


@pytest.mark.parametrize("stem", STEMS)
def test_exercise_runs_to_the_end_and_reports_each_task_unanswered(stem):
    """Top to bottom like Run All: every check says 'not answered yet', in the message alone, and the run finishes."""
    nb = run_notebook(ROOT / "exercises" / f"{stem}.ipynb")
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        meta = cell["metadata"].get("nbgrader", {})
        errors = [o for o in cell["outputs"] if o["output_type"] == "error"]
        if meta.get("grade") and "ll.checks.check" in course.cell_source(cell):
            assert len(errors) == 1 and errors[0]["ename"] == "NotAnswered", (stem, meta["grade_id"], cell["outputs"])
            assert "not answered yet" in errors[0]["evalue"]
            shown = "\n".join(errors[0]["traceback"])
            assert "logitlab" not in shown and "Traceback" not in shown and "not answered yet" in shown
        else:
            assert not errors, (stem, cell["source"][:80], errors)


# ---------------------------------------------------------------- checks against the reference and TensorFlow


@pytest.fixture(scope="module")
def tf():
    import tensorflow

    return tensorflow


def test_reference_numerics_pass_every_check(capsys):
    """`ll.softmax` and friends as the learner's functions: each check prints its tick line (a failure raises)."""
    for hard in (False, True):
        checks.check_logit(ref.logit, hard=hard)
        checks.check_sigmoid(ref.sigmoid, hard=hard)
        checks.check_softmax(ref.softmax, hard=hard)
        checks.check_softmax_with_temperature(lambda z, t: ref.softmax(np.asarray(z) / t), hard=hard)
        checks.check_cross_entropy(ref.cross_entropy, hard=hard)
        checks.check_sparse_cross_entropy(ref.sparse_cross_entropy, hard=hard)
        checks.check_logsumexp(ref.logsumexp, hard=hard)
        checks.check_log_softmax(ref.log_softmax, hard=hard)
        checks.check_softmax_cross_entropy_grad(ref.softmax_cross_entropy_grad, hard=hard)
        checks.check_predict_class(lambda z: np.argmax(z, axis=-1), hard=hard)
        checks.check_binary_probability(lambda z: ref.softmax(z)[:, 1], hard=hard)
    out = capsys.readouterr().out
    assert out.count("✓") == 22 and "✗" not in out


def test_tensorflow_passes_every_check(tf):
    def tf_grad(labels, logits):
        z = tf.constant(logits)
        with tf.GradientTape() as tape:
            tape.watch(z)
            loss = tf.reduce_sum(tf.nn.softmax_cross_entropy_with_logits(labels=labels, logits=z))
        return tape.gradient(loss, z).numpy()

    def tf_sparse(ids, logits):
        return tf.nn.sparse_softmax_cross_entropy_with_logits(labels=ids, logits=logits)

    def tf_ce(labels, logits):
        return tf.nn.softmax_cross_entropy_with_logits(labels=labels, logits=logits)

    for hard in (False, True):
        checks.check_logit(lambda p: tf.math.log(p) - tf.math.log1p(-tf.constant(p)), hard=hard)
        checks.check_sigmoid(lambda z: tf.math.sigmoid(z).numpy(), hard=hard)
        checks.check_softmax(lambda z: tf.nn.softmax(z).numpy(), hard=hard)
        checks.check_softmax_with_temperature(lambda z, t: tf.nn.softmax(z / t), hard=hard)
        checks.check_cross_entropy(tf_ce, hard=hard)
        checks.check_sparse_cross_entropy(tf_sparse, hard=hard)
        checks.check_logsumexp(lambda z: tf.reduce_logsumexp(z, axis=-1), hard=hard)
        checks.check_log_softmax(lambda z: tf.nn.log_softmax(z), hard=hard)
        checks.check_softmax_cross_entropy_grad(tf_grad, hard=hard)
        checks.check_predict_class(lambda z: tf.argmax(z, axis=-1), hard=hard)
        checks.check_dense_logits(lambda x, W, b: tf.keras.layers.Dense(
            W.shape[1], kernel_initializer=tf.constant_initializer(W), bias_initializer=tf.constant_initializer(b),
            dtype="float64")(x), hard=hard)
    checks.check_keras_loss(lambda: tf.keras.losses.CategoricalCrossentropy(from_logits=True))
    checks.check_keras_loss(lambda: tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True), sparse=True)


def naive_softmax(z):
    e = np.exp(np.asarray(z, float))
    return e / e.sum(axis=-1, keepdims=True)


def axis0_softmax(z):
    e = np.exp(np.asarray(z, float))
    return e / e.sum(axis=0, keepdims=True)


def naive_ce(labels, logits):
    return -(np.asarray(labels) * np.log(naive_softmax(logits))).sum(axis=-1)


def unchecked_sparse(ids, logits):
    return -ref.log_softmax(logits)[np.arange(len(ids)), ids]


def sparse_without_negative_check(ids, logits):
    if max(ids) >= np.shape(logits)[-1]:
        raise ValueError("label id too large")
    return unchecked_sparse(ids, logits)


def mistake(key, index):
    """What task `key`'s named mistake number `index` says (its `mistakes=` list in logitlab/exercises/tasks/)."""
    return TASKS[key].mistakes[index].message


def nonfinite(key, index, values=None):
    """What case `index` of task `key` says when nan or inf comes back (for a callable message: given `values`)."""
    said = TASKS[key].cases[index].nonfinite
    return said(np.asarray(values, dtype=float)) if callable(said) else said


def hint(key, index):
    """What case `index` of task `key` adds when the answer is wrong and no named mistake matches."""
    return TASKS[key].cases[index].hint


def shown(got, expected):
    """The engine's own lines carry values, not prose: the answer and the right one as feedback shows them."""
    return (task_format.show(got), task_format.show(expected))


# (check, learner's function, hard, what the feedback must say: the task's own text for that mistake, or values)
MISTAKES = [
    (checks.check_softmax, naive_softmax, True, nonfinite("softmax", 2)),
    (checks.check_softmax, axis0_softmax, False, mistake("softmax", 1)),
    (checks.check_softmax, lambda z: ref.softmax(ref.softmax(z)), False, mistake("softmax", 0)),
    (checks.check_softmax, lambda z: np.exp(z), False, mistake("softmax", 3)),
    (checks.check_softmax, lambda z: np.asarray(z) / np.sum(z, axis=-1, keepdims=True), False, mistake("softmax", 4)),
    (checks.check_softmax, lambda z: [0.25, 0.25], False, shown([2], [1, 4])),  # the shapes
    (checks.check_softmax_with_temperature, lambda z, t: ref.softmax(np.asarray(z) * t), False,
     mistake("softmax_with_temperature", 0)),
    (checks.check_softmax_with_temperature, lambda z, t: naive_softmax(np.asarray(z) / t), True,
     nonfinite("softmax_with_temperature", 3)),
    (checks.check_logit, lambda p: np.log(p), False, mistake("logit", 0)),
    (checks.check_logit, lambda p: np.log((1 - np.asarray(p)) / p), False, mistake("logit", 1)),
    (checks.check_sigmoid, lambda z: 1 / (1 + np.exp(z)), False, mistake("sigmoid", 0)),
    (checks.check_sigmoid, lambda z: np.exp(z) / (1 + np.exp(z)), True, nonfinite("sigmoid", 2)),
    (checks.check_dense_logits, lambda x, W, b: x @ W, False, mistake("dense_logits", 0)),
    (checks.check_dense_logits, lambda x, W, b: ref.softmax(x @ W + b), False, mistake("dense_logits", 1)),
    (checks.check_predict_class, lambda z: np.argmax(z, axis=0), False, mistake("predict_class", 0)),
    (checks.check_binary_probability, lambda z: ref.sigmoid(np.asarray(z)[:, 0] - np.asarray(z)[:, 1]), False,
     mistake("binary_probability", 1)),
    (checks.check_cross_entropy, naive_ce, True, nonfinite("cross_entropy", 1, [np.nan, 0.6931472])),
    (checks.check_cross_entropy, lambda y, z: ref.cross_entropy(y, ref.softmax(z)), False,
     mistake("cross_entropy", 2)),
    (checks.check_cross_entropy, lambda y, z: np.mean(ref.cross_entropy(y, z)), False, mistake("cross_entropy", 0)),
    (checks.check_cross_entropy, lambda y, z: -ref.cross_entropy(y, z), False, mistake("cross_entropy", 1)),
    (checks.check_sparse_cross_entropy, unchecked_sparse, True, hint("sparse_cross_entropy", 2)),
    (checks.check_sparse_cross_entropy, sparse_without_negative_check, True, hint("sparse_cross_entropy", 2)),
    (checks.check_sparse_cross_entropy, lambda ids, z: ref.sparse_cross_entropy(ids, ref.softmax(z)), False,
     mistake("sparse_cross_entropy", 2)),
    (checks.check_sparse_cross_entropy, lambda ids, z: -ref.log_softmax(z)[:, ids], False,
     mistake("sparse_cross_entropy", 4)),
    (checks.check_logsumexp, lambda z: np.log(np.exp(z).sum(axis=-1)), True, nonfinite("logsumexp", 1)),
    (checks.check_logsumexp, lambda z: np.log(np.exp(z - np.max(z, axis=-1, keepdims=True)).sum(axis=-1)), False,
     mistake("logsumexp", 0)),
    (checks.check_log_softmax, lambda z: np.log(naive_softmax(z - np.max(z, axis=-1, keepdims=True))), True,
     mistake("log_softmax", 3)),
    (checks.check_softmax_cross_entropy_grad, lambda y, z: np.asarray(y) - ref.softmax(z), False,
     mistake("softmax_cross_entropy_grad", 0)),
    (checks.check_softmax_cross_entropy_grad, lambda y, z: (ref.softmax(z) - y) / 2, False,
     mistake("softmax_cross_entropy_grad", 2)),
    (checks.check_looks_like_probabilities, lambda x: True, False, (hint("looks_like_probabilities", 1),
                                                                     *shown(True, False))),
]


@pytest.mark.parametrize("check, fn, hard, said", MISTAKES,
                         ids=[f"{m[0].__name__}-{i}" for i, m in enumerate(MISTAKES)])
def test_feedback_names_the_mistake(check, fn, hard, said):
    kwargs = {} if check is checks.check_looks_like_probabilities else {"hard": hard}
    with pytest.raises(checks.CheckFailed) as failed:
        check(fn, **kwargs)
    for words in (said,) if isinstance(said, str) else said:
        assert words and words in str(failed.value)
    assert not isinstance(failed.value, checks.NotAnswered)


def test_keras_mistakes_are_named(tf):
    with pytest.raises(checks.CheckFailed, match="from_logits=True"):
        checks.check_keras_loss(lambda: tf.keras.losses.CategoricalCrossentropy())
    with pytest.raises(checks.CheckFailed, match="class ids need SparseCategoricalCrossentropy"):
        checks.check_keras_loss(lambda: tf.keras.losses.CategoricalCrossentropy(from_logits=True), sparse=True)
    with pytest.raises(checks.CheckFailed, match="sum over the batch"):
        checks.check_keras_loss(lambda: tf.keras.losses.CategoricalCrossentropy(from_logits=True, reduction="sum"))

    def softmax_model(features, classes):
        return tf.keras.Sequential([tf.keras.Input(shape=(features,)),
                                    tf.keras.layers.Dense(classes, activation="softmax")])

    with pytest.raises(checks.CheckFailed, match="applies softmax"):
        checks.check_logits_model(softmax_model)

    def logits_model(features, classes):
        return tf.keras.Sequential([tf.keras.Input(shape=(features,)), tf.keras.layers.Dense(classes)])

    with pytest.raises(checks.CheckFailed, match="add a Softmax layer"):
        checks.check_probability_model(lambda model: model, logits_model)
    with pytest.raises(checks.CheckFailed, match="double softmax"):
        checks.check_probability_model(
            lambda m: tf.keras.Sequential([m, tf.keras.layers.Softmax(), tf.keras.layers.Softmax()]),
            logits_model)

    def compile_without_from_logits(model, points, label_ids):
        model.compile(optimizer="adam", loss=tf.keras.losses.SparseCategoricalCrossentropy())
        return model

    with pytest.raises(checks.CheckFailed, match="without from_logits=True"):
        checks.check_trained_model(compile_without_from_logits, logits_model)


def test_unanswered_and_crashing_tasks_get_a_message_not_a_traceback():
    def unanswered(z):
        raise NotImplementedError()

    with pytest.raises(checks.NotAnswered, match="softmax: not answered yet") as failed:
        checks.check_softmax(unanswered)
    shown = failed.value._render_traceback_()
    assert "not answered yet" in shown[0] and not any("File" in line for line in shown)
    with pytest.raises(checks.NotAnswered, match="not answered yet"):
        checks.check_sparse_cross_entropy(lambda ids, z: (_ for _ in ()).throw(NotImplementedError()), hard=True)

    def crashes(z):
        return 1 / 0

    with pytest.raises(checks.CheckFailed, match=r"softmax\(\[\[0.1, 0.3, 0.5, 0.9\]\]\) raised ZeroDivisionError"):
        checks.check_softmax(crashes)
    with pytest.raises(checks.CheckFailed, match="should be a function"):
        checks.check_softmax(None)


# ---------------------------------------------------------------- the task format


def check_cells(path):
    return [c for c in nbgrader_cells(path) if c["metadata"]["nbgrader"]["grade"]]


def test_every_check_cell_names_a_registered_task():
    from logitlab.exercises.tasks import TASKS

    for path in SOLUTIONS:
        for cell in check_cells(path):
            key, function, hidden = read_check_cell(course.cell_source(cell))
            assert key in TASKS and function.isidentifier()
            assert hidden == ("### BEGIN HIDDEN TESTS" in course.cell_source(cell)), (path.name, key)
            assert TASKS[key].selected(hidden), (path.name, key, hidden)


def test_reading_check_cells():
    call = 'll.checks.check("softmax", my_softmax, hard=True)'
    assert read_check_cell(call) == ("softmax", "my_softmax", True)
    assert read_check_cell("ll.checks.check_keras_loss(make_sparse_loss, sparse=True)") == (
        "sparse_keras_loss", "make_sparse_loss", False)
    for bad in ("print('all good')", "ll.checks.check_softmax(softmax)\nprint(1)", "ll.checks.check_nothing(f)"):
        with pytest.raises(ValueError):
            read_check_cell(bad)


def test_pass_lines_say_how_close(capsys):
    """The tick line is the task's own text, then how close: exact, or the largest difference over the cases."""
    from logitlab.exercises.tasks import TASKS

    def learners_logit(p):
        return np.log(p) - np.log1p(-np.asarray(p))

    checks.check_softmax(ref.softmax)
    checks.check_logit(learners_logit, hard=True)
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"✓ softmax: {TASKS['softmax'].passed[0]} (exact)"
    task = TASKS["logit"]
    largest = max(judging.judge(task, case, running.run_case(task, learners_logit, case))
                  for case in task.selected(True) if not case.raises)
    assert 0 < largest < 1e-6
    assert out[1] == f"✓ logit: {task.passed[1]} (largest difference {largest:.1e})"


def test_a_wrong_earlier_task_is_blamed_not_the_later_one():
    notebook = {"np": np}  # the learner's namespace, where their functions find each other
    exec("def softmax(z):\n    return np.exp(z)\n\n"
         "def softmax_with_temperature(z, t):\n    return softmax(np.asarray(z) / t)\n", notebook)
    with pytest.raises(checks.CheckFailed, match="calls your softmax, which is wrong") as failed:
        checks.check_softmax_with_temperature(notebook["softmax_with_temperature"])
    assert "Fix softmax first" in str(failed.value)
    assert notebook["softmax"](0.0) == 1.0  # the learner's own softmax is back after the check


def test_choice_and_scalar_tasks_in_the_same_format():
    pick = task_format.Task(key="pick", function="which_loss", kind="value", passed=("", ""),
                       cases=[task_format.Case((), expected="B")],
                       mistakes=[task_format.Mistake(lambda: "A", "A applies softmax twice.")])
    assert judging.judge(pick, pick.cases[0], "B") is None
    wrong = r"which_loss\(\) returned 'A'; expected 'B'.\nA applies softmax twice"
    with pytest.raises(checks.CheckFailed, match=wrong):
        judging.judge(pick, pick.cases[0], running.run_case(pick, lambda: "A", pick.cases[0]))
    loss_at_init = task_format.Task(
        key="init", function="initial_loss", passed=("", ""), reference=lambda k: np.log(k),
        cases=[task_format.Case((10,), rtol=1e-3)],
        mistakes=[task_format.Mistake(lambda k: 1 / k, "that is the probability, not the loss.")])
    assert judging.judge(loss_at_init, loss_at_init.cases[0], 2.3026) < 1e-3
    with pytest.raises(checks.CheckFailed, match="not the loss"):
        judging.judge(loss_at_init, loss_at_init.cases[0], 0.1)
