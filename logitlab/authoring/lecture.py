"""Lecture mode: the slideshow path through each lesson, its timings and the speaker notes.

A lesson read top to bottom is the learner's; the same notebook projected with RISE (`jupyterlab_rise`,
live reveal.js slides) or `make slides` is the lecture. Jupyter's cell metadata `slideshow.slide_type`
decides what the lecture shows: "slide" starts a slide, "subslide" a slide below it, "fragment" appears
on the next key press, "-" continues the slide, "skip" is left out and "notes" goes to the speaker view.

The types follow from the lesson's own headings (`slide_type`), so a lesson edited later keeps a
sensible path; `PLANS` adds what a rule cannot know: the sections a 45-50 minute lecture skips (kept
in the notebook, marked skip), the minutes per section, and for every explorer the question to ask
the room before moving the slider, what the room usually predicts, and the answer. Speaker notes are
cells tagged `lecture-notes` whose notes sit in a closed <details>: a learner alone sees one closed line.

`python -m logitlab lecture` writes the metadata and notes into the lessons (the only way they are
written); `python -m logitlab lecture --check`, part of `make check`, fails when a lesson's lecture path
is out of date. `python -m logitlab slides` (`make slides`, handouts.py) turns the lessons into static reveal.js
handouts, and guide.py writes the teaching guide's lecture pages.
"""

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from logitlab.authoring import course

NOTES_TAG = "lecture-notes"
HINT_TAG = "lecture-hint"
GENERATED_TAGS = (NOTES_TAG, HINT_TAG)
# One line under every explorer, on its slide and in the notebook: what to press when only the stored picture
# shows. The /rise/ page renders the notebook file, so its explorer is live only once the lesson has run in the
# kernel and the file holds the live outputs (saved; "Render as slideshow" saves first); otherwise Shift+Enter on
# the explorer's code redraws it live, but only in a kernel that has run the lesson: the setup cells are not on
# the slides, and a fresh kernel answers NameError: name 'll' is not defined.
NO_SLIDERS_HINT = ("*A still picture above, no sliders? Run the lesson (in the notebook: Run → Run All Cells), "
                   "then click the code above and press Shift+Enter.*")
HEADING = re.compile(r"^(#{1,6}) +(.*)")
FENCE = re.compile(r"^\s*(```|~~~)")
EXPLORER_CALL = re.compile(r"^ll\.widgets\.\w+_explorer\(", re.M)


@dataclass(frozen=True)
class ExplorerNote:
    """Speaker notes for one explorer slide: predict, then reveal."""

    ask: str  # the "Try this" as a question to the room, before the slider moves
    predicted: str  # what the room usually says
    answer: str  # what the slider shows, and the one sentence to say about it
    # what the slide shows before anything moves: a phrase of the explorer's stored summary (its text/plain
    # output, which nbval checks), so a test can tell when the note and the slide disagree
    opens_on: str = ""


@dataclass(frozen=True)
class LessonPlan:
    """What a lecture does with one lesson. Cells are named by their stable notebook cell id."""

    lecture: str  # which lecture of the course this lesson belongs to
    minutes: dict  # heading cell id -> minutes for that section (sections not listed are skipped or 0)
    skip_sections: tuple = ()  # heading cell ids whose whole section the lecture leaves out
    skip_cells: tuple = ()  # single cells the lecture leaves out (long tables, printouts)
    notes: dict = field(default_factory=dict)  # explorer code cell id -> ExplorerNote


