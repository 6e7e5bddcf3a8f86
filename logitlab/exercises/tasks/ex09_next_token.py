"""Exercise 09, the next token: `sample_logits`, `top_k_filter`, `top_p_filter`, `perplexity`.

A sampler returns random token ids, so its task is judged on a distribution: the probe calls the
learner's `sample_logits(logits, temperature, rng)` DRAWS times with one `np.random.default_rng(seed)`
made for that case alone, and hands back how often each token came up. Any correct sampler (rng.choice,
a cumulative sum and rng.random, the Gumbel trick) lands within the tolerance of softmax(logits / T);
the same code and seed always give the same frequencies, so the verdict is reproducible.
"""

import numpy as np

from logitlab import numerics, sampling
from logitlab.i18n import N_
from logitlab.exercises.format import Case, Mistake, Task
from logitlab.exercises.tasks.common import register

# ---------------------------------------------------------------- lesson 09: the next token

LOGITS = np.array([2.0, 1.0, 0.1, -1.0])
HUGE = np.array([1000.0, 999.0, -1000.0])
FREQ_ATOL = 0.05  # 2000 draws: a frequency's standard deviation is at most 0.011 (300 draws of 0.98: 0.008)


def _vocab_50k(seed=9):
    """A float16 row of 50,000 logits with a few clear favourites (like a real model's)."""
    rng = np.random.default_rng(seed)
    z = rng.normal(scale=2.0, size=50_000)
    z[[17, 4242, 31337]] = [24.0, 21.0, 20.0]
    return z.astype(np.float16)


VOCAB_50K = _vocab_50k()


def _frequencies_probe(fn, case, env):
    """Call the learner's sampler `draws` times with one seeded generator; return each token's frequency."""
    logits, temperature, seed, draws = case.args
    rng = np.random.default_rng(seed)
    vocab = np.asarray(logits).shape[-1]
    counts = np.zeros(vocab)
    for _ in range(draws):
        token = fn(logits, temperature, rng)
        if isinstance(token, (bool, np.bool_)) or not isinstance(token, (int, np.integer)) \
                and not (isinstance(token, np.ndarray) and token.ndim == 0 and token.dtype.kind in "iu"):
            raise TypeError(f"sample_logits returned {token!r} ({type(token).__name__}): "
                            "expected one integer token id")
        if not 0 <= int(token) < vocab:
            raise ValueError(f"sample_logits returned token id {int(token)}: expected 0 to {vocab - 1}")
        counts[int(token)] += 1
    return counts / draws


def _sample_case(logits, temperature, seed, draws=2000, shown_logits=None, **kwargs):
    shown = (f"{shown_logits or sampling.one_row(logits).tolist()}, {temperature:g}, rng), called {draws} times "
             f"with rng = np.random.default_rng({seed}) (how often each token came")
    # The right answer is the distribution, given as `expected`; the task's reference is a sampler like the
    # learner's, so that it can stand in for `sample_logits` wherever a learner's function goes.
    expected = sampling.temperature_probs(logits, temperature) if temperature >= 0 else None
    return Case((logits, temperature, seed, draws), expected=expected, atol=FREQ_ATOL, rtol=0.0, shown=shown,
                **kwargs)


def _argmax_one_hot(logits, temperature, seed=0, draws=0):
    z = np.asarray(logits, dtype=float)
    return (np.arange(z.size) == np.argmax(z)).astype(float)


register(Task(
    key="sample_logits", function="sample_logits", reference=sampling.sample_token, probe=_frequencies_probe,
    cases=[
        _sample_case(LOGITS, 1.0, seed=0),
        _sample_case(LOGITS, 0.5, seed=1),
        _sample_case(LOGITS, 0.0, seed=2, draws=20,
            hint=N_("T = 0 is greedy decoding: return the arg max every time.")),
        _sample_case(HUGE, 1.0, seed=3, hidden=True),
        _sample_case(np.array([3.0, 2.0, 1.0]), 3.0, seed=4, hidden=True),
        # A low T is not T = 0: logits 0.02 apart at T = 0.05 still split about 40/60.
        _sample_case(np.array([1.0, 1.02, -3.0]), 0.05, seed=8, hidden=True),
        _sample_case(VOCAB_50K, 0.0, seed=5, draws=3, hidden=True, shown_logits="<50,000 float16 logits>"),
        _sample_case(VOCAB_50K, 0.7, seed=6, draws=300, hidden=True, shown_logits="<50,000 float16 logits>"),
        Case((LOGITS, -1.0, 7, 1), hidden=True, raises=("ValueError",), shown="[2, 1, 0.1, -1], -1.0, rng",
             about=N_("[2, 1, 0.1, -1], temperature=-1"),
                 hint=N_("A negative temperature turns the ranking upside down.")),
    ],
    mistakes=[
        Mistake(lambda z, t, s=0, d=0: sampling.temperature_probs(z, 1.0),
                N_("the temperature changed nothing: divide the logits by T before the softmax.")),
        Mistake(lambda z, t, s=0, d=0: sampling.temperature_probs(np.asarray(z, float) * t, 1.0) if t > 0 else None,
                N_("you multiplied the logits by T: divide them (a low T should sharpen the distribution).")),
        Mistake(_argmax_one_hot, N_("you always returned the arg max: that is T = 0 only; for T > 0 draw with rng.")),
        Mistake(lambda z, t, s=0, d=0: np.full(np.asarray(z).size, 1.0 / np.asarray(z).size),
                N_("every token came up about equally often: draw with p = softmax(logits / T), not uniformly.")),
    ],
    passed=(N_("2000 draws follow softmax(logits / T) at T = 1 and 0.5; T = 0 always gives the arg max"),
            N_("logits of ±1000, T = 3, and 50,000 float16 logits sample without overflow; close logits at "
               "T = 0.05 are still drawn, not the arg max; T < 0 is refused")),
    fresh=lambda rng: [_sample_case(np.round(rng.normal(scale=2.0, size=5), 2), float(rng.choice([0.5, 1.0, 2.0])),
                                    seed=int(rng.integers(1000)))],
))

