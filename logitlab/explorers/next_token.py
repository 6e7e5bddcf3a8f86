"""Lesson 09's explorer: one next-token distribution under temperature, top-k and top-p.

`next_token_numbers` is the pure function (NumPy only, tested without widgets), in the style of
`logitlab/explorers/numbers.py`; `next_token_explorer` draws it with the blitted picture of
`logitlab/explorers/blitting.py` and the `Explorer` of `logitlab/explorers/widgets.py`.
"""

import math

import numpy as np

from logitlab import sampling
from logitlab.explorers.numbers import finite_number, is_index
from logitlab.i18n import _

__all__ = ["next_token_explorer", "next_token_numbers", "token_label"]

SHOWN = 10  # bars for the most likely tokens; the rest of the vocabulary is counted, not drawn
SAMPLES = 24  # tokens drawn per picture, from one generator seeded with `seed`
MAX_VOCAB = 1000  # the sliders' explorer is for a small vocabulary (a character model)


def token_label(token):
    """A token as it is shown on a bar: spaces and line breaks made visible."""
    return {" ": "sp", "\n": "\\n", "\t": "\\t"}.get(token, token)


def next_token_numbers(logits, tokens, temperature=1.0, top_k=None, top_p=1.0, seed=0, samples=SAMPLES):
    """What the explorer shows for one row of next-token logits.

    The order is the one text generators use: divide by the temperature, keep the top k, then keep
    the top p of what is left, renormalise and draw. T = 0 keeps only the arg max (greedy).
    Returns plain lists and floats: `order` (token ids by logit, largest first), `probs` (softmax(logits / T)
    before filtering), `kept` (bools), `final` (the renormalised probabilities), `entropy` (nats, of `final`),
    `kept_count`, and `samples` (token ids drawn with np.random.default_rng(seed)).
    """
    z = sampling.one_row(logits).astype(np.float64)
    if not np.isfinite(z).all():
        raise ValueError("logits must be finite: the explorer filters them itself")
    if not 2 <= z.size <= MAX_VOCAB:
        raise ValueError(f"logits has {z.size} values: expected 2 to {MAX_VOCAB} (one per token)")
    tokens = [str(t) for t in tokens]
    if len(tokens) != z.size:
        raise ValueError(f"tokens has {len(tokens)} entries for {z.size} logits: expected one token per logit")
    temperature = finite_number(temperature, "temperature", 0.0, 100.0)
    top_k = z.size if top_k is None else top_k
    if not is_index(top_k, 1, z.size):
        raise ValueError(f"top_k is {top_k!r}: expected a whole number from 1 to {z.size}")
    top_p = finite_number(top_p, "top_p", 0.0, 1.0, low_open=True)
    if not is_index(seed, 0, 2 ** 32 - 1) or not is_index(samples, 0, 10_000):
        raise ValueError("seed and samples must be whole numbers >= 0")
    probs = sampling.temperature_probs(z, temperature)
    if temperature == 0:
        filtered = np.where(np.arange(z.size) == np.argmax(z), 0.0, -np.inf)
    else:
        filtered = sampling.top_p_filter(sampling.top_k_filter(z / temperature, int(top_k)), top_p)
    kept = np.isfinite(filtered)
    final = sampling.softmax_row(filtered)
    nonzero = final[final > 0]
    entropy = float(-(nonzero * np.log(nonzero)).sum())
    drawn = np.random.default_rng(seed).choice(z.size, size=samples, p=final) if samples else np.array([], int)
    return {"tokens": tokens, "logits": z.tolist(), "order": np.argsort(-z, kind="stable").tolist(),
            "temperature": temperature, "top_k": int(top_k), "top_p": top_p, "probs": probs.tolist(),
            "kept": kept.tolist(), "kept_count": int(kept.sum()), "final": final.tolist(), "entropy": entropy,
            "max_entropy": math.log(int(kept.sum())), "samples": drawn.tolist()}


def _slider(kind, description, value, low, high, step):
    from logitlab.explorers.blitting import STYLE

    return kind(value=value, min=low, max=high, step=step, description=description, continuous_update=True,
                style={"description_width": "initial"}, layout={"width": f"{STYLE.slider_px}px"})


def _fmt(values, digits=3):
    return "[" + ", ".join(f"{v:.{digits}f}" for v in values) + "]"


