"""Benchmark (not a test): build a class of fake submissions and time `python -m logitlab grade` on it.

    .venv/bin/python tests/bench_grading.py                      # 30 students x every exercise
    .venv/bin/python tests/bench_grading.py --exercises 03-softmax  # 30 submissions of one exercise
"""

import argparse
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


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--exercises", nargs="*", default=STEMS)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder, out = Path(tmp) / "submissions", Path(tmp) / "out"
        build_class(folder, args.students, args.exercises)
        count = args.students * len(args.exercises)
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "logitlab", "grade", str(folder), "--out", str(out),
                        "--workers", str(args.workers)], check=True, cwd=ROOT)
        seconds = time.perf_counter() - start
        rows = (out / "grades.csv").read_text().splitlines()[1:]
        print(f"graded {count} submissions ({args.students} students x {len(args.exercises)} exercises) "
              f"in {seconds:.0f} s with {args.workers} workers: {seconds / count:.1f} s per submission; "
              f"{len(rows)} rows in grades.csv")


if __name__ == "__main__":
    main()
