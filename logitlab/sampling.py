"""Lesson 09: a next token from logits. Temperature, top-k, top-p, sampling and perplexity in NumPy.

These are the reference versions the lesson writes out, the explorer draws and exercise 09 judges.
Each works on one row of logits (one logit per vocabulary entry), keeps the input's dtype where it
returns logits, and never takes the log of a softmax.
"""

from importlib import resources

import numpy as np

from logitlab import numerics

__all__ = ["bigram_logits", "course_text", "perplexity", "sample_token", "softmax_row", "temperature_probs",
           "top_k_filter", "top_p_filter", "vocabulary"]

TEXT = "next-token.txt"


def course_text():
    """Lesson 09's short course-written English text (shipped in the package, no download)."""
    return resources.files("logitlab").joinpath("data", TEXT).read_text(encoding="utf-8")


def vocabulary(text):
    """The sorted characters of `text`: token id k is the k-th of them."""
    return sorted(set(text))


def bigram_logits(text, vocab, smoothing=1.0):
    """A character bigram model: logits[a, b] = log(count of b after a + smoothing), shape [vocab, vocab]."""
    index = {ch: k for k, ch in enumerate(vocab)}
    ids = np.array([index[ch] for ch in text])
    counts = np.zeros((len(vocab), len(vocab)))
    np.add.at(counts, (ids[:-1], ids[1:]), 1.0)
    return np.log(counts + smoothing)


def one_row(logits, name="logits"):
    """`logits` as a 1-D array of floats with no nan or +inf (-inf marks a dropped token), or a ValueError."""
    arr = np.asarray(logits)
    if arr.dtype.kind not in "fiu" or arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} must be one row of numbers, shape [vocab]; got {arr.dtype} of shape "
                         f"{list(arr.shape)}")
    if np.isnan(arr).any() or np.isposinf(arr).any() or np.isneginf(arr).all():
        raise ValueError(f"{name} holds nan or +inf, or every entry is -inf: expected finite logits")
    return arr if arr.dtype.kind == "f" else arr.astype(float)


def softmax_row(z):
    """softmax of one float64 row that may hold -inf (dropped tokens get probability 0)."""
    e = np.exp(z - z.max())
    return e / e.sum()


def temperature_probs(logits, temperature):
    """softmax(logits / T) in float64; T = 0 puts all the probability on the (first) arg max."""
    z = one_row(logits).astype(np.float64)
    if not np.isfinite(temperature) or temperature < 0:
        raise ValueError(f"temperature is {temperature}: expected a number >= 0")
    if temperature == 0:
        return (np.arange(z.size) == np.argmax(z)).astype(np.float64)
    return softmax_row(z / temperature)


def sample_token(logits, temperature, rng):
    """One token id drawn from softmax(logits / T) with the generator `rng`; T = 0 is greedy (the arg max)."""
    probs = temperature_probs(logits, temperature)
    if temperature == 0:
        return int(np.argmax(probs))
    return int(rng.choice(probs.size, p=probs))


def top_k_filter(logits, k):
    """Keep the logits that are at least the k-th largest (ties at the k-th place all stay); the rest
    become -inf. Same shape and dtype as `logits`."""
    z = one_row(logits)
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k is {k!r}: expected a whole number >= 1")
    if k >= z.size:
        return z.copy()
    kth = np.sort(z)[-k]
    return np.where(z >= kth, z, -np.inf).astype(z.dtype)


def top_p_filter(logits, p):
    """Keep the most likely tokens until their probability reaches p (the token that crosses p stays,
    and so do tokens tied with it); the rest become -inf. p = 1 keeps every token."""
    z = one_row(logits)
    if not (isinstance(p, (int, float, np.floating, np.integer)) and not isinstance(p, bool) and 0 < p <= 1):
        raise ValueError(f"p is {p!r}: expected a probability with 0 < p <= 1")
    if p == 1:
        return z.copy()
    probs = softmax_row(z.astype(np.float64))
    order = np.argsort(-probs, kind="stable")
    mass_before = np.cumsum(probs[order]) - probs[order]
    last_kept = order[mass_before < p][-1]  # the token whose probability takes the total to p or past it
    return np.where(z >= z[last_kept], z, -np.inf).astype(z.dtype)


def perplexity(logits, token_ids):
    """exp(mean cross-entropy) of `token_ids` under `logits` ([..., vocab] and [...]): computed from
    logsumexp(logits) - logits[id], never from log(softmax)."""
    z = np.asarray(logits, dtype=np.float64)
    ids = np.asarray(token_ids)
    if z.ndim < 1 or ids.shape != z.shape[:-1] or ids.dtype.kind not in "iu":
        raise ValueError(f"token_ids must be integers of shape {list(z.shape[:-1])} (one per row of logits); "
                         f"got {ids.dtype} of shape {list(ids.shape)}")
    if ids.size and (ids.min() < 0 or ids.max() >= z.shape[-1]):
        raise ValueError(f"token_ids must lie from 0 to {z.shape[-1] - 1}")
    picked = np.take_along_axis(z, ids[..., None], axis=-1)[..., 0]
    cross_entropy = numerics.logsumexp(z) - picked
    return float(np.exp(cross_entropy.mean()))