def next_token_explorer(logits=None, tokens=None, prompt="", seed=0):
    """Sliders for temperature, top-k and top-p over one row of next-token logits.

    Left: softmax(logits / T) of the most likely tokens, dropped ones grey. Right: the renormalised
    probabilities of the kept tokens, the entropy, and a row of tokens drawn with a fixed seed.
    Without arguments: the course text's bigram logits after the letter "t".
    """
    import ipywidgets as widgets

    from logitlab.explorers.blitting import BLUE, GREY, STYLE, VERMILION, Bars, BlittedFigure, text
    from logitlab.explorers.explorer import Explorer

    if logits is None:
        corpus = sampling.course_text()
        tokens = sampling.vocabulary(corpus)
        logits = sampling.bigram_logits(corpus, tokens)[tokens.index("t")]
        prompt = prompt or "... t"
    if tokens is None:
        raise ValueError("tokens is missing: give one token (a string) per logit")
    first = next_token_numbers(logits, tokens)
    after = f"after {prompt!r}, " if prompt else ""
    shown = first["order"][:SHOWN]
    names = [token_label(first["tokens"][k]) for k in shown]
    picture = BlittedFigure()
    left = Bars(picture, picture.axes[0], names, (0, 1.15), colours=[BLUE] * len(shown), fmt="{:.0%}",
                fontsize=STYLE.small, ylabel="probability", title="softmax(logits / T), before filtering")
    right = Bars(picture, picture.axes[1], names, (0, 1.15), colours=[VERMILION] * len(shown), fmt="{:.0%}",
                 fontsize=STYLE.small, title="kept tokens, renormalised", mark="")
    for ax in picture.axes:
        ax.tick_params(axis="x", labelsize=STYLE.small)
    picture.figure.get_layout_engine().set(rect=(0, 0.07, 1, 0.93))  # room below for the row of samples
    # Centred: a cached label is rendered on a scratch canvas from its anchor, so it may reach half the width each way.
    row = picture.moving(text(picture.axes[0], 0.5, 0.02, transform=picture.figure.transFigure, ha="center",
                              va="bottom", fontsize=STYLE.font_size, family="monospace"))
    row.set_in_layout(False)  # the layout leaves room for it (rect above); it must not squeeze the axes

    def compute(temperature, top_k, top_p):
        return next_token_numbers(logits, tokens, temperature, top_k, top_p, seed)

    def draw(n):
        kept = [n["kept"][k] for k in shown]
        left.update([n["probs"][k] for k in shown], note=f"{after}T = {n['temperature']:.2f}")
        for bar, keep in zip(left.bars, kept):
            bar.set_facecolor(BLUE if keep else GREY)
            bar.set_alpha(1.0 if keep else 0.45)
        right.update([n["final"][k] for k in shown],
                     note=f"kept {n['kept_count']} of {len(n['tokens'])}   entropy {n['entropy']:.2f} nats")
        row.set_text(f"{SAMPLES} draws, seed {seed}: " + "".join(n["tokens"][k] for k in n["samples"]).replace(
            "\n", "⏎"))

    vocab = len(first["tokens"])
    controls = {"temperature": _slider(widgets.FloatSlider, _("temperature T (0 = greedy)"), 1.0, 0.0, 3.0, 0.05),
                "top_k": _slider(widgets.IntSlider, "top-k", vocab, 1, vocab, 1),
                "top_p": _slider(widgets.FloatSlider, "top-p", 1.0, 0.05, 1.0, 0.01)}

    def summary(n):
        return (f"T={n['temperature']:.2f}, top-k={n['top_k']}, top-p={n['top_p']:.2f} -> kept {n['kept_count']} of "
                f"{len(n['tokens'])}, entropy {n['entropy']:.3f} nats, samples "
                f"{''.join(n['tokens'][k] for k in n['samples'])!r}")

    def table(n):
        rows = [(_("kept"), _("{kept} of {vocab} tokens").format(kept=n["kept_count"], vocab=len(n["tokens"]))),
                (_("entropy"), _("{entropy:.3f} nats (at most log {kept} = {most:.3f})").format(
                    entropy=n["entropy"], kept=n["kept_count"], most=n["max_entropy"])),
                (_("samples"), "".join(n["tokens"][k] for k in n["samples"]).replace("\n", "⏎"))]
        cells = "".join(f"<tr><th style='text-align:left;padding-right:8px'>{k}</th><td>{_escape(v)}</td></tr>"
                        for k, v in rows)
        return f"<table class='logitlab-numbers-table' style='font-family:monospace'>{cells}</table>"

    return Explorer("next-token explorer", controls, compute, picture, draw, summary, table,
                    help_text=_("Try this: T = 0, then T = 3; then, at T = 3, lower top-p to 0.3."))


def _escape(value):
    import html

    return html.escape(str(value)).replace(" ", "&nbsp;")