PLANS = {
    "00": LessonPlan(
        lecture="Lecture 1 (00 + 01 + 02)",
        minutes={"839c3261": 2, "2c186dbe": 4},  # the Summary is about the course's files: skipped
        skip_sections=("dcaa8b6c", "2f3ee376", "355a42ef", "f5e1ca12", "279a3267", "f663ac2c"),
        skip_cells=("eaf5bf35", "40e2f69d", "6e617a49"),
        notes={"first-slider-explorer": ExplorerNote(
            opens_on="logits [0.10, 1.00, 2.00]",
            ask="Bird has the biggest score. If I drag cat's score z0 above bird's, does cat get all the "
                "probability, or just the most?",
            predicted="Many say cat jumps to (nearly) 100 %, or that the bars swap exactly.",
            answer="Cat becomes the winner, but dog and bird keep some probability: the bars always add up "
                   "to 1 and only reach 0 or 1 in the limit. A score is not a probability; softmax makes one "
                   "(lesson 03).")},
    ),
    "01": LessonPlan(
        lecture="Lecture 1 (00 + 01 + 02)",
        minutes={"57103533": 1, "d0dab764": 4, "152bb1d6": 4, "bc9e4628": 1, "67d3d4da": 3, "42716e8a": 2,
                 "51607582": 4, "2cb0c323": 1, "96cb34e0": 1},
        skip_sections=("4b1362c9", "72eecd65"),
        skip_cells=("dfaed50d", "9f6f19a3", "a74ae423"),
        notes={"24f56619": ExplorerNote(
            opens_on="p=0.800 -> logit(p)=1.3863; z=1.00 -> sigmoid(z)=0.7311",
            ask="p = 0.8 gives a positive logit. What happens to the logit when p drops below 0.5, and what "
                "when p heads for 0.999? And sigmoid(2) + sigmoid(-2): what do they add up to?",
            predicted="Most expect the logit to stop at some maximum near p = 1, like a probability does; few "
                      "know the sigmoid pair without computing.",
            answer="Below 0.5 the logit is negative; towards 1 it grows without bound (log-odds have no "
                   "ceiling). sigmoid(2) + sigmoid(-2) = 1, for every z: the symmetry sigma(-z) = 1 - sigma(z).")},
    ),
    "02": LessonPlan(
        lecture="Lecture 1 (00 + 01 + 02)",
        minutes={"cff7e09a": 1, "33db752e": 3, "3f08dfa7": 3, "1bee35b8": 5, "fd44c805": 2, "413a1105": 2,
                 "b18ea17f": 5, "6c1415ac": 1},
        skip_sections=("d4599d4d", "0d25afc1", "961ba39a"),
        skip_cells=("180a781a",),
        notes={"15fcb6fe": ExplorerNote(
            opens_on="prediction 1 (neutral)",
            ask="Neutral wins now. If I raise only positive's bias b2, when does the prediction switch, and "
                "what happens to negative's probability on the way?",
            predicted="Usually: 'when b2 makes positive's probability pass 0.5', and 'negative does not change, "
                      "only its own score moved'.",
            answer="It switches the moment positive's logit passes neutral's (the arg max of the logits), "
                   "whatever the probabilities are; and negative's probability falls too, because softmax "
                   "shares one total of 1 among all classes.")},
    ),
    "03": LessonPlan(
        lecture="Lecture 2 (03 + 04)",
        minutes={"10a5c0da": 1, "52249530": 3, "e7488695": 3, "19fd96aa": 2, "fc1ed428": 1, "ed0639a9": 3,
                 "08cdb07d": 2, "f096a359": 3, "997390fa": 5, "ce509c9f": 1},
        skip_sections=("03893dda", "71b7cc19", "4f094f28", "59d24c80"),  # 71b7cc19: the TF 1 detour
        skip_cells=("9be4bd90", "de2de5a6"),
        notes={"bcb05f57": ExplorerNote(
            opens_on="T=1.00, shift=0.00",
            ask="If I add 5 to every logit with the shift slider, do the probabilities go up, down, or stay? "
                "And what does temperature 0.1 do, and temperature 5?",
            predicted="Most expect the probabilities to rise with the shift (bigger scores, more confidence); "
                      "the temperature is usually guessed right once the shift is seen.",
            answer="Nothing moves: softmax only sees differences between logits (the table's (logits + shift) / T "
                   "row keeps its gaps). Low temperature divides by a small T and stretches the gaps: an arg max, "
                   "one bar near 1; high temperature shrinks them and evens the bars out towards 1/3.")},
    ),
    "04": LessonPlan(
        lecture="Lecture 2 (03 + 04)",
        minutes={"db97bee7": 1, "5ff5753b": 2, "cfa7f0b9": 2, "860176ba": 2, "3de138d5": 4, "8ca2160d": 3,
                 "why-softmax-pairs": 3, "34690478": 2, "c25b309a": 2, "6a497100": 4, "f8736c08": 1},
        skip_sections=("b087ac02", "992feedf", "1b3c747d"),
        skip_cells=("533d3753", "e1e57249"),
        notes={"685ff749": ExplorerNote(
            opens_on="q[true]=0.700, smoothing=0.00",
            ask="The model gives the true class 0.7. As that falls to 0.5, 0.1, 0.01, does the loss grow "
                "steadily, or faster and faster? And with label smoothing on, is q[true] = 1 still the best?",
            predicted="Most picture a straight line (loss = 1 - q); with smoothing, most still say 1 is best.",
            answer="Faster and faster: -log q is log 2 at 0.5, about log 3 near 1/3, and runs off as q goes to 0, "
                   "so a confident wrong answer costs most. With smoothing 0.1 the minimum sits at 1 - eps + eps/K, "
                   "about 0.93, and the loss climbs towards 1 (at exactly 1 it is infinite: the slider stops at "
                   "0.99): over-confidence is now punished.")},
    ),
    "05": LessonPlan(
        lecture="Lecture 3 (05)",
        minutes={"aaf1fb52": 2, "a74dedb8": 11, "d2611949": 5, "311f447e": 7, "f255ac04": 5, "ee07d15b": 7,
                 "1aea6c39": 8, "c38c5c7e": 2},
        skip_sections=("033dde9b", "8a491ec9"),
        # the checks behind the float table (bit layout, bfloat16 bit patterns, NumPy's edge, exp not always the
        # nearest number); TF's flush to zero stays: the Summary's TensorFlow edges stand on it
        skip_cells=("c05a13bf", "919c7b4b", "17d7af9e", "4745050e", "b91c36d2", "exp-not-nearest-text",
                    "exp-not-nearest"),
        notes={"23831938": ExplorerNote(
            opens_on="scale=1, float32",
            ask="float32, logits [1, 0, -1] times the scale, true class 2. As I drag the scale up from 1, where "
                "does the naive loss break first, and into what: a huge number, inf, or nan?",
            predicted="Most expect nothing to go wrong until exp overflows (a scale near 89), and then a nan; few "
                      "expect an inf at about half that scale.",
            answer="Underflow comes first: at the first step past 52 (52.5) class 2's probability, about "
                   "e^(-2 scale), rounds to 0 and the naive loss is inf, while the stable loss reads 2 x scale "
                   "(105); past 88.7 exp(scale) overflows and the naive probabilities turn into nan (89.1). float16 "
                   "breaks already at the first step past 8.66 (8.71), float64 at the first step past 372.6 (380); the "
                   "stable loss stays finite in every type.")},
    ),
    "06": LessonPlan(
        lecture="Lecture 4 (06)",
        # the sparse op shows XLA's nan for a bad id, the TF 1 part the positional call's gradient: a minute each,
        # taken from the sigmoid op's section
        minutes={"3688ca76": 2, "0edbc5c1": 2, "680f7ff2": 3, "eacb45e3": 8, "6eefb719": 6, "ea17c81e": 5,
                 "e04f45b4": 5, "58bfd226": 6, "5565f8c4": 5, "c7695bfd": 6, "cfae3f4b": 2},
        skip_sections=("e5cead16", "965dc81f"),
        # asides (the axis argument, gradients into the labels, BinaryCrossentropy's averaging) and the TF 1
        # detour through tf.compat.v1; the positional-argument trap stays: it is a silent bug in TF 2 today
        skip_cells=("1bf3c1d3", "f5624b5f", "24ee939a", "4b1055e7", "52b19222", "a1af7fed", "b498a1df", "59e703ae",
                    "a9e375db", "cd36243f", "8928e2a0"),
        notes={"a4113a60": ExplorerNote(
            opens_on="true class 1 -> loss 0.4790, grad [0.2279, -0.3806, 0.1527]",
            ask="True class 1 has the largest logit and a gradient bar of -0.381. If I raise z1 to 6, and then "
                "make the model confidently wrong (z0 = 6, z1 = -6), how big do the bars get? Is there a limit?",
            predicted="Most expect the gradient to grow with the loss, without a limit: a huge loss, a huge push.",
            answer="At z1 = 6 the loss is 0.0068 and the bars almost vanish (-0.007 for class 1): a right, confident "
                   "instance stops pushing. At z0 = 6, z1 = -6 the loss is 12.0 but the bars are only +0.997, "
                   "-1.000, +0.003: softmax - labels never leaves [-1, 1] and always sums to 0, so the fused op's "
                   "gradient cannot overflow.")},
    ),
    "07": LessonPlan(
        lecture="Lecture 5 (07)",
        minutes={"c811b880": 2, "e9a2a5cd": 3, "12a3509e": 2, "6015de13": 3, "162a8641": 4, "d7c73a3d": 2,
                 "7d66596e": 5, "3a32b7ea": 3, "8dd80980": 5, "cbb715da": 4, "a52bb0b8": 2, "logit-adjustment": 3,
                 "b27c3130": 9, "0d1cb530": 2},
        # the setup holds the seeds: said aloud, not shown; the optimiser aside (from lesson 04) is for learners
        skip_sections=("c3abad98", "reduction-optimiser", "b30fa933"),
        skip_cells=("7bc95c97",),  # the mixed-precision model: an aside, the bullet above it says the rule
        notes={"d00960b4": ExplorerNote(
            opens_on="epoch 0, point 0",
            ask="I set the ringed point to 1 (the slide opens on point 0): it sits where the three clouds meet; its "
                "true class is 0. As I drag the epoch from 0 to 30, does its highest probability climb steadily "
                "towards 1, as the training loss falls?",
            predicted="Most expect a steady climb to near certainty: training makes the model surer of every "
                      "point.",
            answer="No. It starts near 1/3 for each class, after one epoch it even leans to class 2 (0.463 against "
                   "0.413), then wobbles, and after 30 epochs gives its true class only 0.671. Point 0, deep in "
                   "class 0, ends at 0.978; point 2 (true class 2) ends on class 1, 0.517 against 0.483. Where "
                   "classes overlap, hesitating is what minimises the loss; the sure regions are far from the data.")},
    ),
    "08": LessonPlan(
        lecture="Lecture 6 (08)",
        minutes={"37725287": 2, "dbf2ce85": 8, "6f915a1a": 6, "mixed-precision": 2, "grappler-rewrite": 2,
                 "b7e10e28": 4, "3661098c": 3, "554a9336": 3, "1ae53e01": 5, "30bc768e": 2, "fcc947df": 4,
                 "logits-metrics": 2, "modes-table": 2, "9bd8d5fa": 1, "6fb16bb1": 1, "63719546": 2},
        skip_sections=("54a0cbf0",),
        # only the setup's imports: its E3 data stays on the title slide; pitfall 5's optimiser run stays too,
        # because the text after it (cell 48a7dbe9, still pitfall 5) starts by reading its result
        skip_cells=("e8b6d63a", "5f841aab"),
        notes={"ce297d6c": ExplorerNote(
            opens_on="softmax once",
            ask="I switch on 'apply softmax twice' and drag the true logit z1 up to 6: does the loss go to 0, as "
                "with softmax once? And at z1 = -6, a confidently wrong model, how hard does the gradient push z1 "
                "back up?",
            predicted="Most expect the bug only to rescale things: the loss still heads for 0 and a wrong model "
                      "still gets a strong push.",
            answer="Twice, the loss stalls at 0.556 at z1 = 6 (once: 0.0068; the floor is 0.5514), and at z1 = -6 "
                   "it is only 1.461 (once: 7.014) while the push on z1 is -0.001 instead of -0.999. The worse the "
                   "model, the weaker the push: training crawls, and unless Keras can see the first softmax (the next "
                   "section) nothing warns.")},
    ),
    "09": LessonPlan(
        lecture="Lecture 7 (09)",
        minutes={"nt-title": 2, "nt-data-head": 3, "nt-bigram-head": 4, "nt-keras-head": 6, "nt-sample-head": 8,
                 "nt-filter-head": 6, "nt-explorer-intro": 6, "nt-bias-head": 2, "nt-logprobs-head": 4,
                 "nt-perplexity-head": 5, "nt-summary": 2},
        skip_sections=("nt-setup-head", "nt-tieins-head", "nt-zh"),  # the tie-ins stay for learners
        notes={"nt-explorer": ExplorerNote(
            opens_on="T=1.00, top-k=30, top-p=1.00 -> kept 30 of 30",
            ask="At T = 1 the model's samples after 'a model reads th' are mostly e, a and spaces. If I raise T to 3, "
                "what happens to the samples? And if I then lower top-p to 0.3, what comes back?",
            predicted="Most expect a higher temperature to change which letter is most likely, and top-p to change "
                      "little once T is high.",
            answer="The arg max stays e at every T: only the tail grows, and at T = 3 the samples fill with letters "
                   "that rarely follow an h. Top-p 0.3 cuts the sorted tail back to a handful of letters, so even "
                   "at T = 3 the draws look plausible again: temperature reshapes, truncation removes.")},
    ),
}


