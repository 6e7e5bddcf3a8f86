"""`make bench`: how long each explorer takes to answer a slider move, in a real kernel.

Every explorer is driven through STEPS slider moves (setting the control's value from Python redraws
synchronously and sends the new picture over the widget's comm). The same run times the common
pattern on the softmax explorer's picture: a new matplotlib figure per move, as `interact` with
`plt.show()` does, and the explorer's own figure drawn whole instead of blitted. The last line is
machine-readable:

    bench: median_ms=... p95_ms=... worst=... baseline_median_ms=...
"""

import contextlib
import io
import sys
import time
from types import SimpleNamespace

import numpy as np

from logitlab.numerics import softmax

STEPS = 200
NAMES = ["class 0", "class 1", "class 2"]
COLOURS = ["#0072B2", "#E69F00", "#009E73"]


def sweep(low, high, steps=STEPS):
    """Values going up and back down across a slider's range, so every step changes the picture."""
    half = np.linspace(low, high, steps // 2 + 1)
    return np.concatenate([half[1:], half[::-1][1:]])[:steps].tolist()


def synthetic_run(epochs=20, classes=3, steps=60, seed=0):
    """A recorded-looking training run made with NumPy (a softmax regression growing sharper), so the
    benchmark needs no TensorFlow."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 2, (classes, 2))
    points = centres + rng.normal(0, 0.5, (classes, 2))
    xs = np.linspace(-5, 5, steps)
    grid = np.stack(np.meshgrid(xs, xs), axis=-1)
    logits, grid_probs = [], []
    for epoch in range(epochs + 1):
        weight = epoch / epochs * 2
        logits.append(-weight * ((points[:, None, :] - centres[None]) ** 2).sum(-1))
        scores = -weight * ((grid[..., None, :] - centres) ** 2).sum(-1)
        scores -= scores.max(-1, keepdims=True)
        grid_probs.append(np.exp(scores) / np.exp(scores).sum(-1, keepdims=True))
    return SimpleNamespace(points=points, grid=grid, label_ids=np.arange(classes), logits=logits,
                           grid_probs=grid_probs, losses=[None] + [1.0 / (e + 1) for e in range(epochs)])


def cases(steps=STEPS):
    """(name, explorer, control name, values) for every explorer."""
    from logitlab.explorers import widgets as w

    return [
        ("logit", w.logit_explorer(), "p", sweep(0.01, 0.99, steps)),
        ("score", w.score_explorer(), "b0", sweep(-5, 5, steps)),
        ("softmax", w.softmax_explorer(), "z0", sweep(-6, 6, steps)),
        ("cross_entropy", w.cross_entropy_explorer(), "p_true", sweep(0.01, 1.0, steps)),
        ("stability", w.stability_explorer(), "scale", np.exp(sweep(0, np.log(1000), steps)).tolist()),
        ("fused_op", w.fused_op_explorer(), "z1", sweep(-6, 6, steps)),
        ("double_softmax", w.double_softmax_explorer(), "z0", sweep(-6, 6, steps)),
        ("training", w.training_explorer(synthetic_run()), "epoch", [i % 21 for i in range(1, steps + 1)]),
        ("next_token", w.next_token_explorer(), "temperature", sweep(0.0, 3.0, steps)),
    ]


class Timer:
    """Wall-clock and CPU milliseconds of each timed step. On a busy machine the wall clock includes
    waiting for a core; the kernel's CPU time does not, so it shows the code's own cost."""

    def __init__(self):
        self.wall, self.cpu = [], []

    @contextlib.contextmanager
    def step(self):
        wall, cpu = time.perf_counter(), time.process_time()
        yield
        self.wall.append((time.perf_counter() - wall) * 1000)
        self.cpu.append((time.process_time() - cpu) * 1000)

    def row(self, name):
        """(name, median ms, p95 ms, CPU median ms, steps)."""
        return (name, float(np.median(self.wall)), float(np.percentile(self.wall, 95)), float(np.median(self.cpu)),
                len(self.wall))


def time_moves(control, values):
    """Time each `control.value = v` (the redraw is synchronous)."""
    timer = Timer()
    for value in values:
        with timer.step():
            control.value = value
    return timer


def baseline_times(values):
    """The common pattern: a new figure with the softmax explorer's two panels for every move, drawn and
    encoded the way the inline backend shows `plt.show()` output, then closed."""
    import matplotlib

    matplotlib.use("agg")
    import matplotlib.pyplot as plt

    timer = Timer()
    for value in values:
        with timer.step():
            logits = np.array([value, 1.0, 0.1])
            probs = softmax(logits)
            fig, (left, right) = plt.subplots(1, 2, figsize=(7.2, 3.0), dpi=100)
            left.bar(NAMES, logits, color=COLOURS)
            right.bar(NAMES, probs, color=COLOURS)
            for k in range(3):
                left.text(k, logits[k], f"{logits[k]:.2f}", ha="center", va="bottom")
                right.text(k, probs[k], f"{probs[k]:.3f}", ha="center", va="bottom")
            left.set_ylim(-12, 12)
            right.set_ylim(0, 1.3)
            left.set_title("logits")
            right.set_title("softmax(logits)")
            fig.canvas.print_figure(io.BytesIO(), format="png", bbox_inches="tight")  # what the inline backend does
            plt.close(fig)
    return timer


def full_redraw_times(values):
    """The softmax explorer's own figure drawn whole on every move (no blitting), sent the same way."""
    from logitlab.explorers import widgets as w

    explorer = w.softmax_explorer()
    explorer.blit = False
    return time_moves(explorer.controls["z0"], values)


def print_timings(out=sys.stdout, steps=STEPS, size="normal"):
    """Run every explorer (drawn at `size`, see `logitlab.explorers.blitting.set_size`) and the baseline; print the
    table and the `bench:` line.

    In the `bench:` line, median_ms and worst= are the slowest explorer's median; p95_ms is the
    highest p95 of any explorer (the goals are 16 ms and 33 ms for every explorer).
    """
    from logitlab.explorers.blitting import set_size

    style = set_size(size)
    rows = []
    for name, explorer, control, values in cases(steps):
        time_moves(explorer.controls[control], values[:10])  # warm caches
        rows.append(time_moves(explorer.controls[control], values).row(name))
    baseline_values = sweep(-6, 6, steps)
    baseline_times(baseline_values[:5])
    base = baseline_times(baseline_values).row("baseline*")
    rows.append(full_redraw_times(baseline_values).row("full redraw**"))
    rows.append(base)
    print(f"{'explorer':<16} {'median ms':>10} {'p95 ms':>8} {'cpu ms':>7} {'steps':>6}", file=out)
    for name, median, p95, cpu, count in rows:
        print(f"{name:<16} {median:>10.1f} {p95:>8.1f} {cpu:>7.1f} {count:>6}", file=out)
    print("* baseline: the softmax explorer's picture as a new matplotlib figure per move (interact + plt.show())",
          file=out)
    print("** full redraw: the softmax explorer's own figure drawn whole on every move instead of blitted", file=out)
    print("cpu ms: the kernel's median CPU time per move (a busy machine inflates the wall-clock columns)", file=out)
    print(f"size: {size} (two-panel pictures {round(style.width * style.dpi)} x {round(style.height * style.dpi)} "
          "pixels)", file=out)
    explorers = rows[:-2]
    worst = max(explorers, key=lambda r: r[1])
    print(f"bench: median_ms={worst[1]:.1f} p95_ms={max(r[2] for r in explorers):.1f} worst={worst[0]} "
          f"cpu_median_ms={max(r[3] for r in explorers):.1f} baseline_median_ms={rows[-1][1]:.1f} size={size}",
          file=out, flush=True)


def run_in_kernel(timeout=600, size="normal"):
    """Start a fresh Python kernel, run `print_timings(size=size)` there (so widget messages really go out); relay
    its output."""
    from jupyter_client.manager import KernelManager

    # Local sockets: the kernel warns about unencrypted TCP, and the benchmark needs no network.
    manager = KernelManager(kernel_name="python3", transport="ipc")
    manager.start_kernel()
    client = manager.client()
    client.start_channels()
    client.wait_for_ready(timeout=60)
    failed = []

    def relay(msg):
        kind, content = msg["header"]["msg_type"], msg["content"]
        if kind == "stream":
            (sys.stdout if content["name"] == "stdout" else sys.stderr).write(content["text"])
        elif kind == "error":
            failed.append(content["ename"])
            sys.stderr.write("\n".join(content["traceback"]) + "\n")

    try:
        code = f"import logitlab.authoring.bench\nlogitlab.authoring.bench.print_timings(size={size!r})"
        client.execute_interactive(code, timeout=timeout, output_hook=relay)
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    return 1 if failed else 0
