"""Lesson 09, the next token: its numbers pinned against NumPy and TensorFlow, its explorer's numbers,
and exercise 09's tasks (the reference passes, each named mistake is named)."""

import math

import numpy as np
import pytest

from logitlab import sampling
from logitlab.exercises.format import CheckFailed
from logitlab.exercises.judging import judge
from logitlab.exercises.running import run_case
from logitlab.exercises.tasks import TASKS
from logitlab.explorers.next_token import next_token_numbers, token_label

ROW = np.array([2.0, 1.0, 0.1, -1.0])


# ---------------------------------------------------------------- the course text and the bigram


def test_course_text_ships_with_the_package():
    text = sampling.course_text()
    vocab = sampling.vocabulary(text)
    assert len(text) > 1000 and len(vocab) == 30 and vocab[0] == "\n"
    logits = sampling.bigram_logits(text, vocab)
    assert logits.shape == (30, 30)
    t = vocab.index("t")
    assert vocab[int(np.argmax(logits[t]))] == "h"  # "th" is the commonest pair starting with t


def test_bigram_logits_are_log_counts_plus_one():
    logits = sampling.bigram_logits("abab", ["a", "b"])
    np.testing.assert_allclose(np.exp(logits), [[1.0, 3.0], [2.0, 1.0]])


# ---------------------------------------------------------------- temperature, top-k, top-p


@pytest.mark.parametrize("temperature", [0.1, 0.5, 1.0, 2.0, 10.0])
def test_temperature_keeps_the_arg_max_and_matches_tensorflow(temperature):
    import tensorflow as tf
    probs = sampling.temperature_probs(ROW, temperature)
    assert int(np.argmax(probs)) == 0
    np.testing.assert_allclose(probs, tf.nn.softmax(ROW / temperature).numpy(), rtol=1e-12)


def test_zero_temperature_is_greedy_and_small_temperatures_approach_it():
    np.testing.assert_array_equal(sampling.temperature_probs(ROW, 0.0), [1, 0, 0, 0])
    near_zero = sampling.temperature_probs(ROW, 0.01)
    assert near_zero[0] == 1.0 and near_zero[1] < 1e-40  # e^(-1 / 0.01)
    assert all(sampling.sample_token(ROW, 0.0, None) == 0 for _ in range(3))


def test_sampling_huge_and_float16_logits_stays_finite():
    probs = sampling.temperature_probs(np.array([1000.0, 999.0, -1000.0]), 1.0)
    np.testing.assert_allclose(probs, [1 / (1 + math.e ** -1), 1 / (1 + math.e), 0.0], rtol=1e-12)
    rng = np.random.default_rng(0)
    draws = [sampling.sample_token(np.array([20.0, 10.0, 0.0], np.float16), 1.0, rng) for _ in range(50)]
    assert set(draws) <= {0, 1}


def test_sampling_frequencies_follow_the_softmax():
    rng = np.random.default_rng(0)
    counts = np.bincount([sampling.sample_token(ROW, 0.5, rng) for _ in range(4000)], minlength=4)
    np.testing.assert_allclose(counts / 4000, sampling.temperature_probs(ROW, 0.5), atol=0.02)


def test_top_k_keeps_ties_and_matches_tf_top_k_without_ties():
    import tensorflow as tf
    np.testing.assert_array_equal(sampling.top_k_filter(np.array([3.0, 1.0, 1.0, 0.0]), 2), [3, 1, 1, -np.inf])
    # tf.math.top_k keeps exactly k, the lower index first, when values tie
    assert tf.math.top_k(tf.constant([3.0, 1.0, 1.0, 0.0]), 2).indices.numpy().tolist() == [0, 1]
    z = np.array([0.5, 3.0, -1.0, 2.0, 0.0])
    kept = np.flatnonzero(np.isfinite(sampling.top_k_filter(z, 3)))
    assert sorted(kept) == sorted(tf.math.top_k(z, 3).indices.numpy().tolist())
    np.testing.assert_array_equal(sampling.top_k_filter(ROW, 10), ROW)
    assert sampling.top_k_filter(ROW.astype(np.float16), 2).dtype == np.float16