def heading(cell):
    """(level, text) of a markdown cell whose first line is a Markdown heading; (0, "") for any other cell.

    Every section opens its own cell (`headings_inside` finds the exceptions, and a test forbids them), so
    the first line is enough: each heading starts a slide.
    """
    if cell["cell_type"] != "markdown":
        return 0, ""
    match = HEADING.match(course.cell_source(cell))
    return (len(match.group(1)), match.group(2).strip()) if match else (0, "")


def headings_inside(cell):
    """Markdown headings below a cell's first line, outside code blocks: sections that would get no slide."""
    if cell["cell_type"] != "markdown":
        return []
    fenced, found = False, []
    for index, line in enumerate(course.cell_source(cell).splitlines()):
        if FENCE.match(line):
            fenced = not fenced
        elif not fenced and index > 0 and HEADING.match(line):
            found.append(line)
    return found


def heading_level(cell):
    """1 for '# ', 2 for '## ', ... of a markdown cell that opens with a heading; 0 for any other cell."""
    return heading(cell)[0]


def is_explorer(cell):
    """True for a code cell that calls one of the `ll.widgets.*_explorer` functions."""
    return cell["cell_type"] == "code" and bool(EXPLORER_CALL.search(course.cell_source(cell)))


def has_picture(cell):
    """True for a cell with a stored PNG output (a plot, or an explorer's picture)."""
    return any("image/png" in out.get("data", {}) for out in cell.get("outputs", []))