# ---------------------------------------------------------------- top-k and top-p (nucleus)

DROPPED_ZERO = N_("you set the dropped logits to 0, which still gives them a chance (exp(0) = 1): "
                  "set them to -inf.")


def _dropped_to_zero(filtered):
    z = np.array(filtered, dtype=float)
    z[np.isneginf(z)] = 0.0
    return z


def _top_k_exactly(z, k):
    """Exactly k survivors even when the k-th logit is tied (argsort picks which)."""
    z = np.asarray(z)
    out = np.full(z.shape, -np.inf)
    keep = np.argsort(-z.astype(float), kind="stable")[:k]
    out[keep] = z[keep]
    return out


register(Task(
    key="top_k_filter", function="top_k_filter", reference=sampling.top_k_filter,
    cases=[
        Case((LOGITS, 2)),
        Case((np.array([0.5, 3.0, -1.0, 2.0, 0.0]), 3)),
        Case((np.array([3.0, 1.0, 1.0, 0.0]), 2), hidden=True, about=N_("a tie at the k-th place")),
        Case((LOGITS, 10), hidden=True, hint=N_("k larger than the vocabulary keeps every token.")),
        Case((VOCAB_50K, 40), hidden=True, dtype="float16", shown="<50,000 float16 logits>, 40"),
    ],
    mistakes=[
        Mistake(lambda z, k: _dropped_to_zero(sampling.top_k_filter(z, k)), DROPPED_ZERO),
        Mistake(lambda z, k: sampling.top_k_filter(z, k + 1), N_("you kept k + 1 tokens: keep the k largest logits.")),
        Mistake(lambda z, k: sampling.top_k_filter(z, k - 1) if k > 1 else None,
                N_("you kept k - 1 tokens: keep the k largest logits (the k-th largest stays).")),
        Mistake(lambda z, k: -sampling.top_k_filter(-np.asarray(z), k),
                N_("you kept the k smallest logits: keep the k largest.")),
        Mistake(lambda z, k: numerics.softmax(sampling.top_k_filter(z, k).clip(-1e30)),
                N_("you returned probabilities: return the filtered logits (the softmax comes later).")),
        Mistake(_top_k_exactly,
                N_("two logits tie at the k-th place and you kept only one of them: keep every logit that is at least "
                   "the k-th largest, so the result does not depend on sort order.")),
    ],
    passed=(N_("the k largest logits stay, the others become -inf"),
            N_("ties at the k-th place stay, k beyond the vocabulary keeps all, 50,000 float16 logits keep "
               "their dtype")),
    fresh=lambda rng: [Case((np.round(rng.normal(scale=2.0, size=6), 2), int(rng.integers(1, 6))))],
))


def _top_p_without_crossing(z, p):
    """The prefix whose mass stays below p: drops the token that crosses p."""
    z = np.asarray(z)
    probs = sampling.softmax_row(z.astype(float))
    order = np.argsort(-probs, kind="stable")
    keep = order[np.cumsum(probs[order]) < p]
    out = np.full(z.shape, -np.inf)
    out[keep] = z[keep]
    return out


