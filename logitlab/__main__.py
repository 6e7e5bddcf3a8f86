"""Command line for course tooling: `python -m logitlab COMMAND` (see `--help`)."""

import argparse
import sys
from pathlib import Path

from logitlab.authoring import course

LECTURE_FIX = "python -m logitlab lecture"


def report_generated(paths, stale, fix, check=True):
    """One line per file: "written", or with `check` what is `stale` and the command that `fix`es it.

    The shape every generated part of the course shares: write it, or (--check, `make check`) write
    nothing and list what is out of date. Returns the exit status: 1 when a check found anything.
    """
    for path in paths:
        path = Path(path).resolve()
        shown = path.relative_to(course.ROOT) if path.is_relative_to(course.ROOT) else path
        print(f"{shown}: {f'{stale}; run `{fix}`' if check else 'written'}", file=sys.stderr)
    return 1 if check and paths else 0


def cmd_exercises(args):
    """Generate exercises/ from solutions/ with nbgrader (or, with --check, fail if out of date)."""
    from logitlab.exercises import generate as exercises

    changed = exercises.generate_exercises(check=args.check)
    return report_generated(changed, "is out of date", "make exercises", args.check)


def cmd_grade(args):
    """Grade SUBMISSIONS/<student>/[<assignment>/]<NN-slug>.ipynb, each in a sandbox, into OUT/grades.csv and
    OUT/feedback/: a row for every student and exercise."""
    from logitlab.grading import classroom as grading, cluster

    try:
        grading.grade_class(args.submissions, args.out, timeout=args.timeout, workers=args.workers,
                            memory=args.memory, sandbox=not args.no_sandbox, exercises=args.exercises,
                            log=lambda line: print(line, file=sys.stderr, flush=True),
                            scheduler=cluster.Cluster(args.scheduler) if args.scheduler else None)
    except (ValueError, grading.NoSandbox, cluster.ClusterProblem) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


def cmd_report(args):
    """Rebuild OUT/report.html and OUT/report/*.csv from a grading run's OUT/results.json (nothing is graded)."""
    from logitlab.grading import report as class_report

    try:
        path = class_report.write_report(args.out)
    except class_report.NotAGradingRun as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"The class report is in {path}", file=sys.stderr)
    return 0


def cmd_notebooks(args):
    """Regenerate navigation, then execute and store the lessons and solutions."""
    course.update_navigation()
    paths = [Path(p) for p in args.paths] or course.notebook_paths()
    failures = course.execute_all(paths, workers=args.workers)
    for failure in failures:
        print(failure, file=sys.stderr)
    if not failures:  # the Chinese edition copies the new outputs (`make translate`)
        from logitlab.authoring import translate

        translate.generate_edition()
    return 1 if failures else 0


def cmd_check(args):
    """Fail if navigation, any notebook's JSON, any generated exercise, any lesson's lecture path or the Chinese edition
    is out of date."""
    from logitlab.exercises import generate as exercises
    from logitlab.authoring import guide, lecture

    statuses = [report_generated(course.update_navigation(check=True), "navigation is out of date", "make notebooks"),
                report_generated(course.unnormalized(course.notebook_paths()), "not normalized", "make notebooks"),
                report_generated(exercises.generate_exercises(check=True), "out of date", "make exercises"),
                report_generated(lecture.update_lessons(check=True) + guide.update_guide(check=True),
                       "lecture metadata is out of date", LECTURE_FIX),
                cmd_translate(argparse.Namespace(check=True, start=None))]
    return max(statuses)


def cmd_translate(args):
    """Update the Chinese catalogs and regenerate zh-CN/ and the compiled messages (or, with --check, fail if any
    translation is stale or any generated file out of date); list the cells still shown in English."""
    from logitlab.authoring import translate

    for source in args.start or ():
        print(f"{translate.start_catalog(Path(source).resolve())}: started", file=sys.stderr)
    changed, untranslated = translate.generate_edition(check=args.check)
    if not args.check:
        for line in translate.untranslated_report(untranslated):
            print(f"untranslated (shown in English): {line}", file=sys.stderr)
    stale = translate.stale_translations() if args.check else []
    for line in stale:
        print(f"{line}; translate it in its catalog, then run `make translate`", file=sys.stderr)
    return max(report_generated(changed, "is out of date", "make translate", args.check), 1 if stale else 0)


def cmd_lecture(args):
    """Write the lecture path (slideshow metadata, speaker notes) into the lessons, or check it is current."""
    from logitlab.authoring import guide, lecture

    changed = lecture.update_lessons(check=args.check) + guide.update_guide(check=args.check)
    return report_generated(changed, "lecture metadata is out of date", LECTURE_FIX, args.check)