def test_top_p_keeps_the_token_that_crosses_p():
    z = np.log(np.array([0.5, 0.3, 0.15, 0.05]))
    assert np.isfinite(sampling.top_p_filter(z, 0.6)).tolist() == [True, True, False, False]
    assert np.isfinite(sampling.top_p_filter(z, 0.9)).tolist() == [True, True, True, False]
    assert np.isfinite(sampling.top_p_filter(z, 0.4)).tolist() == [True, False, False, False]


def test_top_p_ties_p_one_and_bad_p():
    tie = np.log(np.array([0.1, 0.4, 0.25, 0.25]))
    assert np.isfinite(sampling.top_p_filter(tie, 0.6)).tolist() == [False, True, True, True]
    underflowing = np.array([0.0, -800.0, 5.0])
    np.testing.assert_array_equal(sampling.top_p_filter(underflowing, 1.0), underflowing)
    for p in (0.0, -0.1, 1.5, True):
        with pytest.raises(ValueError):
            sampling.top_p_filter(ROW, p)


# ---------------------------------------------------------------- perplexity


def test_uniform_model_perplexity_is_the_vocabulary_size():
    for vocab in (2, 30, 50_000):
        assert sampling.perplexity(np.zeros((3, vocab)), np.array([0, 1, vocab - 1])) == pytest.approx(vocab, rel=1e-12)


def test_perplexity_is_exp_of_keras_loss():
    import tensorflow as tf
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(2, 5, 7)).astype(np.float32)
    ids = rng.integers(0, 7, size=(2, 5))
    loss = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)(ids, logits)
    assert sampling.perplexity(logits, ids) == pytest.approx(math.exp(float(loss)), rel=1e-5)


def test_perplexity_is_stable_where_log_softmax_of_probabilities_is_not():
    logits = np.array([[900.0, 0.0, -900.0], [5.0, 0.0, 0.0], [0.0, 5.0, 0.0], [0.0, 0.0, 5.0]])
    value = sampling.perplexity(logits, np.array([2, 0, 1, 2]))
    easy = math.log1p(2 * math.exp(-5.0))  # the cross-entropy of each of the three easy rows
    assert value == pytest.approx(math.exp((1800.0 + math.log1p(math.exp(-900.0) * 2) + 3 * easy) / 4), rel=1e-9)
    with pytest.raises(ValueError):
        sampling.perplexity(logits, np.array([2, 3, 0, 0]))


# ---------------------------------------------------------------- the explorer's numbers


def test_explorer_numbers_renormalise_the_kept_tokens():
    tokens = list("abcd")
    n = next_token_numbers(ROW, tokens, temperature=1.0, top_k=3, top_p=0.8)
    assert n["kept"] == [True, True, False, False]  # top-k drops d; top-p 0.8 of what is left drops c
    kept = sampling.temperature_probs(ROW, 1.0)[:2]
    np.testing.assert_allclose(n["final"][:2], kept / kept.sum())
    assert n["final"][2:] == [0.0, 0.0] and sum(n["final"]) == pytest.approx(1.0)
    assert n["entropy"] == pytest.approx(-sum(p * math.log(p) for p in n["final"][:2]))
    assert n["order"] == [0, 1, 2, 3] and len(n["samples"]) == 24 and set(n["samples"]) <= {0, 1}


def test_explorer_numbers_at_zero_temperature_are_greedy():
    n = next_token_numbers(ROW, list("abcd"), temperature=0.0)
    assert n["kept_count"] == 1 and n["final"] == [1.0, 0.0, 0.0, 0.0] and n["entropy"] == 0.0
    assert set(n["samples"]) == {0}


def test_explorer_samples_are_seeded_and_follow_the_sliders():
    a = next_token_numbers(ROW, list("abcd"), temperature=1.0, seed=3)
    assert a["samples"] == next_token_numbers(ROW, list("abcd"), temperature=1.0, seed=3)["samples"]
    assert a["samples"] != next_token_numbers(ROW, list("abcd"), temperature=3.0, seed=3)["samples"]


@pytest.mark.parametrize("kwargs, message", [
    ({"temperature": -1.0}, "temperature"),
    ({"top_k": 0}, "top_k"),
    ({"top_k": 2.5}, "top_k"),
    ({"top_p": 0.0}, "top_p"),
    ({"top_p": float("nan")}, "top_p"),
])
def test_explorer_refuses_bad_slider_values(kwargs, message):
    with pytest.raises(ValueError, match=message):
        next_token_numbers(ROW, list("abcd"), **kwargs)