def is_generated(cell):
    """True for a cell `python -m logitlab lecture` writes (speaker notes, the no-sliders hint)."""
    return any(tag in GENERATED_TAGS for tag in cell.get("metadata", {}).get("tags", []))


def lesson_cells(nb):
    """The notebook's cells without the generated speaker-notes and hint cells."""
    return [c for c in nb["cells"] if not is_generated(c)]


def skipped_ids(cells, plan):
    """Cell ids the lecture leaves out: whole sections under the listed headings, and single cells."""
    skipped, level = set(plan.skip_cells), 0
    for cell in cells:
        this = heading_level(cell)
        if this and level and this <= level:
            level = 0  # the skipped section ended
        if cell.get("id") in plan.skip_sections:
            level = this or 7
        if level or course.NAV_TAG in cell["metadata"].get("tags", []) \
                or course.MAP_TAG in cell["metadata"].get("tags", []):
            skipped.add(cell.get("id"))
    return skipped


def slide_type(cell, skipped):
    """The slideshow type of one lesson cell (see the module docstring)."""
    if cell.get("id") in skipped:
        return "skip"
    level = heading_level(cell)
    if level in (1, 2):
        return "slide"
    if level >= 3:
        return "subslide"
    if is_explorer(cell) or (cell["cell_type"] == "code" and has_picture(cell)):
        return "subslide"  # an explorer or a plot gets the whole screen
    if cell["cell_type"] == "code":
        return "fragment"  # predict, then reveal: the code and its output come on the next key press
    return "-"


