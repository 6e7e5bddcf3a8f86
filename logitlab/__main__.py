"""Command line for course tooling: `python -m logitlab COMMAND` (see `--help`)."""

import argparse
import sys
from pathlib import Path

from logitlab import course


def cmd_notebooks(args):
    """Regenerate navigation, then execute and store the lessons and solutions."""
    course.update_navigation()
    paths = [Path(p) for p in args.paths] or course.notebook_paths()
    failures = course.execute_all(paths, workers=args.workers)
    for failure in failures:
        print(failure, file=sys.stderr)
    return 1 if failures else 0


def cmd_check(args):
    """Fail if navigation or any notebook's JSON is out of date."""
    stale = course.update_navigation(check=True)
    messy = course.unnormalized(course.notebook_paths())
    for path in stale:
        print(f"{path}: navigation is out of date; run `make notebooks`", file=sys.stderr)
    for path in messy:
        print(f"{path}: not normalized; run `make notebooks`", file=sys.stderr)
    return 1 if stale or messy else 0


def cmd_bench(args):
    """Time every explorer's slider moves in a fresh kernel, beside a new-figure-per-move baseline."""
    from logitlab import bench

    return bench.run_in_kernel()


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m logitlab", description="Logits Lab course tooling.")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("notebooks", help="regenerate navigation, execute and store notebooks")
    run.add_argument("paths", nargs="*", help="notebooks to execute (default: notebooks/ and solutions/)")
    run.add_argument("--workers", type=int, default=2, help="notebooks run at once (default 2)")
    run.set_defaults(func=cmd_notebooks)
    sub.add_parser("check", help="fail if navigation or notebook JSON is stale").set_defaults(func=cmd_check)
    sub.add_parser("bench", help="time every explorer's slider moves (prints a table and a bench: line)").set_defaults(
        func=cmd_bench)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