def test_explorer_refuses_bad_logits_and_tokens():
    with pytest.raises(ValueError, match="one token per logit"):
        next_token_numbers(ROW, list("abc"))
    with pytest.raises(ValueError, match="one row"):
        next_token_numbers(np.zeros((2, 4)), list("abcd"))
    with pytest.raises(ValueError, match="nan"):
        next_token_numbers([1.0, float("nan")], list("ab"))
    assert token_label(" ") == "sp" and token_label("\n") == "\\n" and token_label("q") == "q"


# ---------------------------------------------------------------- exercise 09: reference passes, mistakes named


def _judge_all(key, fn, hidden):
    task = TASKS[key]
    for case in task.selected(hidden):
        judge(task, case, run_case(task, fn, case))


def _solution_sampler(logits, temperature, rng):
    if temperature < 0:
        raise ValueError("negative temperature")
    z = np.asarray(logits, dtype=np.float64)
    if temperature == 0:
        return int(np.argmax(z))
    g = rng.gumbel(size=z.size)  # another correct way to sample: the Gumbel-max trick
    return int(np.argmax(z / temperature + g))


@pytest.mark.parametrize("key", ["sample_logits", "top_k_filter", "top_p_filter", "perplexity"])
@pytest.mark.parametrize("hidden", [False, True])
def test_reference_passes(key, hidden):
    if key == "sample_logits":
        _judge_all(key, sampling.sample_token, hidden=False)  # T < 0: the reference raises ValueError too
        _judge_all(key, sampling.sample_token, hidden=True)
        _judge_all(key, _solution_sampler, hidden)
    else:
        _judge_all(key, TASKS[key].reference, hidden)


def test_fresh_cases_pass_with_the_reference():
    rng = np.random.default_rng(123)
    for key in ("sample_logits", "top_k_filter", "top_p_filter", "perplexity"):
        task = TASKS[key]
        reference = sampling.sample_token if key == "sample_logits" else task.reference
        for case in task.fresh(rng):
            judge(task, case, run_case(task, reference, case))


def _softmax_row(z):
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(z - z.max())
    return e / e.sum()


def _sampler(transform):
    def sample(logits, temperature, rng):
        probs = transform(np.asarray(logits, dtype=np.float64), temperature)
        if probs is None:
            return int(np.argmax(logits))
        return int(rng.choice(probs.size, p=probs))
    return sample


def _naive_perplexity(logits, ids):
    z = np.asarray(logits)
    probs = np.exp(z) / np.exp(z).sum(axis=-1, keepdims=True)
    return float(np.exp(-np.log(probs[np.arange(len(ids)), ids]).mean()))


def _top_k_zero(z, k):
    out = sampling.top_k_filter(z, k).astype(float)
    out[np.isneginf(out)] = 0.0
    return out


MISTAKES = [
    ("sample_logits", _sampler(lambda z, t: _softmax_row(z) if t > 0 else None), "temperature changed nothing"),
    ("sample_logits", _sampler(lambda z, t: _softmax_row(z * t) if t > 0 else None), "multiplied the logits by T"),
    ("sample_logits", lambda z, t, rng: int(np.argmax(z)), "always returned the arg max"),
    ("sample_logits", lambda z, t, rng: int(rng.integers(len(z))), "every token came up about equally often"),
    ("top_k_filter", _top_k_zero, "set the dropped logits to 0"),
    ("top_k_filter", lambda z, k: sampling.top_k_filter(z, k + 1), "kept k + 1"),
    ("top_k_filter", lambda z, k: -sampling.top_k_filter(-np.asarray(z), k), "k smallest"),
    ("top_p_filter", lambda z, p: sampling.top_k_filter(z, 1), "only the most likely token"),
    ("perplexity", lambda z, ids: math.log(sampling.perplexity(z, ids)),
     "mean cross-entropy"),
    ("perplexity", lambda z, ids: 1 / sampling.perplexity(z, ids), "sign error"),
]


