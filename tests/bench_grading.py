"""Benchmark (not a test): grade one class of fake submissions sandboxed and unsandboxed; notebooks per minute.

    .venv/bin/python tests/bench_grading.py                      # 10 students x every exercise, both ways
    .venv/bin/python tests/bench_grading.py --students 6 --exercises 01-math-logit 03-softmax
    .venv/bin/python tests/bench_grading.py --students 3 --rounds 4  # alternating runs, on a busy machine
    .venv/bin/python tests/bench_grading.py --scheduler          # sandboxed: locally, then on a local Dask cluster

With --scheduler the second run goes through a Dask scheduler and as many workers as --workers (`--nthreads 1`),
each its own process on 127.0.0.1, started before the clock starts (a cluster outlives one class).
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
from helpers import ROOT, dask_cluster  # noqa: E402

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
    parser.add_argument("--scheduler", action="store_true",
                        help="compare a local sandboxed run with one through a local Dask cluster")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "submissions"
        build_class(folder, args.students, args.exercises)
        count = args.students * len(args.exercises)
        seconds, grades = {}, {}

        def compare(first, second, what):
            """Alternate the two runs `args.rounds` times; print each, then the totals."""
            for round_ in range(args.rounds):
                for name, options in (first, second) if round_ % 2 == 0 else (second, first):
                    before = os.getloadavg()[0]
                    took, grades[name] = grade(folder, Path(tmp) / f"{name}-{round_}", args.workers, *options)
                    seconds[name] = seconds.get(name, 0.0) + took
                    print(f"{name:>11}: {count} notebooks ({args.students} students x {len(args.exercises)} "
                          f"exercises) in {took:.0f} s with {args.workers} workers: {count / took * 60:.1f} "
                          f"notebooks/minute (load average {before:.1f} before, {os.getloadavg()[0]:.1f} after)",
                          flush=True)
            (a, _), (b, _) = first, second
            rates = {name: args.rounds * count / seconds[name] * 60 for name in (a, b)}
            for name, other in ((a, b), (b, a)):
                for row in sorted(set(grades[name].splitlines()) - set(grades[other].splitlines())):
                    print(f"  only in {name}: {row}")
            same = "the same grades" if grades[a] == grades[b] else "DIFFERENT grades"
            print(f"bench: over {args.rounds} round(s), {a} {rates[a]:.1f} and {b} {rates[b]:.1f} notebooks/minute: "
                  f"{what} costs {1 - rates[a] / rates[b]:.0%} of the {b} throughput; the last runs gave {same}")

        if args.scheduler:
            with dask_cluster(Path(tmp) / "cluster", workers=args.workers) as (address, _):
                compare(("dask", ("--scheduler", address)), ("local", ()),
                        "the Dask path (scheduler and workers as processes)")
        else:
            compare(("sandboxed", ()), ("unsandboxed", ("--no-sandbox",)), "the sandbox")


if __name__ == "__main__":
    main()