def cmd_slides(args):
    """Static reveal.js slides of every lesson (or the ones given) into OUT, with the stored pictures."""
    from logitlab.authoring import handouts

    paths = [Path(p) for p in args.paths] or [lesson.notebook for lesson in course.lessons()]
    for target in handouts.build_all_slides(paths, Path(args.out), workers=args.workers):
        print(target, file=sys.stderr)
    return 0


def cmd_book(args):
    """The course as a static website (Sphinx + myst-nb, from the stored outputs) in _build/book/."""
    from logitlab.authoring import book

    site = book.build()
    print(f"The book is in {site}: open {site / 'index.html'} in a browser (it works offline).", file=sys.stderr)
    return 0


def cmd_bench(args):
    """Time every explorer's slider moves in a fresh kernel, beside a new-figure-per-move baseline."""
    from logitlab.authoring import bench

    return bench.run_in_kernel(size=args.size)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m logitlab", description="Logits Lab course tooling.")
    sub = parser.add_subparsers(dest="command", required=True)
    gen = sub.add_parser("exercises", help="generate exercises/ from solutions/ with nbgrader")
    gen.add_argument("--check", action="store_true", help="write nothing; fail if an exercise is out of date")
    gen.set_defaults(func=cmd_exercises)
    grade = sub.add_parser("grade", help="grade a class's submissions, each in a sandbox, with nbgrader")
    grade.add_argument("submissions", help="folder of SUBMISSIONS/<student>/[<assignment>/]<NN-slug>.ipynb")
    grade.add_argument("--out", required=True, help="where to write grades.csv and feedback/")
    grade.add_argument("--timeout", type=int, default=30, help="seconds each cell may run (default 30)")
    grade.add_argument("--workers", type=int, default=2, help="submissions graded at once (default 2)")
    grade.add_argument("--memory", type=int, default=2048,
                       help="MB of memory each submission's processes may use in all (default 2048)")
    grade.add_argument("--exercises", nargs="+", metavar="NN",
                       help="the exercises the class was given (03-softmax or 03): every student gets a row for each "
                            "(default: every exercise anyone handed in)")
    grade.add_argument("--scheduler", metavar="tcp://HOST:8786",
                       help="grade on the workers of this Dask scheduler (README, \"Grading a large course\"); "
                            "--workers is then unused")
    grade.add_argument("--no-sandbox", action="store_true",
                       help="run submissions without bubblewrap (only where none can be had; problems.csv says so)")
    grade.set_defaults(func=cmd_grade)
    rep = sub.add_parser("report", help="rebuild the class report (OUT/report.html) of a grading run, grading nothing")
    rep.add_argument("out", help="the --out folder of `python -m logitlab grade`")
    rep.set_defaults(func=cmd_report)
    run = sub.add_parser("notebooks", help="regenerate navigation, execute and store notebooks")
    run.add_argument("paths", nargs="*", help="notebooks to execute (default: notebooks/ and solutions/)")
    run.add_argument("--workers", type=int, default=2, help="notebooks run at once (default 2)")
    run.set_defaults(func=cmd_notebooks)
    sub.add_parser("check", help="fail if navigation, notebook JSON, exercises or lecture paths are stale") \
        .set_defaults(func=cmd_check)
    zh = sub.add_parser("translate", help="the Chinese edition: update locale/zh_CN/ catalogs, regenerate zh-CN/")
    zh.add_argument("--check", action="store_true",
                    help="write nothing; fail on a stale or missing translation or an out-of-date zh-CN/ file")
    zh.add_argument("--start", nargs="+", metavar="NOTEBOOK",
                    help="start the catalog of these English notebooks (notebooks/04-cross-entropy.ipynb ...)")
    zh.set_defaults(func=cmd_translate)
    talk = sub.add_parser("lecture", help="write slideshow metadata and speaker notes into the lessons")
    talk.add_argument("--check", action="store_true", help="write nothing; fail if a lesson's lecture path is stale")
    talk.set_defaults(func=cmd_lecture)
    slides = sub.add_parser("slides", help="static reveal.js HTML slides of the lessons (nbconvert --to slides)")
    slides.add_argument("paths", nargs="*", help="lessons to convert (default: every lesson)")
    slides.add_argument("--out", default=str(course.ROOT / "slides"), help="folder for the HTML (default: slides/)")
    slides.add_argument("--workers", type=int, default=1,
                        help="lessons converted at once (default 1: a second process costs more than it saves here)")
    slides.set_defaults(func=cmd_slides)
    sub.add_parser("book", help="the course as a static website in _build/book/ (nothing is executed)") \
        .set_defaults(func=cmd_book)
    bench = sub.add_parser("bench", help="time every explorer's slider moves (prints a table and a bench: line)")
    bench.add_argument("--size", default="normal", choices=["normal", "projector"],
                       help="draw the explorers at this size (see logitlab.blitting.SIZES)")
    bench.set_defaults(func=cmd_bench)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