register(Task(
    key="top_p_filter", function="top_p_filter", reference=sampling.top_p_filter,
    cases=[
        Case((LOGITS, 0.9), about=N_("p = 0.9: softmax(logits) is [0.64, 0.24, 0.09, 0.03] rounded")),
        Case((LOGITS, 0.5)),
        Case((np.log(np.array([0.1, 0.4, 0.25, 0.25])), 0.6), hidden=True,
            about=N_("a tie with the token that crosses p"),
            hint=N_("two tokens tie with the one that crosses p: keep both (every logit at least as large as the "
                    "last kept one), so the answer does not depend on the sort order.")),
        Case((np.array([0.0, -800.0, 5.0]), 1.0), hidden=True,
             hint=N_("p = 1 keeps every token, even one whose probability rounds to 0.")),
        Case((VOCAB_50K, 0.95), hidden=True, dtype="float16", shown="<50,000 float16 logits>, 0.95"),
        Case((LOGITS, 0.0), hidden=True, raises=("ValueError",), hint=N_("p = 0 would keep no token at all.")),
    ],
    mistakes=[
        Mistake(lambda z, p: _dropped_to_zero(sampling.top_p_filter(z, p)), DROPPED_ZERO),
        Mistake(_top_p_without_crossing,
                N_("you dropped the token that takes the total past p: keep it (the kept tokens' probability must "
                   "reach p).")),
        Mistake(lambda z, p: sampling.top_k_filter(z, 1),
                N_("you kept only the most likely token: keep tokens until their probabilities add up to p.")),
        Mistake(lambda z, p: numerics.softmax(sampling.top_p_filter(z, p).clip(-1e30)),
                N_("you returned probabilities: return the filtered logits (the softmax comes later).")),
    ],
    passed=(N_("the most likely tokens stay until their probability reaches p, the token that crosses p included"),
            N_("ties with that token stay, p = 1 keeps all, 50,000 float16 logits keep their dtype, p = 0 is refused")),
    fresh=lambda rng: [Case((np.round(rng.normal(scale=2.0, size=6), 2), float(rng.choice([0.3, 0.7, 0.9]))))],
))

# ---------------------------------------------------------------- perplexity

NAIVE_LOG = N_("log(softmax(logits)) gives -inf (or nan) when a probability underflows or exp overflows: "
               "use logsumexp(logits) - logits[id] for each token's cross-entropy.")
TOKENS = np.array([[2.0, 1.0, 0.1], [0.5, 2.5, 0.0], [1.0, 1.0, 1.0], [0.0, 3.0, -1.0]])
# NumPy code raises ValueError (or indexing's IndexError); TensorFlow's sparse op, InvalidArgumentError on a CPU.
BAD_TOKEN_ERRORS = ("ValueError", "IndexError", "InvalidArgumentError")
TOKEN_IDS = np.array([0, 1, 2, 0])


def _cross_entropies(z, ids):
    z = np.asarray(z, dtype=float)
    ids = np.asarray(ids)
    return numerics.logsumexp(z) - np.take_along_axis(z, ids[..., None], axis=-1)[..., 0]


register(Task(
    key="perplexity", function="perplexity", reference=sampling.perplexity,
    cases=[
        Case((TOKENS, TOKEN_IDS)),
        Case((np.zeros((5, 7)), np.array([0, 3, 6, 2, 2])), about=N_("a uniform model over 7 tokens")),
        Case((np.array([[900.0, 0.0, -900.0], [5.0, 0.0, 0.0], [0.0, 5.0, 0.0], [0.0, 0.0, 5.0]]),
              np.array([2, 0, 1, 2])), hidden=True, rtol=1e-6, nonfinite=NAIVE_LOG),
        Case((np.array([[20.0, 10.0, 0.0], [0.0, 10.0, 20.0]], dtype=np.float16), np.array([0, 1])), hidden=True,
             rtol=1e-3, nonfinite=NAIVE_LOG),
        Case((np.stack([VOCAB_50K, VOCAB_50K[::-1]]), np.array([17, 0])), hidden=True, rtol=1e-3, nonfinite=NAIVE_LOG,
             shown="<2 rows of 50,000 float16 logits>, [17, 0]"),
        Case((TOKENS, np.array([0, 1, 3, 0])), hidden=True, raises=BAD_TOKEN_ERRORS,
             hint=N_("token id 3 does not exist in a vocabulary of 3.")),
        Case((TOKENS, np.array([0, -1, 2, 0])), hidden=True, raises=BAD_TOKEN_ERRORS,
             hint=N_("token id -1 does not exist either, but NumPy's indexing reads it as the last token: "
                     "check 0 <= id < vocabulary size yourself.")),
    ],
    mistakes=[
        Mistake(lambda z, ids: float(_cross_entropies(z, ids).mean()),
                N_("you returned the mean cross-entropy: perplexity is its exponential, exp(mean).")),
        Mistake(lambda z, ids: float(np.exp(_cross_entropies(z, ids).sum())),
                N_("you took exp of the sum: take exp of the mean cross-entropy over the tokens.")),
        Mistake(lambda z, ids: float(np.exp(_cross_entropies(z, ids)).mean()),
                N_("you averaged each token's exp(cross-entropy): take the mean first, then exp.")),
        Mistake(lambda z, ids: float(np.exp(-_cross_entropies(z, ids).mean())),
                N_("sign error: cross-entropy is -log p, so perplexity is at least 1.")),
        Mistake(lambda z, ids: float(2.0 ** _cross_entropies(z, ids).mean()),
                N_("you used base 2 with a natural-log cross-entropy: use exp.")),
    ],
    passed=(N_("exp(mean cross-entropy) of 4 tokens; a uniform model's perplexity is its vocabulary size, 7"),
            N_("logits of ±900, float16 logits and 50,000-token rows stay finite; token ids 3 and -1 are refused")),
    fresh=lambda rng: [Case((np.round(rng.normal(scale=2.0, size=(4, 5)), 2), rng.integers(0, 5, size=4)))],
))