def notes_cell(cell_id, text):
    """A generated speaker-notes cell: slide type "notes" (RISE's speaker view, left out of the handouts), tagged;
    `text` starts with the one line a learner sees, and the rest stays closed until they click that line.

    A Markdown cell whose notes sit in a closed <details> element, not a collapsed cell: JupyterLab's Run All
    renders every Markdown cell and opens collapsed ones (`runCell` sets `inputHidden = false`, @jupyterlab/notebook
    4.x), and jupyterlab_rise 0.43.1 puts a collapsed cell into the speaker view collapsed (its first line only).
    A closed <details> stays closed after Run All, and the speaker view opens it with one click."""
    first, _, rest = text.partition("\n")
    return {"cell_type": "markdown", "id": cell_id,
            "metadata": {"slideshow": {"slide_type": "notes"}, "tags": [NOTES_TAG]},
            "source": f"<details><summary>{first}</summary>\n{rest}\n\n</details>"}


def hint_cell(cell_id):
    """The generated line under an explorer, on the same slide: what to press when its sliders are not there."""
    return {"cell_type": "markdown", "id": cell_id, "metadata": {"slideshow": {"slide_type": "-"}, "tags": [HINT_TAG]},
            "source": NO_SLIDERS_HINT}


# The first line of every notes cell: all a learner sees of a collapsed cell (JupyterLab shows a hidden cell's
# first line as plain text, so it holds no Markdown and no answer).
TIMING_FIRST_LINE = "Speaker notes for the lecture (minutes per section). Learners can skip this."
EXPLORER_FIRST_LINE = "Speaker notes for this explorer. Learners: move the slider yourself before you open them."


