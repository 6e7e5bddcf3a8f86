"""Benchmark (not a test): grade one class of fake submissions sandboxed and unsandboxed; notebooks per minute.

    .venv/bin/python tests/bench_grading.py                      # 10 students x every exercise, both ways
    .venv/bin/python tests/bench_grading.py --students 6 --exercises 01-math-logit 03-softmax
    .venv/bin/python tests/bench_grading.py --students 3 --rounds 4  # alternating runs, on a busy machine
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import submissions as bank  # noqa: E402
from conftest import ROOT  # noqa: E402

STEMS = sorted(p.stem for p in (ROOT / "solutions").glob("*.ipynb"))


def build_class(folder, students, stems):
    """Student i answers every task but one (task i mod n+1 is left unanswered, so some are complete)."""
    for i in range(students):
        for stem in stems:
            answers = bank.solution_answers(stem)
            skipped = sorted(answers)[i % (len(answers) + 1)] if i % (len(answers) + 1) < len(answers) else None
            if skipped:
                del answers[skipped]
            bank.write(folder, f"student{i:02d}", stem, bank.submission(stem, answers))


def grade(folder, out, workers, *options):
    """Seconds `python -m logitlab grade` takes on the class, and its grades.csv text."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "logitlab", "grade", str(folder), "--out", str(out),
                    "--workers", str(workers), *options], check=True, cwd=ROOT, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start, (out / "grades.csv").read_text()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--students", type=int, default=10)
    parser.add_argument("--exercises", nargs="*", default=STEMS)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=1,
                        help="alternate sandboxed and unsandboxed runs this many times (evens out a busy machine)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "submissions"
        build_class(folder, args.students, args.exercises)
        count = args.students * len(args.exercises)
        seconds, grades = {"sandboxed": 0.0, "unsandboxed": 0.0}, {}
        for round_ in range(args.rounds):
            order = (("sandboxed", ()), ("unsandboxed", ("--no-sandbox",)))
            for name, options in order if round_ % 2 == 0 else order[::-1]:
                before = os.getloadavg()[0]
                took, grades[name] = grade(folder, Path(tmp) / f"{name}-{round_}", args.workers, *options)
                seconds[name] += took
                print(f"{name:>11}: {count} notebooks ({args.students} students x {len(args.exercises)} exercises) "
                      f"in {took:.0f} s with {args.workers} workers: {count / took * 60:.1f} notebooks/minute "
                      f"(load average {before:.1f} before, {os.getloadavg()[0]:.1f} after)", flush=True)
        rates = {name: args.rounds * count / total * 60 for name, total in seconds.items()}
        cost = 1 - rates["sandboxed"] / rates["unsandboxed"]
        same = "the same grades" if grades["sandboxed"] == grades["unsandboxed"] else "DIFFERENT grades"
        print(f"bench: over {args.rounds} round(s), sandboxed {rates['sandboxed']:.1f} and unsandboxed "
              f"{rates['unsandboxed']:.1f} notebooks/minute: the sandbox costs {cost:.0%} of the unsandboxed "
              f"throughput; the last runs gave {same}")


if __name__ == "__main__":
    main()