@pytest.mark.parametrize("key, wrong, named", MISTAKES, ids=[m[2] for m in MISTAKES])
def test_each_mistake_is_named(key, wrong, named):
    task = TASKS[key]
    for case in task.selected(False):
        try:
            judge(task, case, run_case(task, wrong, case))
        except CheckFailed as failed:
            assert named in str(failed)
            return
    pytest.fail(f"{key}: the mistake '{named}' passed every visible case")


def test_hidden_cases_catch_the_unstable_versions():
    task = TASKS["perplexity"]
    with pytest.raises(CheckFailed, match="logsumexp"):
        for case in task.selected(True):
            if not case.raises:
                judge(task, case, run_case(task, _naive_perplexity, case))

    def unstable_sampler(logits, temperature, rng):
        if temperature == 0:
            return int(np.argmax(logits))
        e = np.exp(np.asarray(logits) / temperature)
        return int(rng.choice(e.size, p=e / e.sum()))

    with pytest.raises(CheckFailed):
        _judge_all("sample_logits", unstable_sampler, hidden=True)


def test_top_p_dropping_the_crossing_token_is_named():
    task = TASKS["top_p_filter"]

    def without_crossing(z, p):
        z = np.asarray(z)
        probs = _softmax_row(z)
        order = np.argsort(-probs)
        keep = order[np.cumsum(probs[order]) < p]
        out = np.full(z.shape, -np.inf)
        out[keep] = z[keep]
        return out

    with pytest.raises(CheckFailed, match="crosses|past p"):
        _judge_all("top_p_filter", without_crossing, hidden=False)
    assert task.key == "top_p_filter"


def test_sampler_returning_a_non_integer_is_told_so():
    with pytest.raises(CheckFailed, match="integer token id"):
        _judge_all("sample_logits", lambda z, t, rng: 0.5, hidden=False)


def test_a_low_temperature_is_sampled_not_treated_as_greedy():
    """Logits 0.02 apart at T = 0.05 split about 40/60: a sampler that is greedy below some T fails there."""
    def greedy_when_cold(logits, temperature, rng):
        if temperature < 0:
            raise ValueError("a negative temperature")
        if temperature <= 0.05:
            return int(np.argmax(logits))
        return sampling.sample_token(logits, temperature, rng)

    _judge_all("sample_logits", greedy_when_cold, hidden=False)  # the visible cases cannot tell
    with pytest.raises(CheckFailed, match=r"(?s)1\.02.*0\.05.*always returned the arg max"):
        _judge_all("sample_logits", greedy_when_cold, hidden=True)


def test_a_tie_with_the_crossing_token_says_to_keep_both():
    def one_of_the_tied(z, p):  # sorts by probability and keeps exactly the tokens that reach p
        z = np.asarray(z)
        probs = _softmax_row(z)
        order = np.argsort(-probs, kind="stable")
        keep = order[:int((np.cumsum(probs[order]) - probs[order] < p).sum())]
        out = np.full(z.shape, -np.inf)
        out[keep] = z[keep]
        return out

    _judge_all("top_p_filter", one_of_the_tied, hidden=False)
    with pytest.raises(CheckFailed, match="tie with the one that crosses p: keep both"):
        _judge_all("top_p_filter", one_of_the_tied, hidden=True)



@pytest.fixture(scope="module")
def tf():
    import logitlab  # noqa: F401  (before TensorFlow: silent import)
    import tensorflow

    return tensorflow

def test_perplexity_refuses_a_negative_token_id_that_numpy_would_wrap(tf):
    def unchecked(logits, token_ids):  # checks ids past the end only: -1 silently picks the last token
        ids, vocab = np.asarray(token_ids), np.shape(logits)[-1]
        if (ids >= vocab).any():
            raise ValueError(f"token ids must be below {vocab}")
        return sampling.perplexity(logits, ids % vocab)

    _judge_all("perplexity", unchecked, hidden=False)
    with pytest.raises(CheckFailed, match="NumPy's indexing reads it as the last token"):
        _judge_all("perplexity", unchecked, hidden=True)

    def with_tensorflow(logits, token_ids):  # the sparse op's InvalidArgumentError is a clear refusal too
        losses = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=token_ids, logits=np.asarray(logits, float))
        return float(np.exp(tf.reduce_mean(losses)))

    _judge_all("perplexity", with_tensorflow, hidden=True)