def lecture_number(plan):
    """1 for "Lecture 1 (00 + 01 + 02)"."""
    return int(plan.lecture.split()[1])


def guide_link(plan, prefix="../"):
    """Where this lesson's lecture is in the teaching guide (a path relative to notebooks/ by default)."""
    return f"{prefix}docs/teaching-guide.md#lecture-{lecture_number(plan)}"


def notes_text(cell):
    """(the line a learner sees, the notes behind it) of a generated notes cell."""
    match = re.match(r"<details><summary>(.*)</summary>\n(.*)\n\n</details>$", course.cell_source(cell), re.S)
    return (match.group(1), match.group(2)) if match else ("", "")


def timing_text(cells, plan):
    """The per-section minutes of this lesson's lecture path, for the speaker view of the title slide."""
    lines = [TIMING_FIRST_LINE, "",
             f"**{plan.lecture}**: minutes per section ({sum(plan.minutes.values())} in all; sections marked skip "
             "stay in the notebook for learners).",
             f"[Teaching guide]({guide_link(plan)}): the path, the demo, what to do when a slider does not come up.",
             ""]
    for cell in cells:
        if cell.get("id") in plan.minutes:
            lines.append(f"- {heading(cell)[1]}: {plan.minutes[cell['id']]} min")
    return "\n".join(lines)


def explorer_text(note):
    """The speaker notes of one explorer slide, from its `ExplorerNote`."""
    opens = f"- **On the slide before anything moves:** {note.opens_on}\n" if note.opens_on else ""
    return (f"{EXPLORER_FIRST_LINE}\n\n**Predict, then move the slider.**\n\n{opens}"
            f"- **Ask the room:** {note.ask}\n- **Usually predicted:** {note.predicted}\n- **Answer:** {note.answer}")


def with_lecture(nb, plan):
    """The notebook with slideshow metadata on every cell and the speaker-notes cells (re)generated."""
    cells = lesson_cells(nb)
    ids = {c.get("id") for c in cells}
    named = set(plan.minutes) | set(plan.skip_sections) | set(plan.skip_cells) | set(plan.notes)
    missing = sorted(named - ids)
    if missing:
        raise ValueError(f"the lecture plan names cells the lesson does not have: {', '.join(missing)}")
    skipped = skipped_ids(cells, plan)
    explorers = {c.get("id") for c in cells if is_explorer(c)}
    wrong = [f"explorer {i} has no speaker notes" for i in sorted(explorers - set(plan.notes))]
    wrong += [f"explorer {i} is marked skip" for i in sorted(explorers & skipped)]
    wrong += [f"{c.get('id')} has minutes but is no heading the lecture shows" for c in cells
              if c.get("id") in plan.minutes and (c.get("id") in skipped or not heading_level(c))]
    if wrong:
        raise ValueError(f"the lecture plan does not fit the lesson: {'; '.join(wrong)}")
    out = []
    for index, cell in enumerate(cells):
        cell.setdefault("metadata", {})["slideshow"] = {"slide_type": slide_type(cell, skipped)}
        out.append(cell)
        if index == 0:
            out.append(notes_cell(f"{NOTES_TAG}-timing", timing_text(cells, plan)))
        if cell.get("id") in plan.notes:
            out.append(notes_cell(f"{NOTES_TAG}-{cell['id']}", explorer_text(plan.notes[cell["id"]])))
            out.append(hint_cell(f"{HINT_TAG}-{cell['id']}"))
    nb["cells"] = out
    return nb


def update_lessons(root=course.ROOT, check=False):
    """Write slideshow metadata and notes into every lesson that has a plan; return the files that changed."""
    changed = []
    for lesson in course.lessons(root):
        plan = PLANS.get(lesson.number)
        if plan is None:
            raise ValueError(f"lesson {lesson.stem} has no lecture plan: "
                             "add one to PLANS in logitlab/authoring/lecture.py")
        before = lesson.notebook.read_text(encoding="utf-8")
        after = course.dumps(course.normalized(with_lecture(json.loads(before), plan)))
        if after != before:
            changed.append(Path(lesson.notebook))
            if not check:
                lesson.notebook.write_text(after, encoding="utf-8")
    return changed
