"""The class report's pictures: matplotlib PNGs embedded in the page as data: images (nothing loads at view time)."""

import io

FULL, PART, NONE = "#2e7d32", "#f9a825", "#c62828"


def exercise_png(exercise, distribution, tasks, max_score):
    """PNG bytes of one exercise: how many students got each score, and per task how many earned all, part or
    none of its points.

    `distribution` is [(score, students)], `tasks` is [(task name, full, part, none)].
    """
    import matplotlib

    matplotlib.use("Agg")  # no display: the picture goes into the page
    from matplotlib.figure import Figure

    fig = Figure(figsize=(9, 2.4 + 0.28 * max(len(tasks), 1)), dpi=80)
    scores, tasks_axes = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.3]})
    xs = [score for score, _ in distribution]
    ys = [count for _, count in distribution]
    scores.bar(xs, ys, width=0.6 if max_score <= 12 else max_score / 25, color="#0b3d91")
    scores.set_xlim(-0.6, max_score + 0.6)
    scores.set_xlabel(f"score (of {max_score:g})")
    scores.set_ylabel("students")
    scores.set_title(f"{exercise}: scores", fontsize=11)
    scores.yaxis.get_major_locator().set_params(integer=True)
    names = [name for name, *_ in tasks][::-1]
    full = [t[1] for t in tasks][::-1]
    part = [t[2] for t in tasks][::-1]
    none = [t[3] for t in tasks][::-1]
    tasks_axes.barh(names, full, color=FULL, label="all points")
    tasks_axes.barh(names, part, left=full, color=PART, label="some")
    tasks_axes.barh(names, none, left=[a + b for a, b in zip(full, part)], color=NONE, label="none")
    tasks_axes.set_xlabel("graded notebooks")
    tasks_axes.xaxis.get_major_locator().set_params(integer=True)
    if tasks:
        tasks_axes.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=3, fontsize=9, frameon=False,
                          title="per task, the notebooks that earned", title_fontsize=10)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()
