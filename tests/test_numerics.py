"""logitlab's reference numerics against TensorFlow's own ops, extreme logits included."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import logitlab as ll
import tensorflow as tf

DTYPES = [np.float16, np.float32, np.float64]
TOL = {np.dtype(np.float16): 1e-2, np.dtype(np.float32): 1e-5, np.dtype(np.float64): 1e-10}
settings.register_profile("course", max_examples=60, deadline=None, derandomize=True)
settings.load_profile("course")


@st.composite
def logits_arrays(draw, min_dims=1, max_dims=3):
    dtype = draw(st.sampled_from(DTYPES))
    shape = draw(hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=1, max_side=5))
    # Mostly everyday logits, sometimes the +-1000 that break a naive formula.
    scale = draw(st.sampled_from([1.0, 10.0, 1000.0]))
    values = draw(hnp.arrays(np.float64, shape, elements=st.floats(-1, 1, allow_nan=False)))
    return (values * scale).astype(dtype)


def close(ours, reference, dtype, magnitude=1.0):
    ours, reference = np.asarray(ours, np.float64), np.asarray(reference, np.float64)
    tol = TOL[dtype]
    np.testing.assert_allclose(ours, reference, rtol=tol, atol=tol * (1 + magnitude))


def one_hot_like(draw, logits, axis):
    ids = draw(hnp.arrays(np.int64, tuple(int(n) for n in np.delete(logits.shape, axis % logits.ndim)),
                          elements=st.integers(0, logits.shape[axis] - 1)))
    return ids, np.moveaxis(np.eye(logits.shape[axis], dtype=logits.dtype)[ids], -1, axis)


@given(logits_arrays(), st.data())
def test_softmax_log_softmax_logsumexp_match_tensorflow(logits, data):
    axis = data.draw(st.integers(-logits.ndim, logits.ndim - 1))
    big = float(np.abs(logits).max())
    assert ll.softmax(logits, axis).dtype == logits.dtype
    close(ll.softmax(logits, axis), tf.nn.softmax(logits, axis=axis), logits.dtype)
    close(ll.log_softmax(logits, axis), tf.nn.log_softmax(logits, axis=axis), logits.dtype, big)
    close(ll.logsumexp(logits, axis), tf.reduce_logsumexp(logits, axis=axis), logits.dtype, big)
    assert np.isfinite(ll.softmax(logits, axis)).all()
    sums = ll.softmax(logits, axis).astype(np.float64).sum(axis=axis)
    np.testing.assert_allclose(sums, 1, rtol=TOL[logits.dtype] * 10)


@given(logits_arrays(), st.data())
def test_cross_entropy_and_gradient_match_tensorflow(logits, data):
    axis = data.draw(st.integers(-logits.ndim, logits.ndim - 1))
    _, labels = one_hot_like(data.draw, logits, axis)
    big = float(np.abs(logits).max())
    expected = tf.nn.softmax_cross_entropy_with_logits(labels=labels, logits=logits, axis=axis % logits.ndim)
    close(ll.cross_entropy(labels, logits, axis), expected, logits.dtype, big)
    x = tf.Variable(logits)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(tf.nn.softmax_cross_entropy_with_logits(labels=labels, logits=x, axis=axis % logits.ndim))
    close(ll.softmax_cross_entropy_grad(labels, logits, axis), tape.gradient(loss, x), logits.dtype)


@given(logits_arrays(min_dims=2), st.data())
def test_sparse_cross_entropy_matches_tensorflow(logits, data):
    label_ids, labels = one_hot_like(data.draw, logits, -1)
    big = float(np.abs(logits).max())
    expected = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=label_ids, logits=logits)
    close(ll.sparse_cross_entropy(label_ids, logits), expected, logits.dtype, big)
    close(ll.sparse_cross_entropy(label_ids, logits), ll.cross_entropy(labels, logits), logits.dtype, big)


@given(logits_arrays(), st.data())
def test_binary_cross_entropy_and_sigmoid_match_tensorflow(logits, data):
    labels = data.draw(hnp.arrays(logits.dtype, logits.shape, elements=st.sampled_from([0.0, 0.25, 1.0])))
    big = float(np.abs(logits).max())
    expected = tf.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits)
    close(ll.binary_cross_entropy_with_logits(labels, logits), expected, logits.dtype, big)
    close(ll.sigmoid(logits), tf.math.sigmoid(logits), logits.dtype)


@given(hnp.arrays(np.float64, 5, elements=st.floats(1e-6, 1 - 1e-6)))
def test_logit_inverts_sigmoid(p):
    np.testing.assert_allclose(ll.sigmoid(ll.logit(p)), p, rtol=1e-9)
    np.testing.assert_allclose(ll.logit(p), np.log(p / (1 - p)), rtol=1e-9, atol=1e-9)


def test_worked_examples_e1_e3():
    np.testing.assert_allclose(ll.softmax([[0.1, 0.3, 0.5, 0.9]]), [[0.16838508, 0.205666, 0.25120102, 0.37474789]],
                               rtol=1e-7)
    y_hat = [[0.5, 1.5, 0.1], [2.2, 1.3, 1.7]]
    np.testing.assert_allclose(ll.cross_entropy([[0, 1, 0], [0, 0, 1]], y_hat), [0.4790107, 1.19967598], rtol=1e-7)
    assert ll.logit(0.5) == 0.0 and ll.logit(0.2) < 0 < ll.logit(0.8)


def test_float16_extremes_stay_finite():
    logits = np.array([[1000, -1000, 0]], np.float16)
    assert np.isfinite(ll.log_softmax(logits)).all()
    assert ll.cross_entropy([[0, 1, 0]], logits)[0] == pytest.approx(2000, rel=1e-3)


@pytest.mark.parametrize("call, message", [
    (lambda: ll.softmax([]), "logits is empty"),
    (lambda: ll.softmax([1.0, float("nan")]), "NaN at index (1,)"),
    (lambda: ll.softmax([1.0, float("inf")]), "expected finite logits"),
    (lambda: ll.softmax("abc"), "must contain numbers"),
    (lambda: ll.softmax([[1, 2], [3]]), "rectangular array"),
    (lambda: ll.softmax([1, 2], axis=1), "axis=1 is out of range"),
    (lambda: ll.logit(1.5), "expected values in [0, 1]"),
    (lambda: ll.logit(-0.1), "not a probability"),
    (lambda: ll.sparse_cross_entropy([3], [[1, 2, 3]]), "expected class ids from 0 to 2"),
    (lambda: ll.sparse_cross_entropy([0, 1], [[1, 2, 3]]), "expected one class id per row"),
    (lambda: ll.sparse_cross_entropy([0.5], [[1, 2, 3]]), "whole numbers"),
    (lambda: ll.cross_entropy([1, 0], [[1, 2]]), "labels have shape [2] but logits have shape [1, 2]"),
    (lambda: ll.cross_entropy([[2, 0]], [[1, 2]]), "values in [0, 1]"),
    (lambda: ll.softmax_cross_entropy_grad([[0, 1]], [[1, 2, 3]]), "expected one label per logit"),
    (lambda: ll.numerics.as_floats(["a"], "features"), "features must contain numbers"),
    (lambda: ll.numerics.as_logits(5.0, "biases"), "biases is a single number"),
])
def test_bad_input_says_what_was_expected(call, message):
    with pytest.raises(ValueError) as err:
        call()
    assert message in str(err.value)


def test_shared_argument_checks_keep_float_dtypes_and_promote_integers():
    """numerics.as_floats / as_logits are what training.py and explorer_numbers.py check their arguments with."""
    assert ll.numerics.as_floats([1, 2], "x").dtype == np.float64
    assert ll.numerics.as_floats(np.zeros(2, np.float16), "x").dtype == np.float16
    np.testing.assert_array_equal(ll.numerics.as_logits([[1, 2]], "z"), [[1.0, 2.0]])
